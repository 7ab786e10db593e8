// Package demo runs flagstream end to end on one machine with nothing
// installed: an embedded Kafka-protocol broker, the example demand lists,
// a synthetic tweet stream (about 1% naming listed entries, some in evasive
// spellings, a few malformed records), the real pipeline with its metrics
// endpoint, a live summary and the first review tasks.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/kafka-go"

	"flagstream/config"
	"flagstream/deploy/examples"
	"flagstream/internal/app"
	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
	"flagstream/internal/lists"
	"flagstream/matchers"
)

// Options configure a demo run.
type Options struct {
	Duration time.Duration
	// Rate is tweets produced per second; 0 produces as fast as possible.
	Rate int
	// HTTPListen is the admin address; if taken, a free port is used.
	HTTPListen string
	// ListsDir overrides the embedded example lists.
	ListsDir string
	// ShowTasks is how many review tasks to print in full.
	ShowTasks int
	Out       io.Writer
	Logger    *slog.Logger
}

// Result is what a demo run saw, for tests.
type Result struct {
	Produced, Flagged, Evasive, Malformed int64
	Processed, Tasks, DeadLetters         int64
}

// Run runs the demo until opts.Duration has passed or ctx is done.
func Run(ctx context.Context, opts Options) (Result, error) {
	var res Result
	out := opts.Out
	if opts.ShowTasks == 0 {
		opts.ShowTasks = 2
	}
	listsDir := opts.ListsDir
	if listsDir == "" {
		dir, err := os.MkdirTemp("", "flagstream-demo-lists-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		if err := writeExampleLists(dir); err != nil {
			return res, err
		}
		listsDir = dir
	}
	demands, _, err := lists.Parse(listsDir)
	if err != nil {
		return res, fmt.Errorf("demo lists: %w", err)
	}
	gen := synth.New(synthConfig(demands))

	cfg := config.Default()
	broker, err := devbroker.Start(devbroker.Config{Listen: "127.0.0.1:0", Partitions: 4, Topics: cfg.Topics()})
	if err != nil {
		return res, err
	}
	defer broker.Close()
	cfg.Kafka.Brokers = []string{broker.Addr()}
	cfg.Input.Group = "flagstream-demo"
	cfg.Lists.Dir = listsDir
	cfg.HTTP.Listen = freeOr(opts.HTTPListen)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	fmt.Fprintf(out, "flagstream demo: embedded broker on %s (development only), lists from %s\n", broker.Addr(), describeLists(opts.ListsDir))
	for _, d := range demands {
		fmt.Fprintf(out, "  demand %-22s %-9s %-8s %s entries\n", d.ID, d.StateAt(time.Now()), d.JurisdictionList(), entrySummary(&d))
	}

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	started := make(chan string, 1)
	runDone := make(chan error, 1)
	go func() { // owned by Run; joined through runDone
		runDone <- app.Run(runCtx, cfg, app.Options{
			Logger:   opts.Logger,
			Registry: reg,
			Started:  func(addr string) { started <- addr },
			Version:  "demo",
		})
	}()
	select {
	case addr := <-started:
		fmt.Fprintf(out, "pipeline running: metrics on http://%s/metrics, health on /healthz and /readyz\n", addr)
	case err := <-runDone:
		return res, fmt.Errorf("pipeline: %w", err)
	}

	// The producer writes synthetic tweets until the demo's time is up.
	prodCtx, stopProducing := context.WithTimeout(ctx, opts.Duration)
	defer stopProducing()
	var produced, flagged, evasive, malformed atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	producing := make(chan struct{})
	go func() { // owned by Run; joined through producing
		defer close(producing)
		produce(prodCtx, broker.Addr(), cfg.Input.Topic, gen, opts.Rate, &produced, &flagged, &evasive, &malformed)
	}()
	viewCtx, stopViewing := context.WithCancel(ctx)
	defer stopViewing()
	var shown atomic.Int64
	go func() { // owned by Run; joined by wg
		defer wg.Done()
		showTasks(viewCtx, broker.Addr(), cfg.Output.Topic, out, opts.ShowTasks, &shown)
	}()

	start := time.Now()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	var lastProcessed float64
	lastTime := start
loop:
	for {
		select {
		case <-prodCtx.Done():
			break loop
		case err := <-runDone:
			stopProducing()
			stopViewing()
			<-producing
			wg.Wait()
			return res, fmt.Errorf("pipeline stopped: %w", err)
		case now := <-tick.C:
			m := gather(reg)
			rate := (m.processed - lastProcessed) / now.Sub(lastTime).Seconds()
			lastProcessed, lastTime = m.processed, now
			fmt.Fprintf(out, "%5.0fs  tweets %9.0f (%7.0f/s)  flagged %6.0f  dead letters %4.0f  by demand: %s\n",
				now.Sub(start).Seconds(), m.processed, rate, m.tasks, m.rejected, m.byDemand())
		}
	}
	// Let the producer's last write land and the pipeline finish what was
	// produced, then stop it cleanly.
	<-producing
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if m := gather(reg); m.records >= float64(produced.Load()) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopRun()
	runErr := <-runDone
	stopViewing()
	wg.Wait()

	m := gather(reg)
	res = Result{
		Produced: produced.Load(), Flagged: flagged.Load(), Evasive: evasive.Load(), Malformed: malformed.Load(),
		Processed: int64(m.processed), Tasks: int64(m.tasks), DeadLetters: int64(m.rejected),
	}
	el := time.Since(start).Seconds()
	fmt.Fprintf(out, "\ndone in %.0fs: produced %d tweets (%d name a listed entry plainly, %d evasively; %d malformed)\n",
		el, res.Produced, res.Flagged, res.Evasive, res.Malformed)
	fmt.Fprintf(out, "  processed %d tweets (%.0f/s), emitted %d review tasks, %d dead letters; by demand: %s\n",
		res.Processed, float64(res.Processed)/el, res.Tasks, res.DeadLetters, m.byDemand())
	if res.Tasks == res.Flagged+res.Evasive && res.DeadLetters == res.Malformed {
		fmt.Fprintln(out, "  every flagged tweet, evasive spellings included, has a review task; every malformed record is a dead letter")
	} else {
		fmt.Fprintf(out, "  MISMATCH: expected %d tasks and %d dead letters\n", res.Flagged+res.Evasive, res.Malformed)
	}
	if runErr != nil {
		return res, fmt.Errorf("pipeline: %w", runErr)
	}
	return res, nil
}

