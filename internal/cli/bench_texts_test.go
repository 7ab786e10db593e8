package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"flagstream/internal/dev/synth"
)

// processCPU returns the CPU time the process has used, user and system,
// in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkScanTexts measures scan end to end over 200k synthetic tweets
// against a demand of 1,000 handles, alone (texts=0) and with a second
// demand of 10,000 known texts (texts=10000): what texts cost the scan
// path. Run the two alternately to compare them.
func BenchmarkScanTexts(b *testing.B) {
	const tweets = 200_000
	dir := b.TempDir()
	handles := synth.Handles(1, 1000)
	input := filepath.Join(dir, "tweets.ndjson")
	size := writeBenchTweets(b, input, handles, tweets)
	for _, n := range []int{0, 10_000} {
		b.Run(fmt.Sprintf("texts=%d", n), func(b *testing.B) {
			listsDir := filepath.Join(dir, fmt.Sprintf("lists-%d", n))
			files := map[string]string{
				"bench.yaml":  "id: BENCH-1\nauthority: Bench\njurisdiction: IN\nlegal_basis: Bench Act\nhandles_file: handles.txt\n",
				"handles.txt": strings.Join(handles, "\n") + "\n",
			}
			if n > 0 {
				files["texts.yaml"] = "id: BENCH-TEXTS\nauthority: Bench\njurisdiction: IN\nlegal_basis: Bench Act\ntexts_file: texts.txt\n"
				files["texts.txt"] = strings.Join(synth.Texts(1, n), "\n") + "\n"
			}
			if err := os.MkdirAll(listsDir, 0o755); err != nil {
				b.Fatal(err)
			}
			for name, data := range files {
				if err := os.WriteFile(filepath.Join(listsDir, name), []byte(data), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			args := []string{"scan", "--lists", listsDir, input}
			var lines lineCounter
			if code := Main(context.Background(), args, &Env{Stdout: &lines, Stderr: io.Discard}); code != ExitOK || lines < tweets/200 {
				b.Fatalf("scan: exit %d with %d tasks, want 0 with about %d", code, lines, tweets/100)
			}
			env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
			// The CPU of a scan of no tweets: loading the lists and
			// starting, which a scan pays once whatever its input.
			empty := filepath.Join(dir, "empty.ndjson")
			if err := os.WriteFile(empty, nil, 0o644); err != nil {
				b.Fatal(err)
			}
			var startCPU int64
			for range 3 {
				c := processCPU()
				if code := Main(context.Background(), []string{"scan", "--lists", listsDir, empty}, env); code != ExitOK {
					b.Fatalf("scan of no tweets: exit %d", code)
				}
				startCPU += processCPU() - c
			}
			startCPU /= 3
			b.SetBytes(size)
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if code := Main(context.Background(), args, env); code != ExitOK {
					b.Fatalf("scan: exit %d", code)
				}
			}
			b.ReportMetric(float64(tweets)*float64(b.N)/b.Elapsed().Seconds(), "tweets/s")
			// CPU time is steadier than wall time on a shared machine;
			// without the start, it is the cost per tweet however many
			// a scan reads.
			perOp := float64(processCPU()-cpu) / float64(b.N)
			b.ReportMetric(perOp/tweets, "cpu-ns/tweet")
			b.ReportMetric((perOp-float64(startCPU))/tweets, "cpu-ns/tweet-after-start")
			b.ReportMetric(float64(startCPU)/1e6, "start-cpu-ms")
		})
	}
}
