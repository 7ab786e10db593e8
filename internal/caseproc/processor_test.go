package caseproc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/kafkaio"
	"flagstream/internal/testkit"
	"flagstream/pipeline/cases"
)

// Topics of the tests.
const (
	evidenceTopic  = "flagstream-case-evidence"
	stateTopic     = "flagstream-cases"
	casesTopic     = "review-cases"
	bindingsTopic  = "flagstream-bindings"
	dlqTopic       = "tweets-dlq"
	shadowTopic    = "review-shadow"
	escalateTopic  = "review-escalations"
	decisionsTopic = "review-decisions"
)

var t0 = time.Date(2021, 2, 4, 10, 0, 0, 0, time.UTC)

var meity = cases.Demand{
	ID: "IN-MEITY-2021-02-04", Jurisdictions: []string{"IN"}, Action: "withhold", Priority: "high", Scope: "user",
	Authority: "Ministry of Electronics and Information Technology", LegalBasis: "IT Act 2000, section 69A",
	ListsVersion: "a1b2c3d4e5f60718",
}

// bed is a broker with the topics of the case processor.
type bed struct {
	t    *testing.T
	addr string
	conn kafkaio.Connection
}

func newBed(t *testing.T, partitions int) *bed {
	t.Helper()
	b := testkit.StartBroker(t, devbroker.Config{Partitions: partitions})
	conn := kafkaio.Connection{Brokers: []string{b.Addr()}, DialTimeout: 5 * time.Second}
	_, err := kafkaio.EnsureTopics(context.Background(), conn, []kafkaio.TopicSpec{
		{Key: "accounts.bindings_topic", Name: bindingsTopic, Partitions: 1, Policy: kafkaio.Compact},
		{Key: "cases.evidence_topic", Name: evidenceTopic, Partitions: partitions, Policy: kafkaio.Delete, SameAs: "cases.state_topic"},
		{Key: "cases.state_topic", Name: stateTopic, Partitions: partitions, Policy: kafkaio.Compact, SameAs: "cases.evidence_topic"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var topics []kafka.TopicConfig
	for _, topic := range []string{casesTopic, dlqTopic, shadowTopic, escalateTopic, decisionsTopic} {
		topics = append(topics, kafka.TopicConfig{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1})
	}
	c := &kafka.Client{Addr: kafka.TCP(b.Addr()), Timeout: 10 * time.Second}
	if _, err := c.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: topics}); err != nil {
		t.Fatal(err)
	}
	return &bed{t: t, addr: b.Addr(), conn: conn}
}

func (b *bed) config(group string) Config {
	return Config{
		Conn: b.conn, Group: group, EvidenceTopic: evidenceTopic, StateTopic: stateTopic,
		CasesTopic: casesTopic, ShadowTopic: shadowTopic, EscalationTopic: escalateTopic,
		BindingsTopic: bindingsTopic, DeadLetterTopic: dlqTopic,
		TickInterval:      100 * time.Millisecond,
		HeartbeatInterval: 300 * time.Millisecond, SessionTimeout: 3 * time.Second, RebalanceTimeout: 3 * time.Second,
		MaxWait: 200 * time.Millisecond, DrainTimeout: 2 * time.Second,
		Logger: testkit.Logger(b.t),
	}
}

// start starts a processor and closes it when the test ends.
func (b *bed) start(cfg Config) *Processor {
	b.t.Helper()
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(prometheus.NewPedanticRegistry())
	}
	p, err := Start(cfg)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { p.Close() })
	return p
}

// produce writes records to topic, keyed, as the pipeline's sink does
// (murmur2 of the key).
func (b *bed) produce(topic string, msgs ...kafka.Message) {
	b.t.Helper()
	testkit.ProduceKeyed(b.t, b.addr, topic, msgs...)
}

// evidence returns a post by id as handle, evidence for the handle entry
// entry of meity.
func evidence(t *testing.T, entry, id, handle, tweet string) cases.Evidence {
	t.Helper()
	caseID, err := cases.CaseOf(meity.ID, cases.EntryHandle, entry)
	if err != nil {
		t.Fatal(err)
	}
	return cases.Evidence{
		CaseID: caseID, Demand: meity, Entry: entry, EntryKind: cases.EntryHandle,
		Kind: cases.EvidencePost, In: "tweet", Tier: "exact", TweetID: tweet,
		TweetCreatedAt: t0, SeenAt: time.Now().UTC(),
		Author: cases.Author{ID: id, Handle: handle},
	}
}

