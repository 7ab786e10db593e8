package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"flagstream/internal/dev/synth"
)

// BenchmarkScan measures scan end to end (read, decode, match, write) over
// 200k synthetic API v1.1 tweets, 1% naming one of the 1,000 handles of
// the demand.
func BenchmarkScan(b *testing.B) {
	listsDir, input, size := benchScanInput(b, "")
	args := []string{"scan", "--lists", listsDir, input}
	benchScan(b, args, size)
}

// BenchmarkScanCases is BenchmarkScan with the demand of scope user: the
// handles' matches are case evidence for scan's in-memory case processor
// (--cases to a file), or tasks (--no-cases), as in run.
func BenchmarkScanCases(b *testing.B) {
	listsDir, input, size := benchScanInput(b, "scope: user\n")
	for _, mode := range []string{"no-cases", "cases"} {
		b.Run(mode, func(b *testing.B) {
			args := []string{"scan", "--lists", listsDir, "--no-cases", input}
			if mode == "cases" {
				args = []string{"scan", "--lists", listsDir, "--cases", filepath.Join(b.TempDir(), "cases.ndjson"), input}
			}
			benchScan(b, args, size)
		})
	}
}

// benchScanInput writes the lists (a demand of 1,000 handles, with the
// extra keys given) and 200,000 tweets, 1% naming a handle, and returns
// the lists directory, the input file and its size.
func benchScanInput(b *testing.B, extra string) (listsDir, input string, size int64) {
	dir := b.TempDir()
	handles := synth.Handles(1, 1000)
	listsDir = filepath.Join(dir, "lists")
	if err := os.Mkdir(listsDir, 0o755); err != nil {
		b.Fatal(err)
	}
	demand := "id: BENCH-1\nauthority: Bench\njurisdiction: IN\nlegal_basis: Bench Act\nhandles_file: handles.txt\n" + extra
	if err := os.WriteFile(filepath.Join(listsDir, "bench.yaml"), []byte(demand), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(listsDir, "handles.txt"), []byte(strings.Join(handles, "\n")+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	input = filepath.Join(dir, "tweets.ndjson")
	return listsDir, input, writeBenchTweets(b, input, handles, benchTweets)
}

// writeBenchTweets writes n synthetic tweets, 1% naming one of handles, to
// the file path as NDJSON, and returns its size.
func writeBenchTweets(b *testing.B, path string, handles []string, n int) (size int64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	gen := synth.New(synth.Config{Seed: 1, Handles: handles, FlagRate: 0.01})
	var buf []byte
	for range n {
		buf, _ = gen.Next(buf[:0])
		w.Write(buf)
		w.WriteByte('\n')
		size += int64(len(buf)) + 1
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return size
}

const benchTweets = 200_000

// benchScan runs the scan of args once checked, then b.N times.
func benchScan(b *testing.B, args []string, size int64) {
	const tweets = benchTweets
	// One checked run first: the benchmark must measure a scan that flags.
	var lines lineCounter
	var stderr bytes.Buffer
	code := Main(context.Background(), args, &Env{Stdout: &lines, Stderr: &stderr})
	flagged := int(lines)
	if m := regexp.MustCompile(`cases: (\d+) evidence`).FindStringSubmatch(stderr.String()); m != nil {
		n, _ := strconv.Atoi(m[1])
		flagged += n
	}
	if code != ExitOK || flagged < tweets/200 {
		b.Fatalf("scan: exit %d with %d tasks and evidence, want 0 with about %d", code, flagged, tweets/100)
	}
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}

	b.SetBytes(size)
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		if code := Main(context.Background(), args, env); code != ExitOK {
			b.Fatalf("scan: exit %d", code)
		}
	}
	b.ReportMetric(float64(tweets)*float64(b.N)/b.Elapsed().Seconds(), "tweets/s")
	b.ReportMetric(float64(processCPU()-cpu0)/tweets/float64(b.N), "cpu-ns/tweet")
}

// lineCounter counts the lines written to it.
type lineCounter int

func (c *lineCounter) Write(p []byte) (int, error) {
	*c += lineCounter(bytes.Count(p, []byte("\n")))
	return len(p), nil
}
