package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"flagstream/internal/dev/bench"
	"flagstream/internal/dev/synth"
	"flagstream/internal/testkit"
)

// The retro-hunt's benchmarks run the built binary against flagstream
// broker in its own process, as the independent Kafka measurement does
// (../shared/bench/README.md), on generated ~750-byte tweets, 1% of them
// naming a listed entry. Each iteration is one round of the contenders,
// alternating; the figures are medians over the rounds, with the spread
// (min-max) logged. Run them with
//
//	go test -run '^$' -bench 'Retro' -benchtime 5x ./internal/e2e

// benchRecords is the size of the benchmarks' input.
var benchRecords = testkit.EnvInt("FLAGSTREAM_BENCH_RECORDS", 200_000)

// benchInput starts a broker and fills its input topic with n generated
// records, also written to a file; it returns the broker's address, the
// file and a lists directory naming the flagged records' entries.
func benchInput(b *testing.B, n int) (addr, file, lists string) {
	b.Helper()
	dir := b.TempDir()
	lists = testkit.WriteLists(b, map[string]string{"test.yaml": testkit.Demand})
	gen := synth.New(testkit.Traffic(31, 0.01, 0, 0))
	var buf []byte
	for range n {
		buf, _ = gen.Next(buf)
		buf = append(buf, '\n')
	}
	file = filepath.Join(dir, "tweets.ndjson")
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		b.Fatal(err)
	}
	addr, _ = kcatBroker(b, 4)
	// Not kcatRun: a million records may take kcat past its minute.
	produce := exec.Command("kcat", "-b", addr, "-P", "-t", "tweets", "-l", file)
	if out, err := produce.CombinedOutput(); err != nil {
		b.Fatalf("kcat: %v\n%s", err, out)
	}
	return addr, file, lists
}

