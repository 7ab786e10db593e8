package cases_test

import (
	"slices"
	"testing"
	"time"

	"flagstream/pipeline/cases"
)

func TestProcessorTwoDemandsOneHandle(t *testing.T) {
	p := cases.NewProcessor(cfg)
	a, b := handleEvidence(t, meity), handleEvidence(t, netzdg)
	if a.CaseID == b.CaseID {
		t.Fatalf("two demands share case %s", a.CaseID)
	}
	var events []cases.Event
	for _, in := range []cases.Input{a.input(), b.input(), a.tweet("2", t0).input()} {
		_, out, err := p.Apply(in, t0)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, out.Events...)
	}
	checkEvents(t, events)
	if len(events) != 2 || events[0].CaseID != a.CaseID || events[1].CaseID != b.CaseID ||
		events[0].Event != cases.EventOpened || events[1].Event != cases.EventOpened {
		t.Fatalf("events %+v, want one opened per case", events)
	}
	if events[1].DemandID != "DE-NETZDG-7" || !slices.Equal(events[1].Jurisdictions, []string{"DE", "AT"}) {
		t.Errorf("second case's demand: %s %q", events[1].DemandID, events[1].Jurisdictions)
	}
	if p.Len() != 2 || !slices.Equal(p.CaseIDs(), slices.Sorted(slices.Values([]string{a.CaseID, b.CaseID}))) {
		t.Errorf("cases %q", p.CaseIDs())
	}
	if got := p.State(a.CaseID).Evidence.Posts; got != 2 {
		t.Errorf("case a has %d posts, want 2", got)
	}
	if got := p.State(b.CaseID).Evidence.Posts; got != 1 {
		t.Errorf("case b has %d posts, want 1", got)
	}
}

func TestProcessorTickAndFlush(t *testing.T) {
	p := cases.NewProcessor(cfg)
	a, b := handleEvidence(t, meity), handleEvidence(t, netzdg)
	c := evidence(t, meity, cases.EntryUserID, "1234567890").by("1234567890", "x")
	for i, in := range []cases.Input{a.input(), b.input(), c.input(), a.input(), b.input(), c.input()} {
		if _, _, err := p.Apply(in, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	// Decide c: its pending update goes with the decided event.
	if _, out, err := p.Apply(decision(c.CaseID, cases.VerdictNoAction), t0.Add(10*time.Second)); err != nil || len(out.Events) != 1 {
		t.Fatalf("decision: %v, %d events", err, len(out.Events))
	}
	if got := p.Tick(t0.Add(30*time.Second), nil); len(got) != 0 {
		t.Errorf("Tick before the interval: %d events", len(got))
	}
	// a's interval ends at t0+1m, b's at t0+1m+1s.
	got := p.Tick(t0.Add(time.Minute), nil)
	checkEvents(t, got)
	if len(got) != 1 || got[0].CaseID != a.CaseID || got[0].Event != cases.EventUpdated || got[0].Evidence.Posts != 2 {
		t.Fatalf("Tick at t0+1m: %+v, want a's update", got)
	}
	if p.State(a.CaseID).UpdatePending {
		t.Error("a's update still pending after Tick emitted it")
	}
	if _, _, err := p.Apply(a.input(), t0.Add(time.Minute+2*time.Second)); err != nil {
		t.Fatal(err)
	}
	// Flush emits every pending update, due or not, in case id order.
	got = p.Flush(t0.Add(time.Minute+3*time.Second), got[:0])
	checkEvents(t, got)
	var ids []string
	for _, e := range got {
		ids = append(ids, e.CaseID)
		if e.Event != cases.EventUpdated {
			t.Errorf("Flush made %s, want updated", e.Event)
		}
	}
	if want := slices.Sorted(slices.Values([]string{a.CaseID, b.CaseID})); !slices.Equal(ids, want) {
		t.Errorf("Flush updated %q, want %q", ids, want)
	}
	if got := p.Flush(t0.Add(2*time.Minute), nil); len(got) != 0 {
		t.Errorf("a second Flush made %d events", len(got))
	}
}

func TestProcessorRefusesAndKeepsGoing(t *testing.T) {
	p := cases.NewProcessor(cfg)
	a := handleEvidence(t, meity)
	if _, _, err := p.Apply(decision(a.CaseID, cases.VerdictWithhold, "IN"), t0); cases.ReasonOf(err) != cases.ReasonUnknownCase {
		t.Fatalf("decision before any evidence: %v, want unknown_case", err)
	}
	if p.Len() != 0 {
		t.Errorf("a refused decision made a case")
	}
	if _, out, err := p.Apply(a.input(), t0); err != nil || len(out.Events) != 1 {
		t.Fatalf("evidence after a refused decision: %v, %d events", err, len(out.Events))
	}
	prev := p.State(a.CaseID)
	next, out, err := p.Apply(decision(a.CaseID, cases.VerdictReopen), t0)
	if err != nil || next != prev || len(out.Events) != 0 || out.Outcome != cases.OutcomeUnchanged {
		t.Errorf("reopen of an open case: %v, same state %v, %d events, %s", err, next == prev, len(out.Events), out.Outcome)
	}
	if _, _, err := p.Apply(decision(a.CaseID, cases.VerdictWithhold, "IN"), t0); err != nil {
		t.Errorf("decision on a known case: %v", err)
	}
}

// TestProcessorHandover runs one stream of inputs through one processor,
// and through two in turn: the second restores the states the first wrote
// (a graceful handover, as at a rebalance or restart). They must make the
// same events: one opened per case, nothing lost.
func TestProcessorHandover(t *testing.T) {
	a, b := handleEvidence(t, meity), handleEvidence(t, netzdg)
	var inputs []cases.Input
	for i := range 20 {
		e := a
		if i%2 == 1 {
			e = b
		}
		inputs = append(inputs, e.tweet(string(rune('a'+i)), t0).input())
		if i == 8 {
			inputs = append(inputs, decision(a.CaseID, cases.VerdictWithhold, "IN"))
		}
	}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 20 * time.Second) }
	run := func(p *cases.Processor, from, to int) []cases.Event {
		var events []cases.Event
		for i := from; i < to; i++ {
			_, out, err := p.Apply(inputs[i], at(i))
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, out.Events...)
			events = p.Tick(at(i), events)
		}
		return events
	}
	one := cases.NewProcessor(cfg)
	want := checkEvents(t, append(run(one, 0, len(inputs)), one.Flush(at(len(inputs)), nil)...))

	for cut := 0; cut <= len(inputs); cut++ {
		first := cases.NewProcessor(cfg)
		events := run(first, 0, cut)
		second := cases.NewProcessor(cfg)
		for _, id := range first.CaseIDs() {
			b, err := first.State(id).Append(nil)
			if err != nil {
				t.Fatal(err)
			}
			s, err := cases.DecodeState([]byte(id), b)
			if err != nil {
				t.Fatal(err)
			}
			second.Restore(s)
		}
		events = append(events, run(second, cut, len(inputs))...)
		events = append(events, second.Flush(at(len(inputs)), nil)...)
		if got := checkEvents(t, events); string(got) != string(want) {
			t.Errorf("handover after input %d: events differ:\n%s\nwant\n%s", cut, got, want)
		}
	}
}
