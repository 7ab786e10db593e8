package app

import (
	"context"
	"encoding/json"
	"errors"

	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"flagstream/config"
	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
	"flagstream/internal/kafkaio"
	"flagstream/internal/testkit"
)

const testDemand = `id: TEST-IN-1
authority: Test Ministry
jurisdiction: IN
legal_basis: Test Act, section 1
action: withhold
scope: user
priority: high
handles: ["@kisan_test_one", "@tractor_test_2", "farm_voice_x"]
hashtags: ["#FarmerGenocideTest"]
phrases: ["farmer genocide test"]
domains: ["genocide-news.example"]
`

// harness is a broker, a lists directory and a record of what was
// produced and which tweets must be flagged.
type harness struct {
	t        *testing.T
	broker   *devbroker.Broker
	listsDir string
	gen      *synth.Generator
	exp      synth.Expectation
}

func newHarness(t *testing.T, bcfg devbroker.Config) *harness {
	t.Helper()
	if bcfg.Listen == "" {
		bcfg.Listen = "127.0.0.1:0"
	}
	if bcfg.Partitions == 0 {
		bcfg.Partitions = 4
	}
	bcfg.Topics = []string{"tweets", "review-tasks", "tweets-dlq"}
	b, err := devbroker.Start(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), []byte(testDemand), 0o644); err != nil {
		t.Fatal(err)
	}
	return &harness{
		t: t, broker: b, listsDir: dir,
		gen: synth.New(synth.Config{
			Seed:     7,
			Handles:  []string{"kisan_test_one", "tractor_test_2", "farm_voice_x"},
			Hashtags: []string{"FarmerGenocideTest"}, Phrases: []string{"farmer genocide test"},
			Domains:  []string{"genocide-news.example"},
			FlagRate: 0.02, EvasiveRate: 0.01, MalformedRate: 0.01, V2Rate: 0.2,
		}),
	}
}

// records generates n records and notes what they must produce.
func (h *harness) records(n int) [][]byte { return h.recordsFrom(h.gen, n) }

// recordsFrom generates n records with gen and notes what they must
// produce; gen's tweet ids must differ from the harness generator's.
func (h *harness) recordsFrom(gen *synth.Generator, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		v, kind := gen.Next(nil)
		out[i] = v
		if err := h.exp.Note(v, kind); err != nil {
			h.t.Fatal(err)
		}
	}
	return out
}

func (h *harness) produce(n int) {
	testkit.Produce(h.t, h.broker.Addr(), "tweets", h.records(n))
}

// config returns a run configuration against the harness's broker, tuned
// for quick group joins.
func (h *harness) config(group string) config.Config {
	cfg := config.Default()
	cfg.Kafka.Brokers = []string{h.broker.Addr()}
	cfg.Input.Group = group
	// FLAGSTREAM_INPUT_CONSUMER runs the suite with another consumer, as
	// it does the subprocess tests of internal/e2e.
	if c := os.Getenv("FLAGSTREAM_INPUT_CONSUMER"); c != "" {
		cfg.Input.Consumer = c
	}
	// kafka-go allows a fetch response a quarter of MaxWait beyond the
	// broker's wait: 500ms leaves 125ms, enough for a 1 MiB fetch under -race.
	cfg.Input.MaxWait = 500 * time.Millisecond
	cfg.Input.FetchMaxBytes = 1 << 20
	cfg.Input.HeartbeatInterval = 300 * time.Millisecond
	cfg.Input.SessionTimeout = 3 * time.Second
	cfg.Input.RebalanceTimeout = 3 * time.Second
	cfg.Input.CommitInterval = 200 * time.Millisecond
	cfg.Lists.Dir = h.listsDir
	cfg.Lists.Interval = 200 * time.Millisecond
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Pipeline.BatchSize = 256
	return cfg
}

// instance is one running app.Run.
type instance struct {
	cancel context.CancelFunc
	done   chan error
	reg    *prometheus.Registry
	admin  string
}

func (h *harness) start(cfg config.Config) *instance {
	h.t.Helper()
	return h.startWith(cfg, Options{})
}

