package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
