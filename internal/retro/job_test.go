package retro

import (
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"flagstream/internal/kafkaio"
)

var t0 = time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC)

// fakeTopic is an input topic whose partition p holds records at offsets
// first[p] to end[p]-1, record o at time t0 + o minutes.
type fakeTopic struct {
	first, end map[int]int64
}

func (f *fakeTopic) Partitions(context.Context) ([]int, error) {
	return slices.Sorted(maps.Keys(f.end)), nil
}

func (f *fakeTopic) First(_ context.Context, ps []int) (map[int]int64, error) {
	return pick(f.first, ps), nil
}
func (f *fakeTopic) End(_ context.Context, ps []int) (map[int]int64, error) {
	return pick(f.end, ps), nil
}

func (f *fakeTopic) ForTime(_ context.Context, ps []int, t time.Time) (map[int]int64, error) {
	out := map[int]int64{}
	for _, p := range ps {
		o := max(int64(t.Sub(t0).Minutes()+0.999999), f.first[p])
		if o >= f.end[p] {
			o = -1
		}
		out[p] = o
	}
	return out, nil
}

func (f *fakeTopic) RecordTime(_ context.Context, p int, o int64) (time.Time, int64, error) {
	if o >= f.end[p] {
		return time.Time{}, 0, io.EOF
	}
	o = max(o, f.first[p])
	return t0.Add(time.Duration(o) * time.Minute), o, nil
}

func pick(m map[int]int64, ps []int) map[int]int64 {
	out := map[int]int64{}
	for _, p := range ps {
		out[p] = m[p]
	}
	return out
}

// memStore is a Store in memory.
type memStore struct {
	mu    sync.Mutex
	saved []Progress
	jobs  []JobRecord
	fail  error
}

func (s *memStore) SaveJob(_ context.Context, r JobRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := r.Marshal()
	if err != nil {
		return err
	}
	q, err := ParseJobRecord(data)
	if err != nil {
		return err
	}
	s.jobs = append(s.jobs, q)
	return nil
}

func (s *memStore) Jobs(ctx context.Context) ([]JobRecord, map[string]map[int32]Progress, error) {
	s.mu.Lock()
	jobs := slices.Clone(s.jobs)
	s.mu.Unlock()
	progress := map[string]map[int32]Progress{}
	for _, j := range jobs {
		progress[j.Job], _ = s.Load(ctx, j.Job)
	}
	return jobs, progress, nil
}

func (s *memStore) Load(_ context.Context, job string) (map[int32]Progress, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int32]Progress{}
	for _, p := range s.saved {
		if p.Job == job {
			out[p.Partition] = p
		}
	}
	return out, nil
}

func (s *memStore) Save(_ context.Context, ps ...Progress) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	for _, p := range ps {
		// What a reader gets back is what was written, through JSON.
		data, err := p.Marshal()
		if err != nil {
			return err
		}
		q, err := ParseProgress(data)
		if err != nil {
			return err
		}
		s.saved = append(s.saved, q)
	}
	return nil
}

var testSelection = Selection{Origin: OriginCommand, Demands: []string{"LATE"}, ListsVersion: "0123456789abcdef"}

func TestNewJob(t *testing.T) {
	now := t0.Add(100 * time.Minute)
	j, err := NewJob("tweets", Window{Since: t0, SinceKey: "2021-02-01"}, testSelection, now)
	if err != nil {
		t.Fatal(err)
	}
	if !j.ToEnd || !j.Until.Equal(now) || !strings.HasPrefix(j.ID, "retro-") || len(j.ID) != len("retro-")+16 {
		t.Errorf("job %+v: want ToEnd, until now, id retro- and 16 hex digits", j)
	}
	// The id depends on the window as written, not on when the job runs.
	again, _ := NewJob("tweets", Window{Since: t0, SinceKey: "2021-02-01"}, testSelection, now.Add(time.Hour))
	if again.ID != j.ID {
		t.Errorf("the same arguments an hour later give job %s, want %s", again.ID, j.ID)
	}
	for name, other := range map[string]func() (Job, error){
		"another topic": func() (Job, error) {
			return NewJob("other", Window{Since: t0, SinceKey: "2021-02-01"}, testSelection, now)
		},
		"another since": func() (Job, error) {
			return NewJob("tweets", Window{Since: t0, SinceKey: "72h"}, testSelection, now)
		},
		"an until": func() (Job, error) {
			return NewJob("tweets", Window{Since: t0, SinceKey: "2021-02-01", Until: now, UntilKey: "1h"}, testSelection, now)
		},
		"other entries": func() (Job, error) {
			sel := testSelection
			sel.ListsVersion = "fedcba9876543210"
			return NewJob("tweets", Window{Since: t0, SinceKey: "2021-02-01"}, sel, now)
		},
	} {
		o, err := other()
		if err != nil {
			t.Fatal(err)
		}
		if o.ID == j.ID {
			t.Errorf("%s: same job id %s", name, o.ID)
		}
	}
	_, err = NewJob("tweets", Window{Since: now, Until: t0}, testSelection, now)
	if !errors.Is(err, ErrWindow) || !strings.Contains(err.Error(), "is after --until 2021-02-01T00:00:00Z") {
		t.Errorf("since after until: %v", err)
	}
	_, err = NewJob("tweets", Window{Since: now.Add(time.Minute)}, testSelection, now)
	if !errors.Is(err, ErrWindow) || !strings.Contains(err.Error(), "after --until now") {
		t.Errorf("since in the future: %v", err)
	}
}

