// Package e2e tests the flagstream binary as users run it: built with go
// build, started as a separate process, killed with signals, and talked to
// by independent Kafka clients (kafka-go from the test, and kcat).
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
	"flagstream/internal/testkit"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flagstream-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "flagstream")
	build := exec.Command("go", "build", "-o", binary, "flagstream/cmd/flagstream")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build flagstream:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testDemand = `id: E2E-IN-1
authority: Test Ministry
jurisdiction: IN
legal_basis: Test Act, section 1
action: withhold
handles: ["@kisan_e2e_one", "@tractor_e2e_2"]
hashtags: ["#FarmerGenocideE2E"]
phrases: ["farmer genocide e2e"]
domains: ["genocide-news.example"]
`

func listsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "e2e.yaml"), []byte(testDemand), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func generator(seed uint64) *synth.Generator {
	return synth.New(synth.Config{
		Seed: seed, Handles: []string{"kisan_e2e_one", "tractor_e2e_2"},
		Hashtags: []string{"FarmerGenocideE2E"}, Phrases: []string{"farmer genocide e2e"},
		Domains:  []string{"genocide-news.example"},
		FlagRate: 0.01, EvasiveRate: 0.005, MalformedRate: 0.005, V2Rate: 0.2,
	})
}

// process is a running flagstream subprocess.
type process struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	mu     *sync.Mutex
	done   chan error
}

// syncBuffer is a bytes.Buffer safe for the process's writer and the test.
type syncBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (s syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func start(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, args...)
	p := &process{cmd: cmd, stderr: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan error, 1)}
	cmd.Stderr = syncBuffer{p.mu, p.stderr}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		p.done <- nil
		if t.Failed() {
			t.Logf("flagstream %s stderr:\n%s", strings.Join(args, " "), p.log())
		}
	})
	return p
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// wait waits for the process to exit and returns its exit code.
func (p *process) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatalf("wait: %v", err)
	case <-time.After(timeout):
		t.Fatalf("process did not exit within %s", timeout)
	}
	return -1
}

func runArgs(broker, group, lists, admin string) []string {
	return []string{"run",
		"--kafka.brokers", broker, "--input.group", group, "--lists.dir", lists,
		"--http.listen", admin, "--log.format", "json",
		"--input.max_wait", "500ms", "--input.fetch_max_bytes", "1MiB", "--input.heartbeat_interval", "300ms",
		"--input.session_timeout", "3s", "--input.rebalance_timeout", "3s",
		"--input.commit_interval", "100ms", "--pipeline.batch_size", "256",
	}
}

