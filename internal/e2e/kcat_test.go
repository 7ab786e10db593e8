package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flagstream/internal/dev/synth"
	"flagstream/internal/testkit"
)

// TestKcatEndToEnd drives flagstream with kcat as the only other Kafka
// client: flagstream broker serves, `flagstream generate` writes tweets,
// kcat produces them and reads back the review tasks, the case events and
// the dead letters. The demand is scope: user, so the tweets that name only
// a listed handle make case evidence instead of a review task: one case
// per listed account, opened once, counting every post and mention.
func TestKcatEndToEnd(t *testing.T) {
	dir := t.TempDir()
	lists := testkit.WriteLists(t, map[string]string{"test.yaml": testkit.Demand})
	addr, kcatRun := kcatBroker(t, 3)

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
		Kinds    map[string]int      `json:"kinds"`
		Flagged  []string            `json:"flagged"`
		Accounts []synth.AccountPost `json:"accounts"`
	}
	data, err := os.ReadFile(expectFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Flagged) == 0 || len(exp.Accounts) == 0 || exp.Kinds["malformed"] == 0 {
		t.Fatalf("generator made no flagged, account or malformed records: %s", data)
	}
	truth := testkit.TrueEvidence(exp.Accounts, nil)

	kcatRun("-P", "-t", "tweets", "-l", tweets)

	admin := testkit.FreeAddr(t)
	run := start(t, append(runArgs(addr, lists, "kcat", admin), "--cases.update_interval=200ms")...)
	testkit.WaitFor(t, 90*time.Second, "every record committed", func() bool { return testkit.CaughtUp(addr, "kcat", testkit.InputTopic) })
	testkit.WaitFor(t, 30*time.Second, "every case to show its evidence", func() bool {
		return testkit.ReadCases(t, addr, testkit.CaseTopic).Settled(testkit.DemandID, truth)
	})
	stop(t, run)

	want := map[string]bool{}
	for _, id := range exp.Flagged {
		want[id] = true
	}
	for _, a := range exp.Accounts {
		delete(want, a.TweetID) // case evidence, not a task
	}
	got := map[string]int{}
	for _, line := range scanLines(kcatRun("-C", "-t", "review-tasks", "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n")) {
		key, value, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("kcat line without a tab: %q", line)
		}
		var task testkit.ReviewTask
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
			t.Errorf("tweet %s has a task but names nothing listed, or only a listed account", id)
		}
	}

	var keys, events [][]byte
	for _, line := range scanLines(kcatRun("-C", "-t", testkit.CaseTopic, "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n")) {
		key, value, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("kcat line without a tab: %q", line)
		}
		keys, events = append(keys, []byte(key)), append(events, []byte(value))
	}
	cases := testkit.ParseCases(t, events, keys)
	testkit.CheckCases(t, cases, testkit.DemandID, truth, false)
	if len(cases) != len(truth) {
		t.Errorf("%d cases, want one per listed account named: %s", len(cases), cases)
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
	t.Logf("kcat produced %d records; %d review tasks, %d case events of %d cases and %d dead letters read back with kcat",
		6000, len(got), len(events), len(cases), len(dlq))
}
