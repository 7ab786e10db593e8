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

	"flagstream/internal/retry"
	"flagstream/pipeline"
)

// SourceConfig configures the consumer.
type SourceConfig struct {
	Topic, Group string
	// StartLatest makes a new group start at the end of the topic instead
	// of the beginning.
	StartLatest bool
	// Consumer tuning; see config.Input.
	MaxWait           time.Duration
	FetchMaxBytes     int
	QueueCapacity     int
	CommitInterval    time.Duration
	HeartbeatInterval time.Duration
	SessionTimeout    time.Duration
	RebalanceTimeout  time.Duration
	// BatchRecords and Linger bound a batch: it is handed on when full, or
	// Linger after its first record.
	BatchRecords int
	Linger       time.Duration
	// MaxMessageBytes marks larger records oversize: they are rejected
	// unprocessed.
	MaxMessageBytes int
	Logger          *slog.Logger
	// Metrics receives the consumer's metrics; nil: unregistered ones.
	Metrics *Metrics
	// OnAssign, when set, is called with the partitions of each group
	// generation as it starts, and with nil as it ends (before the next
	// one starts).
	OnAssign func(partitions []int)
}

// GroupSource consumes tweets in a consumer group: flagstream's one Kafka
// consumer. It does without kafka.Reader and its per-message channel, lock
// and allocations (BenchmarkGroupSource, flagstream bench). kafka-go's
// ConsumerGroup handles membership; in each generation one goroutine per
// assigned partition fetches record batches from the partition's leader and
// hands each fetched chunk whole to Fetch, which copies the records' keys
// and values into the pipeline batch's arena (Batch.Data).
//
// Offsets are committed only through Commit, per generation: the offset
// after each partition's last written record is kept pending and committed
// every CommitInterval (at once when it is 0), at the end of the generation
// and on Close. Records fetched in a generation that has ended may still be
// processed, but their commits are dropped: the partition's next owner
// reads them again (at least once). A batch never mixes generations.
//
// Broker errors are retried with backoff (retry.Backoff) until ctx is
// done; they never fail the pipeline. Metrics are updated as fetches,
// generations and commits happen. A chunk holds up to min(FetchMaxBytes, 1 MiB) of records
// (a larger record batch comes whole); up to max(1,
// QueueCapacity/BatchRecords) chunks wait for Fetch, beside the one each
// fetcher holds.
type GroupSource struct {
	cfg     SourceConfig
	cg      *kafka.ConsumerGroup // nil in unit tests
	fetcher *Fetcher
	// start is kafka.FirstOffset or kafka.LastOffset: where a partition
	// without a committed offset starts, and where one whose offset is
	// out of range restarts.
	start int64

	chunks chan *chunk // fetched chunks, from the fetchers to Fetch
	// recsPool holds the records' slices of released chunks
	// (*[]chunkRecord), for the fetchers' next ones.
	recsPool sync.Pool

	// Owned by Fetch.
	cur   *chunk // the chunk Fetch is taking records from
	spans []span // where each record of the batch being filled lies in Data

	// Owned by Commit.
	maxOffsets []partitionOffset

	mu sync.Mutex
	// gen is the current generation; nil before the first.
	gen *generation
	// batchGen is the generation of each batch's records, from Fetch to
	// Commit.
	batchGen map[*pipeline.Batch]*generation

	failures failureLog // a fetch, a commit or the group failing

	stop      context.CancelFunc
	done      chan struct{} // closed when the group loop has ended
	closeOnce sync.Once
}

// generation is the commit state of one consumer group generation.
type generation struct {
	id int32
	// commit is kafka.Generation.CommitOffsets.
	commit  func(map[string]map[int]int64) error
	flushMu sync.Mutex // one commit at a time

	mu      sync.Mutex
	pending map[int]int64 // partition → offset to commit: the next to read
	ended   bool          // the generation is over: commits are dropped
}

func newGeneration(id int32, commit func(map[string]map[int]int64) error) *generation {
	return &generation{id: id, commit: commit, pending: map[int]int64{}}
}

