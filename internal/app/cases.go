package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"flagstream/config"
	"flagstream/internal/accounts"
	"flagstream/internal/caseproc"
	"flagstream/internal/kafkaio"
	"flagstream/internal/retro"
	"flagstream/internal/retry"
	"flagstream/matchers"
	"flagstream/pipeline"
	"flagstream/pipeline/cases"
)

// OwnedTopics returns the specs of the topics flagstream run owns (see
// config.OwnedTopics), given the partition count of the input topic: the
// compacted bindings and retro progress topics, and, with cases on, the
// evidence topic and the compacted state topic, co-partitioned with
// cases.partitions partitions (0: as many as the input topic).
func OwnedTopics(cfg config.Config, inputPartitions int) []kafkaio.TopicSpec {
	specs := []kafkaio.TopicSpec{
		{Key: "accounts.bindings_topic", Name: cfg.Accounts.BindingsTopic, Partitions: 1, Policy: kafkaio.Compact},
		retro.ProgressTopicSpec(cfg.Retro.ProgressTopic),
	}
	if CasesOn(cfg) {
		n := cfg.Cases.Partitions
		if n == 0 {
			n = inputPartitions
		}
		specs = append(specs,
			kafkaio.TopicSpec{Key: "cases.evidence_topic", Name: cfg.Cases.EvidenceTopic, Partitions: n, Policy: kafkaio.Delete, SameAs: "cases.state_topic"},
			kafkaio.TopicSpec{Key: "cases.state_topic", Name: cfg.Cases.StateTopic, Partitions: n, Policy: kafkaio.Compact, SameAs: "cases.evidence_topic"},
		)
	}
	return specs
}

// caseSystem is the Kafka side of accounts and cases in a run instance:
// it makes sure of the owned topics, then runs the bindings follower, the
// case processor and the decisions forwarder. It starts in the background
// so that an instance that cannot reach the cluster yet still serves its
// admin endpoints (not ready); owned topics that exist with the wrong
// settings stop the instance (fatal).
type caseSystem struct {
	cfg   config.Config
	conn  kafkaio.Connection
	log   *slog.Logger
	m     Metrics
	Table *accounts.Table

	topicsReady atomic.Bool
	topicsDone  chan struct{} // closed once the owned topics are there
	follower    *accounts.Follower
	breaker     pipeline.Breaker // nil: none

	mu   sync.Mutex // guards what the start goroutine sets up
	proc *caseproc.Processor
	fwd  *caseproc.Forwarder

	stop      context.CancelFunc
	wg        sync.WaitGroup // the start goroutine and the follower
	closeOnce sync.Once
}

// startCases starts the case system; breaker, when set, is the demands'
// circuit breaker, which counts every live case event as it counts tasks;
// fatal is called, once at most, with a configuration error (an owned
// topic misconfigured).
func startCases(cfg config.Config, conn kafkaio.Connection, log *slog.Logger, m Metrics, breaker pipeline.Breaker, fatal func(error)) *caseSystem {
	c := &caseSystem{cfg: cfg, conn: conn, log: log, m: m, Table: accounts.NewTable(), topicsDone: make(chan struct{}), breaker: breaker}
	c.follower = accounts.NewFollower(accounts.FollowerConfig{
		Conn: conn, Topic: cfg.Accounts.BindingsTopic, Table: c.Table, MaxWait: cfg.Input.MaxWait,
		Logger: log, Metrics: m.Accounts,
	})
	ctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	c.wg.Add(1)
	go func() { // owned by c; joined by Close
		defer c.wg.Done()
		if err := c.ensureTopics(ctx); err != nil {
			if ctx.Err() == nil {
				fatal(err)
			}
			return
		}
		c.topicsReady.Store(true)
		close(c.topicsDone)
		c.wg.Add(1)
		go func() { // owned by c; joined by Close
			defer c.wg.Done()
			c.follower.Run(ctx)
		}()
		if err := c.startProcessing(); err != nil {
			fatal(err)
		}
	}()
	return c
}

