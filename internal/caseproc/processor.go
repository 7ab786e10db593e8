// Package caseproc is the Kafka side of cases: the case processor, which
// turns the evidence and decisions of the case evidence topic into case
// events, with the case states kept in the compacted case state topic, and
// the decisions forwarder, which re-keys reviewers' case decisions by case
// id onto the evidence topic. Every flagstream run instance runs both; the
// design is docs/cases.md ("Kafka Streams without Kafka Streams") and the
// pure state machine is pipeline/cases.
package caseproc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/kafkaio"
)

// Config configures a Processor.
type Config struct {
	Conn kafkaio.Connection
	// Group is the consumer group on the evidence topic:
	// <input.group>-cases.
	Group string
	// EvidenceTopic is consumed; StateTopic, co-partitioned with it,
	// holds the case states.
	EvidenceTopic, StateTopic string
	// CasesTopic takes the case events; ShadowTopic those of shadow-mode
	// and tripped demands; EscalationTopic, when set, those of exempt
	// accounts.
	CasesTopic, ShadowTopic, EscalationTopic string
	// BindingsTopic takes the bindings the cases learn or are pinned to;
	// DeadLetterTopic the inputs refused.
	BindingsTopic, DeadLetterTopic string
	// UpdateInterval is cases.update_interval.
	UpdateInterval time.Duration
	// TickInterval is how often pending updates are looked for (default
	// 1s); an `updated` is emitted within about TickInterval+MaxWait of
	// being due.
	TickInterval time.Duration
	// The consumer group's timing; see config.Input.
	HeartbeatInterval, SessionTimeout, RebalanceTimeout time.Duration
	// MaxWait bounds a fetch's wait for evidence (default 500ms);
	// FetchMinBytes is what it waits for (default 64 KiB), so that
	// evidence, a trickle beside the tweets, is applied in batches, each
	// making two writes and at most one commit; FetchMaxBytes bounds its
	// size (default 1 MiB).
	MaxWait                      time.Duration
	FetchMinBytes, FetchMaxBytes int
	// CommitInterval is the least time between two commits of a
	// partition (default 1s); the offset applied last is committed at the
	// latest when the partition is revoked. Committing later never loses
	// anything: the states are written first, and the inputs after the
	// last commit are applied again (over-counting) only after a crash.
	CommitInterval time.Duration
	// DrainTimeout bounds finishing the batch in hand once a partition is
	// revoked or the processor closes (default 10s); it must be well below
	// RebalanceTimeout, or the group goes on without this member while it
	// still writes. A batch not finished in time is not committed: the
	// partition's next owner applies it again.
	DrainTimeout time.Duration
	WriteTimeout time.Duration
	// CountEvent, when set, is the demands' circuit breaker: it is called
	// for each event of a live demand about to be written and reports
	// whether the demand has tripped on this instance, in which case the
	// event goes to the shadow topic with tripped: true.
	CountEvent func(demandID string) (tripped bool)
	// Now returns the current time; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Metrics and KafkaMetrics (the producer's) may be nil: unregistered
	// ones.
	Metrics      *Metrics
	KafkaMetrics *kafkaio.Metrics
}

func (c *Config) defaults() {
	if c.TickInterval <= 0 {
		c.TickInterval = time.Second
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 500 * time.Millisecond
	}
	if c.FetchMaxBytes <= 0 {
		c.FetchMaxBytes = 1 << 20
	}
	if c.FetchMinBytes <= 0 {
		c.FetchMinBytes = 64 << 10
	}
	if c.CommitInterval <= 0 {
		c.CommitInterval = time.Second
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics(nil)
	}
}

// Processor is the case processor of one instance. It is a member of a
// consumer group on the evidence topic; for each partition assigned to it,
// a goroutine restores the partition's case states from the state topic,
// then applies the partition's inputs in order, per fetched batch: the
// events (and learned bindings, and refused inputs) are written and
// acknowledged first, then the last state of each case the batch touched,
// then the batch's offset is committed (at most every CommitInterval, and
// when the partition is revoked). So a crash repeats at most the
// last batch's events and counts (never loses one), and a partition that
// changes hands (a graceful stop, a rebalance, a new instance) is taken
// over exactly where it was left. See docs/cases.md.
type Processor struct {
	cfg Config
	member

	ready     atomic.Bool
	restoring atomic.Int32

	mu   sync.Mutex          // guards what follows
	lag  map[int]int64       // partition → evidence records not yet applied
	held map[int]int         // partition → cases held
	gen  *kafka.Generation   // the current generation, nil before the first
	errs map[string]struct{} // error kinds logged in this generation
}

