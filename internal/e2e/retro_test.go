package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"flagstream/internal/dev/synth"
	"flagstream/internal/testkit"
)

// lateDemand is the demand that arrives after run has processed the tweets
// naming it: a handle and a hashtag entry.
const lateDemand = `id: LATE
authority: Late Authority
jurisdiction: DE
legal_basis: Late Act, section 2
scope: tweet
handles: ["@late_handle_1"]
hashtags: ["#LateTag2021"]
`

// TestRetroBlackBox is the retro-hunt's acceptance test, with the built
// binary and kcat as the only Kafka clients besides it: 10,000 tweets are
// processed by run with lists lacking LATE; retro --only-new then writes
// exactly one task per LATE tweet, each with retro, and nothing else; run
// again it writes nothing new, and restarted only the same task ids; a job
// killed with SIGKILL and run again leaves every LATE tweet with a task,
// repeats sharing their task id; run's group offsets never move.
func TestRetroBlackBox(t *testing.T) {
	dir := t.TempDir()
	oldLists := testkit.WriteLists(t, map[string]string{"test.yaml": testkit.Demand})
	newLists := testkit.WriteLists(t, map[string]string{"test.yaml": testkit.Demand, "late.yaml": lateDemand})
	addr, kcatRun := kcatBroker(t, 4)

	// 10,000 records: a fifth from a generator naming LATE's entries.
	base := synth.New(testkit.Traffic(21, 0.02, 0.005, 0.005))
	late := synth.New(synth.Config{Seed: 22, Handles: []string{"late_handle_1"}, Hashtags: []string{"LateTag2021"},
		FlagRate: 0.08, EvasiveRate: 0.02, V2Rate: 0.2, FirstID: 2_000_000_000_000_000_001})
	var lateExp synth.Expectation
	var file []byte
	for i := range 10000 {
		var v []byte
		if i%5 == 4 {
			var kind synth.Kind
			v, kind = late.Next(nil)
			if err := lateExp.Note(v, kind); err != nil {
				t.Fatal(err)
			}
		} else {
			v, _ = base.Next(nil)
		}
		file = append(append(file, v...), '\n')
	}
	tweets := filepath.Join(dir, "tweets.ndjson")
	if err := os.WriteFile(tweets, file, 0o644); err != nil {
		t.Fatal(err)
	}
	kcatRun("-P", "-t", "tweets", "-l", tweets)

	admin := testkit.FreeAddr(t)
	run := start(t, runArgs(addr, oldLists, "live", admin)...)
	testkit.WaitFor(t, 90*time.Second, "run to commit every record", func() bool { return testkit.CaughtUp(addr, "live", testkit.InputTopic) })
	stop(t, run)
	ctx := context.Background()
	liveOffsets, err := testkit.Committed(ctx, addr, "live", testkit.InputTopic)
	if err != nil {
		t.Fatal(err)
	}

	type task = testkit.ReviewTask
	// tasks reads the review-task topic with kcat.
	tasks := func() []task {
		t.Helper()
		var out []task
		for _, line := range scanLines(kcatRun("-C", "-t", "review-tasks", "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n")) {
			key, value, _ := strings.Cut(line, "\t")
			var tk task
			if err := json.Unmarshal([]byte(value), &tk); err != nil {
				t.Fatalf("not a task: %v: %s", err, value)
			}
			if key != tk.Tweet.ID {
				t.Errorf("task key %q, want the tweet id %q", key, tk.Tweet.ID)
			}
			out = append(out, tk)
		}
		return out
	}
	before := tasks()
	for _, tk := range before {
		if lateExp.IsFlagged(tk.Tweet.ID) {
			t.Fatalf("run with the old lists made a task for LATE tweet %s", tk.Tweet.ID)
		}
	}
	// retroTasks returns the tasks of job, by tweet, checking that each
	// reports LATE's matches only, that every LATE tweet has one, and
	// that the tasks without retro are still run's alone.
	retroTasks := func(all []task, job string) map[string][]task {
		t.Helper()
		out := map[string][]task{}
		live := 0
		for _, tk := range all {
			if tk.Retro == nil {
				live++
				continue
			}
			if tk.Retro.Job != job {
				continue
			}
			if tk.Retro.Since == "" || tk.Retro.Until == "" {
				t.Errorf("task %s of tweet %s has retro %+v, want a window", tk.TaskID, tk.Tweet.ID, tk.Retro)
			}
			for _, m := range tk.Matches {
				if m.DemandID != "LATE" {
					t.Errorf("retro task of tweet %s reports a match of %s", tk.Tweet.ID, m.DemandID)
				}
			}
			out[tk.Tweet.ID] = append(out[tk.Tweet.ID], tk)
		}
		if live != len(before) {
			t.Errorf("%d tasks without retro, want run's %d", live, len(before))
		}
		for _, id := range lateExp.Flagged {
			if len(out[id]) == 0 {
				t.Errorf("LATE tweet %s has no task of job %s", id, job)
			}
		}
		for id := range out {
			if !lateExp.IsFlagged(id) {
				t.Errorf("tweet %s does not name LATE but got a task of job %s", id, job)
			}
		}
		return out
	}
	retroArgs := func(more ...string) []string {
		return append([]string{"retro", "--kafka.brokers", addr, "--lists.dir", newLists, "--since", "1h", "--progress", "never"}, more...)
	}
	jobOf := regexp.MustCompile(`retro: job (retro-[0-9a-f]{16}) `)
	retro := func(args ...string) (string, string) {
		t.Helper()
		p := start(t, args...)
		if code := p.wait(t, 60*time.Second); code != 0 {
			t.Fatalf("retro: exit code %d, want 0\n%s", code, p.log())
		}
		m := jobOf.FindStringSubmatch(p.log())
		if m == nil {
			t.Fatalf("retro names no job:\n%s", p.log())
		}
		return m[1], p.log()
	}

	// --only-new: exactly one task per LATE tweet.
	job, _ := retro(retroArgs("--only-new", oldLists)...)
	afterFirst := tasks()
	byTweet := retroTasks(afterFirst, job)
	for id, ts := range byTweet {
		if len(ts) != 1 {
			t.Errorf("LATE tweet %s has %d retro tasks, want 1", id, len(ts))
		}
	}
	// Again: the job is done and writes nothing.
	if again, log := retro(retroArgs("--only-new", oldLists)...); again != job || !strings.Contains(log, "already done") {
		t.Errorf("the same command again ran job %s (want %s, done):\n%s", again, job, log)
	}
	if n := len(tasks()); n != len(afterFirst) {
		t.Errorf("running a done job again wrote %d tasks", n-len(afterFirst))
	}
	// Restarted: only the same task ids.
	retro(retroArgs("--only-new", oldLists, "--restart")...)
	afterRestart := tasks()
	for id, ts := range retroTasks(afterRestart, job) {
		if len(ts) != 2 || ts[0].TaskID != ts[1].TaskID || ts[0].TaskID != byTweet[id][0].TaskID {
			t.Errorf("tweet %s after --restart: %d tasks; want two with the id %s", id, len(ts), byTweet[id][0].TaskID)
		}
	}

	// Another job (--demand LATE), throttled so that it can be killed
	// half way: once its progress topic shows records read.
	killed := start(t, retroArgs("--demand", "LATE", "--rate", "2500")...)
	// (kcat -e would wait for the writes to pause: read up to the end
	// offsets of now instead.)
	testkit.WaitFor(t, 30*time.Second, "the job to save progress", func() bool {
		for _, m := range testkit.ReadTopic(t, addr, "flagstream-retro") {
			var p struct {
				Job         string
				Start, Next int64
			}
			if json.Unmarshal(m.Value, &p) == nil && p.Job != job && p.Next > p.Start {
				return true
			}
		}
		return false
	})
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed.wait(t, 10*time.Second)
	job2, log := retro(retroArgs("--demand", "LATE")...)
	if !strings.Contains(log, "(resumed, ") {
		t.Errorf("the killed job was not resumed:\n%s", log)
	}
	afterKill := tasks()
	repeats := 0
	for id, ts := range retroTasks(afterKill, job2) {
		for _, tk := range ts {
			if tk.TaskID != byTweet[id][0].TaskID {
				t.Errorf("tweet %s: task %s after the kill, want the id %s", id, tk.TaskID, byTweet[id][0].TaskID)
			}
		}
		repeats += len(ts) - 1
	}
	t.Logf("%d LATE tweets; the killed job repeated %d tasks", len(lateExp.Flagged), repeats)

	after, err := testkit.Committed(ctx, addr, "live", testkit.InputTopic)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(after, liveOffsets) {
		t.Errorf("run's group offsets moved: %v, were %v", after, liveOffsets)
	}
}

