// Package bench measures flagstream run's throughput against a baseline,
// the way the independent measurement does (../shared/bench/README.md):
// `flagstream broker` in a process of its own, synthetic v1.1 tweets
// produced to it, then in alternating rounds, each contender in its own
// process with a fresh consumer group, the bare kafka-go consumer group
// (Consume, run as the hidden `flagstream bench-consumer`) and
// `flagstream run` itself with a generated config. As in production, the
// broker is elsewhere: it shares neither the contenders' Go runtime nor
// their garbage collector.
//
// Each contender's rate is taken from the moment it is consuming: the
// baseline's from its second record on, flagstream's from
// flagstream_tweets_processed_total between its first non-zero reading and
// the last record. Beside the rate, each round reports the CPU time per
// record of the contender's process alone (/proc/PID/stat), which a busy
// machine disturbs less than the wall clock; the summary gives medians,
// ranges, the ratio of the medians and the rounds' ratios, and says when
// the spread is too wide to trust the ratio.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/config"
	"flagstream/internal/dev/synth"
)

// Options configure a benchmark.
type Options struct {
	Records    int // tweets in the topic
	Runs       int // rounds: each contender runs once per round
	Partitions int
	Handles    int // handles in the demand, beside its hashtag
	Features   Features
	Texts      int // known texts of the texts feature
	// Binary is the flagstream binary whose broker, bench-consumer and run
	// commands are run.
	Binary string
	Out    io.Writer
}

// Measure is one run of one contender.
type Measure struct {
	Rate         float64 `json:"rate"`              // records per second
	CPUPerRecord float64 `json:"cpu_us_per_record"` // µs of the contender's process
	Records      int     `json:"records"`           // records measured
	// Startup is the time from the process's start to its measuring: the
	// baseline's first record, flagstream's first non-zero reading.
	Startup float64 `json:"startup_seconds"`
	// Of flagstream run only: review tasks written, most memory resident.
	Tasks   int64 `json:"tasks,omitempty"`
	PeakRSS int64 `json:"peak_rss_bytes,omitempty"`
}

// Round is one round: each contender once, in alternating order.
type Round struct {
	Baseline      Measure `json:"baseline"`
	Flagstream    Measure `json:"flagstream"`
	Ratio         float64 `json:"ratio"`
	BaselineFirst bool    `json:"baseline_first"`
}

// Result is what a benchmark measured.
type Result struct {
	Records       int      `json:"records"`
	AvgBytes      int      `json:"avg_record_bytes"`
	Partitions    int      `json:"partitions"`
	Features      string   `json:"features"`
	WarmUp        Measure  `json:"warm_up"` // the read before the rounds, not counted
	Rounds        []Round  `json:"rounds"`
	Baseline      Summary  `json:"baseline_rate"`
	Flagstream    Summary  `json:"flagstream_rate"`
	BaselineCPU   Summary  `json:"baseline_cpu_us_per_record"`
	FlagstreamCPU Summary  `json:"flagstream_cpu_us_per_record"`
	Ratio         float64  `json:"ratio_of_medians"`
	Ratios        Summary  `json:"round_ratios"`
	CPURatio      float64  `json:"cpu_ratio_of_medians"`
	Untrusted     string   `json:"untrusted,omitempty"`
	Warnings      []string `json:"warnings,omitempty"`
}

// inputTopic is the topic the tweets are produced to.
var inputTopic = config.Default().Input.Topic