func record(t *testing.T, ev cases.Evidence) kafka.Message {
	t.Helper()
	in := cases.Input{Evidence: &ev}
	v, err := in.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return kafka.Message{Key: []byte(ev.CaseID), Value: v}
}

// posts returns n evidence records for each of the handles, the i-th post
// of handle h by user id 1000+h.
func posts(t *testing.T, handles []string, from, n int) []kafka.Message {
	var out []kafka.Message
	for i := from; i < from+n; i++ {
		for h, handle := range handles {
			out = append(out, record(t, evidence(t, "@"+handle, strconv.Itoa(1000+h), handle, fmt.Sprintf("%d%04d", h+1, i))))
		}
	}
	return out
}

// caughtUp reports whether group has applied every record of topic.
func (b *bed) caughtUp(group, topic string) bool { return testkit.CaughtUp(b.addr, group, topic) }

// events returns the case events in topic, by case id, in order.
func (b *bed) events(topic string) map[string][]cases.Event {
	b.t.Helper()
	out := map[string][]cases.Event{}
	for _, m := range testkit.ReadTopic(b.t, b.addr, topic) {
		e, err := cases.ParseEvent(m.Value)
		if err != nil {
			b.t.Fatalf("%s: %v: %s", topic, err, m.Value)
		}
		if string(m.Key) != e.CaseID {
			b.t.Errorf("%s: key %q, want the case id %s", topic, m.Key, e.CaseID)
		}
		if bytes.HasSuffix(m.Value, []byte("\n")) {
			b.t.Errorf("%s: a value ends in a newline", topic)
		}
		out[e.CaseID] = append(out[e.CaseID], e)
	}
	return out
}

func kinds(es []cases.Event) string {
	var k []string
	for _, e := range es {
		k = append(k, string(e.Event))
	}
	return strings.Join(k, ",")
}

var handles = []string{"kisan_one", "kisan_two", "kisan_three", "kisan_four", "kisan_five", "kisan_six"}

func TestProcessorCasesAcrossHandovers(t *testing.T) {
	b := newBed(t, 3)
	b.produce(evidenceTopic, posts(t, handles, 0, 5)...)
	cfg := b.config("cases")
	p1 := b.start(cfg)
	testkit.WaitFor(t, 20*time.Second, "the first instance to apply everything", func() bool { return b.caughtUp("cases", evidenceTopic) })
	if err := p1.Ready(); err != nil {
		t.Errorf("Ready after applying: %v", err)
	}

	// A second instance joins: the partitions are shared, and the one
	// that takes partitions over restores their cases.
	p2 := b.start(cfg)
	testkit.WaitFor(t, 20*time.Second, "the partitions to be shared", func() bool {
		a1, a2 := testutil.ToFloat64(p1.cfg.Metrics.assigned), testutil.ToFloat64(p2.cfg.Metrics.assigned)
		return a1 > 0 && a2 > 0 && a1+a2 == 3 && p2.Ready() == nil
	})
	if got := testutil.ToFloat64(p2.cfg.Metrics.held); got == 0 {
		t.Errorf("the second instance restored no cases of the partitions it took over")
	}
	b.produce(evidenceTopic, posts(t, handles, 5, 5)...)
	testkit.WaitFor(t, 30*time.Second, "both instances to apply the second round", func() bool {
		return p2.Ready() == nil && b.caughtUp("cases", evidenceTopic)
	})
	// The first stops gracefully; a third replaces it.
	p1.Close()
	p3 := b.start(cfg)
	b.produce(evidenceTopic, posts(t, handles, 10, 5)...)
	testkit.WaitFor(t, 30*time.Second, "the third round", func() bool { return p3.Ready() == nil && b.caughtUp("cases", evidenceTopic) })
	// All stop, and start again.
	p2.Close()
	p3.Close()
	p4 := b.start(cfg)
	b.produce(evidenceTopic, posts(t, handles, 15, 5)...)
	testkit.WaitFor(t, 30*time.Second, "the fourth round", func() bool { return p4.Ready() == nil && b.caughtUp("cases", evidenceTopic) })
	p4.Close()

	evs := b.events(casesTopic)
	if len(evs) != len(handles) {
		t.Fatalf("%d cases, want %d", len(evs), len(handles))
	}
	for id, es := range evs {
		opened := strings.Count(kinds(es), "opened")
		if opened != 1 || es[0].Event != cases.EventOpened {
			t.Errorf("case %s (%s): events %s; want exactly one opened, first", id, es[0].Entry, kinds(es))
		}
		// Graceful handovers: nothing applied twice, so the counts are
		// exact; with update_interval 0 every post makes an event.
		last := es[len(es)-1]
		if last.Evidence.Posts != 20 || len(es) != 20 {
			t.Errorf("case %s: %d events, last counts %d posts; want 20 and 20", id, len(es), last.Evidence.Posts)
		}
		if last.Account.Binding != cases.BindingLearned || last.Account.UserID == "" {
			t.Errorf("case %s: account %+v, want a learned binding", id, last.Account)
		}
	}
	// One learned binding per handle, published once.
	bindings := testkit.ReadTopic(t, b.addr, bindingsTopic)
	if len(bindings) != len(handles) {
		t.Errorf("%d bindings published, want %d", len(bindings), len(handles))
	}
	for _, m := range bindings {
		if _, err := cases.DecodeBinding(m.Key, m.Value); err != nil {
			t.Errorf("binding: %v", err)
		}
	}
	// Every state is on the partition of its case's evidence.
	states := map[string]int{}
	for _, m := range testkit.ReadTopic(t, b.addr, evidenceTopic) {
		states[string(m.Key)] = m.Partition
	}
	for _, m := range testkit.ReadTopic(t, b.addr, stateTopic) {
		if _, err := cases.DecodeState(m.Key, m.Value); err != nil {
			t.Errorf("state: %v", err)
		}
		if want := states[string(m.Key)]; m.Partition != want {
			t.Errorf("state of case %s on partition %d, its evidence on %d", m.Key, m.Partition, want)
		}
	}
}