// TestRetroWindowBlackBox adds a demand to the lists of a running
// flagstream run with lists.retro_window=1h: within a minute the past
// tweets naming it have tasks marked retro, while live tweets, produced
// with kcat all along, keep getting theirs.
func TestRetroWindowBlackBox(t *testing.T) {
	dir := t.TempDir()
	lists := testkit.WriteLists(t, map[string]string{"test.yaml": testkit.Demand})
	addr, kcatRun := kcatBroker(t, 3)
	produce := func(name string, gen *synth.Generator, exp *synth.Expectation, n int) {
		t.Helper()
		var file []byte
		for range n {
			v, kind := gen.Next(nil)
			if exp != nil {
				if err := exp.Note(v, kind); err != nil {
					t.Fatal(err)
				}
			}
			file = append(append(file, v...), '\n')
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		kcatRun("-P", "-t", "tweets", "-l", path)
	}
	base := synth.New(testkit.Traffic(41, 0.02, 0.005, 0.005))
	late := synth.New(synth.Config{Seed: 42, Handles: []string{"late_handle_1"}, Hashtags: []string{"LateTag2021"},
		FlagRate: 0.2, FirstID: 2_000_000_000_000_000_001})
	var past, live synth.Expectation
	produce("past-base.ndjson", base, nil, 3000)
	produce("past-late.ndjson", late, &past, 1000)

	admin := testkit.FreeAddr(t)
	args := append(runArgs(addr, lists, "live", admin), "--lists.retro_window=1h", "--lists.retro_rate=5000")
	run := start(t, args...)
	testkit.WaitFor(t, 60*time.Second, "run to commit the past tweets", func() bool { return testkit.CaughtUp(addr, "live", testkit.InputTopic) })

	testkit.WriteFile(t, lists, "late.yaml", lateDemand)
	testkit.WaitFor(t, 20*time.Second, "the lists to reload", func() bool { return strings.Contains(run.log(), "retro job queued") })
	added := time.Now()
	var tasks map[string][]string // tweet id → the retro job of each task ("" for live)
	n := 0
	testkit.WaitFor(t, time.Minute, "every past LATE tweet to have a retro task", func() bool {
		n++
		produce(fmt.Sprintf("live-%d.ndjson", n), late, &live, 50)
		tasks = map[string][]string{}
		for _, tk := range testkit.ReadTasks(t, addr, testkit.TaskTopic) {
			job := ""
			if tk.Retro != nil {
				job = tk.Retro.Job
			}
			tasks[tk.Tweet.ID] = append(tasks[tk.Tweet.ID], job)
		}
		for _, id := range past.Flagged {
			if len(tasks[id]) == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("the %d past LATE tweets had their tasks %s after the lists changed", len(past.Flagged), time.Since(added).Round(time.Millisecond))
	// The job may still be reading past tweets that match nothing (another
	// partition's share of the base traffic) after the last LATE task.
	testkit.WaitFor(t, 60*time.Second, "the retro job to finish", func() bool { return strings.Contains(run.log(), "retro job done") })
	testkit.WaitFor(t, 60*time.Second, "run to commit the live tweets", func() bool { return testkit.CaughtUp(addr, "live", testkit.InputTopic) })
	stop(t, run)
	for _, tk := range testkit.ReadTasks(t, addr, testkit.TaskTopic) {
		switch {
		case past.IsFlagged(tk.Tweet.ID) && tk.Retro == nil:
			t.Errorf("past LATE tweet %s got a live task", tk.Tweet.ID)
		case live.IsFlagged(tk.Tweet.ID) && tk.Retro != nil:
			t.Errorf("live LATE tweet %s got a retro task", tk.Tweet.ID)
		}
	}
	liveTasks := 0
	for _, id := range live.Flagged {
		if len(tasks[id]) > 0 {
			liveTasks++
		}
	}
	if liveTasks == 0 {
		t.Error("no live LATE tweet had a task while the job ran")
	}
	for _, want := range []string{"retro job started", "retro job done"} {
		if !strings.Contains(run.log(), want) {
			t.Errorf("run's log lacks %q", want)
		}
	}
}
