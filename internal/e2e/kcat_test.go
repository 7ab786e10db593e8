package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"flagstream/internal/testkit"
)

// TestKcatEndToEnd drives flagstream with kcat as the only other Kafka
// client: flagstream broker serves, `flagstream generate` writes tweets,
// kcat produces them and reads back the review tasks and dead letters.
func TestKcatEndToEnd(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat not installed (Debian package kcat; .ci/run installs it)")
	}
	dir := t.TempDir()
	lists := testkit.WriteLists(t, map[string]string{"test.yaml": testkit.Demand})
	addr := testkit.FreeAddr(t)

	broker := start(t, "broker", "--listen", addr, "--partitions", "3")
	testkit.WaitFor(t, 20*time.Second, "the broker to listen", func() bool { return strings.Contains(broker.log(), "listening on") })

	tweets := filepath.Join(dir, "tweets.ndjson")
	expectFile := filepath.Join(dir, "expect.json")
	gen := exec.Command(binary, "generate", "--lists", lists, "--count", "6000", "--seed", "3", "--expect", expectFile)
	out, err := os.Create(tweets)
	if err != nil {
		t.Fatal(err)
	}
	var genErr strings.Builder
	gen.Stdout, gen.Stderr = out, &genErr
	if err := gen.Run(); err != nil {
		t.Fatalf("generate: %v\n%s", err, genErr.String())
	}
	out.Close()
	var exp struct {
		Kinds   map[string]int `json:"kinds"`
		Flagged []string       `json:"flagged"`
	}
	data, err := os.ReadFile(expectFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Flagged) == 0 || exp.Kinds["malformed"] == 0 {
		t.Fatalf("generator made no flagged or malformed records: %s", data)
	}

	kcatRun := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, kcat, append([]string{"-b", addr}, args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return out
	}
	kcatRun("-P", "-t", "tweets", "-l", tweets)

	admin := testkit.FreeAddr(t)
	run := start(t, runArgs(addr, lists, "kcat", admin)...)
	testkit.WaitFor(t, 90*time.Second, "every record committed", func() bool { return testkit.CaughtUp(addr, "kcat", testkit.InputTopic) })
	if err := run.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := run.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("run after SIGTERM: exit code %d, want 0", code)
	}

	want := map[string]bool{}
	for _, id := range exp.Flagged {
		want[id] = true
	}
	got := map[string]int{}
	for _, line := range scanLines(kcatRun("-C", "-t", "review-tasks", "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n")) {
		key, value, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("kcat line without a tab: %q", line)
		}
		var task struct {
			Schema string `json:"schema"`
			Tweet  struct {
				ID string `json:"id"`
			} `json:"tweet"`
		}
		if err := json.Unmarshal([]byte(value), &task); err != nil {
			t.Fatalf("review task is not JSON: %v: %s", err, value)
		}
		if key != task.Tweet.ID || task.Schema != "flagstream.review_task/v1" {
			t.Errorf("task key %q schema %q for tweet %q", key, task.Schema, task.Tweet.ID)
		}
		got[task.Tweet.ID]++
	}
	for id := range want {
		if got[id] != 1 {
			t.Errorf("tweet %s: %d review tasks, want 1", id, got[id])
		}
	}
	for id := range got {
		if !want[id] {
			t.Errorf("tweet %s has a task but names nothing listed", id)
		}
	}

	dlq := scanLines(kcatRun("-C", "-t", "tweets-dlq", "-o", "beginning", "-e", "-q", "-f", "%h\n"))
	if len(dlq) != exp.Kinds["malformed"] {
		t.Errorf("dead letters: got %d, want %d", len(dlq), exp.Kinds["malformed"])
	}
	for _, h := range dlq {
		if !strings.Contains(h, "flagstream.reason=") || !strings.Contains(h, "flagstream.source.topic=tweets") {
			t.Errorf("dead letter headers lack the reason or source: %s", h)
			break
		}
	}
	t.Logf("kcat produced %d records; %d review tasks and %d dead letters read back with kcat",
		6000, len(got), len(dlq))
}
