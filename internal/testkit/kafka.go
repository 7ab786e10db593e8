// Package testkit is the one shared test harness of flagstream: a
// Kafka-protocol broker with flagstream's topics, independent Kafka reads
// and writes (whole topics partition by partition, produced records, a
// group's committed offsets), the shared test material beside the
// repository, and the small helpers every test package needs.
//
// Only tests import it; production code never does. It imports no
// package that imports matchers, so that matchers' own tests can use it;
// it builds run configurations, so config's own tests cannot.
package testkit

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Partitions returns the partitions of topic.
func Partitions(ctx context.Context, addr, topic string) ([]int, error) {
	conn, err := kafka.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(topic)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(parts))
	for i, p := range parts {
		out[i] = p.ID
	}
	return out, nil
}

// ReadTopic returns every record now in topic, partition by partition.
func ReadTopic(t testing.TB, addr, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	parts, err := Partitions(ctx, addr, topic)
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	var out []kafka.Message
	for _, p := range parts {
		msgs, err := readPartition(ctx, addr, topic, p)
		if err != nil {
			t.Fatalf("read %s/%d: %v", topic, p, err)
		}
		out = append(out, msgs...)
	}
	return out
}

func readPartition(ctx context.Context, addr, topic string, partition int) ([]kafka.Message, error) {
	conn, err := kafka.DialLeader(ctx, "tcp", addr, topic, partition)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	last, err := conn.ReadLastOffset()
	if err != nil {
		return nil, err
	}
	first, err := conn.ReadFirstOffset()
	if err != nil {
		return nil, err
	}
	var out []kafka.Message
	for offset := first; offset < last; {
		if _, err := conn.Seek(offset, kafka.SeekAbsolute); err != nil {
			return nil, err
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		batch := conn.ReadBatch(1, 16<<20)
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			out = append(out, m)
			offset = m.Offset + 1
		}
		if err := batch.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EndOffsets returns the next offset of every partition of topic.
func EndOffsets(ctx context.Context, addr, topic string) (map[int]int64, error) {
	parts, err := Partitions(ctx, addr, topic)
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for _, p := range parts {
		conn, err := kafka.DialLeader(ctx, "tcp", addr, topic, p)
		if err != nil {
			return nil, err
		}
		last, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			return nil, err
		}
		out[p] = last
	}
	return out, nil
}

// Committed returns the offsets group has committed for topic (-1 where
// none).
func Committed(ctx context.Context, addr, group, topic string) (map[int]int64, error) {
	parts, err := Partitions(ctx, addr, topic)
	if err != nil {
		return nil, err
	}
	c := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	resp, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("partition %d: %w", p.Partition, p.Error)
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out, nil
}

// CaughtUp reports whether group has committed the end of every partition
// of topic that holds records; it says false when the broker cannot tell
// within 10 s.
func CaughtUp(addr, group, topic string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	end, err := EndOffsets(ctx, addr, topic)
	if err != nil {
		return false
	}
	committed, err := Committed(ctx, addr, group, topic)
	if err != nil {
		return false
	}
	for p, e := range end {
		// A partition that never held a record has nothing to commit:
		// producers with a sticky partitioner (kcat's librdkafka) may
		// leave one empty.
		if e > 0 && committed[p] < e {
			return false
		}
	}
	return true
}

// Produce writes values to topic, spread over its partitions, and waits
// for the broker's acknowledgement.
func Produce(t testing.TB, addr, topic string, values [][]byte) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.RoundRobin{},
		BatchSize: 1000, BatchBytes: 16 << 20, BatchTimeout: 2 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Key: []byte(strconv.Itoa(i)), Value: v}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// CreateTopics creates topics on the broker at addr, failing the test
// unless every one is created within 10 s.
func CreateTopics(t testing.TB, addr string, topics ...kafka.TopicConfig) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := (&kafka.Client{Addr: kafka.TCP(addr)}).CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: topics})
	if err != nil {
		t.Fatalf("create topics: %v", err)
	}
	for _, tc := range topics {
		if err := res.Errors[tc.Topic]; err != nil {
			t.Fatalf("create topic %s: %v", tc.Topic, err)
		}
	}
}

// ProduceKeyed writes msgs to topic partitioned by murmur2 of their keys,
// as the pipeline's sink and any Java-compatible producer do, and waits for
// the broker's acknowledgement.
func ProduceKeyed(t testing.TB, addr, topic string, msgs ...kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.Murmur2Balancer{},
		BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// FreeAddr returns a loopback address with a port free at the time of the
// call.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Header returns the value of header key of m, and whether it is there.
func Header(m kafka.Message, key string) (string, bool) {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// DeleteRecords deletes the records of topic's partition before offset,
// as retention does: the partition then starts at offset.
func DeleteRecords(t testing.TB, addr, topic string, partition int32, before int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Partition, rp.Offset = partition, before
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10_000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("delete records of %s/%d: %v", topic, partition, err)
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				t.Fatalf("delete records of %s/%d: %v", topic, rp.Partition, err)
			}
		}
	}
}

// ProduceAt writes values to topic's partition with the given record
// timestamps (CreateTime), in order, and waits for the acknowledgement.
func ProduceAt(t testing.TB, addr, topic string, partition int, values [][]byte, times []time.Time) {
	t.Helper()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Key: []byte(strconv.Itoa(i)), Value: v, Time: times[i]}
	}
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: fixedPartition(partition),
		BatchSize: 1000, BatchBytes: 16 << 20, BatchTimeout: 2 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce to %s/%d: %v", topic, partition, err)
	}
}

// fixedPartition balances every message to one partition.
type fixedPartition int

func (p fixedPartition) Balance(_ kafka.Message, partitions ...int) int { return int(p) }