func TestProcessorUpdatesOnTheTimer(t *testing.T) {
	b := newBed(t, 1)
	cfg := b.config("timer")
	cfg.UpdateInterval = 500 * time.Millisecond
	b.start(cfg)
	b.produce(evidenceTopic, posts(t, handles[:1], 0, 3)...)
	// opened at once; the two other posts wait for the interval, then one
	// updated carries them both.
	testkit.WaitFor(t, 20*time.Second, "opened and one updated", func() bool {
		for _, es := range b.events(casesTopic) {
			return kinds(es) == "opened,updated" && es[1].Evidence.Posts == 3
		}
		return false
	})
	time.Sleep(time.Second)
	for _, es := range b.events(casesTopic) {
		if kinds(es) != "opened,updated" {
			t.Errorf("events %s, want opened,updated only", kinds(es))
		}
	}
}

func TestProcessorRoutesGovernedEvents(t *testing.T) {
	b := newBed(t, 1)
	cfg := b.config("routes")
	var counted atomic.Int32
	cfg.CountEvent = func(demand string) bool { counted.Add(1); return false }
	cfg.Metrics = NewMetrics(prometheus.NewPedanticRegistry())
	b.start(cfg)

	shadow := evidence(t, "@shadowed", "1", "shadowed", "11")
	shadow.Demand.Shadow = true
	exempt := evidence(t, "@reporter", "2", "reporter", "12")
	exempt.Exemption = &cases.Exemption{ID: "EX-IN-PRESS", Category: "journalist", Reason: "accredited"}
	b.produce(evidenceTopic, record(t, shadow), record(t, exempt))
	testkit.WaitFor(t, 20*time.Second, "the shadow and escalated events", func() bool {
		return len(b.events(shadowTopic)) == 1 && len(b.events(escalateTopic)) == 1
	})
	for _, es := range b.events(shadowTopic) {
		if !es[0].Shadow || es[0].Entry != "@shadowed" {
			t.Errorf("shadow topic: %+v", es[0])
		}
	}
	for _, es := range b.events(escalateTopic) {
		if es[0].Action != "escalate" || es[0].Priority != "critical" || es[0].Exemption == nil {
			t.Errorf("escalation topic: action %s priority %s exemption %v", es[0].Action, es[0].Priority, es[0].Exemption)
		}
	}
	if n := len(b.events(casesTopic)); n != 0 {
		t.Errorf("%d cases on the cases topic, want none", n)
	}
	if counted.Load() != 1 {
		t.Errorf("the breaker counted %d events, want 1 (the exempt one; shadow ones are not live)", counted.Load())
	}
}

