package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/config"
	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
	"flagstream/internal/retro"
	"flagstream/internal/testkit"
	"flagstream/pipeline"
)

// lateDemand is a demand that arrives after the tweets it names were
// processed; its entries are those lateTraffic names.
const lateDemand = `id: LATE
authority: Late Authority
jurisdiction: DE
legal_basis: Late Act, section 2
scope: tweet
handles: ["@late_handle_1"]
hashtags: ["#LateTag2021"]
`

// lateTraffic names lateDemand's entries in a tenth of its records, with
// tweet ids apart from the Kit's generator's.
func lateTraffic() *synth.Generator {
	return synth.New(synth.Config{
		Seed: 11, Handles: []string{"late_handle_1"}, Hashtags: []string{"LateTag2021"},
		FlagRate: 0.08, EvasiveRate: 0.02, V2Rate: 0.2, FirstID: 2_000_000_000_000_000_001,
	})
}

// producePastLate produces 1,200 records to the input topic, every third
// from lateTraffic, and returns that generator, to go on from, and what
// its records must lead to once LATE is listed.
func producePastLate(t *testing.T, k *testkit.Kit) (*synth.Generator, synth.Expectation) {
	t.Helper()
	late := lateTraffic()
	var past synth.Expectation
	var records [][]byte
	for i := range 1200 {
		if i%3 == 2 {
			v, kind := late.Next(nil)
			if err := past.Note(v, kind); err != nil {
				t.Fatal(err)
			}
			records = append(records, v)
			continue
		}
		records = append(records, k.Records(1)[0])
	}
	testkit.Produce(t, k.Broker.Addr(), testkit.InputTopic, records)
	return late, past
}

// retroKit is a broker holding tweets that run processed with lists
// lacking LATE, and the lists before (Kit.ListsDir) and after LATE came.
type retroKit struct {
	*testkit.Kit
	newLists string
	late     synth.Expectation // what lateTraffic's records must lead to
	before   testkit.Tasks     // run's tasks
	group    string
	offsets  map[int]int64 // run's committed offsets
}

// newRetroKit produces n records, a quarter of them lateTraffic's, and
// runs them through app.Run with the lists before LATE.
func newRetroKit(t *testing.T, n int) *retroKit {
	t.Helper()
	k := &retroKit{Kit: testkit.New(t, devbroker.Config{Partitions: 4}, synth.Config{}), group: "live"}
	k.newLists = testkit.WriteLists(t, map[string]string{"test.yaml": testkit.Demand, "late.yaml": lateDemand})
	late := lateTraffic()
	var records [][]byte
	for i := range n {
		if i%4 == 3 {
			v, kind := late.Next(nil)
			if err := k.late.Note(v, kind); err != nil {
				t.Fatal(err)
			}
			records = append(records, v)
			continue
		}
		records = append(records, k.Records(1)[0])
	}
	testkit.Produce(t, k.Broker.Addr(), testkit.InputTopic, records)
	in := start(t, k.Config(k.group))
	testkit.WaitFor(t, 60*time.Second, "run to commit every record", func() bool { return k.CaughtUp(k.group) })
	if err := in.Stop(t); err != nil {
		t.Fatal(err)
	}
	k.before = k.Tasks()
	k.CheckTasks(k.before, true)
	var err error
	if k.offsets, err = testkit.Committed(context.Background(), k.Broker.Addr(), k.group, testkit.InputTopic); err != nil {
		t.Fatal(err)
	}
	return k
}

// retroConfig is run's configuration with the new lists.
func (k *retroKit) retroConfig() config.Config {
	cfg := k.Config(k.group)
	cfg.Lists.Dir = k.newLists
	return cfg
}

