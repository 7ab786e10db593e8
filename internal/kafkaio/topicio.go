package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/retry"
	"flagstream/pipeline"
)

// KeyedWriter produces keyed records to one topic with acks=all, each key
// to the partition murmur2 gives it (as Kafka's Java client would), so a
// compacted topic keeps one record per key. Write returns once every
// record is acknowledged, retrying with backoff until then or until ctx
// ends.
type KeyedWriter struct {
	w         *kafka.Writer
	transport *kafka.Transport
	log       *slog.Logger
}

// NewKeyedWriter returns a writer of topic.
func NewKeyedWriter(conn Connection, topic string, log *slog.Logger) *KeyedWriter {
	t := conn.transport()
	return &KeyedWriter{
		w: &kafka.Writer{
			Addr: kafka.TCP(conn.Brokers...), Topic: topic, Balancer: &kafka.Murmur2Balancer{},
			MaxAttempts: 1, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll, Transport: t,
			WriteTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
		},
		transport: t,
		log:       log,
	}
}

// Write produces the records (key, value pairs) and waits for their
// acknowledgement.
func (w *KeyedWriter) Write(ctx context.Context, records ...kafka.Message) error {
	backoff := retry.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	for {
		err := w.w.WriteMessages(ctx, records...)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("write to %s: %w", w.w.Topic, ctx.Err())
		}
		if w.log != nil {
			w.log.Warn("kafka write failed; retrying", "topic", w.w.Topic, "records", len(records), "err", err)
		}
		if err := backoff.Wait(ctx); err != nil {
			return fmt.Errorf("write to %s: %w", w.w.Topic, err)
		}
	}
}

// Close flushes and closes the writer.
func (w *KeyedWriter) Close() error {
	err := w.w.Close()
	w.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("close writer of %s: %w", w.w.Topic, err)
	}
	return nil
}

// ReadTopic calls fn with every record topic holds now, from each
// partition's earliest retained offset up to its end offset at the call,
// in offset order within a partition. A compacted topic so reads as its
// current state: a later record of a key replaces an earlier one.
func ReadTopic(ctx context.Context, conn Connection, topic string, fn func(r *pipeline.Record) error) error {
	o := NewOffsets(conn, topic)
	defer o.Close()
	parts, err := o.Partitions(ctx)
	if err != nil {
		return err
	}
	first, err := o.First(ctx, parts)
	if err != nil {
		return err
	}
	end, err := o.End(ctx, parts)
	if err != nil {
		return err
	}
	ranges := make([]PartitionRange, 0, len(parts))
	for _, p := range parts {
		ranges = append(ranges, PartitionRange{Partition: int32(p), Start: first[p], End: end[p]})
	}
	s := NewRangeSource(conn, RangeConfig{Topic: topic, Ranges: ranges})
	defer s.Close()
	var b pipeline.Batch
	for {
		b.Records, b.Data = b.Records[:0], b.Data[:0]
		err := s.Fetch(ctx, &b)
		for i := range b.Records {
			if ferr := fn(&b.Records[i]); ferr != nil {
				return ferr
			}
		}
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("read %s: %w", topic, err)
		}
	}
}
