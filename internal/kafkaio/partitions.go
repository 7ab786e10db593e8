package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"golang.org/x/sync/errgroup"

	"flagstream/internal/retry"
)

// Message is a record read by ReadPartitions. Key, Value and Headers are
// the caller's: nothing else refers to them.
type Message struct {
	Partition int
	Offset    int64
	Time      time.Time
	Key       []byte // nil when null
	Value     []byte // nil when null (a tombstone)
	Headers   []kafka.Header
}

// ReadConfig says what ReadPartitions reads.
type ReadConfig struct {
	Topic string
	// Partitions are the partitions to read; nil: every partition of the
	// topic.
	Partitions []int
	// From is the offset each partition starts at; a partition absent
	// from it starts at its first offset. kafka.FirstOffset and
	// kafka.LastOffset may be given.
	From map[int]int64
	// Until is the end offset (exclusive) of each partition; a partition
	// absent from it ends at the end offset found when the read starts.
	Until map[int]int64
	// Follow keeps reading past the end offsets, until ctx is done.
	Follow bool
	// MaxWait is how long a fetch waits for new records (default 500ms);
	// MaxBytes bounds one fetch (default 1 MiB).
	MaxWait  time.Duration
	MaxBytes int
	// Started, if set, is called once with the offsets the read starts at
	// and ends at (for a following read: the end offsets found at start),
	// before any message; a progress display or a retro-hunt job keeps
	// them.
	Started func(from, until map[int]int64)
	// CaughtUp, if set, is called once every partition has been read up
	// to its end offset (at once when there was nothing to read), after
	// the last fn call of those records.
	CaughtUp func()
	Logger   *slog.Logger
}

// ReadPartitions reads the given partitions of a topic from the given
// offsets, each fetch's records of a partition in offset order, and hands
// them to fn, one call at a time: the state restore of the case processor,
// the bindings follower, the report's and the retro-hunt's readers. A
// bounded read (Follow false) returns nil once every partition has reached
// its end offset; a following read keeps going until ctx is done. Either
// returns ctx.Err() once ctx is done. An error of fn stops the read and is
// returned.
//
// A topic that does not exist is an error wrapping
// kafka.UnknownTopicOrPartition. Other broker errors are retried with
// backoff until ctx is done. Control records (of transactions) are
// skipped; an offset that retention has removed restarts the partition
// at its first offset, with a warning.
func ReadPartitions(ctx context.Context, conn Connection, cfg ReadConfig, fn func([]Message) error) error {
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 500 * time.Millisecond
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 20
	}
	f := NewFetcher(conn, cfg.Topic, cfg.MaxWait, cfg.MaxBytes)
	defer f.Close()
	r := &partitionReader{cfg: cfg, client: f.client, fetcher: f, fn: fn}
	from, until, err := r.bounds(ctx)
	if err != nil {
		return err
	}
	if cfg.Started != nil {
		cfg.Started(from, until)
	}
	r.remaining = 0
	for p := range from {
		if from[p] < until[p] {
			r.remaining++
		}
	}
	if r.remaining == 0 {
		r.caughtUp()
	}
	g, gctx := errgroup.WithContext(ctx)
	for p := range from {
		g.Go(func() error { return r.read(gctx, p, from[p], until[p]) })
	}
	return g.Wait()
}

type partitionReader struct {
	cfg     ReadConfig
	client  *kafka.Client
	fetcher *Fetcher

	mu        sync.Mutex // serializes fn and guards what follows
	fn        func([]Message) error
	remaining int // partitions not yet read to their end offset
	caught    bool
}

// bounds resolves the partitions and their start and end offsets,
// retrying broker errors until ctx is done.
func (r *partitionReader) bounds(ctx context.Context) (from, until map[int]int64, err error) {
	backoff := retry.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	for {
		from, until, err = r.tryBounds(ctx)
		if err == nil || errors.Is(err, kafka.UnknownTopicOrPartition) {
			return from, until, err
		}
		if r.cfg.Logger != nil {
			r.cfg.Logger.Warn("kafka read: listing offsets failed; retrying", "topic", r.cfg.Topic, "err", err)
		}
		if werr := backoff.Wait(ctx); werr != nil {
			return nil, nil, fmt.Errorf("read %s: %w (last error: %w)", r.cfg.Topic, werr, err)
		}
	}
}

