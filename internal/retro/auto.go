package retro

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"flagstream/matchers"
)

// AutoConfig configures the automatic jobs of run.
type AutoConfig struct {
	// Topic is the input topic; Window how far back a job reads.
	Topic  string
	Window time.Duration
	// Offsets and Store are the input topic's offsets and the progress
	// records.
	Offsets OffsetSource
	Store   Store
	// Prepare, when set, is called before a job first runs until it
	// succeeds (run's waits for its owned topics, the progress topic
	// among them).
	Prepare func(ctx context.Context) error
	// Run reads what is left of job on this instance (tracker.Ranges),
	// matched against snap, until it is read or ctx ends, throttled so
	// that live traffic keeps priority. It returns nil when every range
	// is read.
	Run func(ctx context.Context, job Job, snap *matchers.Snapshot, tracker *Tracker) error
	// MaxJobs bounds the jobs remembered for partitions assigned later
	// (default 8); the oldest is forgotten first.
	MaxJobs int
	// RetryAfter is the wait after a failed job before it is tried again
	// (default 5s).
	RetryAfter time.Duration
	Logger     *slog.Logger
	Metrics    *Metrics
	Now        func() time.Time
}

// Auto runs retro-hunt jobs inside run (lists.retro_window): a lists
// reload that adds entries (Reloaded) queues a job for exactly those
// entries over the window before the reload, and the jobs run one at a
// time (Run), oldest first, each over the input partitions that this
// instance is assigned in run's consumer group (Assigned).
//
// Every instance sees the same reload and queues the same job (its id
// comes from the lists version and the entries added, not from the
// instance), and each reads only its own partitions, keeping its progress
// per partition in the progress topic; so no record is retro-matched by
// two instances, and when a rebalance moves a partition, its new owner
// resumes the partition's job where the old one left it. A job's window
// on a partition is fixed by whoever plans the partition first.
type Auto struct {
	cfg AutoConfig

	wake chan struct{}

	mu       sync.Mutex
	jobs     []*autoJob
	assigned []int // nil while not in the group
	gen      uint64
	cancel   context.CancelFunc // stops the running job
	prepared bool               // Prepare succeeded
	current  *matchers.Lists    // the lists now, for recovering jobs
}

type autoJob struct {
	job  Job
	snap *matchers.Snapshot
	// entries are what it selects, for its job record; omitted counts
	// those left out past MaxJobEntries. recorded is set once the record
	// is written (or came from the store).
	entries  []JobEntry
	omitted  int
	recorded bool
	// doneGen is the assignment generation (from 1) in which it last read
	// every partition it was assigned; 0 before.
	doneGen uint64
}

// NewAuto returns the automatic jobs of cfg; Run runs them.
func NewAuto(cfg AutoConfig) *Auto {
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = 8
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Auto{cfg: cfg, wake: make(chan struct{}, 1), gen: 1}
}

