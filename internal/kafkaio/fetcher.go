package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// Fetcher is flagstream's one client of one topic's partitions: what they
// hold (their offsets at both ends, the offset for a time, the time of a
// record) and their records from given offsets, read through
// ReadPartition (in this package, its cursor). GroupSource, RangeSource,
// ReadPartitions, TopicReader, the case processor's consumers and
// retro-hunt planning all fetch through one. Records are fetched over its
// own connections (wireClient); from a broker the wire fetcher cannot
// speak to, and for records of message format v0/v1, through kafka-go's
// Client.Fetch. It joins no group and
// commits nothing. It is safe for concurrent use.
type Fetcher struct {
	client    *kafka.Client
	transport *kafka.Transport
	wire      *wireClient // nil (tests): every fetch through client
	topic     string
	maxWait   time.Duration
	maxBytes  int
	// MinBytes is how many bytes of records a fetch waits for, up to
	// maxWait (default 1: it returns as soon as there is one record). A
	// consumer of a trickle (the case processor) sets more, so that its
	// batches, and the writes and commits made per batch, are fewer.
	MinBytes int
}

// NewFetcher returns a fetcher of topic whose fetches wait up to maxWait
// for records (default 500ms) and return up to maxBytes (default 1 MiB;
// a larger record batch comes whole); one that only looks offsets up
// takes zeros. Close releases its connections.
func NewFetcher(conn Connection, topic string, maxWait time.Duration, maxBytes int) *Fetcher {
	if maxWait <= 0 {
		maxWait = 500 * time.Millisecond
	}
	if maxBytes <= 0 {
		maxBytes = 1 << 20
	}
	t := conn.transport()
	return &Fetcher{client: conn.client(t), transport: t, wire: newWireClient(conn, topic), topic: topic, maxWait: maxWait, maxBytes: maxBytes}
}

// Topic returns the topic the fetcher reads.
func (f *Fetcher) Topic() string { return f.topic }

// Close closes the fetcher's idle connections.
func (f *Fetcher) Close() {
	f.transport.CloseIdleConnections()
	if f.wire != nil {
		f.wire.closeIdle()
	}
}

// ErrNoTopic is returned for a topic that the cluster does not have; the
// error wraps kafka.UnknownTopicOrPartition too.
var ErrNoTopic = errors.New("no such topic")

func noTopic(topic string) error {
	return fmt.Errorf("topic %s: %w (%w)", topic, ErrNoTopic, kafka.UnknownTopicOrPartition)
}

// Partitions returns the topic's partitions, sorted; an ErrNoTopic error
// when it does not exist.
func (f *Fetcher) Partitions(ctx context.Context) ([]int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	counts, err := partitionCounts(ctx, f.client, []string{f.topic})
	if err != nil {
		return nil, fmt.Errorf("topic %s: %w", f.topic, err)
	}
	n := counts[f.topic]
	if n == 0 {
		return nil, noTopic(f.topic)
	}
	out := make([]int, n)
	for p := range out {
		out[p] = p
	}
	return out, nil
}

// First returns the earliest offset each partition retains.
func (f *Fetcher) First(ctx context.Context, partitions []int) (map[int]int64, error) {
	return listOffsets(ctx, f.client, f.topic, partitions, kafka.FirstOffset)
}

// End returns each partition's end offset: the offset its next record
// will have.
func (f *Fetcher) End(ctx context.Context, partitions []int) (map[int]int64, error) {
	return listOffsets(ctx, f.client, f.topic, partitions, kafka.LastOffset)
}

// ForTime returns, for each partition, the offset of its first record
// whose timestamp is at or after t (Kafka's offsets-for-times), or -1
// when it has none.
func (f *Fetcher) ForTime(ctx context.Context, partitions []int, t time.Time) (map[int]int64, error) {
	ms := t.UnixMilli()
	if ms < 0 {
		ms = 0 // the special values -1 and -2 mean the ends
	}
	return listOffsets(ctx, f.client, f.topic, partitions, ms)
}

// offset returns the first or last offset (kafka.FirstOffset or
// kafka.LastOffset) of a partition.
func (f *Fetcher) offset(ctx context.Context, partition int, which int64) (int64, error) {
	offs, err := listOffsets(ctx, f.client, f.topic, []int{partition}, which)
	if err != nil {
		return 0, err
	}
	return offs[partition], nil
}

// RecordTime returns the timestamp of the first record of partition at or
// after offset, and its offset; io.EOF when there is none.
func (f *Fetcher) RecordTime(ctx context.Context, partition int, offset int64) (time.Time, int64, error) {
	c, _, _, err := f.fetchChunk(ctx, partition, offset, fetchOptions{maxWait: 100 * time.Millisecond, maxBytes: 64 << 10})
	if c == nil {
		if err != nil {
			return time.Time{}, 0, fmt.Errorf("fetch %s/%d at %d: %w", f.topic, partition, offset, err)
		}
		return time.Time{}, 0, io.EOF
	}
	defer c.release()
	return c.recs[0].time, c.recs[0].offset, nil
}