func (r *partitionReader) tryBounds(ctx context.Context) (from, until map[int]int64, err error) {
	parts := r.cfg.Partitions
	if parts == nil {
		n, err := partitionCounts(ctx, r.client, []string{r.cfg.Topic})
		if err != nil {
			return nil, nil, err
		}
		count, ok := n[r.cfg.Topic]
		if !ok {
			return nil, nil, fmt.Errorf("read topic %s: %w", r.cfg.Topic, kafka.UnknownTopicOrPartition)
		}
		for p := range count {
			parts = append(parts, p)
		}
	}
	first, err := listOffsets(ctx, r.client, r.cfg.Topic, parts, kafka.FirstOffset)
	if err != nil {
		return nil, nil, err
	}
	last, err := listOffsets(ctx, r.client, r.cfg.Topic, parts, kafka.LastOffset)
	if err != nil {
		return nil, nil, err
	}
	from, until = map[int]int64{}, map[int]int64{}
	for _, p := range parts {
		f, ok := r.cfg.From[p]
		switch {
		case !ok || f == kafka.FirstOffset:
			f = first[p]
		case f == kafka.LastOffset:
			f = last[p]
		case f < first[p]:
			f = first[p] // removed by retention
		case f > last[p]:
			f = last[p]
		}
		u, ok := r.cfg.Until[p]
		if !ok {
			u = last[p]
		}
		from[p], until[p] = f, u
	}
	return from, until, nil
}

// OffsetsAt returns, for each partition of topic, the offset of its first
// record written at or after t (Kafka's offsets-for-times), or its end
// offset when there is none: where a read of the records since t starts.
func OffsetsAt(ctx context.Context, conn Connection, topic string, partitions []int, t time.Time) (map[int]int64, error) {
	tr := conn.transport()
	defer tr.CloseIdleConnections()
	c := conn.client(tr)
	req := make([]kafka.OffsetRequest, len(partitions))
	for i, p := range partitions {
		req[i] = kafka.TimeOffsetOf(p, t)
	}
	res, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
	if err != nil {
		return nil, fmt.Errorf("offsets of %s at %s: %w", topic, t.Format(time.RFC3339), err)
	}
	last, err := listOffsets(ctx, c, topic, partitions, kafka.LastOffset)
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("offsets of %s/%d at %s: %w", topic, p.Partition, t.Format(time.RFC3339), p.Error)
		}
		off := int64(-1)
		for o := range p.Offsets {
			if off < 0 || o < off {
				off = o
			}
		}
		if off < 0 {
			off = last[p.Partition]
		}
		out[p.Partition] = off
	}
	for _, p := range partitions {
		if _, ok := out[p]; !ok {
			return nil, fmt.Errorf("offsets of %s at %s: no answer for partition %d", topic, t.Format(time.RFC3339), p)
		}
	}
	return out, nil
}

// read reads one partition from offset on, up to until unless following.
func (r *partitionReader) read(ctx context.Context, partition int, offset, until int64) error {
	backoff := retry.Backoff{Min: 50 * time.Millisecond, Max: 5 * time.Second}
	reached := offset >= until
	for {
		if reached && !r.cfg.Follow {
			return nil
		}
		msgs, next, _, err := r.fetcher.Fetch(ctx, partition, offset)
		switch {
		case err == nil:
			backoff.Reset()
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, kafka.OffsetOutOfRange):
			first, lerr := r.fetcher.Offset(ctx, partition, kafka.FirstOffset)
			if lerr == nil {
				if r.cfg.Logger != nil {
					r.cfg.Logger.Warn("kafka read: offset removed by retention; going on at the first offset",
						"topic", r.cfg.Topic, "partition", partition, "offset", offset, "first", first)
				}
				offset = first
				continue
			}
			err = lerr
			fallthrough
		default:
			if r.cfg.Logger != nil {
				r.cfg.Logger.Warn("kafka read failed; retrying", "topic", r.cfg.Topic, "partition", partition, "err", err)
			}
			if err := backoff.Wait(ctx); err != nil {
				return err
			}
			continue
		}
		if !r.cfg.Follow {
			// A bounded read keeps only the records before until.
			keep := msgs[:0]
			for _, m := range msgs {
				if m.Offset < until {
					keep = append(keep, m)
				}
			}
			msgs = keep
		}
		offset = max(offset, next)
		if err := r.deliver(msgs, !reached && offset >= until); err != nil {
			return err
		}
		reached = reached || offset >= until
	}
}

