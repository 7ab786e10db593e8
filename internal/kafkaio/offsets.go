package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"
)

// Offsets answers what a topic's partitions hold: their offsets at both
// ends, the offset for a time (Kafka's offsets-for-times), and the time of
// a record. It reads and never commits.
type Offsets struct {
	topic     string
	client    *kafka.Client
	transport *kafka.Transport
}

// NewOffsets returns an Offsets of topic; Close releases its connections.
func NewOffsets(conn Connection, topic string) *Offsets {
	t := conn.transport()
	return &Offsets{topic: topic, client: &kafka.Client{Addr: kafka.TCP(conn.Brokers...), Transport: t}, transport: t}
}

// Close closes the connections.
func (o *Offsets) Close() { o.transport.CloseIdleConnections() }

// ErrNoTopic is returned for a topic that the cluster does not have.
var ErrNoTopic = errors.New("no such topic")

// Partitions returns the topic's partitions, sorted.
func (o *Offsets) Partitions(ctx context.Context) ([]int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := o.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{o.topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", o.topic, err)
	}
	for _, t := range res.Topics {
		if t.Name != o.topic {
			continue
		}
		if t.Error != nil {
			if errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
				return nil, fmt.Errorf("topic %s: %w", o.topic, ErrNoTopic)
			}
			return nil, fmt.Errorf("metadata of %s: %w", o.topic, t.Error)
		}
		out := make([]int, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			out = append(out, p.ID)
		}
		slices.Sort(out)
		if len(out) == 0 {
			return nil, fmt.Errorf("topic %s: %w", o.topic, ErrNoTopic)
		}
		return out, nil
	}
	return nil, fmt.Errorf("topic %s: %w", o.topic, ErrNoTopic)
}

// First returns the earliest offset each partition retains.
func (o *Offsets) First(ctx context.Context, partitions []int) (map[int]int64, error) {
	return listOffsets(ctx, o.client, o.topic, partitions, kafka.FirstOffset)
}

// End returns each partition's end offset: the offset its next record
// will have.
func (o *Offsets) End(ctx context.Context, partitions []int) (map[int]int64, error) {
	return listOffsets(ctx, o.client, o.topic, partitions, kafka.LastOffset)
}

// ForTime returns, for each partition, the offset of its first record
// whose timestamp is at or after t, or -1 when it has none.
func (o *Offsets) ForTime(ctx context.Context, partitions []int, t time.Time) (map[int]int64, error) {
	ms := t.UnixMilli()
	if ms < 0 {
		ms = 0 // the special values -1 and -2 mean the ends
	}
	return listOffsets(ctx, o.client, o.topic, partitions, ms)
}

// RecordTime returns the timestamp of the first record of partition at or
// after offset, and its offset; io.EOF when there is none.
func (o *Offsets) RecordTime(ctx context.Context, partition int, offset int64) (time.Time, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := o.client.Fetch(ctx, &kafka.FetchRequest{
		Topic: o.topic, Partition: partition, Offset: offset, MinBytes: 1, MaxBytes: 64 << 10, MaxWait: 100 * time.Millisecond,
	})
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("fetch %s/%d at %d: %w", o.topic, partition, offset, err)
	}
	if res.Error != nil {
		return time.Time{}, 0, fmt.Errorf("fetch %s/%d at %d: %w", o.topic, partition, offset, res.Error)
	}
	c, _, _, err := newChunk(nil, partition, offset, res.HighWatermark, res.Records, nil)
	if c == nil {
		if err != nil {
			return time.Time{}, 0, fmt.Errorf("fetch %s/%d at %d: %w", o.topic, partition, offset, err)
		}
		return time.Time{}, 0, io.EOF
	}
	defer c.release()
	return c.recs[0].time, c.recs[0].offset, nil
}
