package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/testkit"
)

// produceTo writes records to given partitions of topic: value "p/i" for
// the i-th record of partition p, key "k<i>"; a value "" is a tombstone.
func produceTo(t *testing.T, addr, topic string, msgs []kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: partitionOf{}, BatchTimeout: time.Millisecond,
		RequiredAcks: kafka.RequireAll}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

// partitionOf puts each message on the partition it names.
type partitionOf struct{}

func (partitionOf) Balance(m kafka.Message, _ ...int) int { return m.Partition }

func numbered(partition, from, n int) []kafka.Message {
	out := make([]kafka.Message, n)
	for i := range out {
		out[i] = kafka.Message{Partition: partition, Key: fmt.Appendf(nil, "k%d", from+i), Value: fmt.Appendf(nil, "%d/%d", partition, from+i)}
	}
	return out
}

// collector gathers what ReadPartitions hands over.
type collector struct {
	mu   sync.Mutex
	msgs []Message
}

func (c *collector) fn(msgs []Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 1; i < len(msgs); i++ {
		if msgs[i].Partition == msgs[i-1].Partition && msgs[i].Offset <= msgs[i-1].Offset {
			return fmt.Errorf("offsets out of order: %d after %d", msgs[i].Offset, msgs[i-1].Offset)
		}
	}
	c.msgs = append(c.msgs, msgs...)
	return nil
}

func (c *collector) values() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.msgs {
		out = append(out, string(m.Value))
	}
	slices.Sort(out)
	return out
}

func sortedValues(msgs []kafka.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, string(m.Value))
	}
	slices.Sort(out)
	return out
}

