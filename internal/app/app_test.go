package app

import (
	"context"
	"errors"
	"net/http"

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

// instance is one running app.Run.
type instance struct {
	*testkit.Running
	reg *prometheus.Registry
}

// start starts app.Run with cfg.
func start(t *testing.T, cfg config.Config) *instance {
	t.Helper()
	return startWith(t, cfg, Options{})
}

// startWith starts app.Run with cfg and opts, adding a registry, a logger
// and the start notification.
func startWith(t *testing.T, cfg config.Config, opts Options) *instance {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	in := &instance{reg: prometheus.NewRegistry()}
	opts.Registry = in.reg
	opts.Logger = testkit.Logger(t)
	in.Running = testkit.Start(t, func(ctx context.Context, started func(string)) error {
		opts.Started = started
		return Run(ctx, cfg, opts)
	})
	return in
}

// counter returns the sum of the series of a metric.
func (in *instance) counter(name string) float64 { return testkit.Sum(in.reg, name) }

// labelled returns the value of the series of metric name that has a
// label with value value.
func (in *instance) labelled(name, value string) float64 {
	return testkit.Labelled(in.reg, name, value)
}

func TestRunEndToEnd(t *testing.T) {
	h := testkit.New(t, devbroker.Config{}, synth.Config{})
	h.Produce(3000)
	in := start(t, h.Config("e2e"))
	if code := httpStatus(t, "http://"+in.Addr+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ with http.pprof off: %d, want 404", code)
	}
	testkit.WaitFor(t, 60*time.Second, "all records committed", func() bool { return h.CaughtUp("e2e") })
	if err := in.Stop(t); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}

	s := h.Tasks()
	h.CheckTasks(s, true)
	if got, want := s.Total, h.TasksExpected(); got != want {
		t.Errorf("review tasks: got %d, want %d", got, want)
	}
	dlq := h.ReadTopic("tweets-dlq")
	if got, want := len(dlq), h.Exp.Malformed(); got != want {
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
	if got := in.counter("flagstream_tweets_processed_total"); got != float64(h.Exp.Records()-h.Exp.Malformed()) {
		t.Errorf("flagstream_tweets_processed_total = %v, want %d", got, h.Exp.Records()-h.Exp.Malformed())
	}
	if got := in.counter("flagstream_review_tasks_emitted_total"); got != float64(h.TasksExpected()) {
		t.Errorf("flagstream_review_tasks_emitted_total = %v, want %d", got, h.TasksExpected())
	}

	// A clean stop committed everything: the group resumes at the end and
	// writes nothing more.
	cfg2 := h.Config("e2e")
	cfg2.HTTP.Pprof = true
	in2 := start(t, cfg2)
	if code := httpStatus(t, "http://"+in2.Addr+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK {
		t.Errorf("GET /debug/pprof/goroutine with http.pprof: true: %d, want 200", code)
	}
	testkit.WaitFor(t, 20*time.Second, "second run to join", func() bool { return in2.counter("flagstream_kafka_consumer_group_joined") == 1 })
	time.Sleep(500 * time.Millisecond)
	if err := in2.Stop(t); err != nil {
		t.Fatal(err)
	}
	if got := h.Tasks().Total; got != s.Total {
		t.Errorf("after restarting a cleanly stopped group: %d tasks, want still %d", got, s.Total)
	}
}

func TestRunTwoInstancesShareAndSurvive(t *testing.T) {
	h := testkit.New(t, devbroker.Config{Partitions: 4}, synth.Config{})
	h.Produce(2000)
	a := start(t, h.Config("pair"))
	b := start(t, h.Config("pair"))
	// Keep records coming until the group has rebalanced and both
	// instances have handled some.
	testkit.WaitFor(t, 60*time.Second, "both instances to process records", func() bool {
		h.Produce(100)
		return a.counter("flagstream_records_committed_total") > 0 && b.counter("flagstream_records_committed_total") > 0
	})
	if err := a.Stop(t); err != nil {
		t.Fatalf("stopping one instance: %v", err)
	}
	h.Produce(2000)
	testkit.WaitFor(t, 60*time.Second, "the survivor to finish the work", func() bool { return h.CaughtUp("pair") })
	if err := b.Stop(t); err != nil {
		t.Fatal(err)
	}
	h.CheckTasks(h.Tasks(), false)
}

func TestRunRefusesBrokenLists(t *testing.T) {
	h := testkit.New(t, devbroker.Config{}, synth.Config{})
	if err := os.WriteFile(filepath.Join(h.ListsDir, "broken.yaml"), []byte("id: X\njurisdiction: ZZ\nhandles: [\"@ok\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Run(context.Background(), h.Config("broken"), Options{})
	if !errors.Is(err, ErrLists) || !IsUsage(err) {
		t.Fatalf("Run with a broken list: got %v, want an ErrLists usage error", err)
	}
	if !strings.Contains(err.Error(), "broken.yaml:2:") {
		t.Errorf("error %q does not name broken.yaml:2", err)
	}
}

// httpStatus returns the status of a GET of url.
func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