// Reloaded queues a job for the entries that cur adds to prev, if any,
// over the window before now. It is a lists.Coordinator OnReload; s is the
// new snapshot.
//
// The first load (first) queues nothing: it gives the lists that Run
// resumes unfinished jobs of the progress topic with.
func (a *Auto) Reloaded(prev, cur matchers.Lists, first bool, s *matchers.Snapshot) {
	a.mu.Lock()
	a.current = &cur
	a.mu.Unlock()
	if first {
		return
	}
	added := matchers.AddedEntries(prev.Demands, cur.Demands)
	if len(added) == 0 {
		return
	}
	now := a.cfg.Now()
	// The job matches with the exemptions of the whole lists.
	snap, _, err := matchers.CompileLists(cur.Restrict(added), now)
	if err != nil { // what compiled whole compiles in part
		a.cfg.Logger.Error("retro: cannot compile the entries a reload added", "err", err)
		return
	}
	if snap.ActiveEntries() == 0 {
		return // added to demands that are not active: they match nothing
	}
	ids := make([]string, 0, len(added))
	for i := range added {
		ids = append(ids, added[i].ID)
	}
	slices.Sort(ids)
	sel := Selection{Origin: OriginReload, Demands: ids, ListsVersion: snap.Version()}
	job, err := NewJob(a.cfg.Topic, Window{
		Since: now.Add(-a.cfg.Window), Until: now,
		SinceKey: "reload:" + s.Version(), UntilKey: "window:" + a.cfg.Window.String(),
	}, sel, now)
	if err != nil {
		a.cfg.Logger.Error("retro: cannot make the job of a reload", "err", err)
		return
	}
	a.mu.Lock()
	for _, j := range a.jobs {
		if j.job.ID == job.ID {
			a.mu.Unlock()
			return // the same change, reloaded again
		}
	}
	aj := &autoJob{job: job, snap: snap}
	for i := range added {
		d := &added[i]
		for e := 0; e < d.Entries.Len(); e++ {
			if len(aj.entries) == MaxJobEntries {
				aj.omitted++
				continue
			}
			aj.entries = append(aj.entries, JobEntry{Demand: d.ID, Kind: d.Entries.Kind(e).String(), Entry: string(d.Entries.Value(e))})
		}
	}
	a.jobs = append(a.jobs, aj)
	if len(a.jobs) > a.cfg.MaxJobs {
		a.jobs = slices.Delete(a.jobs, 0, len(a.jobs)-a.cfg.MaxJobs)
	}
	a.setQueued()
	a.mu.Unlock()
	a.cfg.Logger.Info("retro job queued for the entries a lists reload added", "job", job.ID, "demands", ids,
		"entries", snap.ActiveEntries(), "since", job.Since, "until", job.Until, "lists_version", s.Version())
	a.poke()
}

// Assigned takes the input partitions this instance is assigned (nil
// when it has none, between two generations of the group). A running job
// stops and is planned again for the new partitions. It is a kafkaio
// SourceConfig.OnAssign.
func (a *Auto) Assigned(partitions []int) {
	a.mu.Lock()
	if partitions != nil {
		partitions = slices.Clone(partitions)
	}
	a.assigned = partitions
	a.gen++
	if a.cancel != nil {
		a.cancel()
	}
	a.setQueued()
	a.mu.Unlock()
	a.poke()
}

func (a *Auto) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// setQueued sets the queued jobs gauge; a.mu is held.
func (a *Auto) setQueued() {
	n := 0
	for _, j := range a.jobs {
		if j.doneGen != a.gen {
			n++
		}
	}
	if a.cancel != nil && n > 0 {
		n-- // the running one
	}
	a.cfg.Metrics.queued.Set(float64(n))
}

// Run runs the jobs until ctx is done: whenever a reload queues one or the
// assignment changes, every remembered job with work left on the assigned
// partitions, oldest first, one at a time. A failed job is retried after
// RetryAfter. A job stopped by ctx finishes its batches in flight and
// saves its progress first.
func (a *Auto) Run(ctx context.Context) {
	for {
		err := a.recover(ctx)
		if err == nil {
			break
		}
		a.cfg.Logger.Warn("retro: cannot read the progress topic for unfinished jobs; retrying", "err", err, "after", a.cfg.RetryAfter)
		select {
		case <-ctx.Done():
			return
		case <-time.After(a.cfg.RetryAfter):
		}
	}
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
		case <-retry:
		}
		retry = nil
		if !a.work(ctx) {
			retry = time.After(a.cfg.RetryAfter)
		}
	}
}

// work runs the jobs with work left until none has, the assignment is
// gone or ctx is done; it returns false when a job failed.
func (a *Auto) work(ctx context.Context) bool {
	for ctx.Err() == nil {
		a.mu.Lock()
		parts, gen := a.assigned, a.gen
		var next *autoJob
		for _, j := range a.jobs {
			if j.doneGen != gen {
				next = j
				break
			}
		}
		a.mu.Unlock()
		if parts == nil || next == nil {
			return true
		}
		switch err := a.runJob(ctx, next, parts, gen); {
		case err == nil:
			a.mu.Lock()
			if a.gen == gen {
				next.doneGen = gen
			}
			a.setQueued()
			a.mu.Unlock()
		case ctx.Err() != nil, errors.Is(err, errReassigned):
		default:
			a.cfg.Logger.Warn("retro job failed; retrying", "job", next.job.ID, "err", err, "after", a.cfg.RetryAfter)
			return false
		}
	}
	return true
}