func TestReadPartitionsBounded(t *testing.T) {
	b := testkit.StartBroker(t, devbroker.Config{Partitions: 3})
	addr := b.Addr()
	createTopic(t, addr, "log", 3, "compact")
	var all []kafka.Message
	for p := range 3 {
		all = append(all, numbered(p, 0, 40+p)...)
	}
	produceTo(t, addr, "log", all)
	conn := Connection{Brokers: []string{addr}, DialTimeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("whole topic", func(t *testing.T) {
		var c collector
		var from, until map[int]int64
		caught := 0
		err := ReadPartitions(ctx, conn, ReadConfig{Topic: "log", MaxBytes: 512,
			Started:  func(f, u map[int]int64) { from, until = f, u },
			CaughtUp: func() { caught++ },
		}, c.fn)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.values(), sortedValues(all); !slices.Equal(got, want) {
			t.Errorf("read %d records, want %d", len(got), len(want))
		}
		if want := map[int]int64{0: 0, 1: 0, 2: 0}; !maps.Equal(from, want) {
			t.Errorf("started at %v, want %v", from, want)
		}
		if want := map[int]int64{0: 40, 1: 41, 2: 42}; !maps.Equal(until, want) {
			t.Errorf("ends at %v, want %v", until, want)
		}
		if caught != 1 {
			t.Errorf("CaughtUp called %d times, want 1", caught)
		}
		for _, m := range c.msgs {
			if want := fmt.Sprintf("%d/%d", m.Partition, m.Offset); string(m.Value) != want || string(m.Key) != fmt.Sprintf("k%d", m.Offset) {
				t.Errorf("record %d/%d: key %q value %q", m.Partition, m.Offset, m.Key, m.Value)
			}
		}
	})
	t.Run("some partitions between offsets", func(t *testing.T) {
		var c collector
		err := ReadPartitions(ctx, conn, ReadConfig{Topic: "log", Partitions: []int{1, 2},
			From: map[int]int64{1: 10, 2: kafka.LastOffset}, Until: map[int]int64{1: 15}}, c.fn)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.values(), []string{"1/10", "1/11", "1/12", "1/13", "1/14"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("an error of fn stops the read", func(t *testing.T) {
		boom := errors.New("boom")
		err := ReadPartitions(ctx, conn, ReadConfig{Topic: "log"}, func([]Message) error { return boom })
		if !errors.Is(err, boom) {
			t.Errorf("got %v, want boom", err)
		}
	})
	t.Run("missing topic", func(t *testing.T) {
		err := ReadPartitions(ctx, conn, ReadConfig{Topic: "no-such-topic"}, func([]Message) error { return nil })
		if !errors.Is(err, kafka.UnknownTopicOrPartition) {
			t.Errorf("got %v, want UnknownTopicOrPartition", err)
		}
	})
}

func TestReadPartitionsFollows(t *testing.T) {
	b := testkit.StartBroker(t, devbroker.Config{Partitions: 2})
	addr := b.Addr()
	createTopic(t, addr, "follow", 2, "compact")
	conn := Connection{Brokers: []string{addr}, DialTimeout: 5 * time.Second}

	// An empty topic is caught up at once.
	ctx, cancel := context.WithCancel(context.Background())
	caught := make(chan struct{})
	var c collector
	done := make(chan error, 1)
	go func() {
		done <- ReadPartitions(ctx, conn, ReadConfig{Topic: "follow", Follow: true, MaxWait: 100 * time.Millisecond,
			CaughtUp: func() { close(caught) }}, c.fn)
	}()
	select {
	case <-caught:
	case <-time.After(10 * time.Second):
		t.Fatal("an empty topic was not caught up")
	}
	msgs := append(numbered(0, 0, 3), numbered(1, 0, 2)...)
	msgs = append(msgs, kafka.Message{Partition: 1, Key: []byte("gone"), Headers: []kafka.Header{{Key: "h", Value: []byte("v")}}})
	produceTo(t, addr, "follow", msgs)
	testkit.WaitFor(t, 10*time.Second, "the new records", func() bool { return len(c.values()) == 6 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("a following read ended with %v, want context.Canceled", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var tomb *Message
	for i := range c.msgs {
		if string(c.msgs[i].Key) == "gone" {
			tomb = &c.msgs[i]
		}
	}
	if tomb == nil || tomb.Value != nil || len(tomb.Headers) != 1 || string(tomb.Headers[0].Value) != "v" {
		t.Errorf("tombstone read as %+v, want a nil value and its header", tomb)
	}
}

func TestReadPartitionsCaughtUpAfterExistingRecords(t *testing.T) {
	b := testkit.StartBroker(t, devbroker.Config{Partitions: 2})
	addr := b.Addr()
	createTopic(t, addr, "catch", 2, "compact")
	produceTo(t, addr, "catch", append(numbered(0, 0, 25), numbered(1, 0, 5)...))
	conn := Connection{Brokers: []string{addr}, DialTimeout: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	var c collector
	atCatchUp := make(chan int, 1)
	done := make(chan error, 1)
	go func() {
		done <- ReadPartitions(ctx, conn, ReadConfig{Topic: "catch", Follow: true, MaxBytes: 256, MaxWait: 100 * time.Millisecond,
			CaughtUp: func() { atCatchUp <- len(c.msgs) }}, c.fn) // c.msgs: fn and CaughtUp run under the reader's lock
	}()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case n := <-atCatchUp:
		if n != 30 {
			t.Errorf("caught up after %d records, want all 30 found at start", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not caught up")
	}
}

func TestFetcherForTime(t *testing.T) {
	b := testkit.StartBroker(t, devbroker.Config{Partitions: 1})
	addr := b.Addr()
	createTopic(t, addr, "timed", 1, "delete")
	base := time.Date(2021, 2, 4, 10, 0, 0, 0, time.UTC)
	var msgs []kafka.Message
	for i := range 5 {
		msgs = append(msgs, kafka.Message{Value: []byte{byte('a' + i)}, Time: base.Add(time.Duration(i) * time.Hour)})
	}
	produceTo(t, addr, "timed", msgs)
	conn := Connection{Brokers: []string{addr}, DialTimeout: 5 * time.Second}
	f := NewFetcher(conn, "timed", 0, 0)
	defer f.Close()
	checkForTime(t, f, []int{0}, []timeOffset{
		{base.Add(-time.Hour), 0},
		{base, 0},
		{base.Add(90 * time.Minute), 2},
		{base.Add(4 * time.Hour), 4},
		{base.Add(5 * time.Hour), -1}, // nothing since
	})
}

func TestCompactedTopicKeyedRecords(t *testing.T) {
	b := testkit.StartBroker(t, devbroker.Config{})
	conn := Connection{Brokers: []string{b.Addr()}}
	ctx := context.Background()
	const topic = "flagstream-retro"
	for range 2 { // creates, then finds it compacted
		if _, err := EnsureTopics(ctx, conn, []TopicSpec{{Key: "retro.progress_topic", Name: topic, Partitions: 3, Policy: Compact}}); err != nil {
			t.Fatal(err)
		}
	}
	parts, err := testkit.Partitions(ctx, b.Addr(), topic)
	if err != nil || len(parts) != 3 {
		t.Fatalf("created %d partitions (%v), want 3", len(parts), err)
	}
	_, err = EnsureTopics(ctx, conn, []TopicSpec{{Key: "retro.progress_topic", Name: testkit.InputTopic, Partitions: 1, Policy: Compact}})
	if !errors.Is(err, ErrTopicConfig) || !strings.Contains(err.Error(), "cleanup.policy=delete") {
		t.Errorf("EnsureTopics of a topic that is not compacted: %v, want it refused naming cleanup.policy=delete", err)
	}

	w := NewProducer(conn, ProducerConfig{})
	var msgs []kafka.Message
	for i := range 50 {
		msgs = append(msgs, kafka.Message{Topic: topic, Key: fmt.Appendf(nil, "k%d", i%10), Value: fmt.Appendf(nil, "v%d", i)})
	}
	if err := w.Write(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// A later record of a key replaces an earlier one: each key's last
	// value is read last, and every key stays on one partition.
	last := map[string]string{}
	partOf := map[string]int{}
	n := 0
	err = ReadPartitions(ctx, conn, ReadConfig{Topic: topic}, func(msgs []Message) error {
		for _, r := range msgs {
			n++
			k := string(r.Key)
			if p, ok := partOf[k]; ok && p != r.Partition {
				return fmt.Errorf("key %s on partitions %d and %d", k, p, r.Partition)
			}
			partOf[k] = r.Partition
			last[k] = string(r.Value)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 50 || len(last) != 10 || last["k3"] != "v43" {
		t.Errorf("read %d records, %d keys, k3 = %q; want 50, 10, v43", n, len(last), last["k3"])
	}
	if err := ReadPartitions(ctx, conn, ReadConfig{Topic: "no-such-topic"}, func([]Message) error { return nil }); !errors.Is(err, ErrNoTopic) {
		t.Errorf("ReadPartitions of a missing topic: %v, want ErrNoTopic", err)
	}
}