// Run starts the broker, produces the tweets and measures both contenders
// opts.Runs times.
func Run(ctx context.Context, opts Options) (Result, error) {
	res := Result{Records: opts.Records, Partitions: opts.Partitions, Features: opts.Features.String()}
	out := opts.Out
	dir, err := os.MkdirTemp("", "flagstream-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	listsDir := filepath.Join(dir, "lists")
	if err := os.Mkdir(listsDir, 0o755); err != nil {
		return res, err
	}
	handles := synth.Handles(1, opts.Handles)
	if err := writeLists(listsDir, handles, opts.Features, opts.Texts); err != nil {
		return res, err
	}

	defaults := config.Default()
	pr, pw := io.Pipe()
	broker, err := startChild("flagstream broker", opts.Binary, []string{"broker", "--listen", "127.0.0.1:0",
		"--partitions", strconv.Itoa(opts.Partitions), "--topics", strings.Join(defaults.Topics(), ",")}, pw)
	if err != nil {
		return res, err
	}
	defer func() {
		broker.stop(10 * time.Second)
		pw.Close()
	}()
	addr, err := firstLine(pr, 30*time.Second)
	if err != nil {
		return res, fmt.Errorf("flagstream broker: %w; %v", err, broker.failure())
	}
	fmt.Fprintf(out, "bench: flagstream broker (pid %d) at %s, %d partitions; contenders in processes of their own\n",
		broker.pid(), addr, opts.Partitions)
	fmt.Fprintf(out, "bench: producing %d synthetic v1.1 tweets, 1%% naming #%s or one of %d listed handles\n",
		opts.Records, benchHashtag, opts.Handles)
	start := time.Now()
	size, err := produce(ctx, addr, opts.Records, handles)
	if err != nil {
		return res, fmt.Errorf("produce: %w", err)
	}
	res.AvgBytes = size
	if n, err := topicEnd(ctx, addr, inputTopic, opts.Partitions); err != nil || n != int64(opts.Records) {
		return res, fmt.Errorf("the topic holds %d records after producing %d (%v)", n, opts.Records, err)
	}
	fmt.Fprintf(out, "bench: %d tweets of %d bytes on average in %.1fs; features: %s\n",
		opts.Records, size, time.Since(start).Seconds(), featuresLine(opts))

	b := &bencher{opts: opts, broker: addr, dir: dir, listsDir: listsDir}
	// The first reader after the produce ran at half the rate of those
	// after it, whichever contender it was (round 1's baseline: 162k-180k
	// records/s against 275k-343k in the rounds after it, 2026-12-02),
	// which made the baseline-first rounds' ratios 1.5-1.7. A read of the
	// whole topic before the rounds, not counted, takes that slow first
	// read out of every round.
	var warm Round
	if err := b.baseline(ctx, -1, &warm); err != nil {
		return res, fmt.Errorf("warm-up: %w", err)
	}
	res.WarmUp = warm.Baseline
	fmt.Fprintf(out, "warm-up (not counted): bare kafka-go consumer %8.0f records/s (%.2f µs CPU/record)\n",
		warm.Baseline.Rate, warm.Baseline.CPUPerRecord)
	for i := range opts.Runs {
		r := Round{BaselineFirst: i%2 == 0}
		first, second := b.baseline, b.flagstream
		if !r.BaselineFirst {
			first, second = second, first
		}
		for _, run := range []func(context.Context, int, *Round) error{first, second} {
			if err := run(ctx, i, &r); err != nil {
				return res, err
			}
		}
		r.Ratio = r.Flagstream.Rate / r.Baseline.Rate
		res.Rounds = append(res.Rounds, r)
		order := "baseline first"
		if !r.BaselineFirst {
			order = "flagstream first"
		}
		fmt.Fprintf(out, "round %d (%s): bare kafka-go consumer %8.0f records/s (%.2f µs CPU/record, consuming after %.1fs)   "+
			"flagstream run %8.0f records/s (%.2f µs CPU/record, consuming after %.1fs, %d tasks, peak RSS %d MiB)   ratio %.2f\n",
			i+1, order, r.Baseline.Rate, r.Baseline.CPUPerRecord, r.Baseline.Startup, r.Flagstream.Rate, r.Flagstream.CPUPerRecord,
			r.Flagstream.Startup, r.Flagstream.Tasks, r.Flagstream.PeakRSS>>20, r.Ratio)
		if r.Flagstream.Tasks == 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("round %d: flagstream run wrote no review task: the lists matched nothing", i+1))
		}
	}
	res.summarize()
	res.print(out)
	return res, nil
}

func featuresLine(opts Options) string {
	s := opts.Features.String()
	if opts.Features.Texts {
		s += fmt.Sprintf(" (%d known texts)", opts.Texts)
	}
	return s
}

