package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"flagstream/internal/lists"
	"flagstream/matchers"
)

// testSnapshot is one demand naming @listed_user and #ListedTag.
func testSnapshot(t testing.TB) *matchers.Snapshot {
	t.Helper()
	d, _, err := lists.ParseDemand("t.yaml", []byte(`id: T-1
jurisdiction: IN
authority: A
legal_basis: L
handles: ["@listed_user"]
hashtags: ["#ListedTag"]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := matchers.Compile([]matchers.Demand{d}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// record returns tweet i: every 10th is flagged, every 50th (offset 7) is
// broken JSON.
func record(i int) (value []byte, flagged, broken bool) {
	switch {
	case i%50 == 7:
		return []byte(`{"id_str": "broken`), false, true
	case i%10 == 3:
		return []byte(fmt.Sprintf(`{"id_str":"%d","text":"hello #ListedTag","user":{"screen_name":"someone"}}`, i)), true, false
	}
	return []byte(fmt.Sprintf(`{"id_str":"%d","text":"hello world","user":{"screen_name":"someone"}}`, i)), false, false
}

// fakeSource hands out n records in batches of size and records commits.
type fakeSource struct {
	n, size  int
	next     int
	fetched  atomic.Int64 // batches
	fetchErr error        // returned once next reaches errAt
	errAt    int

	mu      sync.Mutex
	commits []uint64 // batch Seqs, in commit order
	records int      // committed
}

func (s *fakeSource) Fetch(ctx context.Context, b *Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.fetchErr != nil && s.next >= s.errAt {
		return s.fetchErr
	}
	if s.next >= s.n {
		return io.EOF
	}
	for len(b.Records) < s.size && s.next < s.n {
		v, _, _ := record(s.next)
		b.Records = append(b.Records, Record{Value: v, Topic: "tweets", Partition: int32(s.next % 3), Offset: int64(s.next)})
		s.next++
	}
	s.fetched.Add(1)
	return nil
}

func (s *fakeSource) Commit(_ context.Context, b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits = append(s.commits, b.Seq)
	s.records += len(b.Records)
	return nil
}

// fakeSink records what it writes; delay, block and fail shape its
// behaviour.
type fakeSink struct {
	delay   func() time.Duration
	block   chan struct{} // when set, Write waits for it to close
	failSeq int64         // Write of this Seq fails (-1: none)

	mu      sync.Mutex
	seqs    []uint64
	tasks   []string // tweet ids of the tasks, in write order
	rejects []string // reasons
	written map[uint64]bool
}

func newFakeSink() *fakeSink { return &fakeSink{failSeq: -1, written: map[uint64]bool{}} }

func (s *fakeSink) Write(ctx context.Context, b *Batch) error {
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.delay != nil {
		time.Sleep(s.delay())
	}
	if int64(b.Seq) == s.failSeq {
		return errors.New("sink refused")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seqs = append(s.seqs, b.Seq)
	s.written[b.Seq] = true
	for i := range b.Outputs {
		if b.Outputs[i].Dest != ToReview {
			continue
		}
		k, v := b.Output(i)
		var task struct {
			Tweet struct {
				ID string `json:"id"`
			} `json:"tweet"`
		}
		if err := json.Unmarshal(v, &task); err != nil || task.Tweet.ID != string(k) {
			return fmt.Errorf("task %q with key %q: %v", v, k, err)
		}
		s.tasks = append(s.tasks, string(k))
	}
	for _, r := range b.Rejects {
		s.rejects = append(s.rejects, string(r.Reason))
	}
	return nil
}

func run(t *testing.T, ctx context.Context, cfg Config) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30s")
		return nil
	}
}

func TestRunOrderAndCommits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int
		writers int
	}{
		{"one worker", 1, 1},
		{"parallel workers, one writer", 4, 1},
		{"parallel workers and writers", 4, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 5000
			src := &fakeSource{n: n, size: 64}
			sink := newFakeSink()
			rng := rand.New(rand.NewPCG(1, 2))
			var mu sync.Mutex
			sink.delay = func() time.Duration {
				mu.Lock()
				defer mu.Unlock()
				return time.Duration(rng.IntN(300)) * time.Microsecond
			}
			snap := testSnapshot(t)
			reg := prometheus.NewPedanticRegistry()
			err := run(t, context.Background(), Config{
				Source: src, Sink: sink, Lists: func() *matchers.Snapshot { return snap },
				Workers: tc.workers, Writers: tc.writers, Metrics: NewMetrics(reg),
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			var wantTasks []string
			wantRejects := 0
			for i := range n {
				_, flagged, broken := record(i)
				if flagged {
					wantTasks = append(wantTasks, fmt.Sprint(i))
				}
				if broken {
					wantRejects++
				}
			}
			if tc.writers == 1 {
				if got, want := strings.Join(sink.tasks, ","), strings.Join(wantTasks, ","); got != want {
					t.Errorf("tasks out of input order or missing:\ngot  %.200s\nwant %.200s", got, want)
				}
			} else if len(sink.tasks) != len(wantTasks) {
				t.Errorf("tasks: got %d, want %d", len(sink.tasks), len(wantTasks))
			}
			if len(sink.rejects) != wantRejects {
				t.Errorf("rejects: got %d, want %d", len(sink.rejects), wantRejects)
			}
			for i, seq := range src.commits {
				if seq != uint64(i) {
					t.Fatalf("commit %d was batch %d: commits must follow batch order", i, seq)
				}
			}
			if src.records != n {
				t.Errorf("committed records: got %d, want %d", src.records, n)
			}
			if got := testutil.ToFloat64(NewMetricsForTest(reg, "flagstream_review_tasks_emitted_total")); got != float64(len(wantTasks)) {
				t.Errorf("flagstream_review_tasks_emitted_total = %v, want %d", got, len(wantTasks))
			}
		})
	}
}