func (g *generation) isEnded() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ended
}

// chunk is the records of one fetch response of one partition, from the
// offset asked for on.
type chunk struct {
	gen       *generation
	partition int32
	hwm       int64
	recs      []chunkRecord
	next      int        // index of the next record to take
	pool      *sync.Pool // of *[]chunkRecord, where release puts recs
	// buf holds the fetch response the records' keys and values lie in,
	// from bufPool, where release puts it back (nil: the records' bytes
	// are the garbage collector's). Nothing refers to a record's bytes
	// once its chunk is released: they are copied out before.
	buf     *[]byte
	bufPool *sync.Pool
}

type chunkRecord struct {
	offset     int64
	time       time.Time
	key, value []byte // nil when null
	headers    []kafka.Header
}

// span locates a record's key and value in Batch.Data.
type span struct{ k0, k1, v0, v1 int }

type partitionOffset struct {
	partition int32
	offset    int64
}

// NewGroupSource returns a consumer and starts joining the group.
func NewGroupSource(conn Connection, cfg SourceConfig) (*GroupSource, error) {
	s := newGroupSource(conn, cfg)
	cg, err := NewConsumerGroup(conn, GroupConfig{
		ID: cfg.Group, Topic: cfg.Topic, StartOffset: s.start,
		HeartbeatInterval: cfg.HeartbeatInterval, SessionTimeout: cfg.SessionTimeout, RebalanceTimeout: cfg.RebalanceTimeout,
	})
	if err != nil {
		return nil, err
	}
	s.cg = cg
	ctx, stop := context.WithCancel(context.Background())
	s.stop, s.done = stop, make(chan struct{})
	go s.run(ctx) // owned by s; joined by Close through s.done
	return s, nil
}

