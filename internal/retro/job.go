// Package retro is the retro-hunt: re-reading the retained input topic for
// entries that a demand named after the tweets were posted (DESIGN.md,
// "Retro-hunt"). A Job is a window of record times and a selection of
// demands and entries; Plan turns it into offset ranges of the input's
// partitions with Kafka's offsets-for-times, or resumes it from the
// progress kept in Kafka (Store); a Tracker records the progress as the
// pipeline commits. The pipeline itself, the lists and the sink are those
// of run, assembled by internal/app. Auto starts jobs inside run for the
// entries a lists reload adds (lists.retro_window).
package retro

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"flagstream/internal/kafkaio"
)

// Job is one retro-hunt: the records of Topic from Since to Until, matched
// against the demands and entries of a selection.
type Job struct {
	ID           string
	Topic        string
	Since, Until time.Time
	Selection    Selection
	// ToEnd reads each partition to its end offset when the job starts,
	// else to the offset for Until.
	ToEnd bool
}

// Window is the time window a job is asked to read: Since, and Until or,
// when Until is zero, the end offsets at the start (Until is then the
// start time). The keys are the times as written on the command line,
// which make the job id: "72h" names the same window until the job is
// done, whenever it is run again.
type Window struct {
	Since, Until       time.Time
	SinceKey, UntilKey string
}

// ErrWindow is a window whose since is after its until.
var ErrWindow = errors.New("retro window")

// NewJob returns the job of topic over w with sel, started at now. Its id
// depends on the topic, the window's keys and what sel matches.
func NewJob(topic string, w Window, sel Selection, now time.Time) (Job, error) {
	j := Job{Topic: topic, Since: w.Since.UTC(), Until: w.Until.UTC(), Selection: sel}
	if w.Until.IsZero() {
		j.Until, j.ToEnd = now.UTC(), true
	}
	if j.Since.After(j.Until) {
		until := "now"
		if !j.ToEnd {
			until = j.Until.Format(time.RFC3339)
		}
		return Job{}, fmt.Errorf("%w: --since %s is after --until %s", ErrWindow, j.Since.Format(time.RFC3339), until)
	}
	sinceKey, untilKey := w.SinceKey, w.UntilKey
	if sinceKey == "" {
		sinceKey = j.Since.Format(time.RFC3339Nano)
	}
	if untilKey == "" && !j.ToEnd {
		untilKey = j.Until.Format(time.RFC3339Nano)
	}
	j.ID = JobID(topic, sinceKey, untilKey, sel)
	return j, nil
}

// JobID returns the id of the job of topic over the window written
// sinceKey to untilKey ("" for the end) with sel: "retro-" and 16 hex
// digits of a SHA-256 over them.
func JobID(topic, sinceKey, untilKey string, sel Selection) string {
	h := sha256.New()
	for _, f := range []string{"flagstream.retro/v1", topic, sinceKey, untilKey, sel.Origin,
		strings.Join(sel.Demands, ","), sel.OnlyNewVersion, sel.ListsVersion} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return "retro-" + hex.EncodeToString(h.Sum(nil)[:8])
}

// OffsetSource is what planning asks of the input topic; kafkaio.Fetcher
// is one.
type OffsetSource interface {
	Partitions(ctx context.Context) ([]int, error)
	First(ctx context.Context, partitions []int) (map[int]int64, error)
	End(ctx context.Context, partitions []int) (map[int]int64, error)
	ForTime(ctx context.Context, partitions []int, t time.Time) (map[int]int64, error)
	RecordTime(ctx context.Context, partition int, offset int64) (time.Time, int64, error)
}

var _ OffsetSource = (*kafkaio.Fetcher)(nil)

// Store keeps the progress records of jobs, and the job records of
// automatic ones.
type Store interface {
	// Load returns the progress of job by partition; none for a new job.
	Load(ctx context.Context, job string) (map[int32]Progress, error)
	// Save writes progress records and returns once they are durable.
	Save(ctx context.Context, ps ...Progress) error
	// SaveJob writes a job record and returns once it is durable.
	SaveJob(ctx context.Context, r JobRecord) error
	// Jobs returns every job record, and the progress of every job by job
	// id and partition.
	Jobs(ctx context.Context) ([]JobRecord, map[string]map[int32]Progress, error)
}