// startWith starts app.Run with opts, adding a registry, a logger and the
// start notification.
func (h *harness) startWith(cfg config.Config, opts Options) *instance {
	h.t.Helper()
	if err := cfg.Validate(); err != nil {
		h.t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{cancel: cancel, done: make(chan error, 1), reg: prometheus.NewRegistry()}
	started := make(chan string, 1)
	go func() {
		opts.Registry = in.reg
		opts.Logger = slog.New(slog.NewTextHandler(testWriter{h.t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
		opts.Started = func(addr string) { started <- addr }
		in.done <- Run(ctx, cfg, opts)
	}()
	select {
	case in.admin = <-started:
	case err := <-in.done:
		h.t.Fatalf("run stopped at start: %v", err)
	case <-time.After(20 * time.Second):
		h.t.Fatal("run did not start")
	}
	h.t.Cleanup(func() {
		cancel()
		select {
		case <-in.done:
		case <-time.After(30 * time.Second):
		}
	})
	return in
}

// stop stops the instance gracefully and returns Run's result.
func (in *instance) stop(t *testing.T) error {
	t.Helper()
	in.cancel()
	select {
	case err := <-in.done:
		in.done <- err // for Cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop within 30s")
		return nil
	}
}

func (in *instance) counter(name string) float64 {
	mfs, _ := in.reg.Gather()
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// labelled returns the value of the series of metric name that has a
// label with value value.
func (in *instance) labelled(name, value string) float64 {
	mfs, _ := in.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == value {
					return m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// caughtUp reports whether group has committed every produced record.
func (h *harness) caughtUp(group string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok, err := testkit.CaughtUp(ctx, h.broker.Addr(), group, "tweets")
	return err == nil && ok
}

// taskSummary is what a test checks of the review tasks in the topic.
type taskSummary struct {
	byTweet map[string][]string // tweet id -> task ids seen
	total   int
}

func (h *harness) tasks() taskSummary {
	h.t.Helper()
	s := taskSummary{byTweet: map[string][]string{}}
	for _, m := range testkit.ReadTopic(h.t, h.broker.Addr(), "review-tasks") {
		var task struct {
			Schema string `json:"schema"`
			TaskID string `json:"task_id"`
			Tweet  struct {
				ID string `json:"id"`
			} `json:"tweet"`
			Matches []struct {
				DemandID string `json:"demand_id"`
			} `json:"matches"`
		}
		if err := json.Unmarshal(m.Value, &task); err != nil {
			h.t.Fatalf("review task is not JSON: %v: %s", err, m.Value)
		}
		if task.Schema != "flagstream.review_task/v1" || task.TaskID == "" || len(task.Matches) == 0 {
			h.t.Errorf("malformed review task: %s", m.Value)
		}
		if string(m.Key) != task.Tweet.ID {
			h.t.Errorf("task key %q, want the tweet id %q", m.Key, task.Tweet.ID)
		}
		s.byTweet[task.Tweet.ID] = append(s.byTweet[task.Tweet.ID], task.TaskID)
		s.total++
	}
	return s
}

// checkTasks asserts that every flagged tweet, and only those, has a task,
// and that repeated tasks of a tweet share one task id; exact also demands
// no repeats.
func (h *harness) checkTasks(s taskSummary, exact bool) {
	h.t.Helper()
	for _, id := range h.exp.Flagged {
		if len(s.byTweet[id]) == 0 {
			h.t.Errorf("flagged tweet %s has no review task", id)
		}
	}
	for id, tasks := range s.byTweet {
		if !h.exp.IsFlagged(id) {
			h.t.Errorf("tweet %s was not meant to be flagged but has %d tasks", id, len(tasks))
		}
		for _, tid := range tasks[1:] {
			if tid != tasks[0] {
				h.t.Errorf("tweet %s: duplicate tasks with different ids %s and %s", id, tasks[0], tid)
			}
		}
		if exact && len(tasks) != 1 {
			h.t.Errorf("tweet %s has %d tasks, want 1", id, len(tasks))
		}
	}
}

func TestRunEndToEnd(t *testing.T) {
	h := newHarness(t, devbroker.Config{})
	h.produce(3000)
	in := h.start(h.config("e2e"))
	waitFor(t, 60*time.Second, "all records committed", func() bool { return h.caughtUp("e2e") })
	if err := in.stop(t); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}

	s := h.tasks()
	h.checkTasks(s, true)
	if got, want := s.total, len(h.exp.Flagged); got != want {
		t.Errorf("review tasks: got %d, want %d", got, want)
	}
	dlq := testkit.ReadTopic(t, h.broker.Addr(), "tweets-dlq")
	if got, want := len(dlq), h.exp.Malformed(); got != want {
		t.Errorf("dead letters: got %d, want %d", got, want)
	}
	for _, m := range dlq {
		for _, k := range []string{kafkaio.HeaderReason, kafkaio.HeaderError, kafkaio.HeaderSourceTopic,
			kafkaio.HeaderSourcePartition, kafkaio.HeaderSourceOffset} {
			if v, ok := testkit.Header(m, k); !ok || v == "" {
				t.Errorf("dead letter at offset %d lacks header %s", m.Offset, k)
			}
		}
		if topic, _ := testkit.Header(m, kafkaio.HeaderSourceTopic); topic != "tweets" {
			t.Errorf("dead letter source topic %q, want tweets", topic)
		}
	}
	if got := in.counter("flagstream_tweets_processed_total"); got != float64(h.exp.Records()-h.exp.Malformed()) {
		t.Errorf("flagstream_tweets_processed_total = %v, want %d", got, h.exp.Records()-h.exp.Malformed())
	}
	if got := in.counter("flagstream_review_tasks_emitted_total"); got != float64(len(h.exp.Flagged)) {
		t.Errorf("flagstream_review_tasks_emitted_total = %v, want %d", got, len(h.exp.Flagged))
	}

	// A clean stop committed everything: the group resumes at the end and
	// writes nothing more.
	in2 := h.start(h.config("e2e"))
	waitFor(t, 20*time.Second, "second run to join", func() bool { return in2.counter("flagstream_kafka_consumer_group_joined") == 1 })
	time.Sleep(500 * time.Millisecond)
	if err := in2.stop(t); err != nil {
		t.Fatal(err)
	}
	if got := h.tasks().total; got != s.total {
		t.Errorf("after restarting a cleanly stopped group: %d tasks, want still %d", got, s.total)
	}
}

func TestRunTwoInstancesShareAndSurvive(t *testing.T) {
	h := newHarness(t, devbroker.Config{Partitions: 4})
	h.produce(2000)
	a := h.start(h.config("pair"))
	b := h.start(h.config("pair"))
	// Keep records coming until the group has rebalanced and both
	// instances have handled some.
	waitFor(t, 60*time.Second, "both instances to process records", func() bool {
		h.produce(100)
		return a.counter("flagstream_records_committed_total") > 0 && b.counter("flagstream_records_committed_total") > 0
	})
	if err := a.stop(t); err != nil {
		t.Fatalf("stopping one instance: %v", err)
	}
	h.produce(2000)
	waitFor(t, 60*time.Second, "the survivor to finish the work", func() bool { return h.caughtUp("pair") })
	if err := b.stop(t); err != nil {
		t.Fatal(err)
	}
	h.checkTasks(h.tasks(), false)
}

func TestRunRefusesBrokenLists(t *testing.T) {
	h := newHarness(t, devbroker.Config{})
	if err := os.WriteFile(filepath.Join(h.listsDir, "broken.yaml"), []byte("id: X\njurisdiction: ZZ\nhandles: [\"@ok\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Run(context.Background(), h.config("broken"), Options{})
	if !errors.Is(err, ErrLists) || !IsUsage(err) {
		t.Fatalf("Run with a broken list: got %v, want an ErrLists usage error", err)
	}
	if !strings.Contains(err.Error(), "broken.yaml:2:") {
		t.Errorf("error %q does not name broken.yaml:2", err)
	}
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
