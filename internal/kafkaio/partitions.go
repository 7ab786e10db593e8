package kafkaio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
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

// messages copies the chunk's records out as Messages and releases it.
func (c *chunk) messages() []Message {
	defer c.release()
	msgs := make([]Message, 0, len(c.recs)-c.next)
	for ; c.next < len(c.recs); c.next++ {
		r := &c.recs[c.next]
		m := Message{Partition: int(c.partition), Offset: r.offset, Time: r.time, Key: bytes.Clone(r.key), Value: bytes.Clone(r.value)}
		if len(r.headers) > 0 {
			m.Headers = make([]kafka.Header, len(r.headers))
			for i, h := range r.headers {
				m.Headers[i] = kafka.Header{Key: h.Key, Value: slices.Clone(h.Value)}
			}
		}
		msgs = append(msgs, m)
	}
	return msgs
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
// the bindings follower, the retro progress store. A
// bounded read (Follow false) returns nil once every partition has reached
// its end offset; a following read keeps going until ctx is done. Either
// returns ctx.Err() once ctx is done. An error of fn stops the read and is
// returned.
//
// A topic that does not exist is an ErrNoTopic error (it wraps
// kafka.UnknownTopicOrPartition too). Other broker errors are retried with
// backoff until ctx is done. Control records (of transactions) are
// skipped; offsets that retention has removed are skipped, with a
// warning, and so are, in a bounded read, those up to the end offset that
// a partition no longer holds (truncated).
func ReadPartitions(ctx context.Context, conn Connection, cfg ReadConfig, fn func([]Message) error) error {
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 500 * time.Millisecond
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 20
	}
	f := NewFetcher(conn, cfg.Topic, cfg.MaxWait, cfg.MaxBytes)
	defer f.Close()
	r := &partitionReader{cfg: cfg, fetcher: f, fn: fn}
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
		from, until, err = r.fetcher.bounds(ctx, r.cfg.Partitions, r.cfg.From, r.cfg.Until)
		if err == nil || errors.Is(err, ErrNoTopic) {
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

// bounds returns the offsets a read of partitions (nil: every partition
// of the topic; an ErrNoTopic error when it does not exist) starts and
// ends at: from, where given, clamped to what the partition holds
// (kafka.FirstOffset and kafka.LastOffset for its ends), else its first
// offset; until, where given, else its end offset.
func (f *Fetcher) bounds(ctx context.Context, partitions []int, from, until map[int]int64) (start, end map[int]int64, err error) {
	if partitions == nil {
		if partitions, err = f.Partitions(ctx); err != nil {
			return nil, nil, err
		}
	}
	first, err := f.First(ctx, partitions)
	if err != nil {
		return nil, nil, err
	}
	last, err := f.End(ctx, partitions)
	if err != nil {
		return nil, nil, err
	}
	start, end = map[int]int64{}, map[int]int64{}
	for _, p := range partitions {
		s, ok := from[p]
		switch {
		case !ok || s == kafka.FirstOffset:
			s = first[p]
		case s == kafka.LastOffset:
			s = last[p]
		case s < first[p]:
			s = first[p] // removed by retention
		case s > last[p]:
			s = last[p]
		}
		e, ok := until[p]
		if !ok {
			e = last[p]
		}
		start[p], end[p] = s, e
	}
	return start, end, nil
}

// read reads one partition from offset on, up to until unless following.
func (r *partitionReader) read(ctx context.Context, partition int, offset, until int64) error {
	reached := offset >= until
	return r.fetcher.ReadPartition(ctx, PartitionRead{
		Partition: partition, From: offset, Until: until, Follow: r.cfg.Follow,
		Failed: func(what string, err error) {
			if r.cfg.Logger != nil {
				r.cfg.Logger.Warn("kafka read failed; retrying", "topic", r.cfg.Topic, "op", what, "err", err)
			}
		},
		Skipped: func(from, to int64, cause error) {
			if r.cfg.Logger != nil {
				r.cfg.Logger.Warn("kafka read: skipping offsets the partition no longer holds",
					"topic", r.cfg.Topic, "partition", partition, "from", from, "to", to, "cause", cause)
			}
		},
	}, func(msgs []Message, next, _ int64) error {
		done := !reached && next >= until
		reached = reached || done
		return r.deliver(msgs, done)
	})
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

// PartitionRead says what Fetcher.ReadPartition reads of one partition.
type PartitionRead struct {
	Partition int
	// From is the offset the read starts at; kafka.FirstOffset or
	// kafka.LastOffset resolve when it starts.
	From int64
	// Until is the end offset (exclusive) of a bounded read: the read
	// ends there, or earlier when the partition no longer holds records
	// up to it (truncated, or recreated). A following read (Follow) goes
	// on until ctx is done.
	Until  int64
	Follow bool
	// Failed, if set, is called with each failed fetch or offset lookup,
	// before it is retried; Recovered with each success after that.
	Failed    func(what string, err error)
	Recovered func()
	// Skipped, if set, is called with the offsets [from, to) that the
	// read passes over: records removed by retention before they were
	// read, or, for a bounded read, offsets the partition does not hold.
	Skipped func(from, to int64, cause error)
	// Reset, when kafka.FirstOffset or kafka.LastOffset, is where a read
	// whose offset is out of range goes on, as a consumer group's
	// auto.offset.reset does, instead of skipping what retention removed;
	// Skipped is called with the offset and Reset.
	Reset int64
}

// errRetention is records removed by the topic's retention before they
// were read.
var errRetention = errors.New("records removed by retention before they were read")

// errReset is an offset out of range that a read resets (PartitionRead.Reset).
var errReset = errors.New("offset out of range; resetting")

// cursor is where a read of one partition stands: the offset to fetch
// next.
type cursor struct {
	f      *Fetcher
	r      PartitionRead
	opts   fetchOptions
	offset int64
}

// reached reports whether a bounded read is over.
func (c *cursor) reached() bool { return !c.r.Follow && c.offset >= 0 && c.offset >= c.r.Until }

// step fetches the partition once from c.offset and moves c.offset past
// what it fetched: it returns the records (nil: none), those of a bounded
// read before Until, the offset the records' span starts at (offsets the
// read skipped are not in it) and the high watermark. Offsets removed by
// retention are skipped, as are, for a bounded read, those the partition
// does not hold. An error is the fetch's or the lookup's: c.offset stays.
func (c *cursor) step(ctx context.Context) (ch *chunk, from, hwm int64, what string, err error) {
	p := c.r.Partition
	if c.offset < 0 {
		off, err := c.f.offset(ctx, p, c.offset)
		if err != nil {
			return nil, c.offset, 0, fmt.Sprintf("list offsets of partition %d", p), err
		}
		c.offset = off
		return nil, off, 0, "", nil
	}
	ch, next, hwm, err := c.f.fetchChunk(ctx, p, c.offset, c.opts)
	if errors.Is(err, kafka.OffsetOutOfRange) && c.r.Reset < 0 {
		if c.r.Skipped != nil {
			c.r.Skipped(c.offset, c.r.Reset, errReset)
		}
		c.offset = c.r.Reset
		return nil, c.offset, hwm, "", nil
	}
	if errors.Is(err, kafka.OffsetOutOfRange) {
		first, lerr := c.f.offset(ctx, p, kafka.FirstOffset)
		if lerr == nil && first > c.offset {
			c.skip(first, errRetention)
			return nil, c.offset, hwm, "", nil
		}
		if lerr != nil {
			err = lerr
		}
	}
	if err != nil {
		return nil, c.offset, hwm, fmt.Sprintf("fetch partition %d", p), err
	}
	if c.r.Follow {
		from, c.offset = c.offset, max(c.offset, next)
		return ch, from, hwm, "", nil
	}
	if ch == nil && next == c.offset && hwm <= c.offset {
		c.skip(c.r.Until, fmt.Errorf("%w: partition %d offset %d, high watermark %d", errPastHighWatermark, p, c.offset, hwm))
		return nil, c.offset, hwm, "", nil
	}
	if ch != nil {
		// Records past the range are another read's.
		keep := len(ch.recs)
		for keep > 0 && ch.recs[keep-1].offset >= c.r.Until {
			keep--
		}
		if ch.recs = ch.recs[:keep]; keep == 0 {
			ch.release()
			ch = nil
		}
	}
	from, c.offset = c.offset, min(max(c.offset, next), c.r.Until)
	return ch, from, hwm, "", nil
}

// skip moves the cursor on to offset to (at most Until for a bounded
// read), passing over the offsets before it.
func (c *cursor) skip(to int64, cause error) {
	if !c.r.Follow {
		to = min(to, c.r.Until)
	}
	if c.r.Skipped != nil && to > c.offset {
		c.r.Skipped(c.offset, to, cause)
	}
	c.offset = max(c.offset, to)
}

// readPartition steps through a partition as r says, fetching with opts
// and retrying failures with backoff, and calls fn after each successful
// step, until a bounded read is over (nil), ctx is done (its error) or fn
// fails (its error).
func (f *Fetcher) readPartition(ctx context.Context, r PartitionRead, opts fetchOptions, fn func(c *cursor, ch *chunk, from, hwm int64) error) error {
	c := &cursor{f: f, r: r, opts: opts, offset: r.From}
	backoff := retry.Backoff{Min: 50 * time.Millisecond, Max: 5 * time.Second}
	for !c.reached() {
		ch, from, hwm, what, err := c.step(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if r.Failed != nil {
				r.Failed(what, err)
			}
			if werr := backoff.Wait(ctx); werr != nil {
				return werr
			}
			continue
		}
		backoff.Reset()
		if r.Recovered != nil {
			r.Recovered()
		}
		if err := fn(c, ch, from, hwm); err != nil {
			return err
		}
	}
	return nil
}

// ReadPartition reads one partition as r says, retrying failures with
// backoff: after each fetch it calls fn with the fetch's records (none
// when none came within the wait), the offset to read next and the
// partition's high watermark. It returns nil once a bounded read is over,
// ctx.Err() once ctx is done, or fn's error. ReadPartitions, the case
// processor and the decisions forwarder read through it.
func (f *Fetcher) ReadPartition(ctx context.Context, r PartitionRead, fn func(msgs []Message, next, hwm int64) error) error {
	return f.readPartition(ctx, r, fetchOptions{}, func(c *cursor, ch *chunk, _, hwm int64) error {
		var msgs []Message
		if ch != nil {
			msgs = ch.messages()
		}
		return fn(msgs, c.offset, hwm)
	})
}
