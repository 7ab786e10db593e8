package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/retry"
)

// ProducerConfig configures a Producer.
type ProducerConfig struct {
	// PartitionedTopics are the topics whose messages go to the partition
	// the message names (kafka.Message.Partition) instead of the one its
	// key hashes to: the case state topic, whose partition p must hold
	// the cases of the evidence partition p.
	PartitionedTopics []string
	BatchTimeout      time.Duration
	BatchSize         int
	MaxMessageBytes   int
	Compression       kafka.Compression
	WriteTimeout      time.Duration
	Logger            *slog.Logger
	// Metrics receives the producer's metrics; nil: unregistered ones.
	Metrics *Metrics
}

// Producer writes messages to any topic with acks=all, each keyed message
// to the partition its key hashes to (murmur2, as Kafka's Java client
// does: a compacted topic so keeps one record per key), retrying a failed
// write with backoff until it succeeds or ctx is done. The client itself
// makes one attempt per write, so that every retry is flagstream's, with
// its backoff, and counted. Sink, the case processor, the decisions
// forwarder and the retro progress store write through it. It is safe for
// concurrent use.
type Producer struct {
	w         *kafka.Writer
	transport *kafka.Transport
	cfg       ProducerConfig
}

// NewProducer returns a producer on conn.
func NewProducer(conn Connection, cfg ProducerConfig) *Producer {
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 1 << 20
	}
	if cfg.BatchTimeout <= 0 {
		cfg.BatchTimeout = 2 * time.Millisecond
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	t := conn.transport()
	w := &kafka.Writer{
		Addr:         kafka.TCP(conn.Brokers...),
		Balancer:     partitionedBalancer{topics: cfg.PartitionedTopics},
		MaxAttempts:  1,
		BatchSize:    cfg.BatchSize,
		BatchBytes:   int64(cfg.MaxMessageBytes) + 64<<10,
		BatchTimeout: cfg.BatchTimeout,
		WriteTimeout: cfg.WriteTimeout,
		ReadTimeout:  cfg.WriteTimeout,
		RequiredAcks: kafka.RequireAll,
		Compression:  cfg.Compression,
		Transport:    t,
		// Called as each produce request (one partition's batch) completes.
		Completion: func(msgs []kafka.Message, err error) {
			var size int64
			for i := range msgs {
				size += int64(len(msgs[i].Key) + len(msgs[i].Value))
			}
			cfg.Metrics.produced(len(msgs), size, err)
		},
	}
	if cfg.Logger != nil {
		w.ErrorLogger = kafka.LoggerFunc(func(format string, args ...any) {
			cfg.Logger.Warn("kafka producer: " + fmt.Sprintf(format, args...))
		})
	}
	return &Producer{w: w, transport: t, cfg: cfg}
}

// partitionedBalancer sends the messages of its topics to the partition
// they name and every other message by murmur2 of its key.
type partitionedBalancer struct {
	topics  []string
	murmur2 kafka.Murmur2Balancer
}

func (b partitionedBalancer) Balance(m kafka.Message, partitions ...int) int {
	if slices.Contains(b.topics, m.Topic) {
		return m.Partition
	}
	return b.murmur2.Balance(m, partitions...)
}

// Write produces msgs (each naming its topic) and returns once the broker
// has acknowledged all of them, or ctx.Err() once ctx is done. A message
// of a PartitionedTopics topic must name a partition that exists.
func (p *Producer) Write(ctx context.Context, msgs ...kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	backoff := retry.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	blocked := false
	defer func() {
		if blocked {
			p.cfg.Metrics.setBlocked(-1)
		}
	}()
	for {
		start := time.Now()
		err := p.w.WriteMessages(ctx, msgs...)
		if err == nil {
			p.cfg.Metrics.batchWritten(time.Since(start))
			return nil
		}
		if ctx.Err() != nil {
			p.cfg.Metrics.writeFailed(false)
			return ctx.Err()
		}
		p.cfg.Metrics.writeFailed(true)
		if !blocked {
			blocked = true
			p.cfg.Metrics.setBlocked(1)
		}
		var failed kafka.WriteErrors
		if errors.As(err, &failed) && len(failed) == len(msgs) {
			again := make([]kafka.Message, 0, failed.Count())
			for i, e := range failed {
				if e != nil {
					again = append(again, msgs[i])
				}
			}
			msgs = again
		}
		wait := backoff.Next()
		if p.cfg.Logger != nil {
			p.cfg.Logger.Warn("kafka write failed; retrying", "messages", len(msgs), "err", err, "backoff", wait)
		}
		if err := retry.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// Close flushes and closes the producer.
func (p *Producer) Close() error {
	err := p.w.Close()
	p.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("kafka producer close: %w", err)
	}
	return nil
}