// summarize fills the summaries from the rounds.
func (r *Result) summarize() {
	var base, flag, baseCPU, flagCPU, ratios []float64
	for _, rd := range r.Rounds {
		base, flag = append(base, rd.Baseline.Rate), append(flag, rd.Flagstream.Rate)
		baseCPU, flagCPU = append(baseCPU, rd.Baseline.CPUPerRecord), append(flagCPU, rd.Flagstream.CPUPerRecord)
		ratios = append(ratios, rd.Ratio)
	}
	r.Baseline, r.Flagstream = Summarize(base), Summarize(flag)
	r.BaselineCPU, r.FlagstreamCPU = Summarize(baseCPU), Summarize(flagCPU)
	r.Ratios = Summarize(ratios)
	if r.Baseline.Median > 0 {
		r.Ratio = r.Flagstream.Median / r.Baseline.Median
	}
	if r.BaselineCPU.Median > 0 {
		r.CPURatio = r.FlagstreamCPU.Median / r.BaselineCPU.Median
	}
	r.Untrusted = Trust(base, flag, ratios)
}

func (r *Result) print(out io.Writer) {
	line := func(name string, rate, cpu Summary) {
		fmt.Fprintf(out, "%-11s median %8.0f records/s (min %.0f, max %.0f, spread %.0f%%); %.2f µs CPU/record (min %.2f, max %.2f)\n",
			name, rate.Median, rate.Min, rate.Max, 100*rate.Spread, cpu.Median, cpu.Min, cpu.Max)
	}
	fmt.Fprintf(out, "median of %d rounds:\n", len(r.Rounds))
	line("baseline:", r.Baseline, r.BaselineCPU)
	line("flagstream:", r.Flagstream, r.FlagstreamCPU)
	fmt.Fprintf(out, "ratio of the medians %.2f (the rounds' ratios: median %.2f, min %.2f, max %.2f); CPU per record %.1fx the baseline's\n",
		r.Ratio, r.Ratios.Median, r.Ratios.Min, r.Ratios.Max, r.CPURatio)
	for _, w := range r.Warnings {
		fmt.Fprintf(out, "warning: %s\n", w)
	}
	if r.Untrusted != "" {
		fmt.Fprintf(out, "note: do not trust this ratio: %s\n", r.Untrusted)
	}
}

// bencher runs the contenders.
type bencher struct {
	opts     Options
	broker   string
	dir      string
	listsDir string
}

// timeout bounds one contender's run: generous for a slow machine.
func (b *bencher) timeout() time.Duration {
	return 2*time.Minute + time.Duration(b.opts.Records)*time.Second/10_000
}

// group names a fresh consumer group.
func group(name string, round int) string {
	return fmt.Sprintf("bench-%s-%d-%d", name, round+1, time.Now().UnixNano())
}

// baseline runs the bare consumer in its own process.
func (b *bencher) baseline(ctx context.Context, round int, r *Round) error {
	var stdout bytes.Buffer
	c, err := startChild("flagstream bench-consumer", b.opts.Binary, []string{"bench-consumer", "--brokers", b.broker,
		"--topic", inputTopic, "--group", group("baseline", round), "--records", strconv.Itoa(b.opts.Records)}, &stdout)
	if err != nil {
		return err
	}
	select {
	case <-c.done:
	case <-time.After(b.timeout()):
		c.stop(5 * time.Second)
		return fmt.Errorf("the baseline did not finish within %s; the end of its standard error:\n%s", b.timeout(), c.stderr.String())
	case <-ctx.Done():
		c.stop(5 * time.Second)
		return ctx.Err()
	}
	if c.err != nil {
		return c.failure()
	}
	var cr ConsumerResult
	if err := json.Unmarshal(stdout.Bytes(), &cr); err != nil {
		return fmt.Errorf("the baseline's result %q: %w", stdout.String(), err)
	}
	r.Baseline = Measure{Rate: cr.Rate, Records: cr.Records, CPUPerRecord: cr.CPUSeconds * 1e6 / float64(cr.Records),
		Startup: cr.Startup}
	return nil
}

// reading is one reading of flagstream run's processed counter.
type reading struct {
	t     time.Time
	count float64
	cpu   time.Duration
}

// scrapeEvery is how often flagstream run's counter is read.
const scrapeEvery = 25 * time.Millisecond

// processedCounter is the counter flagstream run is measured by.
const processedCounter = "flagstream_tweets_processed_total"