// retroTasks returns the tasks written after run's, by tweet.
func (k *retroKit) retroTasks(t *testing.T) map[string][]testkit.ReviewTask {
	t.Helper()
	byTweet := map[string][]testkit.ReviewTask{}
	seen := 0
	for _, task := range testkit.ReadTasks(t, k.Broker.Addr(), testkit.TaskTopic) {
		if before := k.before.ByTweet[task.Tweet.ID]; len(before) > 0 && task.Retro == nil {
			seen++
			continue
		}
		byTweet[task.Tweet.ID] = append(byTweet[task.Tweet.ID], task)
	}
	if seen != k.before.Total {
		t.Fatalf("found %d of run's %d tasks", seen, k.before.Total)
	}
	return byTweet
}

// newRetro starts a retro job over the last hour with opts' selection.
func newRetro(t *testing.T, cfg config.Config, opts RetroOptions) *Retro {
	t.Helper()
	opts.Window = retro.Window{Since: time.Now().Add(-time.Hour), SinceKey: "ago:1h"}
	opts.Logger = testkit.Logger(t)
	r, err := NewRetro(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// checkLateTasks checks that every LATE tweet has a retro task and
// nothing else has one, that each reports LATE's matches only, and that
// a tweet's repeated tasks share an id.
func checkLateTasks(t *testing.T, k *retroKit, byTweet map[string][]testkit.ReviewTask, job string, exact bool) {
	t.Helper()
	for _, id := range k.late.Flagged {
		if len(byTweet[id]) == 0 {
			t.Errorf("LATE tweet %s has no retro task", id)
		}
	}
	for id, tasks := range byTweet {
		if !k.late.IsFlagged(id) {
			t.Errorf("tweet %s does not name LATE but has %d retro tasks", id, len(tasks))
		}
		if exact && len(tasks) != 1 {
			t.Errorf("tweet %s has %d retro tasks, want 1", id, len(tasks))
		}
		for _, task := range tasks {
			if task.TaskID != tasks[0].TaskID {
				t.Errorf("tweet %s: repeated tasks %s and %s", id, tasks[0].TaskID, task.TaskID)
			}
			if task.Retro == nil || task.Retro.Job != job {
				t.Errorf("tweet %s: task without retro {job: %s}: %+v", id, job, task.Retro)
			}
			for _, m := range task.Matches {
				if m.DemandID != "LATE" {
					t.Errorf("tweet %s: retro task reports a match of %s", id, m.DemandID)
				}
			}
		}
	}
}

func TestRetroOnlyNew(t *testing.T) {
	k := newRetroKit(t, 2000)
	ctx := context.Background()
	opts := RetroOptions{Selection: Selection{OnlyNew: k.ListsDir}}
	r := newRetro(t, k.retroConfig(), opts)
	plan := r.Plan()
	if plan.Resumed || plan.Total() != 2000 || len(plan.Partitions) != 4 {
		t.Fatalf("plan: resumed %v, %d records in %d partitions; want a new plan of 2000 in 4", plan.Resumed, plan.Total(), len(plan.Partitions))
	}
	if got := r.Selected().Demands; len(got) != 1 || got[0] != "LATE" {
		t.Errorf("selected demands %v, want LATE alone", got)
	}
	c, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Records != 2000 || c.Tasks != int64(len(k.late.Flagged)) || c.Rejected != int64(k.Exp.Malformed()) {
		t.Errorf("counts %+v; want 2000 records, %d tasks, %d rejected", c, len(k.late.Flagged), k.Exp.Malformed())
	}
	checkLateTasks(t, k, k.retroTasks(t), plan.Job.ID, true)
	after, err := testkit.Committed(ctx, k.Broker.Addr(), k.group, testkit.InputTopic)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(after, k.offsets) {
		t.Errorf("run's group offsets moved: %v, were %v", after, k.offsets)
	}

	// The same job again: it is done, and reads nothing.
	again := newRetro(t, k.retroConfig(), opts)
	if again.Plan().Job.ID != plan.Job.ID || !again.Plan().Done() || !again.Plan().Resumed {
		t.Fatalf("the same job again: %s (done %v), want %s done", again.Plan().Job.ID, again.Plan().Done(), plan.Job.ID)
	}
	if c, err := again.Run(ctx); err != nil || c.Records != 0 {
		t.Errorf("running a done job read %d records (%v)", c.Records, err)
	}
	// Restarted, it writes the same task ids again.
	opts.Restart = true
	restarted := newRetro(t, k.retroConfig(), opts)
	if _, err := restarted.Run(ctx); err != nil {
		t.Fatal(err)
	}
	byTweet := k.retroTasks(t)
	checkLateTasks(t, k, byTweet, plan.Job.ID, false)
	for id, tasks := range byTweet {
		if len(tasks) != 2 {
			t.Errorf("tweet %s has %d retro tasks after a restart, want 2", id, len(tasks))
		}
	}
}

func TestRetroResumesAfterInterruption(t *testing.T) {
	k := newRetroKit(t, 2000)
	cfg := k.retroConfig()
	cfg.Pipeline.BatchSize = 64
	ctx, cancel := context.WithCancel(context.Background())
	var seen atomic.Int64
	opts := RetroOptions{
		Selection: Selection{Demands: []string{"LATE"}},
		BeforeRecord: func(*pipeline.Record) {
			if seen.Add(1) == 700 {
				cancel()
			}
		},
	}
	first := newRetro(t, cfg, opts)
	c, err := first.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "run the same command again to resume") {
		t.Fatalf("interrupted job: %v", err)
	}
	if c.Records >= 2000 {
		t.Fatalf("the interrupted job read all %d records", c.Records)
	}
	opts.BeforeRecord = nil
	second := newRetro(t, cfg, opts)
	plan := second.Plan()
	if !plan.Resumed || plan.Job.ID != first.Plan().Job.ID || plan.Remaining() >= 2000-500 {
		t.Fatalf("second run: resumed %v, job %s, %d left; want job %s resumed with at most 1500 left",
			plan.Resumed, plan.Job.ID, plan.Remaining(), first.Plan().Job.ID)
	}
	c2, err := second.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Repeated at most what was in flight: a few batches of 64.
	if total := c.Records + c2.Records; total < 2000 || total > 2000+int64(cfg.Pipeline.BatchSize)*16 {
		t.Errorf("read %d + %d records, want 2000 and at most the batches in flight again", c.Records, c2.Records)
	}
	checkLateTasks(t, k, k.retroTasks(t), plan.Job.ID, false)
}

func TestRetroRefuses(t *testing.T) {
	k := testkit.New(t, devbroker.Config{Partitions: 2}, synth.Config{})
	k.Produce(100)
	newLists := testkit.WriteLists(t, map[string]string{"test.yaml": testkit.Demand, "late.yaml": lateDemand})
	cfg := k.Config("live")
	cfg.Lists.Dir = newLists
	ctx := context.Background()
	try := func(w retro.Window, sel Selection) error {
		r, err := NewRetro(ctx, cfg, RetroOptions{Window: w, Selection: sel})
		if err == nil {
			r.Close()
		}
		return err
	}
	hour := retro.Window{Since: time.Now().Add(-time.Hour)}
	broken := testkit.WriteLists(t, map[string]string{"bad.yaml": "id: X\njurisdiction: IN\nhandles: [\"not a handle\"]\n"})
	for _, tc := range []struct {
		name string
		w    retro.Window
		sel  Selection
		want string
	}{
		{"unknown demand", hour, Selection{Demands: []string{"NOPE"}}, `unknown demand id "NOPE"`},
		{"broken OLD_DIR", hour, Selection{OnlyNew: broken}, "bad.yaml:3"},
		{"since after until", retro.Window{Since: time.Now(), Until: time.Now().Add(-time.Hour)}, Selection{}, "is after --until"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := try(tc.w, tc.sel)
			if err == nil || !IsUsage(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewRetro: %v; want a usage error with %q", err, tc.want)
			}
		})
	}
	t.Run("no input topic", func(t *testing.T) {
		c := cfg
		c.Input.Topic = "absent-topic"
		r, err := NewRetro(ctx, c, RetroOptions{Window: hour})
		if err == nil {
			r.Close()
		}
		if !IsUsage(err) || !strings.Contains(err.Error(), "topic absent-topic: no such topic") {
			t.Errorf("NewRetro: %v; want a usage error naming the topic", err)
		}
	})
	t.Run("progress topic not compacted", func(t *testing.T) {
		for _, cases := range []bool{true, false} {
			c := cfg
			c.Retro.ProgressTopic = fmt.Sprintf("retro-progress-deleted-%v", cases)
			if !cases {
				c.Cases.Topic = ""
			}
			testkit.CreateTopics(t, k.Broker.Addr(), kafka.TopicConfig{Topic: c.Retro.ProgressTopic, NumPartitions: 1, ReplicationFactor: 1})
			r, err := NewRetro(ctx, c, RetroOptions{Window: hour})
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Run(ctx)
			r.Close()
			if !IsUsage(err) || !strings.Contains(err.Error(), "cleanup.policy=delete, want compact") {
				t.Errorf("cases %v: Run: %v; want a usage error about the progress topic's cleanup.policy", cases, err)
			}
		}
	})
	t.Run("nothing to hunt", func(t *testing.T) {
		if err := try(hour, Selection{OnlyNew: newLists}); !errors.Is(err, ErrNothingToHunt) || IsUsage(err) {
			t.Errorf("NewRetro with lists that add nothing: %v, want ErrNothingToHunt", err)
		}
	})
	t.Run("before retention", func(t *testing.T) {
		testkit.DeleteRecords(t, k.Broker.Addr(), testkit.InputTopic, 1, 10)
		err := try(retro.Window{Since: time.Now().Add(-time.Hour)}, Selection{})
		var re *retro.RetentionError
		if !errors.As(err, &re) || !IsUsage(err) || re.Partition != 1 || re.Offset != 10 {
			t.Fatalf("NewRetro: %v; want a usage RetentionError for partition 1 at offset 10", err)
		}
	})
}

