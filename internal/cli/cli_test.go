package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"flagstream/internal/dev/synth"
	"flagstream/internal/testkit"
)

// result is what one run of Main left.
type result struct {
	code           int
	stdout, stderr string
}

// runMain runs the command line args with buffers for the standard
// streams, an empty standard input and an environment of env only.
func runMain(t testing.TB, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, &Env{
		Stdin:  strings.NewReader(""),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
	})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

const (
	scanInput = "testdata/scan/input.ndjson"
	scanAt    = "2026-01-01"
)

// fixedCreatedAt replaces each task's creation time in golden output.
const fixedCreatedAt = "2026-01-01T00:00:00Z"

// normalizeTasks checks that every task's created_at is a time between
// from and to and replaces it with fixedCreatedAt.
func normalizeTasks(t *testing.T, out string, from, to time.Time) string {
	t.Helper()
	if out == "" {
		return ""
	}
	var b strings.Builder
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var task struct {
			CreatedAt string `json:"created_at"`
		}
		if err := json.Unmarshal([]byte(line), &task); err != nil {
			t.Fatalf("task %d is not JSON: %v\n%s", i+1, err, line)
		}
		at, err := time.Parse(time.RFC3339Nano, task.CreatedAt)
		if err != nil || at.Before(from.Add(-time.Second)) || at.After(to.Add(time.Second)) {
			t.Errorf("task %d: created_at %q is not a time of the run (%v)", i+1, task.CreatedAt, err)
		}
		// The task's own created_at comes before the tweet's.
		line = strings.Replace(line, `"created_at":"`+task.CreatedAt+`"`, `"created_at":"`+fixedCreatedAt+`"`, 1)
		b.WriteString(line + "\n")
	}
	return b.String()
}

func TestScanGolden(t *testing.T) {
	rejectsPath := filepath.Join(t.TempDir(), "rejects.ndjson")
	casesPath := filepath.Join(t.TempDir(), "cases.ndjson")
	start := time.Now()
	r := runMain(t, nil, "scan", "--lists", "testdata/lists", "--at", scanAt, "--workers", "2",
		"--rejects", rejectsPath, "--cases", casesPath, scanInput)
	end := time.Now()
	if r.code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	// The handles of the scope: user demand make cases, not tasks: the
	// case events run on the posts' clock, so they need no normalizing.
	testkit.Golden(t, "testdata/scan/tasks.golden", []byte(normalizeTasks(t, r.stdout, start, end)))
	cases, err := os.ReadFile(casesPath)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "testdata/scan/cases.golden", cases)

	input, err := os.ReadFile(scanInput)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(input, []byte("\n"))
	rejected := []struct {
		line   int
		reason string
	}{
		{4, "invalid_json"},
		{7, "invalid_utf8"},
		{8, "not_a_tweet"},
		{10, "not_a_tweet"},
	}
	var wantRejects []byte
	for _, rej := range rejected {
		want := fmt.Sprintf("%s:%d: rejected (%s): ", scanInput, rej.line, rej.reason)
		if !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, want+rej.reason) {
			t.Errorf("stderr lacks %q, or repeats the reason after it:\n%s", want, r.stderr)
		}
		wantRejects = append(wantRejects, lines[rej.line-1]...)
	}
	if got := strings.Count(r.stderr, "rejected ("); got != len(rejected) {
		t.Errorf("stderr reports %d rejections, want %d:\n%s", got, len(rejected), r.stderr)
	}
	gotRejects, err := os.ReadFile(rejectsPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotRejects, wantRejects) {
		t.Errorf("rejects file =\n%q\nwant\n%q", gotRejects, wantRejects)
	}
	for _, want := range []string{"flagged 4", "rejected 4", "lists version", "cases: 5 evidence records, 2 cases (2 opened, 1 updated); events written to " + casesPath} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr summary lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestScanStdin reads the same input from standard input, as "-".
