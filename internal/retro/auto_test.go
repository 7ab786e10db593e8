package retro

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"flagstream/internal/kafkaio"
	"flagstream/internal/lists/liststest"
	"flagstream/internal/testkit"
	"flagstream/matchers"
)

func parse(t *testing.T, files map[string]string) []matchers.Demand {
	return liststest.Parse(t, files).Demands
}

// autoRun is an AutoConfig.Run that reads every range at once, unless
// block is set: then it waits for ctx, having read nothing.
type autoRun struct {
	mu    sync.Mutex
	runs  [][]int32 // the partitions of each run
	snaps []*matchers.Snapshot
	block bool
	fail  int // runs still to fail
	ran   chan struct{}
}

func (r *autoRun) run(ctx context.Context, _ Job, snap *matchers.Snapshot, tr *Tracker) error {
	r.mu.Lock()
	var parts []int32
	var next []kafkaio.PartitionOffset
	for _, rg := range tr.Ranges() {
		parts = append(parts, rg.Partition)
		next = append(next, kafkaio.PartitionOffset{Partition: rg.Partition, Next: rg.End})
	}
	r.runs = append(r.runs, parts)
	r.snaps = append(r.snaps, snap)
	block, fail := r.block, r.fail > 0
	if fail {
		r.fail--
	}
	r.mu.Unlock()
	r.ran <- struct{}{}
	switch {
	case block:
		<-ctx.Done()
		return nil
	case fail:
		return errors.New("broker away")
	}
	return tr.Committed(ctx, next)
}

func (r *autoRun) waitRun(t *testing.T) {
	t.Helper()
	select {
	case <-r.ran:
	case <-time.After(10 * time.Second):
		t.Fatal("no job ran")
	}
}

func (r *autoRun) lastRun() []int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[len(r.runs)-1]
}

func (r *autoRun) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.runs)
}

// runAuto runs a until the stop it returns is called, which waits for Run
// to return.
func runAuto(a *Auto) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

func TestAuto(t *testing.T) {
	topic := &fakeTopic{first: map[int]int64{0: 0, 1: 0, 2: 0}, end: map[int]int64{0: 100, 1: 100, 2: 100}}
	store := &memStore{}
	runs := &autoRun{ran: make(chan struct{}, 16)}
	reg := prometheus.NewPedanticRegistry()
	now := t0.Add(100 * time.Minute)
	a := NewAuto(AutoConfig{
		Topic: "tweets", Window: 30 * time.Minute, Offsets: topic, Store: store, Run: runs.run,
		RetryAfter: 10 * time.Millisecond, Metrics: NewMetrics(reg), Now: func() time.Time { return now },
	})
	defer runAuto(a)()

	before := parse(t, map[string]string{"a.yaml": "id: A\njurisdiction: IN\nhandles: [one]\n"})
	after := parse(t, map[string]string{"a.yaml": "id: A\njurisdiction: IN\nhandles: [one, two]\n",
		"b.yaml": "id: B\njurisdiction: DE\nhashtags: [\"#New\"]\n"})
	snapAfter, _, _ := matchers.Compile(after, now)
	a.Reloaded(matchers.Lists{}, L(before), true, snapAfter) // the first load: no job
	a.Reloaded(L(before), L(before), false, snapAfter)       // adds nothing: no job
	a.Reloaded(L(before), L(after), false, snapAfter)
	a.Reloaded(L(before), L(after), false, snapAfter) // the same change again: one job
	if n := len(a.jobs); n != 1 {
		t.Fatalf("%d jobs queued, want 1", n)
	}
	job := a.jobs[0].job
	if job.Selection.Origin != OriginReload || !slices.Equal(job.Selection.Demands, []string{"A", "B"}) ||
		!job.Since.Equal(now.Add(-30*time.Minute)) || !job.Until.Equal(now) || job.ToEnd {
		t.Errorf("job %+v", job)
	}
	if got := testutil.ToFloat64(a.cfg.Metrics.queued); got != 1 {
		t.Errorf("flagstream_retro_jobs_queued = %v, want 1", got)
	}

	// Nothing runs before the instance has partitions; then only on its own.
	time.Sleep(20 * time.Millisecond)
	if runs.count() != 0 {
		t.Fatal("a job ran without partitions")
	}
	doneJobs := func(n float64) func() bool {
		return func() bool { return testutil.ToFloat64(a.cfg.Metrics.jobs.WithLabelValues(ResultDone)) == n }
	}
	a.Assigned([]int{0, 1})
	runs.waitRun(t)
	testkit.WaitFor(t, 20*time.Second, "one job done", doneJobs(1))
	if got := runs.lastRun(); !slices.Equal(got, []int32{0, 1}) {
		t.Errorf("ran partitions %v, want [0 1]", got)
	}
	if s := runs.snaps[0]; s.ActiveEntries() != 2 {
		t.Errorf("the job matches %d entries, want the 2 added (@two, #New)", s.ActiveEntries())
	}
	// A partition assigned later, whose job this instance knows, is read
	// too; those read already are not again.
	a.Assigned([]int{0, 2})
	runs.waitRun(t)
	testkit.WaitFor(t, 20*time.Second, "two jobs done", doneJobs(2))
	if got := runs.lastRun(); !slices.Equal(got, []int32{2}) {
		t.Errorf("ran partitions %v, want [2]", got)
	}
	a.Assigned([]int{0, 1, 2})
	time.Sleep(50 * time.Millisecond)
	if n := runs.count(); n != 2 {
		t.Errorf("%d runs, want 2: every partition is done", n)
	}
	for p := range 3 {
		prog, _ := store.Load(context.Background(), job.ID)
		if q := prog[int32(p)]; !q.Done() || q.Start != 70 || q.End != 100 {
			t.Errorf("partition %d progress %+v, want 70 to 100, done", p, q)
		}
	}
	if got := testutil.ToFloat64(a.cfg.Metrics.jobs.WithLabelValues(ResultDone)); got != 2 {
		t.Errorf("jobs done = %v, want 2", got)
	}

	// A rebalance stops the running job, which is planned again for the
	// new partitions; a failure is retried.
	later := parse(t, map[string]string{"a.yaml": "id: A\njurisdiction: IN\nhandles: [one, two, three]\n",
		"b.yaml": "id: B\njurisdiction: DE\nhashtags: [\"#New\"]\n"})
	snapLater, _, _ := matchers.Compile(later, now)
	runs.mu.Lock()
	runs.block = true
	runs.mu.Unlock()
	a.Reloaded(L(after), L(later), false, snapLater)
	runs.waitRun(t)
	if got := runs.lastRun(); !slices.Equal(got, []int32{0, 1, 2}) {
		t.Errorf("second job ran partitions %v, want [0 1 2]", got)
	}
	runs.mu.Lock()
	runs.block, runs.fail = false, 1
	runs.mu.Unlock()
	a.Assigned([]int{1})
	runs.waitRun(t) // fails
	runs.waitRun(t) // retried
	if got := runs.lastRun(); !slices.Equal(got, []int32{1}) {
		t.Errorf("after the rebalance the job ran partitions %v, want [1]", got)
	}
	for _, r := range []string{ResultStopped, ResultFailed} {
		if got := testutil.ToFloat64(a.cfg.Metrics.jobs.WithLabelValues(r)); got != 1 {
			t.Errorf("jobs %s = %v, want 1", r, got)
		}
	}
	testkit.WaitFor(t, 20*time.Second, "no job running", func() bool { return testutil.ToFloat64(a.cfg.Metrics.running) == 0 })
	if _, err := reg.Gather(); err != nil {
		t.Errorf("metrics do not gather: %v", err)
	}
}

