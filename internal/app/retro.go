package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"flagstream/config"
	"flagstream/internal/kafkaio"
	"flagstream/internal/retro"
	"flagstream/matchers"
	"flagstream/pipeline"
	"flagstream/pipeline/breaker"
)

// RetroOptions configure a retro-hunt job (flagstream retro).
type RetroOptions struct {
	Logger *slog.Logger
	// Window is the time window to read; Selection what to match.
	Window    retro.Window
	Selection Selection
	// Restart ignores the job's stored progress and starts it over.
	Restart bool
	// Rate, when positive, bounds the records read per second.
	Rate float64
	// Now is when the job starts; default time.Now.
	Now func() time.Time
	// BeforeRecord is passed to the pipeline: fault-injection tests use
	// it.
	BeforeRecord func(*pipeline.Record)
}

// Retro is one retro-hunt job: the input topic's retained records over a
// window, matched against a selection of the lists, with tasks and case
// evidence written as run writes them (same topics, same ids), marked
// with the job. It never commits run's consumer group: its progress goes
// to retro.progress_topic, so the same command run again resumes.
type Retro struct {
	cfg      config.Config
	opts     RetroOptions
	log      *slog.Logger
	conn     kafkaio.Connection
	selected *Selected
	plan     *retro.Plan
	store    *retro.KafkaStore

	src atomic.Pointer[kafkaio.RangeSource]
}

// RetroCounts are what a job read and wrote.
type RetroCounts struct {
	// Records read, tweets decoded among them, offsets skipped because
	// retention deleted them before they were read.
	Records, Tweets, Skipped int64
	// Tasks and Rejected written (tasks of every destination), and
	// Evidence: case evidence records, one per case touched per post.
	Tasks, Evidence, Rejected int64
}

// ErrNothingToHunt is returned by NewRetro when the selection has no
// active entry: --only-new lists that add none, say.
var ErrNothingToHunt = errors.New("the selection has no active entries: nothing to hunt")

// NewRetro loads the lists and the selection and plans the job, resuming
// it when it ran before; it reads no record yet. Broken lists, an unknown
// demand, a window whose since is after its until or before what the
// topic retains, or an input topic the cluster lacks are usage errors
// (IsUsage); a selection without active entries is ErrNothingToHunt.
func NewRetro(ctx context.Context, cfg config.Config, opts RetroOptions) (*Retro, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	now := opts.Now()
	selected, warnings, err := LoadSelection(cfg.Lists.Dir, now, opts.Selection)
	for _, w := range warnings {
		log.Warn("lists: " + w.Error())
	}
	if err != nil {
		return nil, err
	}
	if selected.Snapshot.ActiveEntries() == 0 {
		return nil, ErrNothingToHunt
	}
	sel := retro.Selection{
		Origin:         retro.OriginCommand,
		Demands:        opts.Selection.Demands,
		OnlyNewVersion: selected.OnlyNewVersion,
		ListsVersion:   selected.Snapshot.Version(),
	}
	if len(sel.Demands) > 0 {
		sel.Demands = selected.Demands
	}
	job, err := retro.NewJob(cfg.Input.Topic, opts.Window, sel, now)
	if err != nil {
		return nil, usage(err)
	}
	conn, err := kafkaio.NewConnection(cfg.Kafka)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errConfig, err)
	}
	store := retro.NewKafkaStore(conn, cfg.Retro.ProgressTopic, log)
	offsets := kafkaio.NewFetcher(conn, cfg.Input.Topic, 0, 0)
	defer offsets.Close()
	plan, err := retro.MakePlan(ctx, offsets, store, job, retro.PlanOptions{Restart: opts.Restart, Now: now})
	var re *retro.RetentionError
	switch {
	case errors.As(err, &re), errors.Is(err, kafkaio.ErrNoTopic):
		store.Close()
		return nil, usage(err)
	case err != nil:
		store.Close()
		return nil, err
	}
	return &Retro{cfg: cfg, opts: opts, log: log, conn: conn, selected: selected, plan: plan, store: store}, nil
}

// Plan returns the job's plan: its id, window and ranges.
func (r *Retro) Plan() *retro.Plan { return r.plan }

// Selected returns what the job matches.
func (r *Retro) Selected() *Selected { return r.selected }

// Read returns the records read so far; Remaining the offsets left.
func (r *Retro) Read() int64 {
	if s := r.src.Load(); s != nil {
		return s.Read()
	}
	return 0
}

// Remaining returns the offsets left to read.
func (r *Retro) Remaining() int64 {
	if s := r.src.Load(); s != nil {
		return s.Remaining()
	}
	return r.plan.Remaining()
}

// Close releases the job's connections.
func (r *Retro) Close() error { return r.store.Close() }

