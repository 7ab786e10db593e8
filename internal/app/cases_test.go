package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
	"flagstream/internal/kafkaio"
	"flagstream/internal/testkit"
)

// topicConfig returns the partition count and cleanup policy of a topic.
func topicConfig(t *testing.T, addr, topic string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	parts, err := testkit.Partitions(ctx, addr, topic)
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	c := &kafka.Client{Addr: kafka.TCP(addr)}
	res, err := c.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: []string{"cleanup.policy"}}}})
	if err != nil || len(res.Resources) != 1 || res.Resources[0].Error != nil {
		t.Fatalf("describe %s: %v %+v", topic, err, res)
	}
	policy := ""
	for _, e := range res.Resources[0].ConfigEntries {
		policy = e.ConfigValue
	}
	return len(parts), policy
}

// TestRunCreatesOwnedTopics starts run on a broker without flagstream's
// own topics: it creates them (evidence and state with the input topic's
// partition count) before turning ready.
func TestRunCreatesOwnedTopics(t *testing.T) {
	h := testkit.New(t, devbroker.Config{Partitions: 3}, synth.Config{})
	cfg := h.Config("owned")
	in := start(t, cfg)
	testkit.WaitFor(t, 30*time.Second, "ready", func() bool { return httpStatus(t, "http://"+in.Addr+"/readyz") == http.StatusOK })
	addr := h.Broker.Addr()
	for topic, want := range map[string]struct {
		partitions int
		policy     string
	}{
		cfg.Accounts.BindingsTopic: {1, "compact"},
		cfg.Retro.ProgressTopic:    {1, "compact"},
		cfg.Cases.EvidenceTopic:    {3, "delete"},
		cfg.Cases.StateTopic:       {3, "compact"},
	} {
		n, policy := topicConfig(t, addr, topic)
		if n != want.partitions || policy != want.policy {
			t.Errorf("%s: %d partitions, cleanup.policy=%s; want %d, %s", topic, n, policy, want.partitions, want.policy)
		}
	}
	if err := in.Stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestRunRefusesMisconfiguredOwnedTopics: a state topic or (with the
// retro-hunt of reloads on) a progress topic that is not compacted, or
// evidence and state topics of different partition counts, stop run with
// a usage error that says what to fix.
func TestRunRefusesMisconfiguredOwnedTopics(t *testing.T) {
	for _, tc := range []struct {
		name        string
		topics      []kafka.TopicConfig
		retroWindow time.Duration
		want        []string
	}{{
		name:   "state topic not compacted",
		topics: []kafka.TopicConfig{{Topic: "flagstream-cases", NumPartitions: 4, ReplicationFactor: 1}},
		want:   []string{"cases.state_topic: topic flagstream-cases has cleanup.policy=delete, want compact"},
	}, {
		name: "partition counts differ",
		topics: []kafka.TopicConfig{
			{Topic: "flagstream-cases", NumPartitions: 2, ReplicationFactor: 1,
				ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}},
			{Topic: "flagstream-case-evidence", NumPartitions: 4, ReplicationFactor: 1},
		},
		want: []string{"has 4 partitions but cases.state_topic (flagstream-cases) has 2"},
	}, {
		name:        "progress topic not compacted",
		topics:      []kafka.TopicConfig{{Topic: "flagstream-retro", NumPartitions: 1, ReplicationFactor: 1}},
		retroWindow: time.Hour,
		want:        []string{"retro.progress_topic: topic flagstream-retro has cleanup.policy=delete, want compact"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			h := testkit.New(t, devbroker.Config{}, synth.Config{})
			c := &kafka.Client{Addr: kafka.TCP(h.Broker.Addr()), Timeout: 10 * time.Second}
			if _, err := c.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: tc.topics}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cfg := h.Config("refuse")
			cfg.Lists.RetroWindow = tc.retroWindow
			err := Run(ctx, cfg, Options{Logger: testkit.Logger(t)})
			if err == nil || ctx.Err() != nil {
				t.Fatalf("Run did not refuse to run: %v", err)
			}
			if !IsUsage(err) || !strings.Contains(err.Error(), kafkaio.ErrTopicConfig.Error()) {
				t.Errorf("got %v, want a usage error about the owned topics", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestRunRenameTakeoverAndDecisions follows listed accounts through run:
// a listed account bound from its first posts and then renamed is still
// matched, also after a restart (the new instance reads the binding from
// the bindings topic); posts by another account under a listed handle give
// a reassigned event and count nothing; decisions move a case to decided,
// silence its updates and reopen it; a malformed decision goes to the
// dead-letter topic while tweets keep flowing.
func TestRunRenameTakeoverAndDecisions(t *testing.T) {
	const phase = 1500
	renamed, taken := testkit.DemandHandles[0], testkit.DemandHandles[1]
	traffic := testkit.Traffic(21, 0.3, 0.03, 0.01)
	traffic.Rename = synth.Rename{Handle: renamed, To: "kisan_renamed", At: phase + 1}
	traffic.Takeover = synth.Takeover{Handle: taken, At: phase + 1}
	h := testkit.New(t, devbroker.Config{Partitions: 3}, traffic)
	cfg := h.Config("follow")
	cfg.Cases.UpdateInterval = 100 * time.Millisecond
	keyOf := func(handle string) string { return testkit.DemandID + " @" + handle }

	// Phase 1: the listed accounts post under their handles and are bound.
	h.Produce(phase)
	a := start(t, cfg)
	testkit.WaitFor(t, 60*time.Second, "the first phase applied", func() bool {
		return h.CaughtUp("follow") && h.CasesSettled(h.Cases(""), testkit.DemandID)
	})
	if got := a.counter("flagstream_bindings"); got < 3 {
		t.Fatalf("%v handles bound in the table after the first phase, want the 3 listed", got)
	}
	if err := a.Stop(t); err != nil {
		t.Fatal(err)
	}

	// Phase 2, on a new instance: a rename and a takeover.
	b := start(t, cfg)
	testkit.WaitFor(t, 30*time.Second, "the restarted instance ready", func() bool {
		return httpStatus(t, "http://"+b.Addr+"/readyz") == http.StatusOK
	})
	if got := b.counter("flagstream_bindings"); got < 3 {
		t.Errorf("the restarted instance has %v bindings at ready, want the 3 from the topic", got)
	}
	h.Produce(phase)
	testkit.WaitFor(t, 60*time.Second, "the second phase applied", func() bool {
		return h.CaughtUp("follow") && h.CasesSettled(h.Cases(""), testkit.DemandID)
	})
	cs := h.Cases("")
	truth := h.TrueEvidence()
	h.CheckCases(cs, testkit.DemandID, false)

	r := cs.Last(keyOf(renamed))
	if !slices.Contains(r.Account.HandlesSeen, "kisan_renamed") || r.Account.UserID != synth.HandleUserID(renamed) || r.Account.Binding != "learned" {
		t.Errorf("renamed account: %+v; want kisan_renamed among the handles seen, bound (learned) to %s", r.Account, synth.HandleUserID(renamed))
	}
	renamedPosts := 0
	for _, p := range h.Exp.Accounts {
		if p.Renamed {
			renamedPosts++
		}
	}
	if renamedPosts == 0 || r.Evidence.Posts != truth[renamed].Posts {
		t.Errorf("renamed account: %d posts counted, want %d (%d under the new handle)", r.Evidence.Posts, truth[renamed].Posts, renamedPosts)
	}
	tk := cs.Last(keyOf(taken))
	if n := cs.Count(keyOf(taken), "reassigned"); n != 1 {
		t.Errorf("taken-over handle: %d reassigned events (%s), want 1", n, cs.Kinds(keyOf(taken)))
	}
	if held := tk.Account.HandleNowHeldBy; held == nil || *held != synth.TakeoverUserID(taken) {
		t.Errorf("taken-over handle: handle_now_held_by %v, want %s", held, synth.TakeoverUserID(taken))
	}
	if truth[taken].TakenOver == 0 || tk.Evidence.Posts != truth[taken].Posts || tk.Account.UserID != synth.HandleUserID(taken) {
		t.Errorf("taken-over handle: %d posts of account %s; want the listed account's %d, none of the new holder's %d",
			tk.Evidence.Posts, tk.Account.UserID, truth[taken].Posts, truth[taken].TakenOver)
	}
	h.CheckTasks(h.Tasks(), true)

	// Decisions: withhold the renamed account's case, and a malformed
	// decision; then more posts, and a reopen.
	caseID := r.CaseID
	decided := func(verdict, countries string) kafka.Message {
		return kafka.Message{Key: []byte(caseID), Value: fmt.Appendf(nil, `{"schema":"flagstream.review_decision/v1","case_id":%q,`+
			`"decision":%q,"countries":[%s],"reviewer":"reviewer-1","reason":"checked","decided_at":"2021-02-06T10:00:00Z"}`, caseID, verdict, countries)}
	}
	malformed := []byte(`{"schema":"flagstream.review_decision/v1","case_id":"` + caseID + `","decision":"withold"}`)
	testkit.ProduceKeyed(t, h.Broker.Addr(), cfg.Input.DecisionsTopic, decided("withhold", `"IN"`), kafka.Message{Key: []byte(caseID), Value: malformed})
	testkit.WaitFor(t, 30*time.Second, "the case decided", func() bool { return h.Cases("").Last(keyOf(renamed)).Event == "decided" })
	before := len(h.Cases("")[keyOf(renamed)])
	processed := b.counter("flagstream_tweets_processed_total")
	h.Produce(phase)
	testkit.WaitFor(t, 60*time.Second, "the third phase applied", func() bool { return h.CaughtUp("follow") && b.counter("flagstream_case_evidence_lag_records") == 0 })
	time.Sleep(300 * time.Millisecond) // three update intervals: no update may come
	if got := b.counter("flagstream_tweets_processed_total"); got <= processed {
		t.Error("tweets stopped flowing after a malformed decision")
	}
	if es := h.Cases("")[keyOf(renamed)]; len(es) != before {
		t.Errorf("a decided case emitted %d events (%s) on new evidence, want none until reopened", len(es)-before, h.Cases("").Kinds(keyOf(renamed)))
	}
	testkit.ProduceKeyed(t, h.Broker.Addr(), cfg.Input.DecisionsTopic, decided("reopen", ""))
	testkit.WaitFor(t, 30*time.Second, "the case reopened", func() bool {
		last := h.Cases("").Last(keyOf(renamed))
		return last.Event == "reopened" && last.Status == "open"
	})
	if last := h.Cases("").Last(keyOf(renamed)); last.Evidence.Posts <= r.Evidence.Posts {
		t.Errorf("the decided case did not count its evidence: %d posts, %d before the decision", last.Evidence.Posts, r.Evidence.Posts)
	}
	var dead []kafka.Message
	for _, m := range h.ReadTopic(cfg.Output.DeadLetterTopic) {
		if reason, _ := testkit.Header(m, kafkaio.HeaderReason); reason == "invalid_decision" {
			dead = append(dead, m)
		}
	}
	if len(dead) != 1 || string(dead[0].Value) != string(malformed) {
		t.Errorf("dead letters of decisions: %d, want the malformed one as written", len(dead))
	}
	if err := b.Stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestRunBreakerDivertsCaseEvents: the demands' circuit breaker counts case
// events as it counts tasks, and once the demand trips its case events go
// to the shadow topic, marked tripped, never to the cases topic.
func TestRunBreakerDivertsCaseEvents(t *testing.T) {
	h := testkit.New(t, devbroker.Config{Partitions: 2}, testkit.Traffic(41, 0.2, 0.02, 0.01))
	cfg := h.Config("fuse")
	cfg.Limits.DemandTasksPerMinute = 3
	cfg.Cases.UpdateInterval = 50 * time.Millisecond
	h.Produce(1000)
	in := start(t, cfg)
	testkit.WaitFor(t, 60*time.Second, "tripped case events on the shadow topic", func() bool {
		var n int
		for _, m := range h.ReadTopic(cfg.Output.ShadowTopic) {
			var e testkit.CaseEvent
			if json.Unmarshal(m.Value, &e) == nil && e.Schema == "flagstream.review_case/v1" {
				if !e.Tripped || e.Shadow {
					t.Fatalf("a case event on the shadow topic with tripped %v, shadow %v", e.Tripped, e.Shadow)
				}
				n++
			}
		}
		return n > 0
	})
	if got := in.labelled("flagstream_demand_tripped", testkit.DemandID); got != 1 {
		t.Errorf("flagstream_demand_tripped{demand=%s} = %v, want 1", testkit.DemandID, got)
	}
	for _, es := range h.Cases("") {
		for _, e := range es {
			if e.Tripped {
				t.Errorf("a tripped case event on the cases topic: %+v", e)
			}
		}
	}
	if err := in.Stop(t); err != nil {
		t.Fatal(err)
	}
}
