package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"flagstream/internal/dev/bench"
	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
	"flagstream/internal/testkit"
)

// BenchmarkRunCasesOverhead measures flagstream run's throughput with
// cases on, 1% of the tweets being account evidence (a listed handle as
// author or mentioned), against cases off (cases.topic ""), on the same
// topic of synthetic tweets in the same in-process broker: alternating
// rounds, the order swapped every round, each with a fresh consumer group
// (and fresh evidence, state and bindings topics, so that every round's
// case processor starts empty). The rate of a round is the records
// committed between the first commit seen and the last record's; with
// cases on, the time from the start until the case processor has applied
// the last evidence is reported apart. The benchmark reports the medians, their
// ratio and the spread, and the process's CPU time per record (the broker
// included: it runs in the process) from the instance's start until the
// last record is committed, which a busy machine disturbs less than the
// rates; ns/op is meaningless.
//
//	go test -run '^$' -bench RunCasesOverhead -benchtime 1x ./internal/app/
//
// FLAGSTREAM_BENCH_RECORDS (default 200000) and FLAGSTREAM_BENCH_ROUNDS
// (default 5) size it.
func BenchmarkRunCasesOverhead(b *testing.B) {
	records := testkit.EnvInt("FLAGSTREAM_BENCH_RECORDS", 200_000)
	rounds := testkit.EnvInt("FLAGSTREAM_BENCH_ROUNDS", 5)
	broker := testkit.StartBroker(b, devbroker.Config{Partitions: 4})
	handles := synth.Handles(3, 12)
	demand := fmt.Sprintf("id: BENCH-CASES\nauthority: A\njurisdiction: IN\nlegal_basis: L\nscope: user\nhandles: [%s]\n",
		`"`+strings.Join(handles, `", "`)+`"`)
	listsDir := testkit.WriteLists(b, map[string]string{"bench.yaml": demand})
	gen := synth.New(synth.Config{Seed: 42, Handles: handles, FlagRate: 0.01})
	values := make([][]byte, records)
	accounts := 0
	for i := range values {
		values[i], _ = gen.Next(nil)
		if _, ok := gen.LastAccount(); ok {
			accounts++
		}
	}
	testkit.Produce(b, broker.Addr(), testkit.InputTopic, values)
	b.Logf("%d records in %s, %d (%.2f%%) naming a listed account", records, broker.Addr(), accounts, 100*float64(accounts)/float64(records))

	var off, on, applied, cpuOff, cpuOn []float64
	b.ResetTimer()
	for range b.N {
		for r := range rounds {
			for k := range 2 {
				casesOn := (r+k)%2 == 1
				rate, apply, cpuUsed, err := benchRound(b, broker.Addr(), listsDir, fmt.Sprintf("bench-%d-%v", r, casesOn), casesOn, records)
				if err != nil {
					b.Fatal(err)
				}
				cpu := float64(cpuUsed) / float64(time.Microsecond) / float64(records)
				if casesOn {
					on, applied, cpuOn = append(on, rate), append(applied, apply), append(cpuOn, cpu)
				} else {
					off, cpuOff = append(off, rate), append(cpuOff, cpu)
				}
			}
			b.Logf("round %d: cases off %8.0f records/s %.2f µs CPU/record, cases on %8.0f records/s %.2f µs (ratio %.3f; evidence applied %.2fs after start)",
				r+1, off[len(off)-1], cpuOff[len(cpuOff)-1], on[len(on)-1], cpuOn[len(cpuOn)-1], on[len(on)-1]/off[len(off)-1], applied[len(applied)-1])
		}
	}
	b.StopTimer()
	mOff, mOn := bench.Median(off), bench.Median(on)
	b.ReportMetric(mOff, "off-records/s")
	b.ReportMetric(mOn, "on-records/s")
	b.ReportMetric(mOn/mOff, "on/off")
	b.ReportMetric(bench.Median(cpuOn)/bench.Median(cpuOff), "cpu-on/off")
	b.Logf("medians of %d rounds: cases off %.0f records/s (%.0f-%.0f), cases on %.0f records/s (%.0f-%.0f), ratio %.3f; "+
		"CPU per record (broker included) off %.2f µs (%.2f-%.2f), on %.2f µs (%.2f-%.2f), ratio %.3f",
		len(off), mOff, slices.Min(off), slices.Max(off), mOn, slices.Min(on), slices.Max(on), mOn/mOff,
		bench.Median(cpuOff), slices.Min(cpuOff), slices.Max(cpuOff), bench.Median(cpuOn), slices.Min(cpuOn), slices.Max(cpuOn), bench.Median(cpuOn)/bench.Median(cpuOff))
}

// benchRound runs flagstream run over the topic once and returns the rate
// at which it committed the records, with cases on how long after its
// start the case processor had applied the last evidence, and the CPU time
// the process used from the start until the last record was committed.
func benchRound(b *testing.B, addr, listsDir, group string, casesOn bool, records int) (rate, applied float64, cpu time.Duration, err error) {
	cfg := testkit.RunConfig(addr, listsDir, group)
	cfg.Input.FetchMaxBytes = 1 << 20
	cfg.Pipeline.BatchSize = 2048
	cfg.HTTP.Listen = ""
	cfg.Cases.EvidenceTopic, cfg.Cases.StateTopic = group+"-evidence", group+"-state"
	cfg.Accounts.BindingsTopic = group + "-bindings"
	if !casesOn {
		cfg.Cases.Topic = ""
	}
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan time.Time, 1)
	done := make(chan error, 1)
	cpu0 := cpuTime()
	go func() {
		done <- Run(ctx, cfg, Options{Registry: reg, Started: func(string) { started <- time.Now() }})
	}()
	var t0 time.Time
	select {
	case t0 = <-started:
	case err := <-done:
		return 0, 0, 0, fmt.Errorf("run stopped at start: %w", err)
	}
	// The rate runs from the first commit seen to the last, as the
	// independent measurement of ../shared/bench takes it: the group join
	// is not part of it.
	var first time.Time
	var firstN float64
	var committed time.Duration
	for deadline := t0.Add(5 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return 0, 0, 0, fmt.Errorf("%s: not done in 5 minutes", group)
		}
		n := testkit.Sum(reg, "flagstream_records_committed_total")
		if first.IsZero() && n > 0 {
			first, firstN = time.Now(), n
		}
		if committed == 0 && n >= float64(records) {
			committed = time.Since(first)
			cpu = cpuTime() - cpu0
			if !casesOn {
				break
			}
		}
		if committed > 0 && testkit.Sum(reg, "flagstream_case_evidence_lag_records") == 0 &&
			testkit.Sum(reg, "flagstream_case_inputs_total") >= testkit.Sum(reg, "flagstream_case_evidence_emitted_total") {
			applied = time.Since(t0).Seconds()
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		return 0, 0, 0, err
	}
	return (float64(records) - firstN) / committed.Seconds(), applied, cpu, nil
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
