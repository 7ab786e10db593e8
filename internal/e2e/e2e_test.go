// Package e2e tests the flagstream binary as users run it: built with go
// build, started as a separate process, killed with signals, and talked to
// by independent Kafka clients (kafka-go from the test, and kcat).
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// process is a running flagstream subprocess.
type process struct {
	cmd    *exec.Cmd
	stderr *testkit.Buffer
	done   chan error
}

// start starts the binary with args; it is killed when the test or
// benchmark ends, and its standard error logged if it failed.
func start(t testing.TB, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, args...)
	p := &process{cmd: cmd, stderr: &testkit.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
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

func (p *process) log() string { return p.stderr.String() }

// wait waits for the process to exit and returns its exit code.
func (p *process) wait(t testing.TB, timeout time.Duration) int {
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

// stop sends every process SIGTERM, then fails the test unless each exits
// 0 within 30 s.
func stop(t testing.TB, ps ...*process) {
	t.Helper()
	for _, p := range ps {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range ps {
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("SIGTERM: exit code %d, want 0", code)
		}
	}
}

// runArgs returns the arguments of flagstream run against the broker at
// addr and the lists in listsDir, in group, with its admin server on
// admin: testkit's test configuration, as flags.
func runArgs(addr, listsDir, group, admin string) []string {
	cfg := testkit.RunConfig(addr, listsDir, group)
	cfg.HTTP.Listen = admin
	cfg.Log.Format = "json"
	return append([]string{"run"}, testkit.Flags(cfg)...)
}

// TestKillRestartLosesNothing kills flagstream run with SIGKILL three times
// while tweets flow, restarting it in the same group each time; every
// flagged tweet must end with a task, repeats sharing their task id, and
// with cases on no case is lost: every listed account named has its case,
// counting at least its true evidence, each case under one case id.
func TestKillRestartLosesNothing(t *testing.T) {
	kit := testkit.New(t, devbroker.Config{}, testkit.Traffic(11, 0.01, 0.005, 0.005))
	addr := kit.Broker.Addr()
	for kill := 1; kill <= 3; kill++ {
		admin := testkit.FreeAddr(t)
		p := start(t, append(runArgs(addr, kit.ListsDir, "crash", admin), "--cases.update_interval=200ms")...)
		// Queue thousands of records, wait until this run is in the group
		// and committing, then kill it mid-stream: some records are
		// processed but not yet committed.
		kit.Produce(30000)
		testkit.WaitFor(t, 60*time.Second, "the run to commit records", func() bool {
			return metric(admin, "flagstream_records_committed_total") > 0
		})
		time.Sleep(time.Duration(50*kill) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.wait(t, 10*time.Second)
	}
	kit.Produce(1000)
	admin := testkit.FreeAddr(t)
	p := start(t, append(runArgs(addr, kit.ListsDir, "crash", admin), "--cases.update_interval=200ms")...)
	deadline := time.Now().Add(90 * time.Second)
	for !kit.CaughtUp("crash") {
		if time.Now().After(deadline) {
			ctx := context.Background()
			end, _ := testkit.EndOffsets(ctx, addr, testkit.InputTopic)
			committed, _ := testkit.Committed(ctx, addr, "crash", testkit.InputTopic)
			t.Fatalf("the last run did not commit everything in 90s: end offsets %v, committed %v, run's metrics:\n%s",
				end, committed, scrape(admin, "flagstream_kafka_consumer", "flagstream_records"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	testkit.WaitFor(t, 60*time.Second, "every case to show its evidence", func() bool {
		return kit.CasesSettled(kit.Cases(""), testkit.DemandID)
	})
	stop(t, p)

	cases := kit.Cases("") // ParseCases: one case id per demand and entry
	kit.CheckCases(cases, testkit.DemandID, true)
	events := 0
	for _, es := range cases {
		events += len(es)
	}
	tasks := kit.Tasks()
	repeats := kit.CheckTasks(tasks, false)
	dlq := kit.ReadTopic(testkit.DeadLetterTopic)
	seen := map[string]bool{}
	for _, m := range dlq {
		off, _ := testkit.Header(m, "flagstream.source.offset")
		part, _ := testkit.Header(m, "flagstream.source.partition")
		seen[part+"/"+off] = true
	}
	if len(seen) != kit.Exp.Malformed() {
		t.Errorf("dead letters: %d distinct records, want %d", len(seen), kit.Exp.Malformed())
	}
	t.Logf("%d flagged tweets, %d tasks (%d repeated after kills), %d malformed, %d dead letters; %d case events: %s",
		len(kit.Exp.Flagged), tasks.Total, repeats, kit.Exp.Malformed(), len(dlq), events, cases)
}

// TestSIGTERMExitsZero checks the graceful stop of an idle run and the
// readiness endpoint turning ready.
func TestSIGTERMExitsZero(t *testing.T) {
	kit := testkit.New(t, devbroker.Config{Partitions: 2}, synth.Config{})
	p := start(t, runArgs(kit.Broker.Addr(), kit.ListsDir, "term", "127.0.0.1:0")...)
	testkit.WaitFor(t, 30*time.Second, "flagstream running", func() bool { return strings.Contains(p.log(), "flagstream running") })
	stop(t, p)
	if !strings.Contains(p.log(), "stopped cleanly") {
		t.Errorf("log lacks the clean stop message")
	}
}

// kcatBroker starts flagstream broker with partitions for a test that
// talks to it with kcat, skipping the test when kcat is not installed, and
// waits for the broker to listen. It returns the broker's address and
// kcatRun, which runs kcat against it with args and returns its standard
// output, failing the test when kcat fails or runs past a minute.
func kcatBroker(t testing.TB, partitions int) (addr string, kcatRun func(args ...string) []byte) {
	t.Helper()
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat not installed (Debian package kcat; .ci/run installs it)")
	}
	addr = testkit.FreeAddr(t)
	broker := start(t, "broker", "--listen", addr, "--partitions", strconv.Itoa(partitions))
	testkit.WaitFor(t, 20*time.Second, "the broker to listen", func() bool { return strings.Contains(broker.log(), "listening on") })
	return addr, func(args ...string) []byte {
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
