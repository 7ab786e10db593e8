package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/testkit"
	"flagstream/pipeline"
)

// historyTopic fills partitions 0 and 1 of a topic of a new broker with n
// records each, record i of partition p having the value "p/i" and the
// time base + i minutes.
func historyTopic(t *testing.T, n int) (addr string, base time.Time) {
	t.Helper()
	b := testkit.StartBroker(t, devbroker.Config{Partitions: 2})
	base = time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC)
	for p := range 2 {
		values := make([][]byte, n)
		times := make([]time.Time, n)
		for i := range n {
			values[i] = fmt.Appendf(nil, "%d/%d", p, i)
			times[i] = base.Add(time.Duration(i) * time.Minute)
		}
		testkit.ProduceAt(t, b.Addr(), testkit.InputTopic, p, values, times)
	}
	return b.Addr(), base
}

// timeOffset is a time and the offset ForTime answers for it.
type timeOffset struct {
	at   time.Time
	want int64
}

// checkForTime checks what f.ForTime answers, for every one of parts, at
// each time.
func checkForTime(t *testing.T, f *Fetcher, parts []int, cases []timeOffset) {
	t.Helper()
	for _, tc := range cases {
		got, err := f.ForTime(context.Background(), parts, tc.at)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			if got[p] != tc.want {
				t.Errorf("ForTime(%s) = %v, want %d for every partition", tc.at.Format(time.RFC3339), got, tc.want)
				break
			}
		}
	}
}

func TestFetcherOffsets(t *testing.T) {
	addr, base := historyTopic(t, 100)
	ctx := context.Background()
	o := NewFetcher(Connection{Brokers: []string{addr}}, testkit.InputTopic, 0, 0)
	defer o.Close()
	parts, err := o.Partitions(ctx)
	if err != nil || !slices.Equal(parts, []int{0, 1}) {
		t.Fatalf("Partitions = %v, %v; want [0 1]", parts, err)
	}
	end, err := o.End(ctx, parts)
	if err != nil || end[0] != 100 || end[1] != 100 {
		t.Fatalf("End = %v, %v; want 100 each", end, err)
	}
	checkForTime(t, o, parts, []timeOffset{
		{base.Add(-time.Hour), 0},
		{base, 0},
		{base.Add(30 * time.Minute), 30},
		{base.Add(30*time.Minute + time.Second), 31},
		{base.Add(99 * time.Minute), 99},
		{base.Add(100 * time.Minute), -1}, // no record at or after it
	})
	first, err := o.First(ctx, parts)
	if err != nil || first[0] != 0 || first[1] != 0 {
		t.Fatalf("First = %v, %v; want 0 each", first, err)
	}
	rt, off, err := o.RecordTime(ctx, 1, 42)
	if err != nil || !rt.Equal(base.Add(42*time.Minute)) || off != 42 {
		t.Errorf("RecordTime(1, 42) = %v, %d, %v; want %v at 42", rt, off, err, base.Add(42*time.Minute))
	}
	if _, _, err := o.RecordTime(ctx, 1, 100); !errors.Is(err, io.EOF) {
		t.Errorf("RecordTime at the end: err %v, want io.EOF", err)
	}

	// Retention deleted the first 40 records of partition 1.
	testkit.DeleteRecords(t, addr, testkit.InputTopic, 1, 40)
	first, err = o.First(ctx, parts)
	if err != nil || first[0] != 0 || first[1] != 40 {
		t.Fatalf("First after deleting = %v, %v; want 0 and 40", first, err)
	}
	got, err := o.ForTime(ctx, parts, base.Add(10*time.Minute))
	if err != nil || got[0] != 10 || got[1] != 40 {
		t.Errorf("ForTime after deleting = %v, %v; want 10 and 40", got, err)
	}

	none := NewFetcher(Connection{Brokers: []string{addr}}, "no-such-topic", 0, 0)
	defer none.Close()
	if _, err := none.Partitions(ctx); !errors.Is(err, ErrNoTopic) {
		t.Errorf("Partitions of a missing topic: err %v, want ErrNoTopic", err)
	}
}