// runB runs the binary to its end and returns its standard error and the
// CPU time it used.
func runB(b *testing.B, args ...string) (string, time.Duration) {
	b.Helper()
	cmd := exec.Command(binary, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.Stdout = nil // scan's tasks are discarded, as > /dev/null
	if err := cmd.Run(); err != nil {
		b.Fatalf("flagstream %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	u := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(u.Utime.Nano() + u.Stime.Nano())
	return stderr.String(), cpu
}

var (
	scanSummary  = regexp.MustCompile(`scan: read (\d+) records .* in ([0-9.]+[a-zµ]+): `)
	retroSummary = regexp.MustCompile(`retro: job \S+: read (\d+) records .* in ([0-9.]+[a-zµ]+): `)
)

// summaryRate returns records per second from a summary line.
func summaryRate(b *testing.B, re *regexp.Regexp, log string) float64 {
	b.Helper()
	m := re.FindStringSubmatch(log)
	if m == nil {
		b.Fatalf("no summary in:\n%s", log)
	}
	n, _ := strconv.Atoi(m[1])
	d, err := time.ParseDuration(m[2])
	if err != nil || d <= 0 {
		b.Fatalf("summary duration %q: %v", m[2], err)
	}
	return float64(n) / d.Seconds()
}

func spread(xs []float64) string {
	return fmt.Sprintf("%.0f-%.0f", slices.Min(xs), slices.Max(xs))
}

// BenchmarkRetroVsScan compares retro reading the input topic with scan
// reading the same records from a file: the target is a retro rate
// of at least 80% of scan's. Both match every demand of the lists (the
// same tasks), each round scan first, then retro --restart. The rates are
// those of the commands' summaries (the run, without process start); CPU
// per record is the whole process's.
func BenchmarkRetroVsScan(b *testing.B) {
	addr, file, lists := benchInput(b, benchRecords)
	var scanRates, retroRates, ratios, scanCPU, retroCPU []float64
	for b.Loop() {
		log, cpu := runB(b, "scan", "--lists", lists, "--progress", "never", file)
		s := summaryRate(b, scanSummary, log)
		scanCPU = append(scanCPU, float64(cpu.Nanoseconds())/float64(benchRecords))
		log, cpu = runB(b, "retro", "--kafka.brokers", addr, "--lists.dir", lists, "--since", "24h", "--restart", "--progress", "never")
		r := summaryRate(b, retroSummary, log)
		retroCPU = append(retroCPU, float64(cpu.Nanoseconds())/float64(benchRecords))
		scanRates, retroRates, ratios = append(scanRates, s), append(retroRates, r), append(ratios, r/s)
	}
	b.ReportMetric(bench.Median(scanRates), "scan-records/s")
	b.ReportMetric(bench.Median(retroRates), "retro-records/s")
	b.ReportMetric(bench.Median(ratios), "retro/scan")
	b.ReportMetric(bench.Median(scanCPU), "scan-cpu-ns/record")
	b.ReportMetric(bench.Median(retroCPU), "retro-cpu-ns/record")
	b.Logf("%d records, %d rounds: scan %s records/s, retro %s records/s, ratio %.2f-%.2f; CPU ns/record scan %s, retro %s",
		benchRecords, len(ratios), spread(scanRates), spread(retroRates), slices.Min(ratios), slices.Max(ratios),
		spread(scanCPU), spread(retroCPU))
}

// BenchmarkRunDuringRetroJob measures run's live throughput with and
// without an automatic retro job (lists.retro_window) running at
// lists.retro_rate beside it: the target is a drop of no more
// than the throttle's share. Each round runs two fresh groups over the
// whole topic, in alternating order: one with the lists unchanged, one
// whose lists gain a demand right after it joins, which starts a job over
// every record (the window covers them all) at FLAGSTREAM_BENCH_RETRO_RATE
// records/s (default 20000, run's default), running through the whole
// measurement. run's rate is flagstream_records_committed_total from 30%
// of the records (the job has started) to the last record.
func BenchmarkRunDuringRetroJob(b *testing.B) {
	n := testkit.EnvInt("FLAGSTREAM_BENCH_RUN_RECORDS", 1_000_000)
	addr, _, lists := benchInput(b, n)
	rate := testkit.EnvInt("FLAGSTREAM_BENCH_RETRO_RATE", 20000)
	var plain, during, ratios, jobRates, costRatios []float64
	round := 0
	for b.Loop() {
		round++
		order := []bool{false, true}
		if round%2 == 0 {
			order = []bool{true, false}
		}
		var p, d benchResult
		for _, withJob := range order {
			r := benchRun(b, addr, lists, n, round, withJob, rate)
			if withJob {
				d = r
				during, jobRates = append(during, r.live), append(jobRates, r.job)
			} else {
				p = r
				plain = append(plain, r.live)
			}
		}
		ratios = append(ratios, d.live/p.live)
		// The CPU a retro record costs, beside the live records of the
		// same measurement at the cost the plain run shows.
		liveCost := p.cpu / p.liveRecords
		if d.jobRecords > 0 {
			costRatios = append(costRatios, (d.cpu-d.liveRecords*liveCost)/d.jobRecords/liveCost)
		}
	}
	b.ReportMetric(bench.Median(plain), "run-records/s")
	b.ReportMetric(bench.Median(during), "run-during-job-records/s")
	b.ReportMetric(bench.Median(ratios), "during/plain")
	b.ReportMetric(bench.Median(jobRates), "job-records/s")
	b.ReportMetric(float64(rate)/bench.Median(plain), "throttle-share")
	b.ReportMetric(bench.Median(costRatios), "job/live-cpu-per-record")
	b.Logf("%d records, %d rounds, lists.retro_rate %d: run %s records/s, during a job %s, ratio %.3f-%.3f, job read %s records/s; "+
		"CPU of a retro record / a live record %.2f-%.2f",
		n, len(ratios), rate, spread(plain), spread(during), slices.Min(ratios), slices.Max(ratios), spread(jobRates),
		slices.Min(costRatios), slices.Max(costRatios))
}

// benchResult is one run's measurement: the live rate, the job's rate,
// and over the measurement the records of each and the process's CPU
// seconds.
type benchResult struct {
	live, job               float64
	liveRecords, jobRecords float64
	cpu                     float64
}

// cpuSeconds returns the user and system CPU time of process pid so far,
// from /proc (clock ticks of 1/100 s).
func cpuSeconds(b *testing.B, pid int) float64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command, which is in parentheses: utime and stime
	// are the 12th and 13th.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}

// benchRun runs flagstream run in a fresh group over the whole topic and
// returns its rate and, withJob, the rate of the retro job its lists
// change started.
func benchRun(b *testing.B, addr, baseLists string, n, round int, withJob bool, rate int) benchResult {
	b.Helper()
	lists := b.TempDir()
	data, err := os.ReadFile(filepath.Join(baseLists, "test.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	testkit.WriteFile(b, lists, "test.yaml", string(data))
	admin := testkit.FreeAddr(b)
	cfg := testkit.RunConfig(addr, lists, fmt.Sprintf("bench-%d-%v", round, withJob))
	cfg.HTTP.Listen = admin
	cfg.Input.FetchMaxBytes = 8 << 20
	cfg.Pipeline.BatchSize = 2048
	cfg.Lists.RetroWindow = 24 * time.Hour
	cfg.Lists.RetroRate = rate
	cfg.Retro.ProgressTopic = fmt.Sprintf("bench-retro-%d", round)
	cfg.Lists.Interval = 100 * time.Millisecond
	cfg.Log.Level = "warn"
	p := start(b, append([]string{"run"}, testkit.Flags(cfg)...)...)
	testkit.WaitFor(b, 30*time.Second, "run to join", func() bool { return metric(admin, "flagstream_kafka_consumer_group_joined") == 1 })
	if withJob {
		testkit.WriteFile(b, lists, "late.yaml", "id: LATE\njurisdiction: DE\nhashtags: [\"#LateTag2021\"]\n")
	}
	// The rate is taken from 30% of the records on, when the job (which
	// starts about 0.2 s after the lists change) is reading.
	from := 0.3 * float64(n)
	var first, last time.Time
	var c0, r0, cpu0, cpu1, r1 float64
	deadline := time.Now().Add(5 * time.Minute)
	for {
		c := metric(admin, "flagstream_records_committed_total")
		now := time.Now()
		if c >= from && first.IsZero() {
			first, c0, cpu0 = now, c, cpuSeconds(b, p.cmd.Process.Pid)
			if withJob {
				r0 = metric(admin, "flagstream_retro_records_total")
				if metric(admin, "flagstream_retro_jobs_running") != 1 {
					b.Errorf("round %d: the retro job was not running when the measurement began", round)
				}
			}
		}
		if c >= float64(n) {
			last, cpu1 = now, cpuSeconds(b, p.cmd.Process.Pid)
			if withJob {
				r1 = metric(admin, "flagstream_retro_records_total")
			}
			break
		}
		if now.After(deadline) {
			b.Fatalf("run did not commit %d records in 5 minutes (%v)", n, c)
		}
		time.Sleep(10 * time.Millisecond)
	}
	res := benchResult{live: (float64(n) - c0) / last.Sub(first).Seconds(), liveRecords: float64(n) - c0, cpu: cpu1 - cpu0}
	if withJob {
		if metric(admin, "flagstream_retro_jobs_running") != 1 {
			b.Errorf("round %d: the retro job was not running at the end of the measurement", round)
		}
		res.jobRecords = r1 - r0
		res.job = res.jobRecords / last.Sub(first).Seconds()
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.wait(b, 30*time.Second)
	return res
}