// ensureTopics creates or checks the owned topics, retrying while the
// cluster cannot be reached or the input topic (whose partition count
// the evidence topic takes) does not exist yet.
func (c *caseSystem) ensureTopics(ctx context.Context) error {
	backoff := retry.Backoff{Min: 200 * time.Millisecond, Max: 5 * time.Second}
	for {
		err := ensureOwnedTopics(ctx, c.cfg, c.conn, c.log)
		if err == nil || errors.Is(err, kafkaio.ErrTopicConfig) || ctx.Err() != nil {
			return err
		}
		c.log.Warn("owned topics: cannot create or check them yet; retrying", "err", err)
		if werr := backoff.Wait(ctx); werr != nil {
			return werr
		}
	}
}

// ensureOwnedTopics creates the owned topics (OwnedTopics) that are
// missing and checks those that exist, once; kafkaio.ErrTopicConfig marks
// one that exists with the wrong settings.
func ensureOwnedTopics(ctx context.Context, cfg config.Config, conn kafkaio.Connection, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	inputPartitions := 0
	if CasesOn(cfg) && cfg.Cases.Partitions == 0 {
		input := kafkaio.NewFetcher(conn, cfg.Input.Topic, 0, 0)
		parts, err := input.Partitions(ctx)
		input.Close()
		if errors.Is(err, kafkaio.ErrNoTopic) {
			return fmt.Errorf("cases.partitions is 0, so the evidence and state topics take the input topic's partition count, "+
				"but input topic %s does not exist (yet): create it, or set cases.partitions", cfg.Input.Topic)
		}
		if err != nil {
			return err
		}
		inputPartitions = len(parts)
	}
	counts, err := kafkaio.EnsureTopics(ctx, conn, OwnedTopics(cfg, inputPartitions))
	if err != nil {
		return err
	}
	log.Info("owned topics ready", "partitions", counts)
	return nil
}

// followBindings returns a bindings table for a pipeline outside run (a
// retro job): the pins of snap, and the bindings topic read up to its end
// and followed until stop is called. The owned topics must exist
// (ensureOwnedTopics).
func followBindings(ctx context.Context, cfg config.Config, conn kafkaio.Connection, log *slog.Logger, snap *matchers.Snapshot) (table *accounts.Table, stop func(), err error) {
	table = accounts.NewTable()
	table.SetPins(Pins(snap))
	f := accounts.NewFollower(accounts.FollowerConfig{Conn: conn, Topic: cfg.Accounts.BindingsTopic, Table: table, MaxWait: cfg.Input.MaxWait, Logger: log})
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { // owned by the caller through stop
		defer close(done)
		f.Run(fctx)
	}()
	stop = func() { cancel(); <-done }
	select {
	case <-f.Done():
		return table, stop, nil
	case <-ctx.Done():
		stop()
		return nil, nil, fmt.Errorf("reading the bindings topic %s: %w", cfg.Accounts.BindingsTopic, ctx.Err())
	}
}

// TopicsReady returns a channel closed once the owned topics are there:
// the pipeline writes case evidence only then, so that its first writes do
// not fail and back off while the evidence topic is being created.
func (c *caseSystem) TopicsReady() <-chan struct{} { return c.topicsDone }

