package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/testkit"
	"flagstream/pipeline"
)

// fakeCommits records the commits of a generation and fails the next
// ones while fail is set.
type fakeCommits struct {
	mu    sync.Mutex
	calls []map[int]int64
	fail  int // commits still to fail
}

func (f *fakeCommits) commit(offsets map[string]map[int]int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("injected commit failure")
	}
	f.calls = append(f.calls, maps.Clone(offsets["tweets"]))
	return nil
}

func (f *fakeCommits) got() []map[int]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func testGroupSource(cfg SourceConfig) *GroupSource {
	cfg.Topic = "tweets"
	if cfg.Linger == 0 {
		cfg.Linger = 5 * time.Millisecond
	}
	if cfg.QueueCapacity == 0 {
		cfg.QueueCapacity = 64 * 2048
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(prometheus.NewPedanticRegistry())
	}
	return newGroupSource(Connection{Brokers: []string{"127.0.0.1:1"}}, cfg)
}

// queueLength returns flagstream_kafka_consumer_queue_length of s.
func queueLength(s *GroupSource) float64 { return testutil.ToFloat64(s.cfg.Metrics.queueLength) }

// rec is a record of a fetch response.
func rec(offset int64, key, value string, headers ...kafka.Header) kafka.Record {
	r := kafka.Record{Offset: offset, Time: time.UnixMilli(1_600_000_000_000 + offset), Headers: headers}
	if key != "" {
		r.Key = kafka.NewBytes([]byte(key))
	}
	if value != "" {
		r.Value = kafka.NewBytes([]byte(value))
	}
	return r
}

// queue puts a chunk of records of partition, fetched at offset, on the
// source's queue, as a fetcher does.
func queue(t *testing.T, s *GroupSource, g *generation, partition int, offset int64, records ...kafka.Record) {
	t.Helper()
	c, _, _, err := newChunk(g, partition, offset, 100, protocol.NewRecordReader(records...), nil)
	if err != nil || c == nil {
		t.Fatalf("newChunk = %v, %v", c, err)
	}
	s.cfg.Metrics.queued(len(c.recs))
	s.chunks <- c
}

// position is a record's partition and offset.
type position struct {
	partition int32
	offset    int64
}

func positions(b *pipeline.Batch) []position {
	var out []position
	for _, r := range b.Records {
		out = append(out, position{r.Partition, r.Offset})
	}
	return out
}