// NewMetricsForTest returns the collector registered under name.
func NewMetricsForTest(reg *prometheus.Registry, name string) prometheus.Collector {
	return gathererCollector{reg, name}
}

// gathererCollector re-exposes one metric family of a registry, for
// testutil.ToFloat64.
type gathererCollector struct {
	reg  *prometheus.Registry
	name string
}

func (g gathererCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- prometheus.NewDesc(g.name, "test", nil, nil)
}

func (g gathererCollector) Collect(ch chan<- prometheus.Metric) {
	mfs, _ := g.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != g.name {
			continue
		}
		sum := 0.0
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(g.name, "test", nil, nil), prometheus.UntypedValue, sum)
	}
}

func TestRunCommitsOnlyWrittenBatchesInOrder(t *testing.T) {
	src := &fakeSource{n: 3000, size: 32}
	sink := newFakeSink()
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(3, 4))
	sink.delay = func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return time.Duration(rng.IntN(2000)) * time.Microsecond
	}
	snap := testSnapshot(t)
	// A source whose Commit checks that the batch and all before it were
	// written when it is called.
	checker := &commitChecker{fakeSource: src, sink: sink, t: t}
	if err := run(t, context.Background(), Config{Source: checker, Sink: sink,
		Lists: func() *matchers.Snapshot { return snap }, Workers: 3, Writers: 4}); err != nil {
		t.Fatal(err)
	}
	if len(src.commits) != int(src.fetched.Load()) {
		t.Errorf("committed %d batches of %d", len(src.commits), src.fetched.Load())
	}
}

type commitChecker struct {
	*fakeSource
	sink *fakeSink
	t    *testing.T
}

func (c *commitChecker) Commit(ctx context.Context, b *Batch) error {
	c.sink.mu.Lock()
	for seq := uint64(0); seq <= b.Seq; seq++ {
		if !c.sink.written[seq] {
			c.t.Errorf("batch %d committed before batch %d was written", b.Seq, seq)
		}
	}
	c.sink.mu.Unlock()
	return c.fakeSource.Commit(ctx, b)
}

func TestRunBackPressure(t *testing.T) {
	src := &fakeSource{n: 100000, size: 10}
	sink := newFakeSink()
	sink.block = make(chan struct{})
	snap := testSnapshot(t)
	const slots = 6
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Config{Source: src, Sink: sink,
			Lists: func() *matchers.Snapshot { return snap }, Workers: 2, Slots: slots})
	}()
	time.Sleep(300 * time.Millisecond)
	if got := src.fetched.Load(); got > slots {
		t.Errorf("with the sink stalled, %d batches were fetched; at most %d slots exist", got, slots)
	}
	if len(src.commits) != 0 {
		t.Errorf("%d batches committed while nothing was written", len(src.commits))
	}
	close(sink.block)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not finish after the sink resumed")
	}
	if src.records != src.n {
		t.Errorf("committed %d records, want %d", src.records, src.n)
	}
}