// Start returns a processor that has begun joining its group.
func Start(cfg Config) (*Processor, error) {
	cfg.defaults()
	cg, err := kafkaio.NewConsumerGroup(cfg.Conn, kafkaio.GroupConfig{
		ID: cfg.Group, Topic: cfg.EvidenceTopic,
		HeartbeatInterval: cfg.HeartbeatInterval, SessionTimeout: cfg.SessionTimeout, RebalanceTimeout: cfg.RebalanceTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("case processor: %w", err)
	}
	p := &Processor{
		cfg: cfg,
		member: member{
			cg: cg,
			producer: kafkaio.NewProducer(cfg.Conn, kafkaio.ProducerConfig{
				PartitionedTopics: []string{cfg.StateTopic}, WriteTimeout: cfg.WriteTimeout,
				Logger: cfg.Logger, Metrics: cfg.KafkaMetrics,
			}),
			fetcher: kafkaio.NewFetcher(cfg.Conn, cfg.EvidenceTopic, cfg.MaxWait, cfg.FetchMaxBytes),
		},
		lag:  map[int]int64{},
		held: map[int]int{},
	}
	p.fetcher.MinBytes = cfg.FetchMinBytes
	p.start(p.run)
	return p, nil
}

// Ready returns nil once the processor has restored the case states of
// every partition of a generation it joined (at once for a generation
// that assigned it none), else why it is not ready.
func (p *Processor) Ready() error {
	if p.ready.Load() {
		return nil
	}
	if n := p.restoring.Load(); n > 0 {
		return fmt.Errorf("case processor restoring the states of %d partitions", n)
	}
	return errors.New("case processor has not joined its group yet")
}

// run takes the group's generations until the group is closed.
func (p *Processor) run(ctx context.Context) {
	kafkaio.TakeGenerations(ctx, p.cg, p.failed, p.startGeneration)
}

func (p *Processor) startGeneration(gen *kafka.Generation) {
	assigned := gen.Assignments[p.cfg.EvidenceTopic]
	parts := make([]int, len(assigned))
	for i, a := range assigned {
		parts[i] = a.ID
	}
	p.mu.Lock()
	p.gen = gen
	p.errs = map[string]struct{}{}
	p.mu.Unlock()
	p.cfg.Metrics.assigned.Set(float64(len(assigned)))
	p.cfg.Logger.Info("case processor joined group", "group", p.cfg.Group, "generation", gen.ID, "partitions", parts)
	left := &atomic.Int32{}
	left.Store(int32(len(assigned)))
	if len(assigned) == 0 {
		p.ready.Store(true)
	}
	restored := func() {
		if left.Add(-1) == 0 {
			p.ready.Store(true)
		}
	}
	for _, a := range assigned {
		gen.Start(func(ctx context.Context) { p.runPartition(ctx, gen, a.ID, a.Offset, restored) })
	}
}

// failed counts an error and logs it, once per kind and generation.
func (p *Processor) failed(what string, err error) {
	p.cfg.Metrics.errors.Inc()
	p.mu.Lock()
	_, seen := p.errs[what]
	if p.errs == nil {
		p.errs = map[string]struct{}{}
	}
	p.errs[what] = struct{}{}
	p.mu.Unlock()
	if !seen {
		p.cfg.Logger.Warn("case processor: "+what+" failed; retrying", "group", p.cfg.Group, "err", err)
	}
}

// setLag records the evidence records of a partition not yet applied;
// a negative lag forgets the partition.
func (p *Processor) setLag(partition int, lag int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg.Metrics.lagRecords.Set(float64(setPartition(p.lag, partition, lag)))
}

// setHeld records the cases held for a partition; n < 0 forgets it.
func (p *Processor) setHeld(partition, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg.Metrics.held.Set(float64(setPartition(p.held, partition, n)))
}

// setPartition sets a partition's count in byPartition (n < 0 forgets the
// partition) and returns the sum over the partitions.
func setPartition[N int | int64](byPartition map[int]N, partition int, n N) N {
	if n < 0 {
		delete(byPartition, partition)
	} else {
		byPartition[partition] = n
	}
	var sum N
	for _, v := range byPartition {
		sum += v
	}
	return sum
}

// Close stops the processor gracefully: each partition finishes the batch
// in hand (within DrainTimeout), writes its states and commits, then the
// processor leaves the group, so the partitions' next owners restore
// states that include everything it acknowledged.
func (p *Processor) Close() error {
	p.close(p.cfg.DrainTimeout)
	p.cfg.Metrics.assigned.Set(0)
	return nil
}
