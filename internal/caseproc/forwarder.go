package caseproc

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/kafkaio"
	"flagstream/pipeline/cases"
)

// ForwarderConfig configures a Forwarder.
type ForwarderConfig struct {
	Conn kafkaio.Connection
	// Group is the consumer group on the decisions topic:
	// <input.group>-decisions.
	Group          string
	DecisionsTopic string
	// EvidenceTopic takes the case decisions, keyed by case id;
	// DeadLetterTopic the records that are not valid decisions.
	EvidenceTopic, DeadLetterTopic                      string
	HeartbeatInterval, SessionTimeout, RebalanceTimeout time.Duration
	MaxWait                                             time.Duration
	FetchMaxBytes                                       int
	DrainTimeout, WriteTimeout                          time.Duration
	Logger                                              *slog.Logger
	Metrics                                             *Metrics
	KafkaMetrics                                        *kafkaio.Metrics
}

// Forwarder reads reviewers' decisions (flagstream.review_decision/v1)
// from the decisions topic in a consumer group, and forwards each case
// decision to the evidence topic, keyed by its case id, so that it reaches
// the case's processor in order with the case's evidence. A record that is
// not a valid decision goes to the dead-letter topic (reason
// invalid_decision, the original bytes and headers); a task decision is
// left to the report, which reads the decisions topic itself. Offsets are
// committed once what a batch made is acknowledged.
type Forwarder struct {
	cfg ForwarderConfig
	member
}

// StartForwarder returns a forwarder that has begun joining its group.
func StartForwarder(cfg ForwarderConfig) (*Forwarder, error) {
	c := Config{MaxWait: cfg.MaxWait, FetchMaxBytes: cfg.FetchMaxBytes, DrainTimeout: cfg.DrainTimeout, Logger: cfg.Logger, Metrics: cfg.Metrics}
	c.defaults()
	cfg.MaxWait, cfg.FetchMaxBytes, cfg.DrainTimeout, cfg.Logger, cfg.Metrics = c.MaxWait, c.FetchMaxBytes, c.DrainTimeout, c.Logger, c.Metrics
	cg, err := kafkaio.NewConsumerGroup(cfg.Conn, kafkaio.GroupConfig{
		ID: cfg.Group, Topic: cfg.DecisionsTopic,
		HeartbeatInterval: cfg.HeartbeatInterval, SessionTimeout: cfg.SessionTimeout, RebalanceTimeout: cfg.RebalanceTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("decisions forwarder: %w", err)
	}
	f := &Forwarder{cfg: cfg, member: member{
		cg:       cg,
		producer: kafkaio.NewProducer(cfg.Conn, kafkaio.ProducerConfig{WriteTimeout: cfg.WriteTimeout, Logger: cfg.Logger, Metrics: cfg.KafkaMetrics}),
		fetcher:  kafkaio.NewFetcher(cfg.Conn, cfg.DecisionsTopic, cfg.MaxWait, cfg.FetchMaxBytes),
	}}
	f.start(f.run)
	return f, nil
}

func (f *Forwarder) run(ctx context.Context) {
	kafkaio.TakeGenerations(ctx, f.cg, f.failed, func(gen *kafka.Generation) {
		for _, a := range gen.Assignments[f.cfg.DecisionsTopic] {
			gen.Start(func(ctx context.Context) { f.runPartition(ctx, gen, a.ID, a.Offset) })
		}
		f.cfg.Logger.Info("decisions forwarder joined group", "group", f.cfg.Group, "generation", gen.ID,
			"partitions", len(gen.Assignments[f.cfg.DecisionsTopic]))
	})
}

func (f *Forwarder) failed(what string, err error) {
	f.cfg.Metrics.errors.Inc()
	f.cfg.Logger.Warn("decisions forwarder: "+what+" failed; retrying", "group", f.cfg.Group, "err", err)
}

// runPartition forwards a partition's decisions from offset on until the
// generation ends.
func (f *Forwarder) runPartition(genCtx context.Context, gen *kafka.Generation, id int, offset int64) {
	ctx, cancel := context.WithCancel(genCtx)
	defer cancel()
	wctx, cancelWrites := drainContext(ctx, f.base, f.cfg.DrainTimeout)
	defer cancelWrites()
	var out []kafka.Message
	lost := "decisions forwarder: decisions removed by the topic's retention before they were read"
	follow(ctx, f.fetcher, id, offset, f.failed, f.cfg.Logger, lost, func(msgs []kafkaio.Message, next, _ int64) error {
		if len(msgs) == 0 {
			return nil
		}
		out = f.forward(msgs, out[:0])
		if err := f.producer.Write(wctx, out...); err != nil {
			return err // not committed: read again by the next owner
		}
		offsets := map[string]map[int]int64{f.cfg.DecisionsTopic: {id: next}}
		if err := gen.CommitOffsets(offsets); err != nil {
			f.failed(fmt.Sprintf("commit partition %d", id), err)
		}
		return nil
	})
}

// forward appends to out the records that msgs make: each case decision
// on the evidence topic, each invalid record on the dead-letter topic.
func (f *Forwarder) forward(msgs []kafkaio.Message, out []kafka.Message) []kafka.Message {
	m := f.cfg.Metrics.forwarded
	for i := range msgs {
		msg := &msgs[i]
		src := cases.Source{Topic: f.cfg.DecisionsTopic, Partition: int32(msg.Partition), Offset: msg.Offset}
		in, ok, err := cases.DecisionInput(msg.Value, src)
		if err == nil && ok {
			var v []byte
			if v, err = in.Append(nil); err == nil {
				m.WithLabelValues("forwarded").Inc()
				out = append(out, kafka.Message{Topic: f.cfg.EvidenceTopic, Key: []byte(in.CaseID()),
					Value: bytes.TrimSuffix(v, []byte("\n")), Headers: schemaHeader(cases.InputSchemaID)})
				continue
			}
		}
		if err == nil {
			m.WithLabelValues("task").Inc()
			continue
		}
		m.WithLabelValues("invalid").Inc()
		out = append(out, deadLetterOf(f.cfg.DeadLetterTopic, f.cfg.DecisionsTopic, msg, err))
	}
	return out
}

// Close stops the forwarder: each partition finishes the batch in hand
// (within DrainTimeout) and commits, then it leaves the group.
func (f *Forwarder) Close() error {
	f.close(f.cfg.DrainTimeout)
	return nil
}