// startProcessing starts the case processor and the decisions forwarder,
// when cases are on.
func (c *caseSystem) startProcessing() error {
	cfg := c.cfg
	if !CasesOn(cfg) {
		return nil
	}
	drain := min(cfg.Pipeline.DrainTimeout, cfg.Input.RebalanceTimeout/2)
	var countEvent func(string) bool
	if c.breaker != nil {
		countEvent = func(demandID string) bool { return !c.breaker.Allow(demandID, time.Now()) }
	}
	proc, err := caseproc.Start(caseproc.Config{
		Conn: c.conn, Group: cfg.Input.Group + "-cases",
		EvidenceTopic: cfg.Cases.EvidenceTopic, StateTopic: cfg.Cases.StateTopic,
		CasesTopic: cfg.Cases.Topic, ShadowTopic: cfg.Output.ShadowTopic, EscalationTopic: cfg.Output.EscalationTopic,
		BindingsTopic: cfg.Accounts.BindingsTopic, DeadLetterTopic: cfg.Output.DeadLetterTopic,
		UpdateInterval:    cfg.Cases.UpdateInterval,
		CommitInterval:    max(cfg.Input.CommitInterval, time.Nanosecond), // 0: after every batch
		HeartbeatInterval: cfg.Input.HeartbeatInterval, SessionTimeout: cfg.Input.SessionTimeout, RebalanceTimeout: cfg.Input.RebalanceTimeout,
		MaxWait: cfg.Input.MaxWait, FetchMaxBytes: int(cfg.Input.FetchMaxBytes),
		DrainTimeout: drain, WriteTimeout: cfg.Output.WriteTimeout,
		CountEvent: countEvent,
		Logger:     c.log, Metrics: c.m.Cases, KafkaMetrics: c.m.Kafka,
	})
	if err != nil {
		return fmt.Errorf("%w: %w", errConfig, err)
	}
	var fwd *caseproc.Forwarder
	if cfg.Input.DecisionsTopic != "" {
		fwd, err = caseproc.StartForwarder(caseproc.ForwarderConfig{
			Conn: c.conn, Group: cfg.Input.Group + "-decisions", DecisionsTopic: cfg.Input.DecisionsTopic,
			EvidenceTopic: cfg.Cases.EvidenceTopic, DeadLetterTopic: cfg.Output.DeadLetterTopic,
			HeartbeatInterval: cfg.Input.HeartbeatInterval, SessionTimeout: cfg.Input.SessionTimeout, RebalanceTimeout: cfg.Input.RebalanceTimeout,
			MaxWait: cfg.Input.MaxWait, FetchMaxBytes: int(cfg.Input.FetchMaxBytes),
			DrainTimeout: drain, WriteTimeout: cfg.Output.WriteTimeout,
			Logger: c.log, Metrics: c.m.Cases, KafkaMetrics: c.m.Kafka,
		})
		if err != nil {
			proc.Close()
			return fmt.Errorf("%w: %w", errConfig, err)
		}
	}
	c.mu.Lock()
	c.proc, c.fwd = proc, fwd
	c.mu.Unlock()
	return nil
}

// bindings returns the pipeline's view of the bindings (Config.Bindings):
// the table, with the pins of the lists that snapshot returns set in it
// whenever the lists change.
func (c *caseSystem) bindings(snapshot func() *matchers.Snapshot) func() matchers.Bindings {
	var last atomic.Pointer[matchers.Snapshot]
	return func() matchers.Bindings {
		if s := snapshot(); s != nil && last.Swap(s) != s {
			c.Table.SetPins(Pins(s))
		}
		return c.Table
	}
}

// liveBindings returns the table as the live pipeline last set it: the
// retro-hunts of run read it so, without setting their selection's pins.
func (c *caseSystem) liveBindings() matchers.Bindings { return c.Table }

// Pins returns the pinned accounts of the active demands of s: normalized
// handle → user id. A handle pinned to two ids by two demands is left out:
// the table cannot say which is right, and each demand's own pins still
// apply to its entries in the matcher.
func Pins(s *matchers.Snapshot) map[string]string {
	pins := map[string]string{}
	conflict := map[string]bool{}
	for i, d := range s.Demands() {
		if !s.Active(i) {
			continue
		}
		for _, p := range d.Pins {
			h, err := cases.NormalizeHandle(p.Handle)
			if err != nil {
				continue
			}
			if id, ok := pins[h]; ok && id != p.UserID {
				conflict[h] = true
			}
			pins[h] = p.UserID
		}
	}
	for h := range conflict {
		delete(pins, h)
	}
	return pins
}

// Ready returns nil once the owned topics are there, the bindings table
// has caught up with the bindings topic and, with cases on, the case
// processor has restored its first partitions; else why not.
func (c *caseSystem) Ready() error {
	if !c.topicsReady.Load() {
		return errors.New("owned topics not created or checked yet")
	}
	if !c.follower.CaughtUp() {
		return errors.New("bindings table not caught up with the bindings topic yet")
	}
	if !CasesOn(c.cfg) {
		return nil
	}
	c.mu.Lock()
	proc := c.proc
	c.mu.Unlock()
	if proc == nil {
		return errors.New("case processor not started yet")
	}
	return proc.Ready()
}

// Close stops the start-up and the follower, then the forwarder, then the
// case processor, which commits what it applied and leaves its group.
func (c *caseSystem) Close() error {
	c.closeOnce.Do(func() {
		c.stop()
		c.wg.Wait()
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.fwd != nil {
			c.fwd.Close()
		}
		if c.proc != nil {
			c.proc.Close()
		}
	})
	return nil
}