func TestScanStdin(t *testing.T) {
	input, err := os.ReadFile(scanInput)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"scan", "--lists", "testdata/lists", "--at", scanAt, "-"},
		&Env{Stdin: bytes.NewReader(input), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	if code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr.String())
	}
	if got, want := strings.Count(stdout.String(), "\n"), 4; got != want {
		t.Errorf("%d tasks, want %d", got, want)
	}
	if !strings.Contains(stdout.String(), `"source":{"file":"stdin","line":1}`) {
		t.Errorf("tasks do not name stdin as their source:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "stdin:4: rejected (invalid_json)") {
		t.Errorf("stderr does not report stdin:4:\n%s", stderr.String())
	}
}

func TestExitCodes(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent.ndjson")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"no command", nil, ExitUsage, []string{"no command"}},
		{"unknown command", []string{"scna"}, ExitUsage, []string{`unknown command "scna"`, "Did you mean this?\n\tscan"}},
		{"scan without lists", []string{"scan", scanInput}, ExitUsage, []string{"--lists is required", "Usage: flagstream scan"}},
		{"scan with broken lists", []string{"scan", "--lists", "testdata/broken-lists", scanInput}, ExitUsage,
			[]string{"testdata/broken-lists/broken.yaml:3:", "ZZZ"}},
		{"scan with absent lists", []string{"scan", "--lists", "testdata/absent", scanInput}, ExitUsage, []string{"testdata/absent"}},
		{"scan unknown flag", []string{"scan", "--lits", "testdata/lists", scanInput}, ExitUsage,
			[]string{"unknown flag: --lits", "did you mean --lists?", "Run 'flagstream scan --help'"}},
		{"scan long flag with one dash", []string{"scan", "-lists", "testdata/lists", scanInput}, ExitUsage,
			[]string{"two dashes: --lists"}},
		{"scan flag without value", []string{"scan", scanInput, "--lists"}, ExitUsage, []string{"--lists"}},
		{"scan bad --at", []string{"scan", "--lists", "testdata/lists", "--at", "yesterday", scanInput}, ExitUsage, []string{"--at"}},
		{"scan bad --workers", []string{"scan", "--lists", "testdata/lists", "--workers", "0", scanInput}, ExitUsage, []string{"--workers"}},
		{"scan non-numeric --workers", []string{"scan", "--lists", "testdata/lists", "--workers", "many", scanInput}, ExitUsage, []string{"--workers"}},
		{"scan bad --progress", []string{"scan", "--lists", "testdata/lists", "--progress", "sometimes", scanInput}, ExitUsage, []string{"--progress"}},
		{"scan missing input", []string{"scan", "--lists", "testdata/lists", missing}, ExitIO, []string{"absent.ndjson"}},
		{"scan missing second input", []string{"scan", "--lists", "testdata/lists", scanInput, missing}, ExitIO, []string{"absent.ndjson"}},
		{"scan rejects in a missing directory", []string{"scan", "--lists", "testdata/lists", "--rejects",
			filepath.Join(missing, "rejects.ndjson"), scanInput}, ExitIO, []string{"rejects"}},
		{"scan unknown demand", []string{"scan", "--lists", "testdata/lists", "--demand", "NOPE", scanInput}, ExitUsage,
			[]string{`unknown demand id "NOPE"`, "IN-TEST-2021-02-04, TS-MISINFO-TEST, XX-EXPIRED-TEST"}},
		{"scan expired demand", []string{"scan", "--lists", "testdata/lists", "--at", scanAt, "--demand", "XX-EXPIRED-TEST", scanInput}, ExitUsage,
			[]string{"XX-EXPIRED-TEST is expired"}},
		{"scan empty demand", []string{"scan", "--lists", "testdata/lists", "--demand=", scanInput}, ExitUsage, []string{"--demand"}},
		{"retro without since", []string{"retro", "--lists.dir", "testdata/lists"}, ExitUsage, []string{"--since is required"}},
		{"scan cases and no-cases", []string{"scan", "--lists", "testdata/lists", "--cases", "x.ndjson", "--no-cases", scanInput}, ExitUsage,
			[]string{"[cases no-cases] were all set"}}, // cobra's flag group, checked before scan runs
		{"retro bad progress", []string{"retro", "--lists.dir", "testdata/lists", "--since", "72h", "--progress", "sometimes"}, ExitUsage,
			[]string{`retro: --progress must be auto, always or never, not "sometimes"`}},
		{"retro bad since", []string{"retro", "--since", "yesterday"}, ExitUsage, []string{"--since", "not a time"}},
		{"retro bad until", []string{"retro", "--since", "72h", "--until", "soon"}, ExitUsage, []string{"--until"}},
		{"retro since after until", []string{"retro", "--since", "2021-02-05", "--until", "2021-02-04T10:00:00Z"}, ExitUsage,
			[]string{"--since 2021-02-05T00:00:00Z is after --until 2021-02-04T10:00:00Z"}},
		{"retro negative rate", []string{"retro", "--since", "1h", "--rate", "-5"}, ExitUsage, []string{"--rate"}},
		{"retro with an argument", []string{"retro", "--since", "1h", "now"}, ExitUsage, []string{`unexpected argument "now"`}},
		{"retro unknown demand", []string{"retro", "--since", "1h", "--lists.dir", "testdata/lists", "--demand", "NOPE"}, ExitUsage,
			[]string{`unknown demand id "NOPE"`}},
		{"retro broken only-new", []string{"retro", "--since", "1h", "--lists.dir", "testdata/lists", "--only-new", "testdata/broken-lists"},
			ExitUsage, []string{"--only-new testdata/broken-lists", "broken.yaml:3:"}},
		{"retro broken lists", []string{"retro", "--since", "1h", "--lists.dir", "testdata/broken-lists"}, ExitUsage, []string{"broken.yaml:3:"}},
		{"retro bad config", []string{"retro", "--since", "1h", "--config", "testdata/bad-config.yaml"}, ExitUsage,
			[]string{"bad-config.yaml:3: input.queue_capacity"}},
		{"lists without a command", []string{"lists"}, ExitUsage, []string{"check, diff or test"}},
		{"lists without check", []string{"lists", "testdata/lists"}, ExitUsage, []string{"check"}},
		{"lists with a typo", []string{"lists", "chekc", "testdata/lists"}, ExitUsage, []string{"did you mean check?"}},
		{"lists check without dir", []string{"lists", "check"}, ExitUsage, []string{"name one directory"}},
		{"lists check two dirs", []string{"lists", "check", "testdata/lists", "testdata/lists"}, ExitUsage, []string{"name one directory"}},
		{"lists check bad --at", []string{"lists", "check", "--at", "2021-13-45", "testdata/lists"}, ExitUsage, []string{"--at"}},
		{"lists check absent dir", []string{"lists", "check", "testdata/absent"}, ExitUsage, []string{"testdata/absent"}},
		{"lists diff one dir", []string{"lists", "diff", "testdata/lists"}, ExitUsage, []string{"OLD_DIR NEW_DIR"}},
		{"lists diff broken old", []string{"lists", "diff", "testdata/broken-lists", "testdata/lists"}, ExitUsage,
			[]string{"testdata/broken-lists/broken.yaml:3:"}},
		{"lists diff broken new", []string{"lists", "diff", "testdata/lists", "testdata/broken-lists"}, ExitUsage,
			[]string{"testdata/broken-lists/broken.yaml:3:"}},
		{"lists test without lists", []string{"lists", "test", "some text"}, ExitUsage, []string{"--lists is required"}},
		{"lists test without text", []string{"lists", "test", "--lists", "testdata/lists"}, ExitUsage, []string{"TEXT or --tweet FILE"}},
		{"lists test text and tweet", []string{"lists", "test", "--lists", "testdata/lists", "--tweet", "x.json", "text"}, ExitUsage,
			[]string{"not both"}},
		{"lists test unquoted words", []string{"lists", "test", "--lists", "testdata/lists", "farmer", "genocide"}, ExitUsage,
			[]string{"quoted"}},
		{"lists test missing tweet", []string{"lists", "test", "--lists", "testdata/lists", "--tweet", missing}, ExitIO,
			[]string{"absent.ndjson"}},
		{"lists test broken tweet", []string{"lists", "test", "--lists", "testdata/lists", "--tweet", "testdata/broken-lists/broken.yaml"},
			ExitUsage, []string{"invalid_json"}},
		{"lists test broken lists", []string{"lists", "test", "--lists", "testdata/broken-lists", "text"}, ExitUsage,
			[]string{"broken.yaml:3:"}},
		{"schema without a name", []string{"schema"}, ExitUsage, []string{"task, case, decision, binding, demand, exemption"}},
		{"schema unknown", []string{"schema", "tweet"}, ExitUsage, []string{`unknown format "tweet"`}},
		{"completion without shell", []string{"completion"}, ExitUsage, []string{"bash, zsh or fish"}},
		{"completion unknown shell", []string{"completion", "tcsh"}, ExitUsage, []string{"bash, zsh or fish"}},
		{"generate without lists", []string{"generate"}, ExitUsage, []string{"--lists is required"}},
		{"generate bad --at", []string{"generate", "--lists", "testdata/lists", "--at", "soon"}, ExitUsage, []string{"--at"}},
		{"generate with broken lists", []string{"generate", "--lists", "testdata/broken-lists"}, ExitUsage, []string{"broken.yaml:3:"}},
		{"generate bad --flag-rate", []string{"generate", "--lists", "testdata/lists", "--flag-rate", "lots"}, ExitUsage, []string{"--flag-rate"}},
		{"run with an unexpected argument", []string{"run", "extra"}, ExitUsage, []string{`unexpected argument "extra"`}},
		{"run with a bad config", []string{"run", "--config", "testdata/bad-config.yaml", "--print-config"}, ExitUsage,
			[]string{"bad-config.yaml:3: input.queue_capacity"}},
		{"run with a missing config", []string{"run", "--config", "testdata/absent.yaml"}, ExitUsage, []string{"absent.yaml"}},
		{"run with a bad setting", []string{"run", "--print-config", "--input.max_wait", "soon"}, ExitUsage, []string{"--input.max_wait"}},
		{"run with an unknown setting", []string{"run", "--input.topics", "x"}, ExitUsage, []string{"did you mean --input.topic?"}},
		{"broker bad partitions", []string{"broker", "--partitions", "0"}, ExitUsage, []string{"--partitions"}},
		{"broker bad sasl user", []string{"broker", "--sasl-user", "plain:x"}, ExitUsage, []string{"MECHANISM:USER:PASSWORD"}},
		{"broker cert without key", []string{"broker", "--tls-cert", "c.pem"}, ExitUsage, []string{"go together"}},
		{"demo bad duration", []string{"demo", "--duration", "0s"}, ExitUsage, []string{"--duration"}},
		{"demo with an argument", []string{"demo", "now"}, ExitUsage, []string{`unexpected argument "now"`}},
		{"bench bad records", []string{"bench", "--records", "0"}, ExitUsage, []string{"positive"}},
		{"healthcheck bad url", []string{"healthcheck", "--url", "::"}, ExitUsage, []string{"healthcheck"}},
		{"healthcheck nothing listening", []string{"healthcheck", "--url", "http://127.0.0.1:1/healthz", "--timeout", "2s"}, ExitIO,
			[]string{"healthcheck"}},
		{"help of an unknown command", []string{"help", "scna"}, ExitUsage, []string{"scna"}},
		{"version with an argument", []string{"version", "now"}, ExitUsage, []string{"unexpected argument"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runMain(t, nil, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tc.code, r.stderr)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if !strings.Contains(r.stderr, "flagstream: ") {
				t.Errorf("stderr has no \"flagstream: \" message:\n%s", r.stderr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	r := runMain(t, nil, "version")
	if r.code != ExitOK || !regexp.MustCompile(`^flagstream \S+`).MatchString(r.stdout) {
		t.Errorf("version: exit %d, stdout %q; want 0 and flagstream VERSION", r.code, r.stdout)
	}
}

func TestListsCheck(t *testing.T) {
	t.Run("examples", func(t *testing.T) {
		r := runMain(t, nil, "lists", "check", "--at", "2022-01-01", "../../deploy/examples/lists")
		if r.code != ExitOK {
			t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
		}
		for _, want := range []string{"IN-MEITY-2021-02-04", "TS-MISINFO-2021-001", "DE-NETZDG-2020-117", "rescinded"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
			}
		}
		if !regexp.MustCompile(`(?m)^3 demands \(2 active\), .*lists version [0-9a-f]{16}$`).MatchString(r.stdout) {
			t.Errorf("stdout lacks the version line:\n%s", r.stdout)
		}
	})
	t.Run("dates", func(t *testing.T) {
		r := runMain(t, nil, "lists", "check", "--at", scanAt, "testdata/lists")
		if r.code != ExitOK {
			t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
		}
		if !regexp.MustCompile(`(?m)^XX-EXPIRED-TEST\s+expired\b`).MatchString(r.stdout) {
			t.Errorf("the expired demand is not shown expired:\n%s", r.stdout)
		}
	})
	t.Run("broken", func(t *testing.T) {
		r := runMain(t, nil, "lists", "check", "testdata/broken-lists")
		if r.code != ExitUsage {
			t.Errorf("exit %d, want 2", r.code)
		}
		if !strings.Contains(r.stderr, "testdata/broken-lists/broken.yaml:3:") {
			t.Errorf("stderr lacks file:line:\n%s", r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("stdout = %q, want nothing", r.stdout)
		}
	})
}

// TestScanOrderWithWorkers generates thousands of records, scans them on
// two workers and checks that exactly the expected tweets get tasks, in
// input order. With --no-cases every listed entry makes tasks, as generate
// expects.
func TestScanOrderWithWorkers(t *testing.T) {
	dir := t.TempDir()
	expectPath := filepath.Join(dir, "expect.json")
	gen := runMain(t, nil, "generate", "--lists", "testdata/lists", "--at", scanAt, "--count", "6000", "--seed", "7",
		"--flag-rate", "0.05", "--expect", expectPath)
	if gen.code != ExitOK {
		t.Fatalf("generate: exit %d; stderr:\n%s", gen.code, gen.stderr)
	}
	input := filepath.Join(dir, "tweets.ndjson")
	if err := os.WriteFile(input, []byte(gen.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	var expect synth.Expectation
	data, err := os.ReadFile(expectPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &expect); err != nil {
		t.Fatal(err)
	}
	r := runMain(t, nil, "scan", "--lists", "testdata/lists", "--at", scanAt, "--workers", "2", "--no-cases", input)
	if r.code != ExitOK {
		t.Fatalf("scan: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	var ids []string
	lastLine := int64(0)
	for i, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		var task struct {
			Tweet struct {
				ID string `json:"id"`
			} `json:"tweet"`
			Source struct {
				Line int64 `json:"line"`
			} `json:"source"`
		}
		if err := json.Unmarshal([]byte(line), &task); err != nil {
			t.Fatalf("task %d: %v", i, err)
		}
		if task.Source.Line <= lastLine {
			t.Errorf("task %d from line %d after line %d: out of input order", i, task.Source.Line, lastLine)
		}
		lastLine = task.Source.Line
		ids = append(ids, task.Tweet.ID)
	}
	if strings.Join(ids, ",") != strings.Join(expect.Flagged, ",") {
		t.Errorf("scan flagged %d tweets, generate expected %d:\ngot  %v\nwant %v", len(ids), len(expect.Flagged), ids, expect.Flagged)
	}
	if want := fmt.Sprintf("rejected %d", expect.Kinds["malformed"]); !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, lastLines(r.stderr, 3))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	run := func(seed string, expect string) result {
		args := []string{"generate", "--lists", "testdata/lists", "--at", scanAt, "--count", "500", "--seed", seed}
		if expect != "" {
			args = append(args, "--expect", expect)
		}
		r := runMain(t, nil, args...)
		if r.code != ExitOK {
			t.Fatalf("generate: exit %d; stderr:\n%s", r.code, r.stderr)
		}
		return r
	}
	expectPath := filepath.Join(dir, "expect.json")
	first := run("3", expectPath)
	lines := strings.Split(strings.TrimSuffix(first.stdout, "\n"), "\n")
	if got, want := len(lines), 500; got != want {
		t.Errorf("generate wrote %d lines, want %d", got, want)
	}
	var expect synth.Expectation
	data, err := os.ReadFile(expectPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &expect); err != nil {
		t.Fatalf("--expect file is not JSON: %v", err)
	}
	total := 0
	for _, n := range expect.Kinds {
		total += n
	}
	if total != 500 {
		t.Errorf("expect kinds %v sum to %d, want 500", expect.Kinds, total)
	}
	if got, want := len(expect.Flagged), expect.Kinds["flagged"]+expect.Kinds["evasive"]; got != want || got == 0 {
		t.Errorf("expect lists %d flagged ids, kinds say %d (want more than none)", got, want)
	}
	for _, id := range expect.Flagged {
		if !strings.Contains(first.stdout, `"`+id+`"`) {
			t.Errorf("flagged id %s is not in the output", id)
		}
	}
	if strings.Contains(first.stdout, "OldNews") {
		t.Error("generate names the hashtag of a demand expired at --at")
	}
	if again := run("3", ""); again.stdout != first.stdout {
		t.Error("the same seed gave different output")
	}
	if other := run("4", ""); other.stdout == first.stdout {
		t.Error("different seeds gave the same output")
	}
}

func TestRunPrintConfig(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := "kafka:\n  brokers: [\"file:9092\"]\n  sasl: {mechanism: plain, username: reviewer}\ninput:\n  topic: from-file\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"FLAGSTREAM_CONFIG":              cfgPath,
		"FLAGSTREAM_KAFKA_SASL_PASSWORD": "s3cret-pa55",
		"FLAGSTREAM_INPUT_TOPIC":         "from-env",
	}
	r := runMain(t, env, "run", "--print-config", "--kafka.tls.enabled", "--input.max_wait", "2s")
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"- file:9092", "mechanism: plain", "topic: from-env", "max_wait: 2s", "enabled: true"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--print-config lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "s3cret-pa55") {
		t.Errorf("--print-config shows the password:\n%s", r.stdout)
	}
}

// TestScanCPUProfile writes a CPU profile of a scan, which pprof's
// format starts with gzip's magic bytes, and the same tasks as without
// it; a profile that cannot be created fails the scan with exit 1.
func TestScanCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scan.pprof")
	with := runMain(t, nil, "scan", "--lists", "testdata/lists", "--at", scanAt, "--cpuprofile", path, scanInput)
	without := runMain(t, nil, "scan", "--lists", "testdata/lists", "--at", scanAt, scanInput)
	if with.code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", with.code, with.stderr)
	}
	if got, want := strings.Count(with.stdout, "\n"), strings.Count(without.stdout, "\n"); got != want || got == 0 {
		t.Errorf("%d tasks with --cpuprofile, %d without", got, want)
	}
	profile, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(profile, []byte{0x1f, 0x8b}) {
		t.Errorf("the profile does not start as gzip does: % x", profile[:min(len(profile), 8)])
	}
	bad := runMain(t, nil, "scan", "--lists", "testdata/lists", "--cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir", "p"), scanInput)
	if bad.code != ExitIO || !strings.Contains(bad.stderr, "cpuprofile") {
		t.Errorf("unwritable profile: exit %d, stderr:\n%s", bad.code, bad.stderr)
	}
}