func produceFrom(t *testing.T, gen *synth.Generator, addr string, n int, exp *synth.Expectation) {
	t.Helper()
	values := make([][]byte, n)
	for i := range values {
		v, kind := gen.Next(nil)
		values[i] = v
		if err := exp.Note(v, kind); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Produce(t, addr, "tweets", values)
}

func caughtUp(addr, group string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok, err := testkit.CaughtUp(ctx, addr, group, "tweets")
	return err == nil && ok
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkTasks reads the review tasks and asserts every flagged tweet has
// one, nothing else does, and repeats of a tweet share its task id.
func checkTasks(t *testing.T, tasks [][]byte, exp *synth.Expectation) (duplicates int) {
	t.Helper()
	byTweet := map[string]string{}
	for _, v := range tasks {
		var task struct {
			TaskID string `json:"task_id"`
			Tweet  struct {
				ID string `json:"id"`
			} `json:"tweet"`
		}
		if err := json.Unmarshal(v, &task); err != nil {
			t.Fatalf("review task is not JSON: %v", err)
		}
		if prev, ok := byTweet[task.Tweet.ID]; ok {
			duplicates++
			if prev != task.TaskID {
				t.Errorf("tweet %s: duplicate tasks with different ids %s and %s", task.Tweet.ID, prev, task.TaskID)
			}
		}
		byTweet[task.Tweet.ID] = task.TaskID
		if !exp.IsFlagged(task.Tweet.ID) {
			t.Errorf("tweet %s has a task but names nothing listed", task.Tweet.ID)
		}
	}
	for _, id := range exp.Flagged {
		if _, ok := byTweet[id]; !ok {
			t.Errorf("flagged tweet %s has no review task", id)
		}
	}
	return duplicates
}

// TestKillRestartLosesNothing kills flagstream run with SIGKILL three times
// while tweets flow, restarting it in the same group each time; every
// flagged tweet must end with a task, repeats sharing their task id.
func TestKillRestartLosesNothing(t *testing.T) {
	b, err := devbroker.Start(devbroker.Config{Listen: "127.0.0.1:0", Partitions: 4, Topics: []string{"tweets", "review-tasks", "tweets-dlq"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	lists := listsDir(t)
	exp := &synth.Expectation{}
	gen := generator(11)

	for kill := 1; kill <= 3; kill++ {
		admin := testkit.FreeAddr(t)
		p := start(t, runArgs(b.Addr(), "crash", lists, admin)...)
		// Queue thousands of records, wait until this run is in the group
		// and committing, then kill it mid-stream: some records are
		// processed but not yet committed.
		produceFrom(t, gen, b.Addr(), 30000, exp)
		waitFor(t, 60*time.Second, "the run to commit records", func() bool {
			return metric(admin, "flagstream_records_committed_total") > 0
		})
		time.Sleep(time.Duration(50*kill) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.wait(t, 10*time.Second)
	}
	produceFrom(t, gen, b.Addr(), 1000, exp)
	admin := testkit.FreeAddr(t)
	p := start(t, runArgs(b.Addr(), "crash", lists, admin)...)
	deadline := time.Now().Add(90 * time.Second)
	for !caughtUp(b.Addr(), "crash") {
		if time.Now().After(deadline) {
			ctx := context.Background()
			end, _ := testkit.EndOffsets(ctx, b.Addr(), "tweets")
			committed, _ := testkit.Committed(ctx, b.Addr(), "crash", "tweets")
			t.Fatalf("the last run did not commit everything in 90s: end offsets %v, committed %v, run's metrics:\n%s",
				end, committed, scrape(admin, "flagstream_kafka_consumer", "flagstream_records"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("SIGTERM: exit code %d, want 0", code)
	}

	var tasks [][]byte
	for _, m := range testkit.ReadTopic(t, b.Addr(), "review-tasks") {
		tasks = append(tasks, m.Value)
	}
	dups := checkTasks(t, tasks, exp)
	dlq := testkit.ReadTopic(t, b.Addr(), "tweets-dlq")
	seen := map[string]bool{}
	for _, m := range dlq {
		off, _ := testkit.Header(m, "flagstream.source.offset")
		part, _ := testkit.Header(m, "flagstream.source.partition")
		seen[part+"/"+off] = true
	}
	if len(seen) != exp.Malformed() {
		t.Errorf("dead letters: %d distinct records, want %d", len(seen), exp.Malformed())
	}
	t.Logf("%d flagged tweets, %d tasks (%d repeated after kills), %d malformed, %d dead letters",
		len(exp.Flagged), len(tasks), dups, exp.Malformed(), len(dlq))
}

// TestSIGTERMExitsZero checks the graceful stop of an idle run and the
// readiness endpoint turning ready.
func TestSIGTERMExitsZero(t *testing.T) {
	b, err := devbroker.Start(devbroker.Config{Listen: "127.0.0.1:0", Partitions: 2, Topics: []string{"tweets", "review-tasks", "tweets-dlq"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p := start(t, runArgs(b.Addr(), "term", listsDir(t), "127.0.0.1:0")...)
	waitFor(t, 30*time.Second, "flagstream running", func() bool { return strings.Contains(p.log(), "flagstream running") })
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	if !strings.Contains(p.log(), "stopped cleanly") {
		t.Errorf("log lacks the clean stop message")
	}
}

// scanLines splits kcat's output into records.
func scanLines(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// scrape returns the lines of a /metrics page that start with one of the
// prefixes.
func scrape(addr string, prefixes ...string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}

// metric returns the value of an unlabelled metric on a /metrics page, or
// -1 when it cannot be read.
func metric(addr, name string) float64 {
	for _, l := range strings.Split(scrape(addr, name+" "), "\n") {
		var v float64
		if _, err := fmt.Sscanf(strings.TrimPrefix(l, name+" "), "%g", &v); err == nil {
			return v
		}
	}
	return -1
}