func TestProcessorTrippedDemand(t *testing.T) {
	b := newBed(t, 1)
	cfg := b.config("tripped")
	cfg.CountEvent = func(demand string) bool { return demand == meity.ID }
	b.start(cfg)
	b.produce(evidenceTopic, posts(t, handles[:2], 0, 1)...)
	testkit.WaitFor(t, 20*time.Second, "tripped events on the shadow topic", func() bool { return len(b.events(shadowTopic)) == 2 })
	for _, es := range b.events(shadowTopic) {
		if !es[0].Tripped || es[0].Shadow {
			t.Errorf("tripped event: tripped %v shadow %v", es[0].Tripped, es[0].Shadow)
		}
	}
}

func TestProcessorDeadLetters(t *testing.T) {
	b := newBed(t, 1)
	cfg := b.config("dlq")
	b.start(cfg)
	unknown, err := cases.CaseOf(meity.ID, cases.EntryHandle, "@nobody_here")
	if err != nil {
		t.Fatal(err)
	}
	d, ok, err := cases.DecisionInput([]byte(fmt.Sprintf(`{"schema":"flagstream.review_decision/v1","case_id":%q,"decision":"no_action",`+
		`"countries":[],"reviewer":"r1","reason":"x","decided_at":"2021-02-05T00:00:00Z"}`, unknown)),
		cases.Source{Topic: decisionsTopic, Partition: 0, Offset: 41})
	if err != nil || !ok {
		t.Fatal(err)
	}
	v, err := d.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	b.produce(evidenceTopic,
		kafka.Message{Key: []byte("junk"), Value: []byte(`{"schema":"flagstream.case_input/v1","type":"evidence"}`),
			Headers: []kafka.Header{{Key: "origin", Value: []byte("test")}}},
		kafka.Message{Key: []byte(unknown), Value: v})
	b.produce(evidenceTopic, posts(t, handles[:1], 0, 1)...)
	testkit.WaitFor(t, 20*time.Second, "everything applied", func() bool { return b.caughtUp("dlq", evidenceTopic) })
	dl := testkit.ReadTopic(t, b.addr, dlqTopic)
	if len(dl) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dl))
	}
	want := []struct{ reason, topic, offset string }{
		{"invalid_case_input", evidenceTopic, "0"},
		{"unknown_case", decisionsTopic, "41"},
	}
	for i, m := range dl {
		for k, w := range map[string]string{kafkaio.HeaderReason: want[i].reason, kafkaio.HeaderSourceTopic: want[i].topic,
			kafkaio.HeaderSourceOffset: want[i].offset} {
			if got, _ := testkit.Header(m, k); got != w {
				t.Errorf("dead letter %d: header %s = %q, want %q", i, k, got, w)
			}
		}
	}
	if got, _ := testkit.Header(dl[0], "origin"); got != "test" {
		t.Errorf("the dead letter of an input lost its headers")
	}
	var raw map[string]any
	if err := json.Unmarshal(dl[1].Value, &raw); err != nil || raw["schema"] != cases.DecisionSchemaID {
		t.Errorf("the dead letter of a decision is not the decision as written: %s", dl[1].Value)
	}
	if n := len(b.events(casesTopic)); n != 1 {
		t.Errorf("%d cases, want the one of the good evidence after the bad records", n)
	}
}

func (b *bed) forwarder(group string, m *Metrics) *Forwarder {
	b.t.Helper()
	f, err := StartForwarder(ForwarderConfig{
		Conn: b.conn, Group: group, DecisionsTopic: decisionsTopic, EvidenceTopic: evidenceTopic, DeadLetterTopic: dlqTopic,
		HeartbeatInterval: 300 * time.Millisecond, SessionTimeout: 3 * time.Second, RebalanceTimeout: 3 * time.Second,
		MaxWait: 200 * time.Millisecond, DrainTimeout: 2 * time.Second, Logger: testkit.Logger(b.t), Metrics: m,
	})
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { f.Close() })
	return f
}

func decisionJSON(caseID, verdict, countries string) []byte {
	return fmt.Appendf(nil, `{"schema":"flagstream.review_decision/v1","case_id":%q,"decision":%q,"countries":[%s],`+
		`"reviewer":"reviewer-7","reason":"checked","decided_at":"2021-02-05T10:00:00Z"}`, caseID, verdict, countries)
}

