package cli

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
	"flagstream/internal/testkit"
)

// TestScanDemand checks that scan --demand matches only the demands named.
func TestScanDemand(t *testing.T) {
	all := runMain(t, nil, "scan", "--lists", "testdata/lists", "--at", scanAt, scanInput)
	one := runMain(t, nil, "scan", "--lists", "testdata/lists", "--at", scanAt, "--demand", "TS-MISINFO-TEST", scanInput)
	if all.code != ExitOK || one.code != ExitOK {
		t.Fatalf("exit %d and %d; stderr:\n%s\n%s", all.code, one.code, all.stderr, one.stderr)
	}
	var tasks, others int
	for _, line := range strings.Split(strings.TrimSpace(all.stdout), "\n") {
		if strings.Contains(line, `"demand_id":"TS-MISINFO-TEST"`) {
			tasks++
		} else {
			others++
		}
	}
	got := strings.Split(strings.TrimSpace(one.stdout), "\n")
	if len(got) != tasks || others == 0 {
		t.Errorf("--demand TS-MISINFO-TEST gave %d tasks; the full scan has %d naming it and %d others", len(got), tasks, others)
	}
	for _, line := range got {
		var task struct {
			Matches []struct {
				DemandID string `json:"demand_id"`
			} `json:"matches"`
		}
		if err := json.Unmarshal([]byte(line), &task); err != nil {
			t.Fatal(err)
		}
		for _, m := range task.Matches {
			if m.DemandID != "TS-MISINFO-TEST" {
				t.Errorf("a task of scan --demand TS-MISINFO-TEST matches %s: %s", m.DemandID, line)
			}
		}
	}
}