// RetentionError is a window that begins before what the topic retains.
type RetentionError struct {
	Topic     string
	Since     time.Time
	Partition int
	// Earliest is the time of the partition's earliest retained record,
	// at Offset; the records before it were deleted.
	Earliest time.Time
	Offset   int64
}

func (e *RetentionError) Error() string {
	return fmt.Sprintf("--since %s is before what topic %s retains: partition %d goes back only to %s "+
		"(offset %d; the records before it were deleted); use --since %s or later",
		e.Since.Format(time.RFC3339), e.Topic, e.Partition, e.Earliest.UTC().Format(time.RFC3339),
		e.Offset, e.Earliest.UTC().Format(time.RFC3339))
}

// Plan is a job's progress on every partition of its topic, as it starts
// or resumes.
type Plan struct {
	Job Job
	// Partitions are sorted by partition.
	Partitions []Progress
	// Resumed is true when the progress came from the store: the job ran
	// before and stopped.
	Resumed bool
	// Fresh are the partitions planned now rather than resumed: their
	// progress is to be saved before anything is read, so that a job run
	// again reads to the same end offsets.
	Fresh []Progress
}

// Remaining returns the offsets left to read.
func (p *Plan) Remaining() int64 {
	var n int64
	for i := range p.Partitions {
		n += p.Partitions[i].End - p.Partitions[i].Next
	}
	return n
}

// Total returns the offsets of the job's ranges.
func (p *Plan) Total() int64 {
	var n int64
	for i := range p.Partitions {
		n += p.Partitions[i].End - p.Partitions[i].Start
	}
	return n
}

// Done reports whether every partition is read.
func (p *Plan) Done() bool {
	for i := range p.Partitions {
		if !p.Partitions[i].Done() {
			return false
		}
	}
	return true
}

// PlanOptions adjust planning.
type PlanOptions struct {
	// Restart ignores the job's stored progress: it starts over.
	Restart bool
	// Partitions, when not nil, limits the plan to these partitions (run
	// plans the partitions its instance is assigned).
	Partitions []int
	// Now is when the plan is made, for UpdatedAt.
	Now time.Time
	// IgnoreRetention plans a window that begins before what a partition
	// retains from its earliest retained record, instead of refusing it.
	IgnoreRetention bool
}