// writeExampleLists copies the embedded example lists into dir.
func writeExampleLists(dir string) error {
	return fs.WalkDir(examples.Lists, "lists", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := examples.Lists.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, filepath.Base(path)), data, 0o644)
	})
}

func describeLists(dir string) string {
	if dir == "" {
		return "deploy/examples/lists (embedded)"
	}
	return dir
}

func entrySummary(d *matchers.Demand) string {
	counts := d.Entries.Counts()
	var parts []string
	for _, k := range matchers.EntryKinds() {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

// synthConfig makes the generator name the entries of the active demands.
func synthConfig(demands []matchers.Demand) synth.Config {
	cfg := synth.Config{Seed: uint64(time.Now().UnixNano()), FlagRate: 0.008, EvasiveRate: 0.004, MalformedRate: 0.002, V2Rate: 0.2}
	NameEntries(&cfg, demands, time.Now())
	return cfg
}

// NameEntries sets the handles, hashtags, phrases and domains that the
// flagged records of cfg name to the entries of the demands active at time
// at: only those can make a review task. The demo and flagstream generate
// point their generators at demand lists with it.
func NameEntries(cfg *synth.Config, demands []matchers.Demand, at time.Time) {
	for i := range demands {
		d := &demands[i]
		if d.StateAt(at) != matchers.StateActive {
			continue
		}
		for j := 0; j < d.Entries.Len(); j++ {
			v := string(d.Entries.Value(j))
			switch d.Entries.Kind(j) {
			case matchers.EntryHandle:
				cfg.Handles = append(cfg.Handles, strings.TrimPrefix(v, "@"))
			case matchers.EntryHashtag:
				cfg.Hashtags = append(cfg.Hashtags, strings.TrimPrefix(strings.TrimPrefix(v, "#"), "＃"))
			case matchers.EntryPhrase:
				cfg.Phrases = append(cfg.Phrases, v)
			case matchers.EntryDomain:
				cfg.Domains = append(cfg.Domains, v)
			}
		}
	}
}

// freeOr returns addr if it can be listened on, else a free loopback port.
func freeOr(addr string) string {
	if addr == "" {
		addr = "127.0.0.1:9464"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "127.0.0.1:0"
	}
	ln.Close()
	return addr
}

// produce writes synthetic tweets to topic at rate per second
// (0: as fast as the broker takes them) until ctx is done.
func produce(ctx context.Context, addr, topic string, gen *synth.Generator, rate int, produced, flagged, evasive, malformed *atomic.Int64) {
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.Hash{},
		BatchSize: 1000, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	const chunk = 500
	msgs := make([]kafka.Message, chunk)
	start := time.Now()
	var sent int64
	for ctx.Err() == nil {
		var counts [4]int64
		for i := range msgs {
			v, kind := gen.Next(nil)
			counts[kind]++
			msgs[i] = kafka.Message{Key: []byte(fmt.Sprint(sent + int64(i))), Value: v}
		}
		if err := w.WriteMessages(context.WithoutCancel(ctx), msgs...); err != nil {
			return
		}
		sent += chunk
		produced.Add(chunk)
		flagged.Add(counts[synth.Flagged])
		evasive.Add(counts[synth.Evasive])
		malformed.Add(counts[synth.Malformed])
		if rate > 0 {
			if ahead := time.Duration(float64(sent)/float64(rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(ahead):
				}
			}
		}
	}
}

// showTasks prints the first n review tasks of topic in full.
func showTasks(ctx context.Context, addr, topic string, out io.Writer, n int, shown *atomic.Int64) {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, GroupID: "flagstream-demo-viewer", Topic: topic,
		MaxWait: 250 * time.Millisecond, HeartbeatInterval: time.Second, CommitInterval: time.Second})
	defer r.Close()
	for shown.Load() < int64(n) {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return
		}
		var pretty bytes.Buffer
		if json.Indent(&pretty, m.Value, "  ", "  ") != nil {
			continue
		}
		fmt.Fprintf(out, "review task (key %s):\n  %s\n", m.Key, pretty.Bytes())
		shown.Add(1)
	}
}

// summary is what the demo reads back from the pipeline's metrics.
type summary struct {
	processed, records, tasks, rejected float64
	demands                             map[string]float64
}

func (s summary) byDemand() string {
	ids := make([]string, 0, len(s.demands))
	for id := range s.demands {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var parts []string
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf("%s %.0f", id, s.demands[id]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " · ")
}

func gather(reg *prometheus.Registry) summary {
	s := summary{demands: map[string]float64{}}
	mfs, err := reg.Gather()
	if err != nil && !errors.Is(err, context.Canceled) {
		return s
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := m.GetCounter().GetValue()
			switch mf.GetName() {
			case "flagstream_tweets_processed_total":
				s.processed += v
			case "flagstream_records_committed_total":
				s.records += v
			case "flagstream_review_tasks_emitted_total":
				s.tasks += v
			case "flagstream_records_rejected_total":
				s.rejected += v
			case "flagstream_matches_total":
				s.demands[label(m, "demand")] += v
			}
		}
	}
	return s
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
