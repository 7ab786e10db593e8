package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flagstream/internal/dev/synth"
)

// BenchmarkScan measures scan end to end (read, decode, match, write) over
// 200k synthetic API v1.1 tweets, 1% naming one of the 1,000 handles of
// the demand.
func BenchmarkScan(b *testing.B) {
	const tweets = 200_000
	dir := b.TempDir()
	handles := synth.Handles(1, 1000)
	listsDir := filepath.Join(dir, "lists")
	if err := os.Mkdir(listsDir, 0o755); err != nil {
		b.Fatal(err)
	}
	demand := "id: BENCH-1\nauthority: Bench\njurisdiction: IN\nlegal_basis: Bench Act\nhandles_file: handles.txt\n"
	if err := os.WriteFile(filepath.Join(listsDir, "bench.yaml"), []byte(demand), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(listsDir, "handles.txt"), []byte(strings.Join(handles, "\n")+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	input := filepath.Join(dir, "tweets.ndjson")
	f, err := os.Create(input)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	gen := synth.New(synth.Config{Seed: 1, Handles: handles, FlagRate: 0.01})
	var buf []byte
	var size int64
	for range tweets {
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
	args := []string{"scan", "--lists", listsDir, input}
	// One checked run first: the benchmark must measure a scan that flags.
	var lines lineCounter
	if code := Main(context.Background(), args, &Env{Stdout: &lines, Stderr: io.Discard}); code != ExitOK || lines < tweets/200 {
		b.Fatalf("scan: exit %d with %d tasks, want 0 with about %d", code, lines, tweets/100)
	}
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}

	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if code := Main(context.Background(), args, env); code != ExitOK {
			b.Fatalf("scan: exit %d", code)
		}
	}
	b.ReportMetric(float64(tweets)*float64(b.N)/b.Elapsed().Seconds(), "tweets/s")
}

// lineCounter counts the lines written to it.
type lineCounter int

func (c *lineCounter) Write(p []byte) (int, error) {
	*c += lineCounter(bytes.Count(p, []byte("\n")))
	return len(p), nil
}