func TestDecisionsMoveCases(t *testing.T) {
	b := newBed(t, 2)
	cfg := b.config("flow-cases")
	cfg.UpdateInterval = time.Hour
	b.start(cfg)
	m := NewMetrics(prometheus.NewPedanticRegistry())
	b.forwarder("flow-decisions", m)
	ev := evidence(t, "@kisan_one", "1000", "kisan_one", "1")
	b.produce(evidenceTopic, record(t, ev))
	testkit.WaitFor(t, 20*time.Second, "the case opened", func() bool { return len(b.events(casesTopic)[ev.CaseID]) == 1 })

	malformed := []byte(`{"schema":"flagstream.review_decision/v1","case_id":"` + ev.CaseID + `","Decision":"withhold"}`)
	b.produce(decisionsTopic,
		kafka.Message{Key: []byte(ev.CaseID), Value: decisionJSON(ev.CaseID, "withhold", `"IN"`)},
		kafka.Message{Key: []byte("c0ffee"), Value: []byte(`{"schema":"flagstream.review_decision/v1","task_id":"0123456789abcdef0123456789abcdef",` +
			`"decision":"no_action","countries":[],"reviewer":"r","reason":"","decided_at":"2021-02-05T10:00:00Z"}`)},
		kafka.Message{Key: []byte(ev.CaseID), Value: malformed, Headers: []kafka.Header{{Key: "tool", Value: []byte("review-ui")}}},
	)
	testkit.WaitFor(t, 20*time.Second, "the case decided", func() bool { return kinds(b.events(casesTopic)[ev.CaseID]) == "opened,decided" })
	// A decided case counts evidence silently until it is reopened.
	ev2 := ev
	ev2.TweetID = "2"
	b.produce(evidenceTopic, record(t, ev2))
	testkit.WaitFor(t, 20*time.Second, "the evidence applied", func() bool { return b.caughtUp("flow-cases", evidenceTopic) })
	b.produce(decisionsTopic, kafka.Message{Key: []byte(ev.CaseID), Value: decisionJSON(ev.CaseID, "reopen", "")})
	testkit.WaitFor(t, 20*time.Second, "the case reopened", func() bool {
		return kinds(b.events(casesTopic)[ev.CaseID]) == "opened,decided,reopened"
	})
	es := b.events(casesTopic)[ev.CaseID]
	if d := es[1].Decision; d == nil || d.Decision != cases.VerdictWithhold || len(d.Countries) != 1 || es[1].Status != cases.StatusDecided {
		t.Errorf("decided event: status %s decision %+v", es[1].Status, es[1].Decision)
	}
	if es[2].Status != cases.StatusOpen || es[2].Evidence.Posts != 2 {
		t.Errorf("reopened event: status %s, %d posts; want open, 2 (the one counted while decided)", es[2].Status, es[2].Evidence.Posts)
	}

	testkit.WaitFor(t, 10*time.Second, "the decisions committed", func() bool { return b.caughtUp("flow-decisions", decisionsTopic) })
	dl := testkit.ReadTopic(t, b.addr, dlqTopic)
	if len(dl) != 1 {
		t.Fatalf("%d dead letters, want the malformed decision", len(dl))
	}
	if !bytes.Equal(dl[0].Value, malformed) || string(dl[0].Key) != ev.CaseID {
		t.Errorf("dead letter %q %s, want the original record", dl[0].Key, dl[0].Value)
	}
	for k, w := range map[string]string{kafkaio.HeaderReason: "invalid_decision", kafkaio.HeaderSourceTopic: decisionsTopic, "tool": "review-ui"} {
		if got, _ := testkit.Header(dl[0], k); got != w {
			t.Errorf("dead letter header %s = %q, want %q", k, got, w)
		}
	}
	if e, _ := testkit.Header(dl[0], kafkaio.HeaderError); !strings.Contains(e, "Decision") {
		t.Errorf("dead letter error %q does not name the misspelled field", e)
	}
	for result, want := range map[string]float64{"forwarded": 2, "task": 1, "invalid": 1} {
		if got := testutil.ToFloat64(m.forwarded.WithLabelValues(result)); got != want {
			t.Errorf("flagstream_decisions_total{result=%q} = %v, want %v", result, got, want)
		}
	}
}
