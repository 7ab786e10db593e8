package kafkaio

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"flagstream/internal/retry"
	"flagstream/pipeline"
)

// errPastHighWatermark is a range that reaches past what its partition
// holds.
var errPastHighWatermark = errors.New("no records: the range reaches past the partition's high watermark")

// PartitionRange is a span of offsets of one partition: Start up to, not
// including, End.
type PartitionRange struct {
	Partition  int32
	Start, End int64
}

// Len returns the number of offsets in the range.
func (r PartitionRange) Len() int64 { return max(r.End-r.Start, 0) }

// PartitionOffset is the offset after the last record of a partition that
// is written: the next one to read.
type PartitionOffset struct {
	Partition int32
	Next      int64
}

// RangeConfig configures a RangeSource.
type RangeConfig struct {
	Topic  string
	Ranges []PartitionRange
	// BatchRecords and Linger bound a batch, as for the group consumer.
	BatchRecords int
	Linger       time.Duration
	// FetchMaxBytes bounds one fetch of a partition (default 1 MiB).
	FetchMaxBytes int
	// MaxMessageBytes marks larger records oversize: they are rejected
	// unprocessed.
	MaxMessageBytes int
	// Rate, when positive, is the most records per second Fetch hands
	// out; batches are then at most a twentieth of a second's worth.
	Rate float64
	// Committed, when set, is called by Commit, in batch order, with the
	// next offset of each partition the batch advanced: every record
	// before it is written. An error fails the pipeline.
	Committed func(ctx context.Context, next []PartitionOffset) error
	Logger    *slog.Logger
}

// RangeSource reads given ranges of offsets of a topic's partitions, as a
// pipeline Source, and ends (io.EOF) once every range is read: it reads
// retained history (a retro-hunt) and whole topics (a compacted topic's
// state) without a consumer group, and commits nothing to Kafka itself:
// what a commit means is up to Committed.
//
// One fetcher goroutine per partition, started by the first Fetch and
// joined by Close, fetches chunks from the partition's leader and queues
// them; Fetch copies their records into the batch's arena as the group
// consumer does. Broker errors are retried with backoff until ctx is done.
// A range whose first offsets are no longer retained is read from the
// earliest retained offset on; the offsets skipped are counted in
// Skipped and logged.
type RangeSource struct {
	cfg     RangeConfig
	fetcher *Fetcher

	startOnce sync.Once
	stop      context.CancelFunc
	wg        sync.WaitGroup // the fetchers
	chunks    chan *chunk    // closed when every fetcher is done

	// Owned by Fetch.
	cur     *chunk
	spans   []span
	paced   time.Time // when the first record was handed out, with Rate
	handed  int64
	drained bool

	// Owned by Commit.
	next []PartitionOffset

	read, remaining, skipped atomic.Int64
	failures                 failureLog
}

var _ pipeline.Source = (*RangeSource)(nil)

// NewRangeSource returns a source of the ranges of cfg; nothing is fetched
// until the first Fetch.
func NewRangeSource(conn Connection, cfg RangeConfig) *RangeSource {
	if cfg.BatchRecords <= 0 {
		cfg.BatchRecords = 2048
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 5 * time.Millisecond
	}
	if cfg.FetchMaxBytes <= 0 {
		cfg.FetchMaxBytes = 1 << 20
	}
	if cfg.Rate > 0 {
		cfg.BatchRecords = max(1, min(cfg.BatchRecords, int(cfg.Rate/20)))
	}
	cfg.Ranges = slices.DeleteFunc(slices.Clone(cfg.Ranges), func(r PartitionRange) bool { return r.Len() == 0 })
	s := &RangeSource{
		cfg:      cfg,
		fetcher:  NewFetcher(conn, cfg.Topic, 500*time.Millisecond, min(cfg.FetchMaxBytes, maxChunkBytes)),
		chunks:   make(chan *chunk, 2*len(cfg.Ranges)+1),
		stop:     func() {},
		failures: failureLog{logger: cfg.Logger, topic: cfg.Topic},
	}
	var total int64
	for _, r := range cfg.Ranges {
		total += r.Len()
	}
	s.remaining.Store(total)
	return s
}

// Read returns the records handed out so far.
func (s *RangeSource) Read() int64 { return s.read.Load() }

// Remaining returns the offsets not yet read: records, and gaps such as
// compacted or deleted ones that reading will skip.
func (s *RangeSource) Remaining() int64 { return s.remaining.Load() }

// Skipped returns the offsets skipped because they were no longer
// retained when their partition was read.
func (s *RangeSource) Skipped() int64 { return s.skipped.Load() }

func (s *RangeSource) start() {
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	for _, r := range s.cfg.Ranges {
		s.wg.Add(1)
		go func() { // owned by s; joined by Close, and by the closer below
			defer s.wg.Done()
			s.fetchRange(ctx, r)
		}()
	}
	go func() { // owned by s: ends when the fetchers have
		s.wg.Wait()
		close(s.chunks)
	}()
}

