package accounts

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/kafkaio"
	"flagstream/internal/testkit"
	"flagstream/pipeline/cases"
)

// produceBindings writes bindings to the topic keyed as the case processor
// keys them; a nil value in raw writes a tombstone of its key.
func produceBindings(t *testing.T, addr, topic string, bs []cases.Binding, raw ...kafka.Message) {
	t.Helper()
	var msgs []kafka.Message
	for _, b := range bs {
		key, err := b.Key()
		if err != nil {
			t.Fatal(err)
		}
		v, err := b.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, kafka.Message{Key: []byte(key), Value: v})
	}
	testkit.ProduceKeyed(t, addr, topic, append(msgs, raw...)...)
}

func TestFollower(t *testing.T) {
	b := testkit.StartBroker(t, devbroker.Config{Partitions: 2})
	conn := kafkaio.Connection{Brokers: []string{b.Addr()}, DialTimeout: 5 * time.Second}
	if _, err := kafkaio.EnsureTopics(context.Background(), conn, []kafkaio.TopicSpec{
		{Key: "accounts.bindings_topic", Name: "bindings", Partitions: 3, Policy: kafkaio.Compact}}); err != nil {
		t.Fatal(err)
	}
	var before []cases.Binding
	for _, h := range []string{"kisan_one", "kisan_two", "kisan_three", "kisan_four"} {
		before = append(before, learned(h, "100"))
	}
	produceBindings(t, b.Addr(), "bindings", before,
		kafka.Message{Key: []byte("broken"), Value: []byte(`{"schema":"flagstream.binding/v1"}`)})

	tab := NewTable()
	m := NewMetrics(prometheus.NewPedanticRegistry())
	f := NewFollower(FollowerConfig{Conn: conn, Topic: "bindings", Table: tab, MaxWait: 100 * time.Millisecond,
		Logger: testkit.Logger(t), Metrics: m})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	select {
	case <-f.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("not caught up")
	}
	// Caught up means every binding written before is in the table.
	if got := bound(tab, "100"); len(got) != 4 {
		t.Errorf("at catch-up: BoundHandles(100) = %v, want the 4 handles", got)
	}
	if !f.CaughtUp() || testutil.ToFloat64(m.caughtUp) != 1 {
		t.Error("CaughtUp false after Done")
	}
	if got := testutil.ToFloat64(m.invalid); got != 1 {
		t.Errorf("invalid bindings counted: %v, want 1", got)
	}

	// Then it follows: a rename of the binding and a tombstone.
	produceBindings(t, b.Addr(), "bindings", []cases.Binding{learned("kisan_one", "200")},
		kafka.Message{Key: []byte("kisan_two")})
	testkit.WaitFor(t, 10*time.Second, "the new bindings followed", func() bool {
		id, _ := tab.UserID("kisan_one")
		_, two := tab.UserID("kisan_two")
		return id == "200" && !two
	})
	if got := testutil.ToFloat64(m.bound); got != 3 {
		t.Errorf("flagstream_bindings = %v, want 3", got)
	}
}