// deliver hands msgs to fn and, when done says this partition has just
// reached its end offset, counts it, calling CaughtUp after the last.
func (r *partitionReader) deliver(msgs []Message, done bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(msgs) > 0 {
		if err := r.fn(msgs); err != nil {
			return err
		}
	}
	if done {
		r.remaining--
		if r.remaining == 0 {
			r.caughtUpLocked()
		}
	}
	return nil
}

func (r *partitionReader) caughtUp() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.caughtUpLocked()
}

func (r *partitionReader) caughtUpLocked() {
	if !r.caught {
		r.caught = true
		if r.cfg.CaughtUp != nil {
			r.cfg.CaughtUp()
		}
	}
}

// Fetcher fetches the records of partitions of one topic from given
// offsets: the building block of ReadPartitions and of the case
// processor's consumer. It is safe for concurrent use.
type Fetcher struct {
	client    *kafka.Client
	transport *kafka.Transport
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
// a larger record batch comes whole). Close releases its connections.
func NewFetcher(conn Connection, topic string, maxWait time.Duration, maxBytes int) *Fetcher {
	if maxWait <= 0 {
		maxWait = 500 * time.Millisecond
	}
	if maxBytes <= 0 {
		maxBytes = 1 << 20
	}
	t := conn.transport()
	return &Fetcher{client: conn.client(t), transport: t, topic: topic, maxWait: maxWait, maxBytes: maxBytes}
}

// Close closes the fetcher's idle connections.
func (f *Fetcher) Close() { f.transport.CloseIdleConnections() }

// Fetch returns the records of a partition from offset on (none when no
// record came within the wait), the offset to fetch next and the
// partition's high watermark. Control records are skipped. An offset that
// is no longer (or not yet) in the partition is an error wrapping
// kafka.OffsetOutOfRange.
func (f *Fetcher) Fetch(ctx context.Context, partition int, offset int64) (msgs []Message, next, highWatermark int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, f.maxWait+10*time.Second)
	defer cancel()
	res, err := f.client.Fetch(ctx, &kafka.FetchRequest{
		Topic: f.topic, Partition: partition, Offset: offset,
		MinBytes: int64(max(f.MinBytes, 1)), MaxBytes: int64(f.maxBytes), MaxWait: f.maxWait,
	})
	if err != nil {
		return nil, offset, 0, err
	}
	if res.Error != nil {
		return nil, offset, 0, res.Error
	}
	msgs, next, err = readRecords(partition, offset, res.Records)
	return msgs, next, res.HighWatermark, err
}

// Offset returns the first or last offset (kafka.FirstOffset or
// kafka.LastOffset) of a partition.
func (f *Fetcher) Offset(ctx context.Context, partition int, which int64) (int64, error) {
	offs, err := listOffsets(ctx, f.client, f.topic, []int{partition}, which)
	if err != nil {
		return 0, err
	}
	return offs[partition], nil
}

// readRecords copies the records at or after offset out of a fetch
// response, skipping control batches, and returns them and the offset
// after the last record (or control record) read.
func readRecords(partition int, offset int64, rr kafka.RecordReader) (msgs []Message, next int64, err error) {
	next = offset
	read := func(rr kafka.RecordReader, keep bool) error {
		for {
			rec, err := rr.ReadRecord()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			key, kerr := readBytes(rec.Key)
			value, verr := readBytes(rec.Value)
			if rec.Offset < offset {
				continue
			}
			next = max(next, rec.Offset+1)
			if !keep {
				continue
			}
			if err := errors.Join(kerr, verr); err != nil {
				return err
			}
			m := Message{Partition: partition, Offset: rec.Offset, Time: rec.Time, Key: key, Value: value}
			if len(rec.Headers) > 0 {
				m.Headers = make([]kafka.Header, len(rec.Headers))
				for i, h := range rec.Headers {
					m.Headers[i] = kafka.Header{Key: h.Key, Value: slices.Clone(h.Value)}
				}
			}
			msgs = append(msgs, m)
		}
	}
	if stream, ok := rr.(*protocol.RecordStream); ok {
		for _, batch := range stream.Records {
			_, control := batch.(*protocol.ControlBatch)
			if err = read(batch, !control); err != nil {
				break
			}
		}
	} else if rr != nil {
		err = read(rr, true)
	}
	if len(msgs) > 0 {
		return msgs, next, nil // a broken tail is fetched again from next
	}
	return nil, next, err
}

// readBytes copies b and closes it; nil for a null.
func readBytes(b kafka.Bytes) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	defer b.Close()
	out := make([]byte, b.Len())
	_, err := io.ReadFull(b, out)
	return out, err
}