func fetch(t *testing.T, s *GroupSource) *pipeline.Batch {
	t.Helper()
	b := &pipeline.Batch{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Fetch(ctx, b); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return b
}

func TestGroupSourceFetchCopiesChunks(t *testing.T) {
	s := testGroupSource(SourceConfig{BatchRecords: 3, MaxMessageBytes: 8})
	g := newGeneration(1, (&fakeCommits{}).commit)
	// The response starts before the offset asked for (5): record 4 is
	// skipped.
	queue(t, s, g, 2, 5,
		rec(4, "k4", "skipped"),
		rec(5, "k5", "v5", kafka.Header{Key: "h", Value: []byte("hv")}),
		rec(6, "", "value six"), // no key; over MaxMessageBytes
		rec(7, "k7", ""),        // no value
		rec(8, "k8", "v8"),
	)
	b := fetch(t, s)
	if got, want := positions(b), []position{{2, 5}, {2, 6}, {2, 7}}; !slices.Equal(got, want) {
		t.Fatalf("first batch: records %v, want %v (full at BatchRecords)", got, want)
	}
	r := b.Records
	if string(r[0].Key) != "k5" || string(r[0].Value) != "v5" || r[0].Topic != "tweets" || !r[0].Time.Equal(time.UnixMilli(1_600_000_000_005)) {
		t.Errorf("record 5 = key %q value %q topic %q time %v", r[0].Key, r[0].Value, r[0].Topic, r[0].Time)
	}
	if len(r[0].Headers) != 1 || r[0].Headers[0].Key != "h" || string(r[0].Headers[0].Value) != "hv" {
		t.Errorf("record 5 headers = %v", r[0].Headers)
	}
	if r[1].Key != nil || string(r[1].Value) != "value six" || r[1].Oversize != 9 {
		t.Errorf("record 6 = key %q value %q oversize %d, want no key, its value and oversize 9", r[1].Key, r[1].Value, r[1].Oversize)
	}
	if string(r[2].Key) != "k7" || r[2].Value != nil || r[2].Oversize != 0 {
		t.Errorf("record 7 = key %q value %q oversize %d", r[2].Key, r[2].Value, r[2].Oversize)
	}
	// Keys and values live in the batch's arena.
	for i, rr := range r {
		for _, p := range [][]byte{rr.Key, rr.Value} {
			if len(p) > 0 && !within(p, b.Data) {
				t.Errorf("record %d: bytes %q are not in Batch.Data", i, p)
			}
		}
	}
	// The rest of the chunk, then Linger passes with nothing queued.
	b2 := fetch(t, s)
	if got, want := positions(b2), []position{{2, 8}}; !slices.Equal(got, want) {
		t.Errorf("second batch: records %v, want %v", got, want)
	}
	if q := queueLength(s); q != 0 {
		t.Errorf("queue length = %v after every record was taken, want 0", q)
	}
}

// within reports whether p lies in arena.
func within(p, arena []byte) bool {
	for i := range arena {
		if &arena[i] == &p[0] {
			return i+len(p) <= len(arena)
		}
	}
	return false
}

func TestGroupSourceFetchFillsFromSeveralChunks(t *testing.T) {
	s := testGroupSource(SourceConfig{BatchRecords: 5, Linger: 100 * time.Millisecond})
	g := newGeneration(1, (&fakeCommits{}).commit)
	queue(t, s, g, 0, 0, rec(0, "", "a"), rec(1, "", "b"))
	queue(t, s, g, 1, 10, rec(10, "", "c"), rec(11, "", "d"))
	queue(t, s, g, 0, 2, rec(2, "", "e"), rec(3, "", "f"))
	b := fetch(t, s)
	want := []position{{0, 0}, {0, 1}, {1, 10}, {1, 11}, {0, 2}}
	if got := positions(b); !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	// Values stay right although Data grew while the batch filled.
	var values []string
	for _, r := range b.Records {
		values = append(values, string(r.Value))
	}
	if got, want := values, []string{"a", "b", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("values %q, want %q", got, want)
	}
	// The chunk's last record starts the next batch.
	if got := positions(fetch(t, s)); !slices.Equal(got, []position{{0, 3}}) {
		t.Errorf("next batch %v, want [{0 3}]", got)
	}
}

func TestGroupSourceFetchSkipsControlBatches(t *testing.T) {
	stream := &protocol.RecordStream{Records: []protocol.RecordReader{
		&protocol.RecordBatch{Records: protocol.NewRecordReader(rec(0, "", "a"), rec(1, "", "b"))},
		&protocol.ControlBatch{Records: protocol.NewRecordReader(rec(2, "", "commit marker"))},
		&protocol.RecordBatch{Records: protocol.NewRecordReader(rec(3, "", "c"))},
	}}
	c, next, size, err := newChunk(nil, 0, 1, 10, stream, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range c.recs {
		got = append(got, r.offset)
	}
	if want := []int64{1, 3}; !slices.Equal(got, want) {
		t.Errorf("chunk offsets %v, want %v (offset 0 before the fetch offset, 2 a control record)", got, want)
	}
	if next != 4 || size != 2 {
		t.Errorf("next %d, size %d; want 4, 2", next, size)
	}
	// Only a control record: no chunk, but the next fetch goes past it.
	markers := &protocol.RecordStream{Records: []protocol.RecordReader{
		&protocol.ControlBatch{Records: protocol.NewRecordReader(rec(7, "", "abort marker"))},
	}}
	if c, next, _, err := newChunk(nil, 0, 7, 10, markers, nil); c != nil || next != 8 || err != nil {
		t.Errorf("newChunk of a control batch = %v, next %d, %v; want nil, 8, nil", c, next, err)
	}
	empty := protocol.NewRecordReader()
	if c, next, _, err := newChunk(nil, 0, 9, 10, empty, nil); c != nil || next != 9 || err != nil {
		t.Errorf("newChunk of no records = %v, next %d, %v; want nil, 9, nil", c, next, err)
	}
}

func TestGroupSourceBatchesNeverMixGenerations(t *testing.T) {
	s := testGroupSource(SourceConfig{BatchRecords: 10, Linger: 100 * time.Millisecond})
	commits1, commits2 := &fakeCommits{}, &fakeCommits{}
	g1, g2 := newGeneration(1, commits1.commit), newGeneration(2, commits2.commit)
	queue(t, s, g1, 0, 0, rec(0, "", "a"), rec(1, "", "b"))
	queue(t, s, g2, 0, 0, rec(0, "", "a"), rec(1, "", "b"), rec(2, "", "c"))
	b1 := fetch(t, s)
	if got, want := positions(b1), []position{{0, 0}, {0, 1}}; !slices.Equal(got, want) {
		t.Fatalf("first batch %v, want generation 1's records %v", got, want)
	}
	b2 := fetch(t, s)
	if got, want := len(b2.Records), 3; got != want {
		t.Fatalf("second batch: %d records, want generation 2's %d", got, want)
	}
	// Generation 1 ends before its batch is committed: the commit is
	// dropped; generation 2's goes on.
	g1.mu.Lock()
	g1.ended = true
	g1.mu.Unlock()
	s.cfg.CommitInterval = time.Hour
	ctx := context.Background()
	if err := s.Commit(ctx, b1); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, b2); err != nil {
		t.Fatal(err)
	}
	if err := s.flush(g1); err != nil {
		t.Fatal(err)
	}
	if err := s.flush(g2); err != nil {
		t.Fatal(err)
	}
	if got := commits1.got(); len(got) != 0 {
		t.Errorf("ended generation committed %v, want nothing", got)
	}
	if got, want := commits2.got(), []map[int]int64{{0: 3}}; !equalCommits(got, want) {
		t.Errorf("generation 2 committed %v, want %v", got, want)
	}

	// A chunk of an ended generation still queued is dropped: its records
	// are the next owner's to read.
	queue(t, s, g1, 1, 0, rec(0, "", "stale"))
	queue(t, s, g2, 1, 0, rec(0, "", "live"))
	b3 := fetch(t, s)
	if len(b3.Records) != 1 || string(b3.Records[0].Value) != "live" {
		t.Errorf("after a stale chunk: batch %v, want only the live record", positions(b3))
	}
	if q := queueLength(s); q != 0 {
		t.Errorf("queue length = %v, want 0", q)
	}
}

func equalCommits(a, b []map[int]int64) bool {
	return slices.EqualFunc(a, b, func(x, y map[int]int64) bool { return maps.Equal(x, y) })
}

// batchOf returns a fetched batch of the records at the positions given.
func batchOf(t *testing.T, s *GroupSource, g *generation, ps ...position) *pipeline.Batch {
	t.Helper()
	for _, p := range ps {
		queue(t, s, g, int(p.partition), p.offset, rec(p.offset, "", "v"))
	}
	b := &pipeline.Batch{}
	for len(b.Records) < len(ps) {
		if err := s.Fetch(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func TestGroupSourceCommitCoalesces(t *testing.T) {
	s := testGroupSource(SourceConfig{BatchRecords: 100, Linger: time.Millisecond, CommitInterval: time.Hour})
	commits := &fakeCommits{}
	g := newGeneration(1, commits.commit)
	ctx := context.Background()
	for _, b := range []*pipeline.Batch{
		batchOf(t, s, g, position{0, 10}, position{1, 3}, position{0, 11}),
		batchOf(t, s, g, position{1, 4}, position{2, 7}),
		batchOf(t, s, g, position{0, 12}),
	} {
		if err := s.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if got := commits.got(); len(got) != 0 {
		t.Fatalf("commits before the interval: %v, want none", got)
	}
	if err := s.flush(g); err != nil {
		t.Fatal(err)
	}
	want := []map[int]int64{{0: 13, 1: 5, 2: 8}}
	if got := commits.got(); !equalCommits(got, want) {
		t.Fatalf("commits = %v, want one with the offset after each partition's last record %v", got, want)
	}
	// Nothing new: no commit.
	if err := s.flush(g); err != nil {
		t.Fatal(err)
	}
	if got := commits.got(); len(got) != 1 {
		t.Errorf("a flush with nothing pending committed: %v", got[1:])
	}

	// A failed commit keeps its offsets for the next one, merged with
	// newer ones.
	if err := s.Commit(ctx, batchOf(t, s, g, position{0, 13}, position{2, 8})); err != nil {
		t.Fatal(err)
	}
	commits.mu.Lock()
	commits.fail = 1
	commits.mu.Unlock()
	if err := s.flush(g); err == nil {
		t.Fatal("flush with a failing commit = nil, want the error")
	}
	if err := s.Commit(ctx, batchOf(t, s, g, position{0, 14})); err != nil {
		t.Fatal(err)
	}
	if err := s.flush(g); err != nil {
		t.Fatal(err)
	}
	want = append(want, map[int]int64{0: 15, 2: 9})
	if got := commits.got(); !equalCommits(got, want) {
		t.Errorf("commits = %v, want %v", got, want)
	}
}

func TestGroupSourceCommitLoop(t *testing.T) {
	s := testGroupSource(SourceConfig{BatchRecords: 100, Linger: time.Millisecond, CommitInterval: 20 * time.Millisecond})
	commits := &fakeCommits{}
	g := newGeneration(1, commits.commit)
	ctx, endGeneration := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.commitLoop(ctx, g)
	}()
	if err := s.Commit(context.Background(), batchOf(t, s, g, position{0, 1})); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(commits.got()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no commit within 5s of CommitInterval 20ms")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The generation ends: what is pending is committed once more, and
	// later commits of the generation are dropped.
	s.cfg.CommitInterval = time.Hour
	if err := s.Commit(context.Background(), batchOf(t, s, g, position{0, 2})); err != nil {
		t.Fatal(err)
	}
	late := batchOf(t, s, g, position{0, 3})
	endGeneration()
	<-done
	if err := s.Commit(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	if err := s.flush(g); err != nil {
		t.Fatal(err)
	}
	want := []map[int]int64{{0: 2}, {0: 3}}
	if got := commits.got(); !equalCommits(got, want) {
		t.Errorf("commits = %v, want %v", got, want)
	}
}

func TestGroupSourceCommitSynchronously(t *testing.T) {
	s := testGroupSource(SourceConfig{BatchRecords: 100, Linger: time.Millisecond, CommitInterval: 0})
	commits := &fakeCommits{fail: 1}
	g := newGeneration(1, commits.commit)
	ctx := context.Background()
	// The first commit fails and is retried within Commit.
	if err := s.Commit(ctx, batchOf(t, s, g, position{0, 1}, position{1, 5})); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, batchOf(t, s, g, position{0, 2})); err != nil {
		t.Fatal(err)
	}
	want := []map[int]int64{{0: 2, 1: 6}, {0: 3}}
	if got := commits.got(); !equalCommits(got, want) {
		t.Errorf("commits = %v, want one per batch %v", got, want)
	}
}

func TestGroupSourceCloseFlushes(t *testing.T) {
	s := testGroupSource(SourceConfig{BatchRecords: 100, Linger: time.Millisecond, CommitInterval: time.Hour})
	commits := &fakeCommits{}
	g := newGeneration(1, commits.commit)
	s.gen = g
	if err := s.Commit(context.Background(), batchOf(t, s, g, position{3, 41})); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := commits.got(), []map[int]int64{{3: 42}}; !equalCommits(got, want) {
		t.Errorf("commits after Close = %v, want %v", got, want)
	}
}

// TestGroupSourceConsumes runs GroupSource against a broker: a group
// whose committed offsets are past the end (out of range) starts again at
// the beginning, reads every record, commits the end of every partition
// and leaves the group on Close; a new group that starts at the latest
// offset reads only what comes after it joined.
func TestGroupSourceConsumes(t *testing.T) {
	b := testkit.StartBroker(t, devbroker.Config{Partitions: 3})
	values := make([][]byte, 900)
	for i := range values {
		values[i] = fmt.Appendf(nil, `{"n":%d}`, i)
	}
	testkit.Produce(t, b.Addr(), "tweets", values)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	end, err := testkit.EndOffsets(ctx, b.Addr(), "tweets")
	if err != nil {
		t.Fatal(err)
	}
	client := &kafka.Client{Addr: kafka.TCP(b.Addr())}
	res, err := client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: "out-of-range", GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{"tweets": {{Partition: 0, Offset: 1_000_000}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Topics["tweets"][0].Error; err != nil {
		t.Fatal(err)
	}
	if c, err := testkit.Committed(ctx, b.Addr(), "out-of-range", "tweets"); err != nil || c[0] != 1_000_000 {
		t.Fatalf("committed before the run = %v, %v; want partition 0 at 1000000", c, err)
	}

	cfg := SourceConfig{
		Topic: "tweets", Group: "out-of-range", MaxWait: 200 * time.Millisecond, FetchMaxBytes: 4 << 10,
		QueueCapacity: 1024, CommitInterval: 50 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond,
		SessionTimeout: 3 * time.Second, RebalanceTimeout: 3 * time.Second, BatchRecords: 128, Linger: 5 * time.Millisecond,
		Metrics: NewMetrics(prometheus.NewPedanticRegistry()),
	}
	s, err := NewGroupSource(Connection{Brokers: []string{b.Addr()}, DialTimeout: 5 * time.Second}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[position]string{}
	for len(seen) < len(values) {
		var batch pipeline.Batch
		if err := s.Fetch(ctx, &batch); err != nil {
			t.Fatalf("Fetch after %d records: %v", len(seen), err)
		}
		for _, r := range batch.Records {
			seen[position{r.Partition, r.Offset}] = string(r.Value)
			if r.Topic != "tweets" || r.Key == nil {
				t.Fatalf("record %d/%d: topic %q key %q", r.Partition, r.Offset, r.Topic, r.Key)
			}
		}
		if err := s.Commit(ctx, &batch); err != nil {
			t.Fatal(err)
		}
	}
	if !cfg.Metrics.Joined() {
		t.Error("Metrics.Joined() = false after consuming")
	}
	// The consumer's metrics were pushed as it went.
	m := cfg.Metrics
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"messages", testutil.ToFloat64(m.messages), float64(len(values))},
		{"queue length", testutil.ToFloat64(m.queueLength), 0},
		{"instance lag", testutil.ToFloat64(m.lagTotal), 0},
		{"lag series", float64(testutil.CollectAndCount(m.lag)), 3},
		{"rebalances", testutil.ToFloat64(m.rebalances), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if testutil.ToFloat64(m.fetches) < 3 || testutil.ToFloat64(m.bytes) < float64(len(values))*7 || testutil.ToFloat64(m.commits) == 0 {
		t.Errorf("fetches %v, bytes %v, commits %v: want at least a fetch per partition, every byte and a commit",
			testutil.ToFloat64(m.fetches), testutil.ToFloat64(m.bytes), testutil.ToFloat64(m.commits))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, v := range seen {
		got[v] = true
	}
	for _, v := range values {
		if !got[string(v)] {
			t.Fatalf("record %s never fetched", v)
		}
	}
	committed, err := testkit.Committed(ctx, b.Addr(), "out-of-range", "tweets")
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(committed, end) {
		t.Errorf("committed %v after Close, want the end offsets %v", committed, end)
	}

	// Start at the latest offset: only records produced once the group
	// is consuming come.
	cfg.Group, cfg.StartLatest = "latest", true
	s, err = NewGroupSource(Connection{Brokers: []string{b.Addr()}, DialTimeout: 5 * time.Second}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fetched := make(chan *pipeline.Batch)
	go func() {
		var batch pipeline.Batch
		if err := s.Fetch(ctx, &batch); err == nil {
			fetched <- &batch
		}
	}()
	for {
		testkit.Produce(t, b.Addr(), "tweets", [][]byte{[]byte(`{"late":true}`)})
		select {
		case batch := <-fetched:
			for _, r := range batch.Records {
				if r.Offset < end[int(r.Partition)] || string(r.Value) != `{"late":true}` {
					t.Errorf("start latest: got record %d/%d %s from before the group joined", r.Partition, r.Offset, r.Value)
				}
			}
			return
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("start latest: no record within 60s")
		}
	}
}
