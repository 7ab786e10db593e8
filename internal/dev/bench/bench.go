// Package bench measures flagstream run's throughput against a baseline on
// the same broker and data: a bare kafka-go consumer group that only
// fetches and commits. Both read the same topic of synthetic tweets from
// an in-process broker, each run with a fresh consumer group, alternating
// and in an order that swaps every round, so machine noise hits them
// alike. Beside records per second, each run reports the
// process's CPU time per record (broker included), which a busy machine
// disturbs less than the wall clock.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"flagstream/config"
	"flagstream/internal/app"
	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
)

// Options configure a benchmark.
type Options struct {
	Records    int // tweets in the topic
	Runs       int // runs of each contender
	Partitions int
	Handles    int // handles in the demand
	Out        io.Writer
}

// Result holds the throughputs measured, in records per second, and the
// CPU time per record of each run, in microseconds.
type Result struct {
	Baseline, Flagstream       []float64
	BaselineCPU, FlagstreamCPU []float64
}

// Median returns the median of xs.
func Median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Run produces the data and measures both contenders opts.Runs times.
func Run(ctx context.Context, opts Options) (Result, error) {
	var res Result
	out := opts.Out
	defaults := config.Default()
	broker, err := devbroker.Start(devbroker.Config{Listen: "127.0.0.1:0", Partitions: opts.Partitions,
		Topics: defaults.Topics()})
	if err != nil {
		return res, err
	}
	defer broker.Close()
	dir, err := os.MkdirTemp("", "flagstream-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	handles := synth.Handles(1, opts.Handles)
	if err := writeDemand(filepath.Join(dir, "bench.yaml"), handles); err != nil {
		return res, err
	}
	fmt.Fprintf(out, "bench: producing %d synthetic v1.1 tweets (1%% naming one of %d listed handles) to %s, %d partitions\n",
		opts.Records, opts.Handles, broker.Addr(), opts.Partitions)
	size, err := produce(ctx, broker.Addr(), opts.Records, handles)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(out, "bench: %d tweets of %d bytes on average\n", opts.Records, size)
	contenders := []struct {
		name      string
		run       func(group string) (float64, error)
		rate, cpu *[]float64
	}{
		{"baseline", func(group string) (float64, error) {
			return baseline(ctx, broker.Addr(), group, opts.Records)
		}, &res.Baseline, &res.BaselineCPU},
		{"flagstream", func(group string) (float64, error) {
			return flagstream(ctx, broker.Addr(), dir, group, opts.Records)
		}, &res.Flagstream, &res.FlagstreamCPU},
	}
	for i := range opts.Runs {
		for k := range contenders {
			c := contenders[(i+k)%len(contenders)]
			before := cpuTime()
			rate, err := c.run(fmt.Sprintf("%s-%d", c.name, i))
			if err != nil {
				return res, fmt.Errorf("%s: %w", c.name, err)
			}
			*c.rate = append(*c.rate, rate)
			*c.cpu = append(*c.cpu, float64(cpuTime()-before)/float64(time.Microsecond)/float64(opts.Records))
		}
		b, f := res.Baseline[i], res.Flagstream[i]
		fmt.Fprintf(out, "run %d: bare kafka-go consumer group %8.0f records/s (%.2f µs CPU/record)   "+
			"flagstream run %8.0f records/s (%.2f µs) ratio %.2f\n",
			i+1, b, res.BaselineCPU[i], f, res.FlagstreamCPU[i], f/b)
	}
	mb := Median(res.Baseline)
	fmt.Fprintf(out, "median of %d runs: baseline %.0f records/s (%.2f µs CPU/record); flagstream run %.0f records/s (%.2f µs), ratio %.2f\n",
		opts.Runs, mb, Median(res.BaselineCPU),
		Median(res.Flagstream), Median(res.FlagstreamCPU), Median(res.Flagstream)/mb)
	return res, nil
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func writeDemand(path string, handles []string) error {
	var b strings.Builder
	b.WriteString("id: BENCH-1\njurisdiction: IN\nauthority: benchmark\nlegal_basis: benchmark\naction: review\nhandles:\n")
	for _, h := range handles {
		fmt.Fprintf(&b, "  - \"@%s\"\n", h)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func produce(ctx context.Context, addr string, n int, handles []string) (avg int, err error) {
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "tweets", Balancer: &kafka.RoundRobin{},
		BatchSize: 5000, BatchBytes: 16 << 20, BatchTimeout: 10 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	gen := synth.New(synth.Config{Seed: 42, Handles: handles, FlagRate: 0.01})
	msgs := make([]kafka.Message, 0, 5000)
	total := 0
	for i := 0; i < n; i++ {
		v, _ := gen.Next(nil)
		total += len(v)
		msgs = append(msgs, kafka.Message{Value: v})
		if len(msgs) == cap(msgs) || i == n-1 {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				return 0, err
			}
			msgs = msgs[:0]
		}
	}
	return total / n, nil
}

// baseline reads every record with a bare kafka-go consumer group that
// fetches and commits, with the consumer settings flagstream uses.
func baseline(ctx context.Context, addr, group string, n int) (float64, error) {
	d := config.Default().Input
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{addr}, GroupID: group, Topic: "tweets",
		MaxWait: d.MaxWait, MaxBytes: int(d.FetchMaxBytes), QueueCapacity: d.QueueCapacity,
		CommitInterval: d.CommitInterval, HeartbeatInterval: d.HeartbeatInterval,
		SessionTimeout: d.SessionTimeout, RebalanceTimeout: d.RebalanceTimeout, JoinGroupBackoff: d.HeartbeatInterval,
		ReadBackoffMin: 10 * time.Millisecond, ReadBackoffMax: d.MaxWait, StartOffset: kafka.FirstOffset,
	})
	defer r.Close()
	start := time.Now()
	batch := make([]kafka.Message, 0, 2048)
	for i := 0; i < n; i++ {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return 0, err
		}
		batch = append(batch, m)
		if len(batch) == cap(batch) || i == n-1 {
			if err := r.CommitMessages(ctx, batch...); err != nil {
				return 0, err
			}
			batch = batch[:0]
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// flagstream runs the real pipeline with a fresh group until it has
// committed every record.
func flagstream(ctx context.Context, addr, listsDir, group string, n int) (float64, error) {
	cfg := config.Default()
	cfg.Kafka.Brokers = []string{addr}
	cfg.Input.Group = group
	cfg.Lists.Dir = listsDir
	cfg.Lists.Reload = "off"
	cfg.HTTP.Listen = ""
	reg := prometheus.NewRegistry()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { // owned by flagstream; joined through done
		done <- app.Run(runCtx, cfg, app.Options{Registry: reg, Logger: slog.New(slog.DiscardHandler)})
	}()
	var elapsed time.Duration
	for {
		select {
		case err := <-done:
			return 0, fmt.Errorf("stopped early: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
		if committed(reg) >= float64(n) {
			elapsed = time.Since(start)
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		return 0, err
	}
	return float64(n) / elapsed.Seconds(), nil
}

func committed(reg *prometheus.Registry) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "flagstream_records_committed_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
