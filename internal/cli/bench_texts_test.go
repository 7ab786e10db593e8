package cli

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"flagstream/internal/dev/bench"
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
// against a demand of 1,000 handles, alone and with a second demand of
// 10,000 known texts: what texts cost the scan path. Each iteration scans
// with both, alternating which goes first; it reports the medians over
// the iterations of each one's CPU per tweet after the start (the CPU of
// a scan of no tweets, measured apart, taken off), the start itself and
// the wall-clock rate, and the ratios of the medians. Run it with
// -benchtime 5x or more.
func BenchmarkScanTexts(b *testing.B) {
	const tweets = 200_000
	dir := b.TempDir()
	handles := synth.Handles(1, 1000)
	input := filepath.Join(dir, "tweets.ndjson")
	writeBenchTweets(b, input, handles, tweets)
	empty := filepath.Join(dir, "empty.ndjson")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	type variant struct {
		name, lists string
		startCPU    int64     // ns
		cpu, rate   []float64 // per iteration: ns per tweet after the start, tweets/s
	}
	variants := []*variant{{name: "texts=0"}, {name: "texts=10000"}}
	for i, v := range variants {
		v.lists = filepath.Join(dir, v.name)
		files := map[string]string{
			"bench.yaml":  "id: BENCH-1\nauthority: Bench\njurisdiction: IN\nlegal_basis: Bench Act\nhandles_file: handles.txt\n",
			"handles.txt": strings.Join(handles, "\n") + "\n",
		}
		if i == 1 {
			files["texts.yaml"] = "id: BENCH-TEXTS\nauthority: Bench\njurisdiction: IN\nlegal_basis: Bench Act\ntexts_file: texts.txt\n"
			files["texts.txt"] = strings.Join(synth.Texts(1, 10_000), "\n") + "\n"
		}
		if err := os.MkdirAll(v.lists, 0o755); err != nil {
			b.Fatal(err)
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(v.lists, name), []byte(data), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		var lines lineCounter
		if code := Main(context.Background(), []string{"scan", "--lists", v.lists, input}, &Env{Stdout: &lines, Stderr: io.Discard}); code != ExitOK || lines < tweets/200 {
			b.Fatalf("%s: scan: exit %d with %d tasks, want 0 with about %d", v.name, code, lines, tweets/100)
		}
		// The CPU of a scan of no tweets: loading the lists and
		// starting, which a scan pays once whatever its input.
		for range 3 {
			c := processCPU()
			if code := Main(context.Background(), []string{"scan", "--lists", v.lists, empty}, env); code != ExitOK {
				b.Fatalf("%s: scan of no tweets: exit %d", v.name, code)
			}
			v.startCPU += processCPU() - c
		}
		v.startCPU /= 3
	}
	scan := func(v *variant) {
		c, t := processCPU(), time.Now()
		if code := Main(context.Background(), []string{"scan", "--lists", v.lists, input}, env); code != ExitOK {
			b.Fatalf("%s: scan: exit %d", v.name, code)
		}
		v.cpu = append(v.cpu, float64(processCPU()-c-v.startCPU)/tweets)
		v.rate = append(v.rate, tweets/time.Since(t).Seconds())
	}
	round := 0
	for b.Loop() {
		if round%2 == 0 {
			scan(variants[0])
			scan(variants[1])
		} else {
			scan(variants[1])
			scan(variants[0])
		}
		round++
	}
	median := bench.Median
	for _, v := range variants {
		b.ReportMetric(median(v.cpu), v.name+"-cpu-ns/tweet-after-start")
		b.ReportMetric(float64(v.startCPU)/1e6, v.name+"-start-cpu-ms")
		b.ReportMetric(median(v.rate), v.name+"-tweets/s")
	}
	b.ReportMetric(median(variants[1].cpu)/median(variants[0].cpu), "texts-cpu-ratio")
	// The spread: the ratio within each round, lowest and highest.
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range variants[0].cpu {
		r := variants[1].cpu[i] / variants[0].cpu[i]
		lo, hi = min(lo, r), max(hi, r)
	}
	b.ReportMetric(lo, "texts-cpu-ratio-lowest")
	b.ReportMetric(hi, "texts-cpu-ratio-highest")
	b.ReportMetric(median(variants[1].rate)/median(variants[0].rate), "texts-rate-ratio")
	b.ReportMetric(0, "ns/op") // an iteration is two scans; its time says nothing alone
}
