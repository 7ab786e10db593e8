package cases_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"flagstream/pipeline/cases"
)

// step is one input of a scenario (or a Tick or Flush), at t0+at, with what
// it must make.
type step struct {
	at    time.Duration
	in    cases.Input
	tick  bool
	flush bool

	events  []cases.EventKind // the kinds of the events made, in order
	outcome cases.Outcome     // for inputs
	reason  cases.Reason      // the error's, when the input must fail
	same    bool              // the state must come back unchanged (the same pointer)
	binding *cases.Binding    // the binding to publish, if any
	check   func(t *testing.T, s *cases.State, events []cases.Event)
}

// play runs the steps against one case with the pure functions, checking
// each step, every event (against the schema and encoding/json) and every
// state (round trip through the state topic's encoding), and that no
// function changes the state it is given. It returns the events as NDJSON.
func play(t *testing.T, c cases.Config, steps []step) (*cases.State, []byte) {
	t.Helper()
	var (
		s   *cases.State
		all []byte
	)
	for i, st := range steps {
		now := t0.Add(st.at)
		var before []byte
		if s != nil {
			before, _ = s.Append(nil)
		}
		var (
			next   *cases.State
			events []cases.Event
			out    cases.Output
			err    error
		)
		switch {
		case st.tick:
			next, events = cases.Tick(s, now, c)
		case st.flush:
			next, events = cases.Flush(s, now)
		default:
			next, out, err = cases.Apply(s, st.in, now, c)
			events = out.Events
		}
		if s != nil {
			if after, _ := s.Append(nil); !bytes.Equal(before, after) {
				t.Fatalf("step %d changed the state it was given:\nbefore %s\nafter  %s", i, before, after)
			}
		}
		if st.reason != "" {
			if cases.ReasonOf(err) != st.reason {
				t.Fatalf("step %d: error %v, want reason %s", i, err, st.reason)
			}
			if next != s {
				t.Errorf("step %d: a refused input changed the state", i)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		var kinds []cases.EventKind
		for _, e := range events {
			kinds = append(kinds, e.Event)
		}
		if !slices.Equal(kinds, st.events) {
			t.Errorf("step %d: events %v, want %v", i, kinds, st.events)
		}
		if !st.tick && !st.flush && out.Outcome != st.outcome {
			t.Errorf("step %d: outcome %q, want %q", i, out.Outcome, st.outcome)
		}
		if st.same && next != s {
			t.Errorf("step %d: the state changed; want it unchanged", i)
		}
		switch {
		case st.binding == nil && out.Binding != nil:
			t.Errorf("step %d: binding %+v to publish, want none", i, *out.Binding)
		case st.binding != nil && (out.Binding == nil || *out.Binding != *st.binding):
			t.Errorf("step %d: binding %+v, want %+v", i, out.Binding, *st.binding)
		case out.Binding != nil:
			checkBinding(t, out.Binding)
		}
		for _, e := range events {
			if !e.UpdatedAt.Equal(now) {
				t.Errorf("step %d: %s event updated_at %v, want %v", i, e.Event, e.UpdatedAt, now)
			}
		}
		all = append(all, checkEvents(t, events)...)
		checkState(t, next)
		if st.check != nil {
			st.check(t, next, events)
		}
		s = next
	}
	return s, all
}

func counts(t *testing.T, s *cases.State, posts, mentions int64) {
	t.Helper()
	if s.Evidence.Posts != posts || s.Evidence.Mentions != mentions {
		t.Errorf("posts, mentions = %d, %d; want %d, %d", s.Evidence.Posts, s.Evidence.Mentions, posts, mentions)
	}
}

func wantCounts(posts, mentions int64) func(*testing.T, *cases.State, []cases.Event) {
	return func(t *testing.T, s *cases.State, events []cases.Event) {
		t.Helper()
		counts(t, s, posts, mentions)
		for _, e := range events {
			if e.Evidence.Posts != posts || e.Evidence.Mentions != mentions {
				t.Errorf("%s event counts %d posts, %d mentions; want %d, %d", e.Event, e.Evidence.Posts, e.Evidence.Mentions, posts, mentions)
			}
		}
	}
}

// learnedBinding is the binding that the first post of handleEvidence
// learns.
var learnedBinding = &cases.Binding{Handle: "Kisan_Ekta", UserID: "1111", FirstSeen: t0.Add(-time.Hour), TweetID: "1357254297624866818", Source: cases.BindingLearned}

var (
	opened     = []cases.EventKind{cases.EventOpened}
	updated    = []cases.EventKind{cases.EventUpdated}
	reassigned = []cases.EventKind{cases.EventReassigned}
	decided    = []cases.EventKind{cases.EventDecided}
	reopened   = []cases.EventKind{cases.EventReopened}
)

func TestApplyOpenedAndUpdates(t *testing.T) {
	e := handleEvidence(t, meity)
	s, lines := play(t, cfg, []step{
		{at: 0, in: e.input(), events: opened, outcome: cases.OutcomeCounted, check: wantCounts(1, 0),
			binding: learnedBinding},
		{at: 10 * time.Second, in: e.tweet("2", t0).input(), outcome: cases.OutcomeCounted, check: wantCounts(2, 0)},
		{at: 20 * time.Second, in: e.mention("kisan_ekta", "").tweet("3", t0).input(), outcome: cases.OutcomeCounted, check: wantCounts(2, 1)},
		{at: 59 * time.Second, tick: true, same: true},
		{at: 60 * time.Second, tick: true, events: updated, check: wantCounts(2, 1)},
		{at: 61 * time.Second, tick: true, same: true}, // nothing pending
		{at: 90 * time.Second, in: e.tweet("4", t0).input(), outcome: cases.OutcomeCounted, check: wantCounts(3, 1)},
		// The next evidence after the interval emits at once, with
		// the cumulative counts.
		{at: 3 * time.Minute, in: e.tweet("5", t0).input(), events: updated, outcome: cases.OutcomeCounted, check: wantCounts(4, 1)},
		{at: 4 * time.Minute, tick: true, same: true},
		{at: 4 * time.Minute, in: e.tweet("6", t0).input(), events: updated, outcome: cases.OutcomeCounted, check: wantCounts(5, 1)},
		{at: 4*time.Minute + time.Second, in: e.tweet("7", t0).input(), outcome: cases.OutcomeCounted},
		{at: 4*time.Minute + 2*time.Second, flush: true, events: updated, check: wantCounts(6, 1)},
	})
	if got, want := s.Evidence.SampleTweetIDs, []string{"1357254297624866818", "2", "3", "4", "5", "6", "7"}; !slices.Equal(got, want) {
		t.Errorf("sample tweets %q, want %q", got, want)
	}
	if !s.OpenedAt.Equal(t0) {
		t.Errorf("OpenedAt %v, want %v", s.OpenedAt, t0)
	}
	golden(t, "opened_updated", lines)
}

func TestApplyUpdateIntervalZero(t *testing.T) {
	e := handleEvidence(t, meity)
	play(t, cases.Config{}, []step{
		{in: e.input(), events: opened, outcome: cases.OutcomeCounted, binding: learnedBinding},
		{in: e.input(), events: updated, outcome: cases.OutcomeCounted},
		{in: e.input(), events: updated, outcome: cases.OutcomeCounted, check: wantCounts(3, 0)},
	})
}

func TestApplyBindingLearned(t *testing.T) {
	e := handleEvidence(t, meity)
	account := func(userID string, binding cases.BindingSource, handle string, seen ...string) func(*testing.T, *cases.State, []cases.Event) {
		return func(t *testing.T, s *cases.State, _ []cases.Event) {
			t.Helper()
			a := s.Account
			if a.UserID != userID || a.Binding != binding || a.Handle != handle || !slices.Equal(a.HandlesSeen, seen) {
				t.Errorf("account %+v, want user %q binding %s handle %q handles seen %q", a, userID, binding, handle, seen)
			}
		}
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"the author binds the listed handle", []step{
			{in: e.input(), events: opened, outcome: cases.OutcomeCounted, binding: learnedBinding, check: account("1111", cases.BindingLearned, "Kisan_Ekta", "Kisan_Ekta")},
			{in: e.input(), outcome: cases.OutcomeCounted, check: account("1111", cases.BindingLearned, "Kisan_Ekta", "Kisan_Ekta")},
		}},
		{"a user id with leading zeros is the same account", []step{
			{in: e.input(), events: opened, outcome: cases.OutcomeCounted, binding: learnedBinding},
			{in: e.by("0001111", "Kisan_Ekta").input(), outcome: cases.OutcomeCounted, check: wantCounts(2, 0)},
		}},
		{"a mention entity with an id binds", []step{
			{in: e.mention("@KISAN_EKTA", "1111").input(), events: opened, outcome: cases.OutcomeCounted,
				binding: &cases.Binding{Handle: "KISAN_EKTA", UserID: "1111", FirstSeen: t0.Add(-time.Hour), TweetID: "1357254297624866818", Source: cases.BindingLearned},
				check:   account("1111", cases.BindingLearned, "KISAN_EKTA", "KISAN_EKTA")},
		}},
		{"a mention without id counts but does not bind", []step{
			{in: e.mention("@kisan_ekta", "").input(), events: opened, outcome: cases.OutcomeCounted, check: account("", cases.BindingNone, "kisan_ekta", "kisan_ekta")},
			{in: e.input(), outcome: cases.OutcomeCounted, binding: learnedBinding, check: account("1111", cases.BindingLearned, "Kisan_Ekta", "kisan_ekta")},
		}},
		{"a post without author id counts but does not bind", []step{
			{in: e.by("", "Kisan_Ekta").input(), events: opened, outcome: cases.OutcomeCounted, check: account("", cases.BindingNone, "Kisan_Ekta", "Kisan_Ekta")},
		}},
		{"a looser spelling by an unbound account neither binds nor names the account", []step{
			{in: e.by("3333", "KisanEkta").tier("loose").input(), events: opened, outcome: cases.OutcomeCounted, check: account("", cases.BindingNone, "")},
		}},
		{"an id found through the bindings table binds without publishing", []step{
			{in: e.by("1111", "kisan_new").viaBinding().input(), events: opened, outcome: cases.OutcomeCounted, check: account("1111", cases.BindingLearned, "kisan_new", "kisan_new")},
		}},
		{"rename: the bound account under a new handle counts", []step{
			{in: e.input(), events: opened, outcome: cases.OutcomeCounted, binding: learnedBinding},
			{in: e.by("1111", "kisan_new").viaBinding().in("retweeted").input(), outcome: cases.OutcomeCounted,
				check: func(t *testing.T, s *cases.State, ev []cases.Event) {
					wantCounts(2, 0)(t, s, ev)
					account("1111", cases.BindingLearned, "kisan_new", "Kisan_Ekta", "kisan_new")(t, s, ev)
				}},
			{in: e.mention("@Kisan_New", "1111").viaBinding().input(), outcome: cases.OutcomeCounted,
				check: account("1111", cases.BindingLearned, "Kisan_New", "Kisan_Ekta", "kisan_new")},
		}},
		{"a binding the case does not hold is another account", []step{
			{in: e.input(), events: opened, outcome: cases.OutcomeCounted, binding: learnedBinding},
			{in: e.by("5555", "someone").viaBinding().input(), outcome: cases.OutcomeOtherAccount, same: true, check: wantCounts(1, 0)},
		}},
		{"a binding the case does not hold, on a case without state, makes none", []step{
			{in: e.by("5555", "someone").viaBinding().pinned("1111").input(), outcome: cases.OutcomeOtherAccount,
				check: func(t *testing.T, s *cases.State, _ []cases.Event) {
					if s != nil {
						t.Errorf("state %+v, want none", s)
					}
				}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { play(t, cfg, tc.steps) })
	}
}

func TestApplyReassigned(t *testing.T) {
	e := handleEvidence(t, meity)
	heldBy := func(id string) func(*testing.T, *cases.State, []cases.Event) {
		return func(t *testing.T, s *cases.State, events []cases.Event) {
			t.Helper()
			if s.Account.HandleNowHeldBy != id {
				t.Errorf("handle now held by %q, want %q", s.Account.HandleNowHeldBy, id)
			}
			for _, ev := range events {
				got := ""
				if ev.Account.HandleNowHeldBy != nil {
					got = *ev.Account.HandleNowHeldBy
				}
				if got != id {
					t.Errorf("%s event: handle_now_held_by %q, want %q", ev.Event, got, id)
				}
			}
		}
	}
	_, lines := play(t, cfg, []step{
		{in: e.input(), events: opened, outcome: cases.OutcomeCounted, check: heldBy(""),
			binding: learnedBinding},
		// Another account posts as @Kisan_Ekta: not counted, reassigned.
		{at: time.Minute, in: e.by("9999", "Kisan_Ekta").tweet("20", t0).input(), events: reassigned, outcome: cases.OutcomeReassigned,
			check: func(t *testing.T, s *cases.State, ev []cases.Event) {
				heldBy("9999")(t, s, ev)
				wantCounts(1, 0)(t, s, ev)
			}},
		// Again: the same holder, no second event, nothing counted.
		{at: 2 * time.Minute, in: e.by("9999", "kisan_ekta").tweet("21", t0).input(), outcome: cases.OutcomeReassigned, same: true, check: wantCounts(1, 0)},
		{at: 2 * time.Minute, in: e.mention("Kisan_Ekta", "9999").input(), outcome: cases.OutcomeReassigned, same: true},
		// A mention without id of the handle names its new holder.
		{at: 2 * time.Minute, in: e.mention("@kisan_ekta", "").input(), outcome: cases.OutcomeOtherAccount, same: true, check: wantCounts(1, 0)},
		// The listed account under its new name still counts.
		{at: 3 * time.Minute, in: e.by("1111", "kisan_moved").viaBinding().tweet("22", t0).input(), events: updated, outcome: cases.OutcomeCounted,
			check: func(t *testing.T, s *cases.State, ev []cases.Event) {
				heldBy("9999")(t, s, ev)
				wantCounts(2, 0)(t, s, ev)
			}},
		// A third account takes the handle: a new holder, a new event.
		{at: 4 * time.Minute, in: e.by("8888", "Kisan_Ekta").input(), events: reassigned, outcome: cases.OutcomeReassigned, check: heldBy("8888")},
		// The listed account takes its handle back, then loses it again.
		{at: 5 * time.Minute, in: e.by("1111", "Kisan_Ekta").tweet("23", t0).input(), events: updated, outcome: cases.OutcomeCounted,
			check: func(t *testing.T, s *cases.State, ev []cases.Event) { heldBy("")(t, s, ev); wantCounts(3, 0)(t, s, ev) }},
		{at: 6 * time.Minute, in: e.by("9999", "Kisan_Ekta").input(), events: reassigned, outcome: cases.OutcomeReassigned, check: heldBy("9999")},
		// A looser spelling by another account counts (the demand
		// asked for such spellings) but is not the account's handle.
		{at: 7 * time.Minute, in: e.by("3333", "KisanEkta").tier("loose").tweet("24", t0).input(), events: updated, outcome: cases.OutcomeCounted,
			check: func(t *testing.T, s *cases.State, ev []cases.Event) {
				wantCounts(4, 0)(t, s, ev)
				if s.Account.Handle != "Kisan_Ekta" || slices.Contains(s.Account.HandlesSeen, "KisanEkta") {
					t.Errorf("account %+v records another account's handle", s.Account)
				}
			}},
	})
	golden(t, "reassigned", lines)
}

func TestApplyPinned(t *testing.T) {
	e := handleEvidence(t, meity).pinned("1234567890")
	pinned := func(tweet string, at time.Time) *cases.Binding {
		return &cases.Binding{Handle: "Kisan_Ekta", UserID: "1234567890", FirstSeen: at, TweetID: tweet, Source: cases.BindingPinned}
	}
	t.Run("the pin wins over the first post", func(t *testing.T) {
		_, lines := play(t, cfg, []step{
			// 1111 posts as the listed handle, pinned to 1234567890:
			// the handle is held by another account. The case begins
			// with reassigned and is not opened.
			{in: e.input(), events: reassigned, outcome: cases.OutcomeReassigned, binding: pinned("1357254297624866818", t0.Add(-time.Hour)),
				check: func(t *testing.T, s *cases.State, ev []cases.Event) {
					wantCounts(0, 0)(t, s, ev)
					if !s.OpenedAt.IsZero() || s.Account.Binding != cases.BindingPinned || s.Account.HandleNowHeldBy != "1111" {
						t.Errorf("state %+v", s)
					}
					if ev[0].Evidence.FirstSeen != nil {
						t.Errorf("first_seen %v before any evidence counted", ev[0].Evidence.FirstSeen)
					}
				}},
			// The pinned account posts under its new handle: opened.
			{at: time.Minute, in: e.by("1234567890", "kisan_renamed").viaBinding().input(), events: opened, outcome: cases.OutcomeCounted, check: wantCounts(1, 0)},
			// A decision on a case that began with reassigned works.
			{at: 2 * time.Minute, in: decision(e.CaseID, cases.VerdictWithhold, "IN"), events: decided, outcome: cases.OutcomeDecided},
		})
		golden(t, "pinned", lines)
	})
	t.Run("a pin replaces a learned binding", func(t *testing.T) {
		learned := handleEvidence(t, meity)
		play(t, cfg, []step{
			{in: learned.input(), events: opened, outcome: cases.OutcomeCounted,
				binding: learnedBinding},
			// The lists now pin the handle to 1234567890; this post is
			// by 1111, who is not the listed account after all.
			{at: time.Minute, in: e.tweet("30", t0).input(), events: reassigned, outcome: cases.OutcomeReassigned, binding: pinned("30", t0),
				check: wantCounts(1, 0)},
			{at: 2 * time.Minute, in: e.by("1234567890", "Kisan_Ekta").tweet("31", t0).input(), events: updated, outcome: cases.OutcomeCounted,
				check: func(t *testing.T, s *cases.State, ev []cases.Event) {
					wantCounts(2, 0)(t, s, ev)
					if s.Account.HandleNowHeldBy != "" || s.Account.UserID != "1234567890" {
						t.Errorf("account %+v, want 1234567890 holding its handle", s.Account)
					}
				}},
			// The same pin again changes nothing and publishes nothing.
			{at: 2 * time.Minute, in: e.by("1234567890", "Kisan_Ekta").tweet("31", t0).input(), outcome: cases.OutcomeCounted},
		})
	})
}

func TestApplyUserIDEntry(t *testing.T) {
	e := evidence(t, meity, cases.EntryUserID, "1234567890").by("1234567890", "kisan_ekta")
	play(t, cfg, []step{
		{in: e.input(), events: opened, outcome: cases.OutcomeCounted,
			check: func(t *testing.T, s *cases.State, ev []cases.Event) {
				a := s.Account
				if a.UserID != "1234567890" || a.Binding != cases.BindingNone || a.Handle != "kisan_ekta" {
					t.Errorf("account %+v", a)
				}
			}},
		// Under any handle, the id is the account.
		{at: time.Minute, in: e.by("1234567890", "renamed").input(), events: updated, outcome: cases.OutcomeCounted,
			check: func(t *testing.T, s *cases.State, _ []cases.Event) {
				if !slices.Equal(s.Account.HandlesSeen, []string{"kisan_ekta", "renamed"}) || s.Account.Handle != "renamed" {
					t.Errorf("account %+v", s.Account)
				}
			}},
		{at: time.Minute, in: e.mention("", "1234567890").input(), outcome: cases.OutcomeCounted, check: wantCounts(2, 1)},
	})
}

func TestApplyDecisions(t *testing.T) {
	e := handleEvidence(t, meity)
	status := func(st cases.Status, v cases.Verdict) func(*testing.T, *cases.State, []cases.Event) {
		return func(t *testing.T, s *cases.State, events []cases.Event) {
			t.Helper()
			got := cases.Verdict("")
			if s.Decision != nil {
				got = s.Decision.Decision
			}
			if s.Status != st || got != v {
				t.Errorf("status %s decision %q, want %s %q", s.Status, got, st, v)
			}
		}
	}
	_, lines := play(t, cfg, []step{
		{in: e.input(), events: opened, outcome: cases.OutcomeCounted, check: status(cases.StatusOpen, ""),
			binding: learnedBinding},
		{at: 10 * time.Second, in: e.tweet("2", t0).input(), outcome: cases.OutcomeCounted},
		// A reopen of an open case changes nothing.
		{at: 20 * time.Second, in: decision(e.CaseID, cases.VerdictReopen), outcome: cases.OutcomeUnchanged, same: true},
		// The decision carries the pending counts.
		{at: 30 * time.Second, in: decision(e.CaseID, cases.VerdictWithhold, "IN"), events: decided, outcome: cases.OutcomeDecided,
			check: func(t *testing.T, s *cases.State, ev []cases.Event) {
				status(cases.StatusDecided, cases.VerdictWithhold)(t, s, ev)
				wantCounts(2, 0)(t, s, ev)
				if s.UpdatePending {
					t.Error("an update pending after the decided event")
				}
			}},
		// Decided: evidence counts, silently.
		{at: 2 * time.Minute, in: e.tweet("3", t0).input(), outcome: cases.OutcomeCounted, check: wantCounts(3, 0)},
		{at: 5 * time.Minute, in: e.mention("kisan_ekta", "1111").input(), outcome: cases.OutcomeCounted, check: wantCounts(3, 1)},
		{at: 10 * time.Minute, tick: true, same: true},
		// A new decision on a decided case: decided again.
		{at: 11 * time.Minute, in: decision(e.CaseID, cases.VerdictNoAction), events: decided, outcome: cases.OutcomeDecided,
			check: status(cases.StatusDecided, cases.VerdictNoAction)},
		// The same decision again (a replay) is decided again.
		{at: 12 * time.Minute, in: decision(e.CaseID, cases.VerdictNoAction), events: decided, outcome: cases.OutcomeDecided},
		{at: 13 * time.Minute, in: decision(e.CaseID, cases.VerdictReopen), events: reopened, outcome: cases.OutcomeReopened,
			check: func(t *testing.T, s *cases.State, ev []cases.Event) {
				status(cases.StatusOpen, cases.VerdictReopen)(t, s, ev)
				wantCounts(3, 1)(t, s, ev)
			}},
		// Open again: updates resume.
		{at: 13*time.Minute + time.Second, in: e.tweet("4", t0).input(), outcome: cases.OutcomeCounted},
		{at: 14 * time.Minute, tick: true, events: updated, check: wantCounts(4, 1)},
		{at: 15 * time.Minute, in: decision(e.CaseID, cases.VerdictTermsOfService), events: decided, outcome: cases.OutcomeDecided},
		{at: 16 * time.Minute, in: decision(e.CaseID, cases.VerdictEscalate), events: decided, outcome: cases.OutcomeDecided,
			check: status(cases.StatusDecided, cases.VerdictEscalate)},
	})
	golden(t, "decisions", lines)
}

func TestApplyRefuses(t *testing.T) {
	e := handleEvidence(t, meity)
	other := handleEvidence(t, netzdg)
	t.Run("a decision for a case without state", func(t *testing.T) {
		play(t, cfg, []step{{in: decision(e.CaseID, cases.VerdictWithhold, "IN"), reason: cases.ReasonUnknownCase}})
	})
	t.Run("a reopen for a case without state", func(t *testing.T) {
		play(t, cfg, []step{{in: decision(e.CaseID, cases.VerdictReopen), reason: cases.ReasonUnknownCase}})
	})
	t.Run("input of another case", func(t *testing.T) {
		play(t, cfg, []step{
			{in: e.input(), events: opened, outcome: cases.OutcomeCounted,
				binding: learnedBinding},
			{in: other.input(), reason: cases.ReasonInvalidInput},
			{in: decision(other.CaseID, cases.VerdictWithhold, "DE"), reason: cases.ReasonInvalidInput},
		})
	})
	t.Run("an empty input", func(t *testing.T) {
		play(t, cfg, []step{{in: cases.Input{}, reason: cases.ReasonInvalidInput}})
	})
	t.Run("evidence under the case id of another entry", func(t *testing.T) {
		bad := e
		bad.CaseID = other.CaseID
		play(t, cfg, []step{{in: bad.input(), reason: cases.ReasonInvalidInput}})
	})
	t.Run("evidence without a tweet id", func(t *testing.T) {
		play(t, cfg, []step{{in: e.tweet("", t0).input(), reason: cases.ReasonInvalidInput}})
	})
	t.Run("a decision without reviewer", func(t *testing.T) {
		d := decision(e.CaseID, cases.VerdictNoAction)
		d.Decision.Decision.Reviewer = ""
		play(t, cfg, []step{
			{in: e.input(), events: opened, outcome: cases.OutcomeCounted, binding: learnedBinding},
			{in: d, reason: cases.ReasonInvalidInput},
		})
	})
	t.Run("a task decision", func(t *testing.T) {
		d := decision("", cases.VerdictNoAction)
		d.Decision.Decision.TaskID = e.CaseID
		play(t, cfg, []step{{in: d, reason: cases.ReasonInvalidInput}})
	})
	t.Run("an entry that is not one", func(t *testing.T) {
		bad := e
		bad.Entry = "not a handle"
		play(t, cfg, []step{{in: bad.input(), reason: cases.ReasonInvalidInput}})
	})
}

func TestApplyEvidenceTimes(t *testing.T) {
	e := handleEvidence(t, meity)
	early, late := t0.Add(-48*time.Hour), t0.Add(-24*time.Hour)
	seen := func(first, last time.Time) func(*testing.T, *cases.State, []cases.Event) {
		return func(t *testing.T, s *cases.State, _ []cases.Event) {
			t.Helper()
			if !s.Evidence.FirstSeen.Equal(first) || !s.Evidence.LastSeen.Equal(last) {
				t.Errorf("seen from %v to %v, want %v to %v", s.Evidence.FirstSeen, s.Evidence.LastSeen, first, last)
			}
		}
	}
	var steps []step
	steps = append(steps,
		step{in: e.tweet("1", late).input(), events: opened, outcome: cases.OutcomeCounted, check: seen(late, late),
			binding: &cases.Binding{Handle: "Kisan_Ekta", UserID: "1111", FirstSeen: late, TweetID: "1", Source: cases.BindingLearned}},
		// Out of order: an older post moves first_seen back.
		step{in: e.tweet("2", early).input(), outcome: cases.OutcomeCounted, check: seen(early, late)},
		// Without the post's time, when it was seen counts.
		step{in: e.tweet("3", time.Time{}).seen(t0).input(), outcome: cases.OutcomeCounted, check: seen(early, t0)},
	)
	// Samples: the first ten distinct.
	for i := range 12 {
		steps = append(steps, step{in: e.tweet(string(rune('a'+i)), late).input(), outcome: cases.OutcomeCounted})
	}
	steps = append(steps, step{in: e.tweet("1", late).input(), outcome: cases.OutcomeCounted,
		check: func(t *testing.T, s *cases.State, _ []cases.Event) {
			want := []string{"1", "2", "3", "a", "b", "c", "d", "e", "f", "g"}
			if !slices.Equal(s.Evidence.SampleTweetIDs, want) {
				t.Errorf("samples %q, want %q", s.Evidence.SampleTweetIDs, want)
			}
			counts(t, s, 16, 0)
		}})
	play(t, cfg, steps)
}

// TestApplyTypedSpellingsAreNotHandles: a mention typed into a text in an
// evasive spelling (fullwidth letters, an invisible character) counts for
// the case but is not recorded as a handle the account was seen with.
func TestApplyTypedSpellingsAreNotHandles(t *testing.T) {
	e := handleEvidence(t, meity)
	s, _ := play(t, cfg, []step{
		{in: e.mention("ｋｉｓａｎ＿ｅｋｔａ", "").input(), events: opened, outcome: cases.OutcomeCounted},
		{in: e.mention("kisan\u200b_ekta", "").input(), outcome: cases.OutcomeCounted},
		{in: e.input(), outcome: cases.OutcomeCounted, binding: learnedBinding},
	})
	if !slices.Equal(s.Account.HandlesSeen, []string{"Kisan_Ekta"}) || s.Account.Handle != "Kisan_Ekta" {
		t.Errorf("handles seen %q, handle %q; want only the platform's spelling, Kisan_Ekta", s.Account.HandlesSeen, s.Account.Handle)
	}
	counts(t, s, 1, 2)
}

func TestApplyHandlesSeenBounded(t *testing.T) {
	e := handleEvidence(t, meity)
	steps := []step{{in: e.input(), events: opened, outcome: cases.OutcomeCounted,
		binding: learnedBinding}}
	for i := range 30 {
		steps = append(steps, step{in: e.by("1111", "name_"+string(rune('a'+i%26))+string(rune('a'+i/26))).viaBinding().input(), outcome: cases.OutcomeCounted})
	}
	s, _ := play(t, cfg, steps)
	if n := len(s.Account.HandlesSeen); n != cases.MaxHandlesSeen {
		t.Errorf("%d handles seen, want the first %d", n, cases.MaxHandlesSeen)
	}
	if s.Account.Handle != "name_db" {
		t.Errorf("handle %q, want the last used, name_db", s.Account.Handle)
	}
}

func TestApplyGovernance(t *testing.T) {
	press := &cases.Exemption{ID: "EX-IN-PRESS", Category: "journalist", Reason: "Accredited journalists; any action needs legal review"}
	retro := &cases.Retro{Job: "retro-2021-02-04", Since: t0.Add(-72 * time.Hour), Until: t0}
	e := handleEvidence(t, meity)
	exempt := func(want *cases.Exemption) func(*testing.T, *cases.State, []cases.Event) {
		return func(t *testing.T, s *cases.State, events []cases.Event) {
			t.Helper()
			if s.Exemption != want {
				t.Errorf("exemption %+v, want %+v", s.Exemption, want)
			}
			for _, ev := range events {
				wantAction, wantPriority := "withhold", "high"
				if want != nil {
					wantAction, wantPriority = "escalate", "critical"
				}
				if ev.Exemption != want || ev.Action != wantAction || ev.Priority != wantPriority {
					t.Errorf("%s event: exemption %+v action %s priority %s; want %+v %s %s",
						ev.Event, ev.Exemption, ev.Action, ev.Priority, want, wantAction, wantPriority)
				}
			}
		}
	}
	_, lines := play(t, cfg, []step{
		{in: e.exempt(press).retro(retro).input(), events: opened, outcome: cases.OutcomeCounted, check: func(t *testing.T, s *cases.State, ev []cases.Event) {
			exempt(press)(t, s, ev)
			if ev[0].Retro != retro {
				t.Errorf("retro %+v, want %+v", ev[0].Retro, retro)
			}
		}, binding: learnedBinding},
		// Same lists, a post that did not say: still exempt.
		{at: time.Minute, in: e.mention("kisan_ekta", "").input(), events: updated, outcome: cases.OutcomeCounted, check: func(t *testing.T, s *cases.State, ev []cases.Event) {
			exempt(press)(t, s, ev)
			if ev[0].Retro != nil {
				t.Errorf("retro %+v on an event of live evidence", ev[0].Retro)
			}
		}},
		// New lists without the exemption: no longer exempt.
		{at: 2 * time.Minute, in: e.lists("ffff0000").input(), events: updated, outcome: cases.OutcomeCounted, check: exempt(nil)},
		// A shadow demand's events say so; a tripped breaker is the
		// caller's to mark.
		{at: 3 * time.Minute, in: e.lists("ffff0000").shadow().input(), events: updated, outcome: cases.OutcomeCounted,
			check: func(t *testing.T, s *cases.State, ev []cases.Event) {
				if !ev[0].Shadow {
					t.Error("event of a shadow demand without shadow")
				}
				ev[0].Tripped = true
				line := checkEvents(t, ev)
				if !bytes.Contains(line, []byte(`"shadow":true,"tripped":true}`)) {
					t.Errorf("tripped event %s", line)
				}
			}},
	})
	golden(t, "governance", lines)
}

// TestApplyReplayOverCounts replays evidence after a simulated crash at
// every point: the state topic holds the state after some input, offsets
// were committed before it, and the inputs from the committed offset on
// are applied again. Counts may exceed the true counts, never fall short,
// and no event kind of the crash-free run is missing.
func TestApplyReplayOverCounts(t *testing.T) {
	e := handleEvidence(t, meity)
	var inputs []cases.Input
	for i := range 12 {
		x := e.tweet(string(rune('a'+i)), t0)
		if i%3 == 1 {
			x = x.mention("kisan_ekta", "1111")
		}
		inputs = append(inputs, x.input())
		if i == 6 {
			inputs = append(inputs, decision(e.CaseID, cases.VerdictWithhold, "IN"))
		}
		if i == 9 {
			inputs = append(inputs, decision(e.CaseID, cases.VerdictReopen))
		}
	}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 40 * time.Second) }
	run := func(s *cases.State, from, to int) (*cases.State, map[cases.EventKind]int) {
		kinds := map[cases.EventKind]int{}
		for i := from; i < to; i++ {
			next, out, err := cases.Apply(s, inputs[i], at(i), cfg)
			if err != nil {
				t.Fatalf("input %d: %v", i, err)
			}
			for _, ev := range out.Events {
				kinds[ev.Event]++
			}
			s = next
		}
		return s, kinds
	}
	truth, trueKinds := run(nil, 0, len(inputs))
	// states[i] is the state after the first i inputs, as written to
	// the state topic.
	states := []*cases.State{nil}
	for i := range inputs {
		s, _ := run(states[i], i, i+1)
		states = append(states, s)
	}
	// A crash after the events of the first emitted inputs were
	// acknowledged, the states of the first written (events go out before
	// their state), and the offsets of the first committed (after both).
	for committed := 0; committed <= len(inputs); committed++ {
		for written := committed; written <= len(inputs); written++ {
			for emitted := written; emitted <= len(inputs); emitted++ {
				_, before := run(nil, 0, emitted)
				var restored *cases.State
				if st := states[written]; st != nil {
					b, _ := st.Append(nil)
					var err error
					if restored, err = cases.DecodeState(nil, b); err != nil {
						t.Fatal(err)
					}
				}
				final, after := run(restored, committed, len(inputs))
				name := fmt.Sprintf("committed %d, written %d, emitted %d", committed, written, emitted)
				if final.Evidence.Posts < truth.Evidence.Posts || final.Evidence.Mentions < truth.Evidence.Mentions {
					t.Errorf("%s: %d posts %d mentions, fewer than the true %d, %d", name,
						final.Evidence.Posts, final.Evidence.Mentions, truth.Evidence.Posts, truth.Evidence.Mentions)
				}
				if final.Status != truth.Status {
					t.Errorf("%s: status %s, want %s", name, final.Status, truth.Status)
				}
				for k, n := range trueKinds {
					if before[k]+after[k] < n {
						t.Errorf("%s: %d %s events, want at least %d", name, before[k]+after[k], k, n)
					}
				}
				// opened repeats only when the state written did not
				// record it.
				if n := before[cases.EventOpened] + after[cases.EventOpened]; n != 1 && written > 0 {
					t.Errorf("%s: %d opened events, want 1", name, n)
				}
			}
		}
	}
	if truth.Evidence.Posts+truth.Evidence.Mentions != 12 {
		t.Fatalf("true counts %+v, want 12 in all", truth.Evidence)
	}
}

// TestApplyTimesInUTC feeds times in another location, as a caller that
// builds evidence itself may: events and states are in UTC all the same.
func TestApplyTimesInUTC(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	e := handleEvidence(t, meity).tweet("1", time.Time{}).seen(t0.In(ist)).
		retro(&cases.Retro{Job: "j", Since: t0.Add(-time.Hour).In(ist), Until: t0.In(ist)})
	d := decision(e.CaseID, cases.VerdictWithhold, "IN")
	d.Decision.Decision.DecidedAt = d.Decision.Decision.DecidedAt.In(ist)
	play(t, cfg, []step{
		{in: e.input(), events: opened, outcome: cases.OutcomeCounted,
			binding: &cases.Binding{Handle: "Kisan_Ekta", UserID: "1111", FirstSeen: t0, TweetID: "1", Source: cases.BindingLearned},
			check: func(t *testing.T, s *cases.State, ev []cases.Event) {
				if s.Evidence.FirstSeen.Location() != time.UTC || ev[0].Retro.Since.Location() != time.UTC {
					t.Errorf("times not in UTC: %v, %v", s.Evidence.FirstSeen, ev[0].Retro.Since)
				}
			}},
		{in: d, events: decided, outcome: cases.OutcomeDecided},
	})
}