// flagstream runs flagstream run in its own process until it has processed
// every record.
func (b *bencher) flagstream(ctx context.Context, round int, r *Round) error {
	listen, err := freeAddr()
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(b.dir, fmt.Sprintf("run-%d.yaml", round+1))
	if err := writeConfig(cfgPath, runConfig(b.broker, group("flagstream", round), b.listsDir, listen, b.opts.Features)); err != nil {
		return err
	}
	outTopic := config.Default().Output.Topic
	tasksBefore, err := topicEnd(ctx, b.broker, outTopic, b.opts.Partitions)
	if err != nil {
		return err
	}
	started := time.Now()
	c, err := startChild("flagstream run", b.opts.Binary, []string{"run", "--config", cfgPath}, nil)
	if err != nil {
		return err
	}
	defer c.stop(30 * time.Second)
	n := float64(b.opts.Records)
	s := newScraper(listen)
	deadline := time.Now().Add(b.timeout())
	tick := time.NewTicker(scrapeEvery)
	defer tick.Stop()
	var first, prev, last reading
	for {
		select {
		case <-tick.C:
		case <-c.done:
			return c.failure()
		case <-ctx.Done():
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("flagstream run processed %.0f of %d records within %s; the end of its standard error:\n%s",
				last.count, b.opts.Records, b.timeout(), c.stderr.String())
		}
		v, err := s.read(ctx, processedCounter)
		now := time.Now()
		if err != nil || v == 0 {
			continue // not listening yet, or not consuming yet
		}
		cpu, err := procCPU(c.pid())
		if err != nil {
			return fmt.Errorf("flagstream run's CPU time: %w", err)
		}
		last = reading{now, v, cpu}
		if first.count == 0 {
			first, prev = last, last
			continue
		}
		if v >= n {
			break
		}
		prev = last
	}
	if first.count >= n || prev.count >= n {
		return fmt.Errorf("flagstream run processed all %d records before a second reading: measure more records (--records)", b.opts.Records)
	}
	// When the last record was counted, between the last two readings.
	end := prev.t.Add(time.Duration(float64(last.t.Sub(prev.t)) * (n - prev.count) / (last.count - prev.count)))
	m := Measure{
		Rate:         (n - first.count) / end.Sub(first.t).Seconds(),
		Records:      int(n - first.count),
		Startup:      first.t.Sub(started).Seconds(),
		CPUPerRecord: float64(last.cpu-first.cpu) / float64(time.Microsecond) / (last.count - first.count),
	}
	if m.PeakRSS, err = peakRSS(c.pid()); err != nil {
		return fmt.Errorf("flagstream run's memory: %w", err)
	}
	if err := c.stop(30 * time.Second); err != nil {
		return fmt.Errorf("flagstream run did not stop cleanly: %w; the end of its standard error:\n%s", err, c.stderr.String())
	}
	tasksAfter, err := topicEnd(ctx, b.broker, outTopic, b.opts.Partitions)
	if err != nil {
		return err
	}
	m.Tasks = tasksAfter - tasksBefore
	r.Flagstream = m
	return nil
}

// freeAddr returns a local address that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// produce writes n synthetic tweets (key: the tweet id, as kcat -K writes
// them) and returns their average size.
func produce(ctx context.Context, addr string, n int, handles []string) (avg int, err error) {
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: inputTopic, Balancer: &kafka.CRC32Balancer{},
		BatchSize: 5000, BatchBytes: 16 << 20, BatchTimeout: 10 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	gen := synth.New(synth.Config{Seed: 42, Handles: handles, Hashtags: []string{benchHashtag}, FlagRate: 0.01})
	msgs := make([]kafka.Message, 0, 5000)
	total := 0
	for i := range n {
		v, _ := gen.Next(nil)
		id, err := synth.TweetID(v)
		if err != nil {
			return 0, err
		}
		total += len(v)
		msgs = append(msgs, kafka.Message{Key: []byte(id), Value: v})
		if len(msgs) == cap(msgs) || i == n-1 {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				return 0, err
			}
			msgs = msgs[:0]
		}
	}
	return total / n, nil
}

// topicEnd returns the sum of a topic's end offsets: its records, on a
// broker that never deletes any.
func topicEnd(ctx context.Context, addr, topic string, partitions int) (int64, error) {
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for p := range partitions {
		req.Topics[topic] = append(req.Topics[topic], kafka.LastOffsetOf(p))
	}
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	res, err := client.ListOffsets(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	var sum int64
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return 0, fmt.Errorf("end offsets of %s: %w", topic, p.Error)
		}
		sum += p.LastOffset
	}
	if len(res.Topics[topic]) != partitions {
		return 0, errors.New("end offsets of " + topic + ": not every partition answered")
	}
	return sum, nil
}