// drain reads s to the end as the pipeline would, committing each batch,
// and returns the values read.
func drain(t *testing.T, s *RangeSource) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []string
	for {
		var b pipeline.Batch
		err := s.Fetch(ctx, &b)
		for _, r := range b.Records {
			got = append(got, string(r.Value))
			if want := fmt.Sprintf("%d/%d", r.Partition, r.Offset); string(r.Value) != want {
				t.Fatalf("record %d/%d holds %q", r.Partition, r.Offset, r.Value)
			}
		}
		if cerr := s.Commit(ctx, &b); cerr != nil {
			t.Fatal(cerr)
		}
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestRangeSource(t *testing.T) {
	addr, _ := historyTopic(t, 500)
	var mu sync.Mutex
	committed := map[int32]int64{}
	s := NewRangeSource(Connection{Brokers: []string{addr}}, RangeConfig{
		Topic:        testkit.InputTopic,
		Ranges:       []PartitionRange{{0, 10, 400}, {1, 250, 251}, {0, 400, 400}},
		BatchRecords: 64,
		Committed: func(_ context.Context, next []PartitionOffset) error {
			mu.Lock()
			defer mu.Unlock()
			for _, n := range next {
				if n.Next <= committed[n.Partition] {
					return fmt.Errorf("partition %d committed %d after %d", n.Partition, n.Next, committed[n.Partition])
				}
				committed[n.Partition] = n.Next
			}
			return nil
		},
	})
	if s.Remaining() != 391 {
		t.Errorf("Remaining before reading = %d, want 391", s.Remaining())
	}
	got := drain(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 10; i < 400; i++ {
		want = append(want, fmt.Sprintf("0/%d", i))
	}
	want = append(want, "1/250")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("read %d records, want %d (offsets 10-399 of 0, 250 of 1)", len(got), len(want))
	}
	if committed[0] != 400 || committed[1] != 251 {
		t.Errorf("committed %v, want 0:400 1:251", committed)
	}
	if s.Read() != 391 || s.Remaining() != 0 || s.Skipped() != 0 {
		t.Errorf("Read, Remaining, Skipped = %d, %d, %d; want 391, 0, 0", s.Read(), s.Remaining(), s.Skipped())
	}
}

func TestRangeSourceSkipsDeletedRecords(t *testing.T) {
	addr, _ := historyTopic(t, 100)
	testkit.DeleteRecords(t, addr, testkit.InputTopic, 0, 30)
	s := NewRangeSource(Connection{Brokers: []string{addr}}, RangeConfig{
		Topic: testkit.InputTopic, Ranges: []PartitionRange{{0, 0, 50}},
	})
	defer s.Close()
	got := drain(t, s)
	if len(got) != 20 || got[0] != "0/30" || s.Skipped() != 30 || s.Remaining() != 0 {
		t.Errorf("read %d records from %v, skipped %d, %d remaining; want 20 from 0/30, 30 skipped, none remaining",
			len(got), got[:min(1, len(got))], s.Skipped(), s.Remaining())
	}
}

func TestRangeSourceNothingToRead(t *testing.T) {
	s := NewRangeSource(Connection{Brokers: []string{"127.0.0.1:1"}}, RangeConfig{
		Topic: "tweets", Ranges: []PartitionRange{{0, 5, 5}},
	})
	var b pipeline.Batch
	if err := s.Fetch(context.Background(), &b); !errors.Is(err, io.EOF) || len(b.Records) != 0 {
		t.Errorf("Fetch of empty ranges = %d records, %v; want none and io.EOF", len(b.Records), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Close before any Fetch does not block.
	if err := NewRangeSource(Connection{Brokers: []string{"127.0.0.1:1"}}, RangeConfig{Topic: "tweets"}).Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRangeSourceRate(t *testing.T) {
	addr, _ := historyTopic(t, 300)
	s := NewRangeSource(Connection{Brokers: []string{addr}}, RangeConfig{
		Topic: testkit.InputTopic, Ranges: []PartitionRange{{0, 0, 300}, {1, 0, 100}}, Rate: 1000,
	})
	defer s.Close()
	start := time.Now()
	got := drain(t, s)
	// 400 records at 1000/s take at least 0.35 s (the first batch goes at
	// once); an upper bound would be a timed test.
	if elapsed := time.Since(start); len(got) != 400 || elapsed < 350*time.Millisecond {
		t.Errorf("read %d records in %v; want 400 in at least 350ms at 1000 records/s", len(got), elapsed)
	}
	if s.cfg.BatchRecords != 50 {
		t.Errorf("batches of %d records at 1000/s, want 50", s.cfg.BatchRecords)
	}
}

func TestRangeSourceStopsWithContext(t *testing.T) {
	addr, _ := historyTopic(t, 10)
	s := NewRangeSource(Connection{Brokers: []string{addr}}, RangeConfig{
		// The range reaches past what the partition holds.
		Topic: testkit.InputTopic, Ranges: []PartitionRange{{0, 0, 10}}, Rate: 5,
	})
	ctx, cancel := context.WithCancel(context.Background())
	var b pipeline.Batch
	if err := s.Fetch(ctx, &b); err != nil || len(b.Records) != 1 {
		t.Fatalf("first Fetch at 5 records/s = %d records, %v; want 1", len(b.Records), err)
	}
	cancel()
	b = pipeline.Batch{}
	if err := s.Fetch(ctx, &b); !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch after cancel: %v, want context.Canceled", err)
	}
	done := make(chan struct{})
	go func() {
		s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}