// TestRunRetroWindow adds a demand to a running instance's lists with
// lists.retro_window set: the past tweets naming it get tasks, marked
// retro, while live tweets keep flowing; those after the reload are
// matched live, not again by the job.
func TestRunRetroWindow(t *testing.T) {
	k := testkit.New(t, devbroker.Config{Partitions: 4}, synth.Config{})
	late, past := producePastLate(t, k)
	cfg := k.Config("live")
	cfg.Lists.RetroWindow = time.Hour
	cfg.Lists.RetroRate = 2000
	in := start(t, cfg)
	testkit.WaitFor(t, 60*time.Second, "run to commit the past records", func() bool { return k.CaughtUp("live") })
	before := k.Tasks()

	testkit.WriteFile(t, k.ListsDir, "late.yaml", lateDemand)
	testkit.WaitFor(t, 20*time.Second, "the lists to reload", func() bool {
		return in.labelled("flagstream_lists_reloads_total", "success") == 2
	})
	// Live tweets keep coming, some naming LATE: those are matched live.
	var live synth.Expectation
	done := false
	testkit.WaitFor(t, 60*time.Second, "every past LATE tweet to have a task", func() bool {
		if !done {
			var batch [][]byte
			for range 20 {
				v, kind := late.Next(nil)
				if err := live.Note(v, kind); err != nil {
					t.Fatal(err)
				}
				batch = append(batch, v)
			}
			batch = append(batch, k.Records(40)...)
			testkit.Produce(t, k.Broker.Addr(), testkit.InputTopic, batch)
		}
		tasks := k.Tasks()
		for _, id := range past.Flagged {
			if len(tasks.ByTweet[id]) == 0 {
				return false
			}
		}
		done = true
		return in.labelled("flagstream_retro_jobs_total", "done") == 1
	})
	testkit.WaitFor(t, 60*time.Second, "run to commit the live records", func() bool { return k.CaughtUp("live") })
	if err := in.Stop(t); err != nil {
		t.Fatal(err)
	}
	if got := in.counter("flagstream_retro_records_total"); got != 1200 {
		t.Errorf("flagstream_retro_records_total = %v, want the 1200 past records", got)
	}
	if got := in.counter("flagstream_retro_tasks_total"); got != float64(len(past.Flagged)) {
		t.Errorf("flagstream_retro_tasks_total = %v, want %d", got, len(past.Flagged))
	}
	// Every past LATE tweet has one retro task; a live one one live task.
	byTweet := map[string][]testkit.ReviewTask{}
	for _, task := range testkit.ReadTasks(t, k.Broker.Addr(), testkit.TaskTopic) {
		byTweet[task.Tweet.ID] = append(byTweet[task.Tweet.ID], task)
	}
	for _, id := range past.Flagged {
		if tasks := byTweet[id]; len(tasks) != 1 || tasks[0].Retro == nil {
			t.Errorf("past LATE tweet %s: %d tasks (%+v), want one with retro", id, len(tasks), tasks)
		}
	}
	for _, id := range live.Flagged {
		if tasks := byTweet[id]; len(tasks) != 1 || tasks[0].Retro != nil {
			t.Errorf("live LATE tweet %s: %d tasks (%+v), want one live task", id, len(tasks), tasks)
		}
	}
	for id, tasks := range before.ByTweet {
		if len(byTweet[id]) != len(tasks) {
			t.Errorf("tweet %s had %d tasks before the reload, %d after", id, len(tasks), len(byTweet[id]))
		}
	}
}