// newGroupSource returns a GroupSource that is not in a group yet.
func newGroupSource(conn Connection, cfg SourceConfig) *GroupSource {
	if cfg.BatchRecords <= 0 {
		cfg.BatchRecords = 2048
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 5 * time.Millisecond
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = time.Second
	}
	if cfg.FetchMaxBytes <= 0 {
		cfg.FetchMaxBytes = 1 << 20
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	start := kafka.FirstOffset
	if cfg.StartLatest {
		start = kafka.LastOffset
	}
	done := make(chan struct{})
	close(done)
	return &GroupSource{
		cfg:      cfg,
		fetcher:  NewFetcher(conn, cfg.Topic, cfg.MaxWait, min(cfg.FetchMaxBytes, maxChunkBytes)),
		start:    start,
		chunks:   make(chan *chunk, max(1, cfg.QueueCapacity/cfg.BatchRecords)),
		batchGen: map[*pipeline.Batch]*generation{},
		stop:     func() {},
		done:     done,
		failures: failureLog{logger: cfg.Logger, topic: cfg.Topic},
	}
}

// run takes the group's generations until ctx is done or the group is
// closed, and starts each one's fetchers and committer.
func (s *GroupSource) run(ctx context.Context) {
	defer close(s.done)
	TakeGenerations(ctx, s.cg, s.failed, s.startGeneration)
}

func (s *GroupSource) startGeneration(gen *kafka.Generation) {
	g := newGeneration(gen.ID, gen.CommitOffsets)
	s.mu.Lock()
	s.gen = g
	s.mu.Unlock()
	assigned := gen.Assignments[s.cfg.Topic]
	partitions := make([]int, 0, len(assigned))
	for _, a := range assigned {
		partitions = append(partitions, a.ID)
	}
	s.cfg.Metrics.generationJoined(partitions)
	if s.cfg.OnAssign != nil {
		s.cfg.OnAssign(partitions)
		gen.Start(func(ctx context.Context) {
			<-ctx.Done()
			s.cfg.OnAssign(nil)
		})
	}
	for _, a := range assigned {
		gen.Start(func(ctx context.Context) { s.fetchPartition(ctx, g, a.ID, a.Offset) })
	}
	gen.Start(func(ctx context.Context) { s.commitLoop(ctx, g) })
	if s.cfg.Logger != nil {
		s.cfg.Logger.Info("kafka consumer joined group", "group", s.cfg.Group, "generation", gen.ID, "partitions", partitions)
	}
}

// fetchPartition fetches the partition from offset on and queues the
// chunks for Fetch until the generation ends (ctx is done). It returns
// only then: a Start function that returns ends the generation. An offset
// out of range starts over at the group's start (earliest or latest).
func (s *GroupSource) fetchPartition(genCtx context.Context, g *generation, partition int, offset int64) {
	// A cancelCtx of its own, so that the per-request timeouts do not
	// each watch the generation's context from a goroutine.
	ctx, cancel := context.WithCancel(genCtx)
	defer cancel()
	s.fetcher.readPartition(ctx, PartitionRead{
		Partition: partition, From: offset, Follow: true, Reset: s.start,
		Failed: s.failed, Recovered: s.recovered,
		Skipped: func(from, _ int64, _ error) {
			if s.cfg.Logger != nil {
				s.cfg.Logger.Warn("kafka consumer: offset out of range; resetting", "topic", s.cfg.Topic,
					"partition", partition, "offset", from, "to", startName(s.start))
			}
		},
	}, fetchOptions{gen: g, pool: &s.recsPool, fetched: s.cfg.Metrics.fetched}, func(_ *cursor, c *chunk, _, _ int64) error {
		if c == nil {
			return nil // nothing new within MaxWait, or only control records
		}
		n := len(c.recs)
		s.cfg.Metrics.queued(n)
		select {
		case s.chunks <- c:
			return nil
		case <-ctx.Done():
			s.cfg.Metrics.queued(-n)
			c.release()
			return ctx.Err()
		}
	})
}

func startName(start int64) string {
	if start == kafka.LastOffset {
		return "latest"
	}
	return "earliest"
}

// maxChunkBytes caps the size of one fetch (FetchMaxBytes caps it too; a
// record batch larger than that still comes whole). Chunks of up to 1 MiB
// are still in the CPU caches when Fetch copies them, and a few of them
// live at a time, so pooled response buffers are reused (the wire
// client's, kafka-go's pages on its fallback); with 8 MiB chunks the
// consumer, then on kafka-go's fetch, used about twice the CPU per record.
const maxChunkBytes = 1 << 20

// newChunk reads the records at or after offset from kafka-go's reader of
// a fetch response, skipping control batches: the fetcher's way for
// brokers without Fetch v4 and for records of message format v0/v1. It
// returns a nil chunk when there are none, the offset after the last
// record or control record read, and the size of the keys and values,
// which it copies into one buffer of the chunk's own.
//
// The chunk's records are kept in a slice from pool (nil: a new one),
// which release puts back, so that a steady stream of fetches does not
// grow and clear a slice for each.
func newChunk(g *generation, partition int, offset, hwm int64, rr kafka.RecordReader, pool *sync.Pool) (c *chunk, next, size int64, err error) {
	c = newEmptyChunk(g, partition, hwm, pool)
	next = offset
	data := []byte{} // not nil: an empty key or value stays empty, not null
	var spans []span // of the records' keys and values in data; -1: null
	read := func(rr kafka.RecordReader, keep bool) error {
		for {
			r, err := rr.ReadRecord()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			if r.Offset >= offset {
				next = max(next, r.Offset+1)
			}
			if !keep || r.Offset < offset {
				closeBytes(r.Key)
				closeBytes(r.Value)
				continue
			}
			sp := span{k0: len(data), k1: -1, v1: -1}
			var kerr, verr error
			if r.Key != nil {
				data, kerr = appendBytes(data, r.Key)
				sp.k1 = len(data)
			}
			sp.v0 = len(data)
			if r.Value != nil {
				data, verr = appendBytes(data, r.Value)
				sp.v1 = len(data)
			}
			if kerr != nil || verr != nil {
				next = r.Offset // read again from it
				return errors.Join(kerr, verr)
			}
			size += int64(len(data) - sp.k0)
			c.recs = append(c.recs, chunkRecord{offset: r.Offset, time: r.Time, headers: r.Headers})
			spans = append(spans, sp)
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
	for i, sp := range spans {
		r := &c.recs[i]
		if sp.k1 >= 0 {
			r.key = data[sp.k0:sp.k1:sp.k1]
		}
		if sp.v1 >= 0 {
			r.value = data[sp.v0:sp.v1:sp.v1]
		}
	}
	if len(c.recs) == 0 {
		c.release()
		return nil, next, 0, err
	}
	return c, next, size, err
}

// newEmptyChunk returns a chunk with no records yet, its records' slice
// from pool (nil: a new one).
func newEmptyChunk(g *generation, partition int, hwm int64, pool *sync.Pool) *chunk {
	c := &chunk{gen: g, partition: int32(partition), hwm: hwm, pool: pool}
	if pool != nil {
		if recs, ok := pool.Get().(*[]chunkRecord); ok {
			c.recs = (*recs)[:0]
		}
	}
	return c
}

func closeBytes(b kafka.Bytes) {
	if b != nil {
		b.Close()
	}
}

// release puts the chunk's records' slice back in its pool, cleared (a
// pooled slice refers to no bytes), and its response buffer in its own.
func (c *chunk) release() {
	if c.pool != nil && cap(c.recs) > 0 {
		clear(c.recs[:cap(c.recs)])
		recs := c.recs[:0]
		c.pool.Put(&recs)
	}
	if c.buf != nil && c.bufPool != nil {
		c.bufPool.Put(c.buf)
	}
	c.recs, c.next, c.buf = nil, 0, nil
}

// Fetch waits for a fetched chunk, then takes records from it and the
// chunks queued after it until the batch is full, Linger has passed, or
// the next chunk belongs to another generation. While the cluster cannot
// be reached, it keeps waiting: the fetchers retry until ctx is done.
func (s *GroupSource) Fetch(ctx context.Context, b *pipeline.Batch) error {
	if s.cur != nil {
		s.cur = s.live(s.cur)
	}
	for s.cur == nil {
		select {
		case c := <-s.chunks:
			s.cur = s.live(c)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	g := s.cur.gen
	s.spans = s.spans[:0]
	deadline := time.Now().Add(s.cfg.Linger)
	var timer *time.Timer
fill:
	for len(b.Records) < s.cfg.BatchRecords {
		if s.cur == nil {
			var c *chunk
			select {
			case c = <-s.chunks:
			default:
				if timer == nil {
					timer = time.NewTimer(time.Until(deadline))
					defer timer.Stop()
				}
				select {
				case c = <-s.chunks:
				case <-timer.C:
					break fill
				case <-ctx.Done():
					break fill
				}
			}
			if c = s.live(c); c == nil {
				continue
			}
			s.cur = c
			if c.gen != g {
				break // the next batch starts with it
			}
		}
		s.take(b, s.cur)
		if s.cur.next == len(s.cur.recs) {
			s.cur.release()
			s.cur = nil
		}
	}
	setSpans(b, s.spans)
	s.mu.Lock()
	s.batchGen[b] = g
	s.mu.Unlock()
	return nil
}

// live returns c, or nil after dropping it when its generation has ended:
// the partition's next owner reads its records again.
func (s *GroupSource) live(c *chunk) *chunk {
	if c.gen.isEnded() {
		s.drop(c)
		return nil
	}
	return c
}

func (s *GroupSource) drop(c *chunk) {
	s.cfg.Metrics.queued(-(len(c.recs) - c.next))
	c.release()
}

// take moves records from c into b until b is full or c is empty.
func (s *GroupSource) take(b *pipeline.Batch, c *chunk) {
	first := c.next
	s.spans = takeRecords(b, c, s.cfg.Topic, s.cfg.MaxMessageBytes, s.cfg.BatchRecords, s.spans)
	if taken := c.next - first; taken > 0 {
		s.cfg.Metrics.queued(-taken)
		s.cfg.Metrics.observeLag(c.partition, c.hwm, c.recs[c.next-1].offset)
	}
}

// takeRecords moves records from c into b until b holds limit records or
// c is empty, copying their keys and values into b.Data and appending to
// spans where they lie; setSpans points the records at them once the
// batch is full (b.Data may move as it grows). A record whose value is
// larger than maxMessageBytes (when positive) is marked oversize.
func takeRecords(b *pipeline.Batch, c *chunk, topic string, maxMessageBytes, limit int, spans []span) []span {
	for c.next < len(c.recs) && len(b.Records) < limit {
		r := &c.recs[c.next]
		c.next++
		var sp span
		sp.k0 = len(b.Data)
		b.Data = append(b.Data, r.key...)
		sp.k1, sp.v0 = len(b.Data), len(b.Data)
		b.Data = append(b.Data, r.value...)
		sp.v1 = len(b.Data)
		rec := pipeline.Record{Topic: topic, Partition: c.partition, Offset: r.offset, Time: r.time}
		if len(r.headers) > 0 {
			rec.Headers = make([]pipeline.Header, len(r.headers))
			for i, h := range r.headers {
				rec.Headers[i] = pipeline.Header{Key: h.Key, Value: h.Value}
			}
		}
		if n := sp.v1 - sp.v0; maxMessageBytes > 0 && n > maxMessageBytes {
			rec.Oversize = int64(n)
		}
		b.Records = append(b.Records, rec)
		spans = append(spans, sp)
	}
	return spans
}

// setSpans points the last len(spans) records of b at their keys and
// values in b.Data.
func setSpans(b *pipeline.Batch, spans []span) {
	for i, sp := range spans {
		r := &b.Records[len(b.Records)-len(spans)+i]
		if sp.k1 > sp.k0 {
			r.Key = b.Data[sp.k0:sp.k1:sp.k1]
		}
		if sp.v1 > sp.v0 {
			r.Value = b.Data[sp.v0:sp.v1:sp.v1]
		}
	}
}

// sizedReaderAt is what kafka-go's record values (its page references) are
// beside kafka.Bytes: they read at an offset and know their whole size.
type sizedReaderAt interface {
	io.ReaderAt
	Size() int64
}

// appendBytes appends src's bytes to dst and closes src. A value not read
// yet is copied with one ReadAt; io.ReadFull would go through Read and
// ReadAtLeast for each record.
func appendBytes(dst []byte, src kafka.Bytes) ([]byte, error) {
	n := src.Len()
	dst = slices.Grow(dst, n)
	buf := dst[len(dst) : len(dst)+n]
	var m int
	var err error
	if ra, ok := src.(sizedReaderAt); ok && ra.Size() == int64(n) {
		m, err = ra.ReadAt(buf, 0)
		if m == n {
			err = nil
		}
	} else {
		m, err = io.ReadFull(src, buf)
	}
	src.Close()
	return dst[:len(dst)+m], err
}

// Commit marks, per partition, the offset after the batch's last record
// for commit in the generation the records were fetched in, and commits
// at once when CommitInterval is 0. The pipeline calls it in batch order,
// so every earlier record of those partitions is written too.
func (s *GroupSource) Commit(ctx context.Context, b *pipeline.Batch) error {
	s.mu.Lock()
	g := s.batchGen[b]
	delete(s.batchGen, b)
	s.mu.Unlock()
	if g == nil || len(b.Records) == 0 {
		return nil
	}
	offs := s.maxOffsets[:0]
	for i := range b.Records {
		r := &b.Records[i]
		found := false
		for j := range offs {
			if offs[j].partition == r.Partition {
				offs[j].offset = max(offs[j].offset, r.Offset)
				found = true
				break
			}
		}
		if !found {
			offs = append(offs, partitionOffset{r.Partition, r.Offset})
		}
	}
	s.maxOffsets = offs
	g.mu.Lock()
	if g.ended {
		g.mu.Unlock()
		return nil
	}
	for _, o := range offs {
		if cur, ok := g.pending[int(o.partition)]; !ok || cur < o.offset+1 {
			g.pending[int(o.partition)] = o.offset + 1
		}
	}
	g.mu.Unlock()
	s.cfg.Metrics.commitDone(nil)
	if s.cfg.CommitInterval <= 0 {
		return s.commitNow(ctx, g)
	}
	return nil
}

// commitNow commits g's pending offsets, retrying with backoff until it
// succeeds, the generation ends or ctx is done.
func (s *GroupSource) commitNow(ctx context.Context, g *generation) error {
	return retry.Do(ctx, retry.Backoff{Min: 50 * time.Millisecond, Max: 5 * time.Second}, func() error {
		err := s.flush(g)
		if err == nil || g.isEnded() {
			return nil
		}
		s.commitFailed(err)
		return err
	})
}

// commitLoop commits g's pending offsets every CommitInterval and, once
// the generation ends (ctx is done), one last time.
func (s *GroupSource) commitLoop(ctx context.Context, g *generation) {
	var tick <-chan time.Time
	if s.cfg.CommitInterval > 0 {
		t := time.NewTicker(s.cfg.CommitInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-tick:
			if err := s.flush(g); err != nil && ctx.Err() == nil {
				s.commitFailed(err)
			}
		case <-ctx.Done():
			g.mu.Lock()
			g.ended = true
			g.mu.Unlock()
			if err := s.flush(g); err != nil && s.cfg.Logger != nil {
				s.cfg.Logger.Info("kafka consumer: commit at the end of a generation failed; its records will be read again",
					"group", s.cfg.Group, "generation", g.id, "err", err)
			}
			return
		}
	}
}

// flush commits g's pending offsets. After a failure they stay pending,
// unless newer ones came meanwhile.
func (s *GroupSource) flush(g *generation) error {
	g.flushMu.Lock()
	defer g.flushMu.Unlock()
	g.mu.Lock()
	offsets := g.pending
	if len(offsets) == 0 {
		g.mu.Unlock()
		return nil
	}
	g.pending = make(map[int]int64, len(offsets))
	g.mu.Unlock()
	err := g.commit(map[string]map[int]int64{s.cfg.Topic: offsets})
	if err != nil {
		g.mu.Lock()
		for p, o := range offsets {
			if cur, ok := g.pending[p]; !g.ended && (!ok || cur < o) {
				g.pending[p] = o
			}
		}
		g.mu.Unlock()
		return fmt.Errorf("kafka commit: %w", err)
	}
	return nil
}

func (s *GroupSource) commitFailed(err error) {
	s.cfg.Metrics.commitDone(err)
	s.failed("commit", err)
}

// failed counts a consumer error and logs it, at most once per 10 s.
func (s *GroupSource) failed(what string, err error) {
	s.cfg.Metrics.consumerFailed(errors.Is(err, context.DeadlineExceeded))
	s.failures.failed(what, err)
}

// recovered notes a successful fetch, logging the end of a failure.
func (s *GroupSource) recovered() { s.failures.recovered() }

// Close commits the current generation's pending offsets, leaves the
// group and waits for the fetchers to stop. A failed commit is logged:
// its records are read again by the partitions' next owners.
func (s *GroupSource) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		g := s.gen
		s.mu.Unlock()
		if g != nil && !g.isEnded() {
			if err := s.flush(g); err != nil && !g.isEnded() && s.cfg.Logger != nil {
				s.cfg.Logger.Warn("kafka consumer: commit on close failed; the records after the last commit will be read again",
					"group", s.cfg.Group, "err", err)
			}
		}
		if s.cg != nil {
			s.cg.Close() // ends the generation: its fetchers and committer return
		}
		s.stop()
		<-s.done
		s.fetcher.Close()
	})
	return nil
}