// fetchOptions are a fetch's own bounds (zero: the fetcher's), where its
// chunk goes (the generation it belongs to and the pool of its records'
// slices) and, if set, what is told of each fetch that answers: its
// records and their keys' and values' size (GroupSource's metrics).
type fetchOptions struct {
	maxWait  time.Duration
	maxBytes int
	gen      *generation
	pool     *sync.Pool
	fetched  func(records int, size int64)
}

// fetchChunk fetches the records of a partition from offset on. It
// returns a nil chunk when there were none within the wait, the offset to
// fetch next and the partition's high watermark; o.fetched hears the
// records' count and the size of their keys and values. A record that does not read ends the chunk before it;
// with no record before it, it is the error.
func (f *Fetcher) fetchChunk(ctx context.Context, partition int, offset int64, o fetchOptions) (c *chunk, next, hwm int64, err error) {
	if o.maxWait <= 0 {
		o.maxWait = f.maxWait
	}
	if o.maxBytes <= 0 {
		o.maxBytes = f.maxBytes
	}
	// The broker waits up to maxWait; the response then has 10 s more.
	ctx, cancel := context.WithTimeout(ctx, o.maxWait+10*time.Second)
	defer cancel()
	minBytes := max(f.MinBytes, 1)
	if f.wire != nil && !f.wire.unsupported.Load() {
		res, err := f.wire.fetch(ctx, partition, offset, minBytes, o.maxBytes, o.maxWait)
		if err == nil {
			c, next, hwm, err = f.wireChunk(res, partition, offset, o)
		}
		if !errors.Is(err, errWireUnsupported) && !errors.Is(err, errLegacyRecords) {
			return c, next, hwm, err
		}
	}
	res, err := f.client.Fetch(ctx, &kafka.FetchRequest{
		Topic: f.topic, Partition: partition, Offset: offset,
		MinBytes: int64(minBytes), MaxBytes: int64(o.maxBytes), MaxWait: o.maxWait,
	})
	if err != nil {
		return nil, offset, 0, err
	}
	if res.Error != nil {
		return nil, offset, res.HighWatermark, res.Error
	}
	c, next, size, err := newChunk(o.gen, partition, offset, res.HighWatermark, res.Records, o.pool)
	return f.fetched(c, next, res.HighWatermark, size, err, offset, o)
}

// wireChunk reads the records of a wire fetch's response into a chunk
// that holds the response's buffer.
func (f *Fetcher) wireChunk(res wireResponse, partition int, offset int64, o fetchOptions) (c *chunk, next, hwm int64, err error) {
	if res.err != nil {
		f.wire.bufs.Put(res.buf)
		return nil, offset, res.hwm, res.err
	}
	c = newEmptyChunk(o.gen, partition, res.hwm, o.pool)
	c.buf, c.bufPool = res.buf, &f.wire.bufs
	next, size, err := appendRecordBatches(c, res.records, offset)
	if len(c.recs) == 0 {
		c.release()
		c = nil
	}
	return f.fetched(c, next, res.hwm, size, err, offset, o)
}

// fetched is the end of fetchChunk: a chunk with records comes with no
// error (a broken tail is fetched again from next); without records, the
// error is returned.
func (f *Fetcher) fetched(c *chunk, next, hwm, size int64, err error, offset int64, o fetchOptions) (*chunk, int64, int64, error) {
	if c != nil {
		if o.fetched != nil {
			o.fetched(len(c.recs), size)
		}
		return c, next, hwm, nil
	}
	if err != nil {
		return nil, offset, hwm, err
	}
	if o.fetched != nil {
		o.fetched(0, 0)
	}
	return nil, next, hwm, nil
}

// listOffsets returns, for each partition, the offset for timestamp: a
// time in milliseconds, kafka.FirstOffset or kafka.LastOffset. For a time,
// a partition with no record at or after it answers -1.
func listOffsets(ctx context.Context, client *kafka.Client, topic string, partitions []int, timestamp int64) (map[int]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	reqs := make([]kafka.OffsetRequest, len(partitions))
	for i, p := range partitions {
		reqs[i] = kafka.OffsetRequest{Partition: p, Timestamp: timestamp}
	}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	out := make(map[int]int64, len(partitions))
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("list offsets of %s/%d: %w", topic, p.Partition, p.Error)
		}
		switch timestamp {
		case kafka.FirstOffset:
			out[p.Partition] = p.FirstOffset
		case kafka.LastOffset:
			out[p.Partition] = p.LastOffset
		default:
			off := int64(-1)
			for o := range p.Offsets {
				if off < 0 || o < off {
					off = o
				}
			}
			out[p.Partition] = off
		}
	}
	for _, p := range partitions {
		if _, ok := out[p]; !ok {
			return nil, fmt.Errorf("list offsets of %s: no answer for partition %d", topic, p)
		}
	}
	return out, nil
}