// fetchRange fetches r's records in chunks and queues them until r is
// read or ctx is done.
func (s *RangeSource) fetchRange(ctx context.Context, r PartitionRange) {
	s.fetcher.readPartition(ctx, PartitionRead{
		Partition: int(r.Partition), From: r.Start, Until: r.End,
		Failed:    s.failures.failed,
		Recovered: s.failures.recovered,
		Skipped: func(from, to int64, cause error) {
			s.skipped.Add(to - from)
			s.remaining.Add(-(to - from))
			if s.cfg.Logger == nil {
				return
			}
			if errors.Is(cause, errRetention) {
				s.cfg.Logger.Warn("kafka: records deleted before they were read (retention); skipping them",
					"topic", s.cfg.Topic, "partition", r.Partition, "from", from, "to", to)
				return
			}
			// The partition holds less than the range said (truncated,
			// or recreated): what is not there cannot be read.
			s.cfg.Logger.Warn("kafka: partition ends before the range to read; skipping the rest",
				"topic", s.cfg.Topic, "partition", r.Partition, "from", from, "to", to, "err", cause)
		},
	}, fetchOptions{}, func(cur *cursor, c *chunk, from, _ int64) error {
		// Offsets between records (gaps: control records, compacted
		// offsets) count as read with the record after them, or with
		// the fetch when it had none.
		read := cur.offset - from
		if c == nil {
			s.remaining.Add(-read)
			return nil
		}
		s.remaining.Add(-(read - int64(len(c.recs))))
		select {
		case s.chunks <- c:
			return nil
		case <-ctx.Done():
			c.release()
			return ctx.Err()
		}
	})
}

// Fetch fills b with the next records, up to BatchRecords, waiting at most
// Linger for more once it has one. It returns io.EOF once every range is
// read (b may hold the last records then).
func (s *RangeSource) Fetch(ctx context.Context, b *pipeline.Batch) error {
	s.startOnce.Do(s.start)
	if s.drained && s.cur == nil {
		return io.EOF
	}
	limit := s.cfg.BatchRecords
	if err := s.pace(ctx, limit); err != nil {
		return err
	}
	s.spans = s.spans[:0]
	var timer *time.Timer
	var eof bool
fill:
	for len(b.Records) < limit {
		if s.cur == nil {
			var c *chunk
			var ok bool
			if len(b.Records) == 0 {
				select {
				case c, ok = <-s.chunks:
				case <-ctx.Done():
					break fill
				}
			} else {
				select {
				case c, ok = <-s.chunks:
				default:
					if timer == nil {
						timer = time.NewTimer(s.cfg.Linger)
						defer timer.Stop()
					}
					select {
					case c, ok = <-s.chunks:
					case <-timer.C:
						break fill
					case <-ctx.Done():
						break fill
					}
				}
			}
			if !ok {
				s.drained, eof = true, true
				break fill
			}
			s.cur = c
		}
		s.spans = takeRecords(b, s.cur, s.cfg.Topic, s.cfg.MaxMessageBytes, limit, s.spans)
		if s.cur.next == len(s.cur.recs) {
			s.cur.release()
			s.cur = nil
		}
	}
	setSpans(b, s.spans)
	n := int64(len(s.spans))
	s.handed += n
	s.read.Add(n)
	s.remaining.Add(-n)
	switch {
	case eof:
		return io.EOF
	case len(b.Records) == 0 && ctx.Err() != nil:
		return ctx.Err()
	}
	return nil
}

// pace waits, with a Rate, until handing out n more records keeps to it.
func (s *RangeSource) pace(ctx context.Context, n int) error {
	if s.cfg.Rate <= 0 {
		return nil
	}
	if s.paced.IsZero() {
		s.paced = time.Now()
		return nil
	}
	due := s.paced.Add(time.Duration(float64(s.handed) / s.cfg.Rate * float64(time.Second)))
	if wait := time.Until(due); wait > 0 {
		return retry.Sleep(ctx, wait)
	}
	// After a pause (a slow sink), do not burst to catch up by more than
	// a batch.
	if behind := -time.Until(due); behind > time.Second {
		s.paced = s.paced.Add(behind - time.Duration(float64(n)/s.cfg.Rate*float64(time.Second)))
	}
	return nil
}

// Commit calls Committed with the offset after each partition's last
// record in b.
func (s *RangeSource) Commit(ctx context.Context, b *pipeline.Batch) error {
	if s.cfg.Committed == nil || len(b.Records) == 0 {
		return nil
	}
	next := s.next[:0]
	for i := range b.Records {
		r := &b.Records[i]
		found := false
		for j := range next {
			if next[j].Partition == r.Partition {
				next[j].Next = max(next[j].Next, r.Offset+1)
				found = true
				break
			}
		}
		if !found {
			next = append(next, PartitionOffset{r.Partition, r.Offset + 1})
		}
	}
	s.next = next
	return s.cfg.Committed(ctx, next)
}

// Close stops the fetchers and waits for them.
func (s *RangeSource) Close() error {
	s.startOnce.Do(func() { close(s.chunks) }) // never started: nothing to stop
	s.stop()
	s.wg.Wait()
	if s.cur != nil {
		s.cur.release()
		s.cur = nil
	}
	for c := range s.chunks {
		c.release()
	}
	s.fetcher.Close()
	return nil
}