// Run reads what is left of the job, writes its tasks, evidence and dead
// letters, saves its progress after each acknowledged batch, and returns
// the counts, also when it fails. When ctx ends it stops fetching, writes
// and saves what it has in flight and returns an error: the same job run
// again resumes there.
func (r *Retro) Run(ctx context.Context) (RetroCounts, error) {
	var counts RetroCounts
	if r.plan.Done() {
		return counts, nil
	}
	// With cases on, the job's case evidence needs its topics too; the
	// progress topic is one of those run owns, so all are made sure of
	// at once. A topic made otherwise than they need is the operator's
	// to fix (exit 2).
	ensure := r.store.Ensure
	if CasesOn(r.cfg) {
		ensure = func(ctx context.Context) error { return ensureOwnedTopics(ctx, r.cfg, r.conn, r.log) }
	}
	if err := ensure(ctx); err != nil {
		if errors.Is(err, kafkaio.ErrTopicConfig) {
			return counts, fmt.Errorf("%w: %w", errConfig, err)
		}
		return counts, err
	}
	if len(r.plan.Fresh) > 0 {
		// The ranges are saved before anything is read, so a job run
		// again after a crash reads to the same end offsets.
		if err := r.store.Save(ctx, r.plan.Fresh...); err != nil {
			return counts, err
		}
	}
	tracker := retro.NewTracker(r.store, r.plan, r.opts.Now)
	src := newRangeSource(r.conn, r.cfg, r.log, tracker, r.opts.Rate)
	r.src.Store(src)
	sink, err := newKafkaSink(r.conn, r.cfg, r.log, nil)
	if err != nil {
		src.Close()
		return counts, fmt.Errorf("%w: %w", errConfig, err)
	}
	job := r.plan.Job
	r.log.Info("retro job started", "job", job.ID, "topic", job.Topic, "since", job.Since, "until", job.Until,
		"resumed", r.plan.Resumed, "records", r.plan.Remaining(), "lists_version", job.Selection.ListsVersion)
	counting := &countingSink{Sink: sink}
	snap := r.selected.Snapshot
	pc := EngineOf(r.cfg).retroPipeline(src, counting, snap, job)
	pc.BeforeRecord = r.opts.BeforeRecord
	if CasesOn(r.cfg) {
		// Account matches are case evidence, as in run: the job's
		// matchers know the handles the bindings topic has bound.
		table, stopBindings, err := followBindings(ctx, r.cfg, r.conn, r.log, snap)
		if err != nil {
			src.Close()
			sink.Close()
			return counts, err
		}
		defer stopBindings()
		pc.Cases, pc.Bindings = true, func() matchers.Bindings { return table }
	}
	// The job's tasks count in circuit breakers of its own, as a run
	// instance's do (limits.demand_tasks_per_minute, the demands'
	// max_tasks_per_minute): a flood of old tweets goes to the shadow
	// topic marked tripped, not to reviewers.
	fuse := breaker.New(r.cfg.Limits.DemandTasksPerMinute, nil)
	fuse.Update(r.selected.All)
	pc.Breaker = fuse
	runErr := pipeline.Run(ctx, pc)
	src.Close()
	closeErr := sink.Close()
	counts = counting.counts()
	counts.Records, counts.Skipped = src.Read(), src.Skipped()
	switch {
	case runErr != nil:
		return counts, runErr
	case ctx.Err() != nil:
		return counts, fmt.Errorf("interrupted: %w; run the same command again to resume", ctx.Err())
	case closeErr != nil:
		return counts, closeErr
	}
	// Every range is read: the offsets after each last record are gaps.
	if err := tracker.Finish(ctx); err != nil {
		return counts, err
	}
	r.log.Info("retro job done", "job", job.ID, "records", counts.Records, "tasks", counts.Tasks,
		"evidence", counts.Evidence, "rejected", counts.Rejected, "skipped", counts.Skipped)
	return counts, nil
}

// countingSink counts what its Sink wrote.
type countingSink struct {
	pipeline.Sink
	tweets, tasks, evidence, rejected atomic.Int64
}

func (s *countingSink) Write(ctx context.Context, b *pipeline.Batch) error {
	if err := s.Sink.Write(ctx, b); err != nil {
		return err
	}
	evidence := b.Count(pipeline.ToEvidence)
	s.tweets.Add(int64(b.Stats.Tweets))
	s.tasks.Add(int64(len(b.Outputs) - evidence))
	s.evidence.Add(int64(evidence))
	s.rejected.Add(int64(len(b.Rejects)))
	return nil
}

func (s *countingSink) counts() RetroCounts {
	return RetroCounts{Tweets: s.tweets.Load(), Tasks: s.tasks.Load(), Evidence: s.evidence.Load(), Rejected: s.rejected.Load()}
}