// MakePlan plans job: from the store's progress when the job ran before
// (unless opts.Restart), else with the offsets for its window. A new plan
// fails with a *RetentionError when the window begins before the earliest
// record the topic retains on a partition that has lost records.
func MakePlan(ctx context.Context, offsets OffsetSource, store Store, job Job, opts PlanOptions) (*Plan, error) {
	parts, err := offsets.Partitions(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Partitions != nil {
		parts = slices.DeleteFunc(parts, func(p int) bool { return !slices.Contains(opts.Partitions, p) })
	}
	plan := &Plan{Job: job}
	stored := map[int32]Progress{}
	if !opts.Restart {
		if stored, err = store.Load(ctx, job.ID); err != nil {
			return nil, err
		}
	}
	for _, p := range stored {
		// A job resumes with the window it began with: "72h" means 72
		// hours before its first start.
		plan.Job.Since, plan.Job.Until, plan.Resumed = p.Since, p.Until, true
		break
	}
	var fresh []int
	for _, p := range parts {
		if sp, ok := stored[int32(p)]; ok {
			plan.Partitions = append(plan.Partitions, sp)
		} else {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) > 0 {
		more, err := planPartitions(ctx, offsets, plan.Job, fresh, !plan.Resumed && !opts.IgnoreRetention, opts.Now)
		if err != nil {
			return nil, err
		}
		plan.Partitions = append(plan.Partitions, more...)
		plan.Fresh = more
	}
	slices.SortFunc(plan.Partitions, func(a, b Progress) int { return int(a.Partition - b.Partition) })
	return plan, nil
}

// planPartitions returns the fresh progress of partitions for job; with
// checkRetention it refuses a window that begins before what a partition
// retains.
func planPartitions(ctx context.Context, offsets OffsetSource, job Job, parts []int, checkRetention bool, now time.Time) ([]Progress, error) {
	first, err := offsets.First(ctx, parts)
	if err != nil {
		return nil, err
	}
	end, err := offsets.End(ctx, parts)
	if err != nil {
		return nil, err
	}
	since, err := offsets.ForTime(ctx, parts, job.Since)
	if err != nil {
		return nil, err
	}
	until := end
	if !job.ToEnd {
		if until, err = offsets.ForTime(ctx, parts, job.Until); err != nil {
			return nil, err
		}
	}
	if checkRetention {
		var worst *RetentionError
		for _, p := range parts {
			if first[p] <= 0 || first[p] >= end[p] {
				continue // nothing deleted, or nothing left to tell the time of
			}
			t, off, err := offsets.RecordTime(ctx, p, first[p])
			if errors.Is(err, io.EOF) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if job.Since.Before(t) && (worst == nil || t.After(worst.Earliest)) {
				worst = &RetentionError{Topic: job.Topic, Since: job.Since, Partition: p, Earliest: t, Offset: off}
			}
		}
		if worst != nil {
			return nil, worst
		}
	}
	out := make([]Progress, 0, len(parts))
	for _, p := range parts {
		e := end[p]
		if u := until[p]; u >= 0 && u < e {
			e = u
		}
		s := since[p]
		if s < 0 || s > e {
			s = e // no record at or after since
		}
		s = max(s, first[p])
		e = max(e, s)
		out = append(out, Progress{
			Schema: ProgressSchema, Job: job.ID, Topic: job.Topic, Partition: int32(p),
			Start: s, End: e, Next: s, Since: job.Since, Until: job.Until, Selection: job.Selection, UpdatedAt: now,
		})
	}
	return out, nil
}

// Tracker keeps a running job's progress: the pipeline source's commits
// move each partition's Next, and every move is saved before the next
// batch commits. It is safe for concurrent use.
type Tracker struct {
	store Store
	now   func() time.Time

	mu    sync.Mutex
	parts map[int32]*Progress
}

// NewTracker returns the tracker of plan's partitions.
func NewTracker(store Store, plan *Plan, now func() time.Time) *Tracker {
	if now == nil {
		now = time.Now
	}
	t := &Tracker{store: store, now: now, parts: map[int32]*Progress{}}
	for i := range plan.Partitions {
		p := plan.Partitions[i]
		t.parts[p.Partition] = &p
	}
	return t
}

// Ranges returns what is left to read: Next up to End of every partition
// not done.
func (t *Tracker) Ranges() []kafkaio.PartitionRange {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []kafkaio.PartitionRange
	for _, p := range t.parts {
		if !p.Done() {
			out = append(out, kafkaio.PartitionRange{Partition: p.Partition, Start: p.Next, End: p.End})
		}
	}
	slices.SortFunc(out, func(a, b kafkaio.PartitionRange) int { return int(a.Partition - b.Partition) })
	return out
}

// Committed saves the progress of partitions whose records before next
// are written; it is a RangeConfig.Committed.
func (t *Tracker) Committed(ctx context.Context, next []kafkaio.PartitionOffset) error {
	t.mu.Lock()
	now := t.now()
	var save []Progress
	for _, n := range next {
		p, ok := t.parts[n.Partition]
		if !ok || n.Next <= p.Next {
			continue
		}
		p.Next, p.UpdatedAt = min(n.Next, p.End), now
		save = append(save, *p)
	}
	t.mu.Unlock()
	if len(save) == 0 {
		return nil
	}
	return t.store.Save(ctx, save...)
}

// Finish saves every partition as read to its end: the source has read
// every range, so the offsets after the last record read are gaps.
func (t *Tracker) Finish(ctx context.Context) error {
	t.mu.Lock()
	now := t.now()
	var save []Progress
	for _, p := range t.parts {
		if !p.Done() {
			p.Next, p.UpdatedAt = p.End, now
			save = append(save, *p)
		}
	}
	t.mu.Unlock()
	slices.SortFunc(save, func(a, b Progress) int { return int(a.Partition - b.Partition) })
	if len(save) == 0 {
		return nil
	}
	return t.store.Save(ctx, save...)
}

// Progress returns the partitions' progress, sorted by partition.
func (t *Tracker) Progress() []Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Progress, 0, len(t.parts))
	for _, p := range t.parts {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Progress) int { return int(a.Partition - b.Partition) })
	return out
}