// recover queues the automatic jobs of the progress topic that some
// partition has not finished, with the entries of their job records that
// the lists still have: a job whose reload no instance running now saw,
// because every instance restarted meanwhile.
func (a *Auto) recover(ctx context.Context) error {
	a.mu.Lock()
	cur := a.current
	a.mu.Unlock()
	if cur == nil {
		return nil // no lists loaded: nothing to match with
	}
	records, progress, err := a.cfg.Store.Jobs(ctx)
	if err != nil || len(records) == 0 {
		return err
	}
	parts, err := a.cfg.Offsets.Partitions(ctx)
	if err != nil {
		return err
	}
	for _, rec := range records {
		if rec.Selection.Origin != OriginReload || rec.Topic != a.cfg.Topic {
			continue
		}
		prog := progress[rec.Job]
		unfinished := len(prog) < len(parts)
		for _, p := range prog {
			unfinished = unfinished || !p.Done()
		}
		if !unfinished {
			continue
		}
		if rec.Omitted > 0 {
			a.cfg.Logger.Warn("retro: an unfinished job lists too many entries to resume; finish it with flagstream retro --only-new",
				"job", rec.Job, "omitted", rec.Omitted)
			continue
		}
		snap, _, err := matchers.CompileLists(cur.Restrict(selectEntries(cur.Demands, rec.Entries)), a.cfg.Now())
		if err != nil || snap.ActiveEntries() == 0 {
			a.cfg.Logger.Info("retro: an unfinished job's entries are no longer in the lists; not resumed", "job", rec.Job, "err", err)
			continue
		}
		job := Job{ID: rec.Job, Topic: rec.Topic, Since: rec.Since, Until: rec.Until, Selection: rec.Selection}
		a.mu.Lock()
		known := slices.ContainsFunc(a.jobs, func(j *autoJob) bool { return j.job.ID == job.ID })
		if !known {
			a.jobs = append(a.jobs, &autoJob{job: job, snap: snap, entries: rec.Entries, recorded: true})
			if len(a.jobs) > a.cfg.MaxJobs {
				a.jobs = slices.Delete(a.jobs, 0, len(a.jobs)-a.cfg.MaxJobs)
			}
			a.setQueued()
		}
		a.mu.Unlock()
		if !known {
			a.cfg.Logger.Info("retro job recovered from the progress topic", "job", job.ID, "demands", job.Selection.Demands,
				"entries", snap.ActiveEntries(), "since", job.Since, "until", job.Until)
		}
	}
	a.poke()
	return nil
}

// selectEntries returns the demands of cur restricted to entries, compared
// by kind and key as AddedEntries compares them.
func selectEntries(cur []matchers.Demand, entries []JobEntry) []matchers.Demand {
	kinds := map[string]matchers.EntryKind{}
	for _, k := range matchers.EntryKinds() {
		kinds[k.String()] = k
	}
	want := map[string]map[string]bool{} // demand id → kind NUL key
	for _, e := range entries {
		k, ok := kinds[e.Kind]
		if !ok {
			continue
		}
		key, err := matchers.EntryKey(k, e.Entry)
		if err != nil {
			continue
		}
		if want[e.Demand] == nil {
			want[e.Demand] = map[string]bool{}
		}
		want[e.Demand][e.Kind+"\x00"+key] = true
	}
	var out []matchers.Demand
	for i := range cur {
		d := &cur[i]
		keys := want[d.ID]
		if keys == nil || d.Status == matchers.StatusRescinded {
			continue
		}
		handles := map[string]bool{}
		sel := d.Entries.Select(func(j int) bool {
			kind := d.Entries.Kind(j)
			key, err := matchers.EntryKey(kind, string(d.Entries.Value(j)))
			keep := err == nil && keys[kind.String()+"\x00"+key]
			if keep && kind == matchers.EntryHandle {
				handles[key] = true
			}
			return keep
		})
		if sel.Len() == 0 {
			continue
		}
		nd := *d
		nd.Entries = sel
		nd.Pins = matchers.KeepPins(d.Pins, handles)
		out = append(out, nd)
	}
	return out
}

