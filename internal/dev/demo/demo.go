// Package demo runs flagstream end to end on one machine with nothing
// installed: an embedded Kafka-protocol broker, the example demand lists,
// a synthetic tweet stream (about 1% naming listed entries, some in evasive
// spellings, a few malformed records; one listed account renames itself
// and another account takes a listed handle over), the real pipeline and
// case processor with their metrics endpoint, a live summary, the first
// review tasks and case events, and one case line per listed account.
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
	"flagstream/pipeline/cases"
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
	// AccountPosts are the flagged records that name a listed account of
	// a scope: user demand: case evidence, not review tasks.
	AccountPosts int64
	// Cases are the cases the case events show, Accounts the listed
	// accounts the traffic named; CasesOK is true when each has exactly one
	// case, opened once, counting at least its true evidence.
	Cases, Accounts int
	CasesOK         bool
	// Renamed is true when the renamed account's case shows its new
	// handle; Reassigned when the taken-over handle's case has a
	// reassigned event naming the new holder.
	Renamed, Reassigned bool
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
	scfg, caseHandles := synthConfig(demands, opts.Rate, opts.Duration)
	gen := synth.New(scfg)

	cfg := config.Default()
	cfg.Cases.UpdateInterval = time.Second
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
	if r := scfg.Rename; r.Handle != "" {
		fmt.Fprintf(out, "  in the traffic: listed account @%s will rename itself @%s, and another account take @%s over, halfway through\n",
			r.Handle, r.To, scfg.Takeover.Handle)
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
	wg.Add(2)
	producing := make(chan struct{})
	truth := &accountTruth{handles: caseHandles, counts: map[string]*trueCounts{}}
	var printing sync.Mutex // one full record or event line printed at a time
	// The rename and the takeover start halfway through, once flagstream
	// has bound the two handles (their accounts post first), so that the
	// renamed account's posts are followed from the first.
	var changed atomic.Bool
	half := time.Now().Add(opts.Duration / 2)
	change := func(records uint64) bool {
		if scfg.Rename.Handle == "" || changed.Load() || time.Now().Before(half) || gather(reg).bindings < 2 {
			return false
		}
		changed.Store(true)
		printing.Lock()
		fmt.Fprintf(out, "  from record %d on: @%s posts as @%s, and account %s posts as @%s\n", records+1,
			scfg.Rename.Handle, scfg.Rename.To, synth.TakeoverUserID(scfg.Takeover.Handle), scfg.Takeover.Handle)
		printing.Unlock()
		return true
	}
	go func() { // owned by Run; joined through producing
		defer close(producing)
		produce(prodCtx, broker.Addr(), cfg.Input.Topic, gen, opts.Rate, &produced, &flagged, &evasive, &malformed, truth, change)
	}()
	viewCtx, stopViewing := context.WithCancel(ctx)
	defer stopViewing()
	var shown, shownCases atomic.Int64
	go func() { // owned by Run; joined by wg
		defer wg.Done()
		show(viewCtx, broker.Addr(), cfg.Output.Topic, "review task", out, &printing, opts.ShowTasks, &shown)
	}()
	go func() { // owned by Run; joined by wg
		defer wg.Done()
		show(viewCtx, broker.Addr(), cfg.Cases.Topic, "case event", out, &printing, 1, &shownCases)
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
			printing.Lock()
			fmt.Fprintf(out, "%5.0fs  tweets %9.0f (%7.0f/s)  tasks %6.0f  cases %3.0f  dead letters %4.0f  by demand: %s\n",
				now.Sub(start).Seconds(), m.processed, rate, m.tasks, m.opened, m.rejected, m.byDemand())
			printing.Unlock()
		}
	}
	// Let the producer's last write land and the pipeline finish what was
	// produced, then stop it cleanly.
	<-producing
	deadline := time.Now().Add(15 * time.Second)
	var cs map[string][]cases.Event
	for time.Now().Before(deadline) && ctx.Err() == nil {
		// The case processor follows the pipeline through the evidence
		// topic; updates come at most once a second.
		if m := gather(reg); m.records >= float64(produced.Load()) && m.inputs >= m.evidence {
			cs = readCases(ctx, broker.Addr(), cfg.Cases.Topic)
			renamed, reassigned := changesShown(cs, scfg)
			if truth.settled(cs) && (!changed.Load() || renamed && reassigned) {
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	stopRun()
	runErr := <-runDone
	stopViewing()
	wg.Wait()
	cs = readCases(ctx, broker.Addr(), cfg.Cases.Topic)

	m := gather(reg)
	res = Result{
		Produced: produced.Load(), Flagged: flagged.Load(), Evasive: evasive.Load(), Malformed: malformed.Load(),
		Processed: int64(m.processed), Tasks: int64(m.tasks), DeadLetters: int64(m.rejected),
		AccountPosts: truth.posts.Load(), Cases: len(cs), Accounts: truth.named(),
	}
	el := time.Since(start).Seconds()
	fmt.Fprintf(out, "\ndone in %.0fs: produced %d tweets (%d name a listed entry plainly, %d evasively; %d malformed)\n",
		el, res.Produced, res.Flagged, res.Evasive, res.Malformed)
	fmt.Fprintf(out, "  processed %d tweets (%.0f/s), emitted %d review tasks, %d dead letters; by demand: %s\n",
		res.Processed, float64(res.Processed)/el, res.Tasks, res.DeadLetters, m.byDemand())
	fmt.Fprintf(out, "  %d tweets named a listed account of a scope: user demand: one case per account instead of a task per tweet\n",
		res.AccountPosts)
	res.CasesOK, res.Renamed, res.Reassigned = printCases(out, cs, truth, scfg)
	wantTasks := res.Flagged + res.Evasive - res.AccountPosts
	if res.Tasks == wantTasks && res.DeadLetters == res.Malformed && res.CasesOK {
		fmt.Fprintln(out, "  every flagged tweet, evasive spellings included, has a review task or counts for its account's case; "+
			"every listed account named has one case; every malformed record is a dead letter")
	} else {
		fmt.Fprintf(out, "  MISMATCH: expected %d tasks, %d dead letters and one case, counting its evidence, for each of %d accounts\n",
			wantTasks, res.Malformed, res.Accounts)
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

// synthConfig makes the generator name the entries of the active demands,
// and returns the handles of their scope: user demands, whose posts are
// case evidence. Halfway through the traffic expected (rate for duration;
// 200,000 records when as fast as possible), the first such handle's
// account renames itself and another account takes the second over; both
// accounts post first, so that flagstream binds their handles at once,
// and about 20 times each after the change, so that the demo shows it.
func synthConfig(demands []matchers.Demand, rate int, duration time.Duration) (synth.Config, map[string]bool) {
	cfg := synth.Config{Seed: uint64(time.Now().UnixNano()), FlagRate: 0.008, EvasiveRate: 0.004, MalformedRate: 0.002, V2Rate: 0.2}
	NameEntries(&cfg, demands, time.Now())
	caseHandles := map[string]bool{}
	var order []string
	for i := range demands {
		d := &demands[i]
		if d.StateAt(time.Now()) != matchers.StateActive || d.Scope != matchers.ScopeUser {
			continue
		}
		for j := 0; j < d.Entries.Len(); j++ {
			if d.Entries.Kind(j) == matchers.EntryHandle {
				h := strings.TrimPrefix(string(d.Entries.Value(j)), "@")
				if !caseHandles[h] {
					order = append(order, h)
				}
				caseHandles[h] = true
			}
		}
	}
	if len(order) >= 2 {
		total := 200_000.0
		if rate > 0 {
			total = float64(rate) * duration.Seconds()
		}
		at := uint64(total) + 1
		share := min(0.01, 40/total) // about 20 posts each after the change
		to := order[0]
		if len(to) > 11 {
			to = to[:11]
		}
		// At is a bound: the demo starts both changes once the handles
		// are bound (Generator.ChangeNow), about halfway through.
		cfg.Rename = synth.Rename{Handle: order[0], To: to + "_new", At: at, Share: share}
		cfg.Takeover = synth.Takeover{Handle: order[1], At: at, Share: share}
		cfg.Introduce = []string{order[0], order[1]}
	}
	return cfg, caseHandles
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
// (0: as fast as the broker takes them) until ctx is done, noting in
// truth the posts and mentions of listed accounts. Before each chunk it
// asks change whether the rename and takeover start now.
func produce(ctx context.Context, addr, topic string, gen *synth.Generator, rate int, produced, flagged, evasive, malformed *atomic.Int64,
	truth *accountTruth, change func(records uint64) bool) {
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.Hash{},
		BatchSize: 1000, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	const chunk = 500
	msgs := make([]kafka.Message, chunk)
	start := time.Now()
	var sent int64
	for ctx.Err() == nil {
		if change(gen.Records()) {
			gen.ChangeNow()
		}
		var counts [4]int64
		for i := range msgs {
			v, kind := gen.Next(nil)
			counts[kind]++
			if a, ok := gen.LastAccount(); ok {
				truth.note(a)
			}
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

// show prints the first n records of topic in full, as what.
func show(ctx context.Context, addr, topic, what string, out io.Writer, printing *sync.Mutex, n int, shown *atomic.Int64) {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, GroupID: "flagstream-demo-viewer-" + topic, Topic: topic,
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
		printing.Lock()
		fmt.Fprintf(out, "%s (key %s):\n  %s\n", what, m.Key, pretty.Bytes())
		printing.Unlock()
		shown.Add(1)
	}
}

// summary is what the demo reads back from the pipeline's metrics.
type summary struct {
	processed, records, tasks, rejected, opened float64
	// bindings are the handles bound in the bindings table; evidence the
	// evidence records written and inputs the case inputs applied.
	bindings, evidence, inputs float64
	demands                    map[string]float64
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
	// The counters summed whole, and where.
	sums := map[string]*float64{
		"flagstream_tweets_processed_total":      &s.processed,
		"flagstream_records_committed_total":     &s.records,
		"flagstream_review_tasks_emitted_total":  &s.tasks,
		"flagstream_records_rejected_total":      &s.rejected,
		"flagstream_case_evidence_emitted_total": &s.evidence,
		"flagstream_case_inputs_total":           &s.inputs,
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := m.GetCounter().GetValue()
			if sum, ok := sums[mf.GetName()]; ok {
				*sum += v
				continue
			}
			switch mf.GetName() {
			case "flagstream_matches_total":
				s.demands[label(m, "demand")] += v
			case "flagstream_case_events_total":
				if label(m, "event") == "opened" {
					s.opened += v
				}
			case "flagstream_bindings":
				s.bindings += m.GetGauge().GetValue()
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