// TestRunRetroWindowRecovers stops the only instance while the retro-hunt
// of a reload is half done; a new instance, whose lists already hold the
// added demand (so no reload of its own adds anything), finds the job in
// the progress topic and finishes it: every past LATE tweet gets its retro
// task. Before, the first load came before the retro-hunt was set up and
// was lost to it, so nothing was recovered.
func TestRunRetroWindowRecovers(t *testing.T) {
	k := testkit.New(t, devbroker.Config{Partitions: 4}, synth.Config{})
	_, past := producePastLate(t, k)
	cfg := k.Config("live")
	cfg.Lists.RetroWindow = time.Hour
	cfg.Lists.RetroRate = 100 // 12 s for the 1200 past records: stopped well before
	first := start(t, cfg)
	testkit.WaitFor(t, 60*time.Second, "run to commit the past records", func() bool { return k.CaughtUp("live") })
	testkit.WriteFile(t, k.ListsDir, "late.yaml", lateDemand)
	testkit.WaitFor(t, 30*time.Second, "the job to have read some records", func() bool {
		return first.counter("flagstream_retro_records_total") >= 100
	})
	if err := first.Stop(t); err != nil {
		t.Fatal(err)
	}
	if got := first.labelled("flagstream_retro_jobs_total", "done"); got != 0 {
		t.Fatalf("the job finished before the instance stopped (%v done): slow it down", got)
	}

	cfg.Lists.RetroRate = 5000
	second := start(t, cfg)
	testkit.WaitFor(t, 60*time.Second, "every past LATE tweet to have a task", func() bool {
		tasks := k.Tasks()
		for _, id := range past.Flagged {
			if len(tasks.ByTweet[id]) == 0 {
				return false
			}
		}
		return true
	})
	testkit.WaitFor(t, 30*time.Second, "the recovered job done", func() bool {
		return second.labelled("flagstream_retro_jobs_total", "done") == 1
	})
	if err := second.Stop(t); err != nil {
		t.Fatal(err)
	}
	for _, task := range testkit.ReadTasks(t, k.Broker.Addr(), testkit.TaskTopic) {
		if slices.Contains(past.Flagged, task.Tweet.ID) && task.Retro == nil {
			t.Errorf("past LATE tweet %s has a task without retro", task.Tweet.ID)
		}
	}
}