// TestAutoRecovers restarts every instance while a job is unfinished: the
// new instance, which never saw the reload, resumes it from the job record
// and the progress of the progress topic, with the entries the lists still
// have.
func TestAutoRecovers(t *testing.T) {
	topic := &fakeTopic{first: map[int]int64{0: 0, 1: 0}, end: map[int]int64{0: 100, 1: 100}}
	store := &memStore{}
	now := t0.Add(100 * time.Minute)
	before := parse(t, map[string]string{"a.yaml": "id: A\njurisdiction: IN\nhandles: [one]\n"})
	after := parse(t, map[string]string{"a.yaml": "id: A\njurisdiction: IN\nhandles: [one, Two, three]\n"})
	snap, _, _ := matchers.Compile(after, now)

	// The first instance runs the job on partition 0 only, then stops.
	runs := &autoRun{ran: make(chan struct{}, 16)}
	first := NewAuto(AutoConfig{Topic: "tweets", Window: time.Hour, Offsets: topic, Store: store, Run: runs.run,
		Now: func() time.Time { return now }})
	stop := runAuto(first)
	first.Reloaded(matchers.Lists{}, L(before), true, snap)
	first.Reloaded(L(before), L(after), false, snap)
	first.Assigned([]int{0})
	runs.waitRun(t)
	testkit.WaitFor(t, 20*time.Second, "the job done", func() bool { return testutil.ToFloat64(first.cfg.Metrics.jobs.WithLabelValues(ResultDone)) == 1 })
	stop()
	job := first.jobs[0].job

	// A new instance whose first load already has the entries, one of
	// them since removed and one respelled.
	later := parse(t, map[string]string{"a.yaml": "id: A\njurisdiction: IN\nhandles: [one, two]\n"})
	runs2 := &autoRun{ran: make(chan struct{}, 16)}
	second := NewAuto(AutoConfig{Topic: "tweets", Window: time.Hour, Offsets: topic, Store: store, Run: runs2.run,
		Now: func() time.Time { return now.Add(time.Hour) }})
	snapLater, _, _ := matchers.Compile(later, now)
	second.Reloaded(matchers.Lists{}, L(later), true, snapLater)
	defer runAuto(second)()
	second.Assigned([]int{0, 1})
	runs2.waitRun(t)
	if got := runs2.lastRun(); !slices.Equal(got, []int32{1}) {
		t.Errorf("the recovered job ran partitions %v, want [1] (0 was done)", got)
	}
	if s := runs2.snaps[0]; s.ActiveEntries() != 1 {
		t.Errorf("the recovered job matches %d entries, want 1 (@two; three was removed)", s.ActiveEntries())
	}
	prog, _ := store.Load(context.Background(), job.ID)
	if p := prog[1]; p.Start != 40 || !p.Since.Equal(job.Since) {
		t.Errorf("partition 1 progress %+v, want the job's window (from offset 40)", p)
	}
}

// L is the lists of demands.
func L(demands []matchers.Demand) matchers.Lists { return matchers.Lists{Demands: demands} }