func TestRunDrainsOnCancel(t *testing.T) {
	src := &fakeSource{n: 1 << 30, size: 50}
	sink := newFakeSink()
	sink.delay = func() time.Duration { return 200 * time.Microsecond }
	snap := testSnapshot(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	if err := run(t, ctx, Config{Source: src, Sink: sink, Lists: func() *matchers.Snapshot { return snap }}); err != nil {
		t.Fatalf("Run after cancel: %v, want nil", err)
	}
	if got, want := len(src.commits), int(src.fetched.Load()); got != want || got == 0 {
		t.Errorf("after a stop, %d batches committed of %d fetched; every fetched batch must be written and committed", got, want)
	}
}

func TestRunDrainTimeout(t *testing.T) {
	src := &fakeSource{n: 1000, size: 10}
	sink := newFakeSink()
	sink.block = make(chan struct{}) // never released
	snap := testSnapshot(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := run(t, ctx, Config{Source: src, Sink: sink, Lists: func() *matchers.Snapshot { return snap },
		DrainTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrDrainTimeout) {
		t.Fatalf("Run with a stuck sink: %v, want ErrDrainTimeout", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("drain timeout took %s", el)
	}
	if len(src.commits) != 0 {
		t.Errorf("%d unwritten batches committed", len(src.commits))
	}
}

func TestRunFailures(t *testing.T) {
	snap := testSnapshot(t)
	t.Run("fetch error", func(t *testing.T) {
		src := &fakeSource{n: 1000, size: 10, fetchErr: errors.New("broker gone"), errAt: 500}
		err := run(t, context.Background(), Config{Source: src, Sink: newFakeSink(), Lists: func() *matchers.Snapshot { return snap }})
		if err == nil || !strings.Contains(err.Error(), "broker gone") {
			t.Fatalf("got %v, want the fetch error", err)
		}
	})
	t.Run("write error", func(t *testing.T) {
		src := &fakeSource{n: 1000, size: 10}
		sink := newFakeSink()
		sink.failSeq = 5
		err := run(t, context.Background(), Config{Source: src, Sink: sink, Lists: func() *matchers.Snapshot { return snap }})
		if err == nil || !strings.Contains(err.Error(), "sink refused") {
			t.Fatalf("got %v, want the write error", err)
		}
		for _, seq := range src.commits {
			if seq >= 5 {
				t.Errorf("batch %d committed though batch 5 failed to write", seq)
			}
		}
	})
}

func TestRunPanicRejectsOneRecord(t *testing.T) {
	src := &fakeSource{n: 200, size: 20}
	sink := newFakeSink()
	snap := testSnapshot(t)
	err := run(t, context.Background(), Config{Source: src, Sink: sink, Lists: func() *matchers.Snapshot { return snap },
		BeforeRecord: func(r *Record) {
			if r.Offset == 13 || r.Offset == 113 {
				panic("boom")
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	panics := 0
	for _, r := range sink.rejects {
		if r == string(ReasonPanic) {
			panics++
		}
	}
	if panics != 2 {
		t.Errorf("panic rejections: got %d, want 2", panics)
	}
	// 200 records, 20 flagged; the two panicking ones are 13 and 113.
	if got, want := len(sink.tasks), 18; got != want {
		t.Errorf("tasks: got %d, want %d (all flagged but the two that panicked)", got, want)
	}
}

func TestRunOversizeRejected(t *testing.T) {
	snap := testSnapshot(t)
	src := &oversizeSource{}
	sink := newFakeSink()
	if err := run(t, context.Background(), Config{Source: src, Sink: sink, Lists: func() *matchers.Snapshot { return snap }}); err != nil {
		t.Fatal(err)
	}
	if len(sink.rejects) != 1 || sink.rejects[0] != string(ReasonTooLarge) {
		t.Errorf("rejects %v, want one too_large", sink.rejects)
	}
}

type oversizeSource struct{ done bool }

func (s *oversizeSource) Fetch(_ context.Context, b *Batch) error {
	if s.done {
		return io.EOF
	}
	s.done = true
	b.Records = append(b.Records, Record{Oversize: 10 << 20, Line: 1})
	return nil
}

func (s *oversizeSource) Commit(context.Context, *Batch) error { return nil }

func TestMetricsLint(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	NewMetrics(reg)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}