// errReassigned is a job stopped because the instance's partitions
// changed.
var errReassigned = errors.New("retro: partitions reassigned")

// runJob plans j for parts and runs it unless it is done there.
func (a *Auto) runJob(ctx context.Context, j *autoJob, parts []int, gen uint64) error {
	if a.cfg.Prepare != nil && !a.prepared {
		if err := a.cfg.Prepare(ctx); err != nil {
			a.cfg.Metrics.ended(ResultFailed)
			return err
		}
		a.prepared = true
	}
	now := a.cfg.Now()
	plan, err := MakePlan(ctx, a.cfg.Offsets, a.cfg.Store, j.job, PlanOptions{Partitions: parts, Now: now, IgnoreRetention: true})
	if err != nil {
		a.cfg.Metrics.ended(ResultFailed)
		return err
	}
	if plan.Done() {
		return nil
	}
	if !j.recorded {
		rec := JobRecord{Job: j.job.ID, Topic: j.job.Topic, Since: plan.Job.Since, Until: plan.Job.Until,
			Selection: j.job.Selection, Entries: j.entries, Omitted: j.omitted, CreatedAt: now}
		if err := a.cfg.Store.SaveJob(ctx, rec); err != nil {
			a.cfg.Metrics.ended(ResultFailed)
			return err
		}
		j.recorded = true
	}
	// The partitions planned here for the first time are saved before
	// anything is read, so their ends stay put.
	if len(plan.Fresh) > 0 {
		if err := a.cfg.Store.Save(ctx, plan.Fresh...); err != nil {
			a.cfg.Metrics.ended(ResultFailed)
			return err
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.mu.Lock()
	if a.gen != gen {
		a.mu.Unlock()
		return errReassigned
	}
	a.cancel = cancel
	a.setQueued()
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.cancel = nil
		a.mu.Unlock()
	}()

	job := plan.Job
	var ranges []int32
	for _, p := range plan.Partitions {
		if !p.Done() {
			ranges = append(ranges, p.Partition)
		}
	}
	a.cfg.Logger.Info("retro job started", "job", job.ID, "demands", job.Selection.Demands, "since", job.Since,
		"until", job.Until, "partitions", ranges, "records", plan.Remaining(), "resumed", plan.Resumed)
	a.cfg.Metrics.started(plan.Remaining())
	start := time.Now()
	tracker := NewTracker(a.cfg.Store, plan, a.cfg.Now)
	err = a.cfg.Run(runCtx, job, j.snap, tracker)
	switch {
	case err == nil && runCtx.Err() == nil:
		a.cfg.Metrics.ended(ResultDone)
		a.cfg.Logger.Info("retro job done", "job", job.ID, "partitions", ranges, "took", time.Since(start).Round(time.Millisecond))
		return nil
	case ctx.Err() != nil || runCtx.Err() != nil:
		a.cfg.Metrics.ended(ResultStopped)
		a.cfg.Logger.Info("retro job stopped; its progress is saved", "job", job.ID, "partitions", ranges,
			"shutdown", ctx.Err() != nil, "left", remaining(tracker))
		if ctx.Err() == nil {
			return errReassigned
		}
		return ctx.Err()
	default:
		a.cfg.Metrics.ended(ResultFailed)
		return err
	}
}

func remaining(t *Tracker) int64 {
	var n int64
	for _, p := range t.Progress() {
		n += p.End - p.Next
	}
	return n
}