func TestMakePlan(t *testing.T) {
	ctx := context.Background()
	topic := &fakeTopic{first: map[int]int64{0: 0, 1: 0, 2: 0}, end: map[int]int64{0: 100, 1: 50, 2: 0}}
	now := t0.Add(200 * time.Minute)
	job, _ := NewJob("tweets", Window{Since: t0.Add(30 * time.Minute), SinceKey: "x"}, testSelection, now)
	store := &memStore{}
	plan, err := MakePlan(ctx, topic, store, job, PlanOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	type span struct{ start, next, end int64 }
	spans := func(p *Plan) []span {
		var out []span
		for _, q := range p.Partitions {
			out = append(out, span{q.Start, q.Next, q.End})
		}
		return out
	}
	if got, want := spans(plan), []span{{30, 30, 100}, {30, 30, 50}, {0, 0, 0}}; !slices.Equal(got, want) || plan.Resumed {
		t.Errorf("fresh plan %v (resumed %v), want %v", got, plan.Resumed, want)
	}
	if plan.Total() != 90 || plan.Remaining() != 90 || plan.Done() {
		t.Errorf("Total, Remaining, Done = %d, %d, %v; want 90, 90, false", plan.Total(), plan.Remaining(), plan.Done())
	}

	// An until cuts the ranges at its offsets.
	withUntil, _ := NewJob("tweets", Window{Since: t0.Add(30 * time.Minute), Until: t0.Add(40 * time.Minute)}, testSelection, now)
	p2, err := MakePlan(ctx, topic, store, withUntil, PlanOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := spans(p2), []span{{30, 30, 40}, {30, 30, 40}, {0, 0, 0}}; !slices.Equal(got, want) {
		t.Errorf("plan with until %v, want %v", got, want)
	}

	// Progress saved, then the job planned again (an hour later): it
	// resumes with its own window and offsets.
	tr := NewTracker(store, plan, func() time.Time { return now })
	if err := store.Save(ctx, plan.Partitions...); err != nil {
		t.Fatal(err)
	}
	if err := tr.Committed(ctx, []kafkaio.PartitionOffset{{Partition: 0, Next: 60}, {Partition: 1, Next: 20}}); err != nil {
		t.Fatal(err)
	}
	topic.end[0] = 500 // more records since: they are run's, not the job's
	later, _ := NewJob("tweets", Window{Since: t0.Add(90 * time.Minute), SinceKey: "x"}, testSelection, now.Add(time.Hour))
	if later.ID != job.ID {
		t.Fatal("job id changed")
	}
	resumed, err := MakePlan(ctx, topic, store, later, PlanOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := spans(resumed), []span{{30, 60, 100}, {30, 30, 50}, {0, 0, 0}}; !slices.Equal(got, want) || !resumed.Resumed {
		t.Errorf("resumed plan %v (resumed %v), want %v", got, resumed.Resumed, want)
	}
	if !resumed.Job.Since.Equal(job.Since) || !resumed.Job.Until.Equal(job.Until) {
		t.Errorf("resumed window %v-%v, want the first start's %v-%v", resumed.Job.Since, resumed.Job.Until, job.Since, job.Until)
	}
	if got := NewTracker(store, resumed, nil).Ranges(); !slices.Equal(got, []kafkaio.PartitionRange{rng(0, 60, 100), rng(1, 30, 50)}) {
		t.Errorf("ranges left %v", got)
	}
	restarted, err := MakePlan(ctx, topic, store, later, PlanOptions{Restart: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if got := spans(restarted); restarted.Resumed || got[0] != (span{90, 90, 500}) {
		t.Errorf("restarted plan %v (resumed %v), want a fresh one from 90 to 500", got, restarted.Resumed)
	}
	only, err := MakePlan(ctx, topic, store, job, PlanOptions{Partitions: []int{1}, Now: now})
	if err != nil || len(only.Partitions) != 1 || only.Partitions[0].Partition != 1 {
		t.Errorf("plan of partition 1 only: %+v, %v", only, err)
	}

	// Finish marks the rest read.
	if err := tr.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	done, _ := MakePlan(ctx, topic, store, job, PlanOptions{Now: now})
	if !done.Done() || done.Remaining() != 0 {
		t.Errorf("after Finish: done %v, %d remaining", done.Done(), done.Remaining())
	}
}

func TestMakePlanRetention(t *testing.T) {
	ctx := context.Background()
	// Partition 1 lost its records before offset 40 (time t0+40m).
	topic := &fakeTopic{first: map[int]int64{0: 0, 1: 40, 2: 10}, end: map[int]int64{0: 100, 1: 100, 2: 10}}
	now := t0.Add(200 * time.Minute)
	job, _ := NewJob("tweets", Window{Since: t0.Add(10 * time.Minute)}, testSelection, now)
	_, err := MakePlan(ctx, topic, &memStore{}, job, PlanOptions{Now: now})
	var re *RetentionError
	if !errors.As(err, &re) || re.Partition != 1 || re.Offset != 40 || !re.Earliest.Equal(t0.Add(40*time.Minute)) {
		t.Fatalf("window before retention: %v, want a RetentionError for partition 1 at offset 40", err)
	}
	for _, want := range []string{"topic tweets", "partition 1 goes back only to 2021-02-01T00:40:00Z", "--since 2021-02-01T00:40:00Z or later"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// From the earliest retained record on, it plans; partition 2, empty
	// after deletions, says nothing of its times.
	job, _ = NewJob("tweets", Window{Since: t0.Add(40 * time.Minute)}, testSelection, now)
	if _, err := MakePlan(ctx, topic, &memStore{}, job, PlanOptions{Now: now}); err != nil {
		t.Errorf("window from the earliest retained record: %v", err)
	}
}

func TestTracker(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	plan := &Plan{Partitions: []Progress{
		{Job: "retro-1", Topic: "tweets", Partition: 0, Start: 0, Next: 0, End: 10, Since: t0, Until: t0, Selection: testSelection},
		{Job: "retro-1", Topic: "tweets", Partition: 1, Start: 5, Next: 5, End: 5, Since: t0, Until: t0, Selection: testSelection},
	}}
	tr := NewTracker(store, plan, nil)
	if got := tr.Ranges(); !slices.Equal(got, []kafkaio.PartitionRange{rng(0, 0, 10)}) {
		t.Errorf("Ranges = %v", got)
	}
	// Moves forward only; a partition the job does not read is ignored.
	for _, next := range [][]kafkaio.PartitionOffset{{po(0, 4)}, {po(0, 3)}, {po(7, 1)}} {
		if err := tr.Committed(ctx, next); err != nil {
			t.Fatal(err)
		}
	}
	if len(store.saved) != 1 || store.saved[0].Next != 4 {
		t.Errorf("saved %+v, want one record at 4", store.saved)
	}
	store.fail = errors.New("broker away")
	if err := tr.Committed(ctx, []kafkaio.PartitionOffset{po(0, 6)}); err == nil {
		t.Error("a failed save is not returned")
	}
	store.fail = nil
	if err := tr.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if got := tr.Progress(); !got[0].Done() || !got[1].Done() {
		t.Errorf("after Finish: %+v", got)
	}
}

func rng(p int32, start, end int64) kafkaio.PartitionRange {
	return kafkaio.PartitionRange{Partition: p, Start: start, End: end}
}

func po(p int32, next int64) kafkaio.PartitionOffset {
	return kafkaio.PartitionOffset{Partition: p, Next: next}
}