// TestRetroCommand runs flagstream retro against a broker holding tweets
// that a demand added later names: the job, its summary, running it again
// and --dry-run.
func TestRetroCommand(t *testing.T) {
	k := testkit.New(t, devbroker.Config{Partitions: 2}, synth.Config{})
	k.Produce(300)
	late := synth.New(synth.Config{Seed: 5, Hashtags: []string{"LateTag2021"}, FlagRate: 0.2, FirstID: 3_000_000_000_000_000_001})
	var exp synth.Expectation
	var records [][]byte
	for range 200 {
		v, kind := late.Next(nil)
		if err := exp.Note(v, kind); err != nil {
			t.Fatal(err)
		}
		records = append(records, v)
	}
	testkit.Produce(t, k.Broker.Addr(), testkit.InputTopic, records)
	newLists := testkit.WriteLists(t, map[string]string{"test.yaml": testkit.Demand,
		"late.yaml": "id: LATE\njurisdiction: DE\nhashtags: [\"#LateTag2021\"]\n"})
	args := []string{"retro", "--kafka.brokers", k.Broker.Addr(), "--lists.dir", newLists, "--only-new", k.ListsDir,
		"--since", "1h", "--progress", "never"}

	dry := runMain(t, nil, append(args, "--dry-run")...)
	if dry.code != ExitOK || !regexp.MustCompile(`(?m)^\s+partition\s+start\s+next\s+end\s+left\s*$`).MatchString(dry.stderr) {
		t.Fatalf("--dry-run: exit %d, stderr:\n%s", dry.code, dry.stderr)
	}
	if n := len(k.ReadTopic(testkit.TaskTopic)); n != 0 {
		t.Fatalf("--dry-run wrote %d tasks", n)
	}

	start := time.Now()
	r := runMain(t, nil, args...)
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	job := regexp.MustCompile(`retro: job (retro-[0-9a-f]{16}) \(new\): topic tweets from \S+ to \S+, 500 records in 2 partitions`).FindStringSubmatch(r.stderr)
	if job == nil {
		t.Fatalf("stderr does not describe a new job of 500 records:\n%s", r.stderr)
	}
	for _, want := range []string{
		"matching 1 demands (1 active), 1 entries (1 active)",
		"read 500 records",
		"tasks " + strconv.Itoa(len(exp.Flagged)) + "; cases touched 0; rejected " + strconv.Itoa(k.Exp.Malformed()),
		"job " + job[1] + " done",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	tasks := k.ReadTopic(testkit.TaskTopic)
	if len(tasks) != len(exp.Flagged) {
		t.Errorf("%d tasks written, want %d", len(tasks), len(exp.Flagged))
	}
	for _, m := range tasks {
		var task struct {
			CreatedAt string `json:"created_at"`
		}
		if err := json.Unmarshal(m.Value, &task); err != nil {
			t.Fatal(err)
		}
		if at, err := time.Parse(time.RFC3339Nano, task.CreatedAt); err != nil || at.Before(start.Add(-time.Second)) {
			t.Errorf("task created at %q, before the job started", task.CreatedAt)
		}
	}

	again := runMain(t, nil, args...)
	if again.code != ExitOK || !strings.Contains(again.stderr, "job "+job[1]+" is already done; --restart hunts again") ||
		!strings.Contains(again.stderr, "resumed, 500 of 500 records read") {
		t.Errorf("the job again: exit %d, stderr:\n%s", again.code, again.stderr)
	}
	if n := len(k.ReadTopic(testkit.TaskTopic)); n != len(tasks) {
		t.Errorf("running a done job again wrote %d more tasks", n-len(tasks))
	}

	// A progress topic that is not compacted would lose what the jobs
	// have read: exit 2, naming it, as run does.
	testkit.CreateTopics(t, k.Broker.Addr(), kafka.TopicConfig{Topic: "retro-deleted", NumPartitions: 1, ReplicationFactor: 1})
	deleted := runMain(t, nil, "retro", "--kafka.brokers", k.Broker.Addr(), "--lists.dir", newLists, "--since", "1h", "--demand", "LATE",
		"--retro.progress_topic", "retro-deleted", "--progress", "never")
	if deleted.code != ExitUsage || !strings.Contains(deleted.stderr, "retro.progress_topic: topic retro-deleted has cleanup.policy=delete, want compact") {
		t.Errorf("a progress topic that is not compacted: exit %d, stderr:\n%s", deleted.code, deleted.stderr)
	}

	// A window before what the topic retains is refused, saying how far
	// back it goes.
	testkit.DeleteRecords(t, k.Broker.Addr(), testkit.InputTopic, 1, 5)
	gone := runMain(t, nil, "retro", "--kafka.brokers", k.Broker.Addr(), "--lists.dir", newLists, "--since", "2h", "--demand", "LATE")
	if gone.code != ExitUsage || !regexp.MustCompile(`flagstream: retro: --since \S+ is before what topic tweets retains: partition 1 goes back only to \S+ \(offset 5; the records before it were deleted\); use --since \S+ or later`).MatchString(gone.stderr) {
		t.Errorf("a window before retention: exit %d, stderr:\n%s", gone.code, gone.stderr)
	}

	none := runMain(t, nil, "retro", "--kafka.brokers", k.Broker.Addr(), "--lists.dir", k.ListsDir, "--only-new", k.ListsDir, "--since", "1h")
	if none.code != ExitOK || !strings.Contains(none.stderr, "add no entries to "+k.ListsDir+": nothing to hunt") {
		t.Errorf("nothing new: exit %d, stderr:\n%s", none.code, none.stderr)
	}
}

func TestRetroProgressLine(t *testing.T) {
	for _, tc := range []struct {
		records, offsets, total int64
		elapsed                 time.Duration
		want                    string
	}{
		{0, 0, 1000, 0, "retro:   0% of 1000 records, 0 read, 0 records/s, ETA -"},
		{250, 250, 1000, time.Second, "retro:  25% of 1000 records, 250 read, 250 records/s, ETA 3s"},
		// Gaps (compacted or deleted offsets) count towards the total.
		{400, 500, 1000, 2 * time.Second, "retro:  50% of 1000 records, 400 read, 250 records/s, ETA 2s"},
		{0, 0, 0, time.Second, "retro: 100% of 0 records, 0 read, 0 records/s, ETA -"},
	} {
		if got := retroProgressLine(tc.records, tc.offsets, tc.total, tc.elapsed); got != tc.want {
			t.Errorf("retroProgressLine(%d, %d, %d, %v) = %q, want %q", tc.records, tc.offsets, tc.total, tc.elapsed, got, tc.want)
		}
	}
}
