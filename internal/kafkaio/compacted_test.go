package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/testkit"
)

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
