package kafkaio

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/testkit"
)

// ownedSpecs are the owned topics as flagstream run asks for them, with
// evidence and state co-partitioned.
func ownedSpecs(partitions int) []TopicSpec {
	return []TopicSpec{
		{Key: "accounts.bindings_topic", Name: "bindings", Partitions: 1, Policy: Compact},
		{Key: "cases.evidence_topic", Name: "evidence", Partitions: partitions, Policy: Delete, SameAs: "cases.state_topic"},
		{Key: "cases.state_topic", Name: "state", Partitions: partitions, Policy: Compact, SameAs: "cases.evidence_topic"},
	}
}

// createTopic creates a topic with a cleanup policy, as an operator would.
func createTopic(t *testing.T, addr, name string, partitions int, policy string) {
	t.Helper()
	testkit.CreateTopics(t, addr, kafka.TopicConfig{
		Topic: name, NumPartitions: partitions, ReplicationFactor: 1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: policy}},
	})
}

func TestEnsureTopicsCreatesAndChecks(t *testing.T) {
	b := testkit.StartBroker(t, devbroker.Config{Partitions: 2})
	conn := Connection{Brokers: []string{b.Addr()}, DialTimeout: 5 * time.Second}
	ctx := context.Background()

	counts, err := EnsureTopics(ctx, conn, ownedSpecs(3))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := counts, map[string]int{"bindings": 1, "evidence": 3, "state": 3}; !maps.Equal(got, want) {
		t.Errorf("partition counts: got %v, want %v", got, want)
	}
	c := conn.client(conn.transport())
	policies, err := cleanupPolicies(ctx, c, []string{"bindings", "evidence", "state"})
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]string{"bindings": "compact", "evidence": "delete", "state": "compact"} {
		if policies[topic] != want {
			t.Errorf("%s: cleanup.policy %q, want %q", topic, policies[topic], want)
		}
	}

	// A second start finds them as they are, whatever it would create.
	if counts, err = EnsureTopics(ctx, conn, ownedSpecs(8)); err != nil {
		t.Fatalf("second start: %v", err)
	}
	if counts["state"] != 3 {
		t.Errorf("second start: state has %d partitions, want still 3", counts["state"])
	}
	evidence := NewFetcher(conn, "evidence", 0, 0)
	defer evidence.Close()
	if parts, err := evidence.Partitions(ctx); err != nil || len(parts) != 3 {
		t.Errorf("Partitions(evidence) = %v, %v; want 3", parts, err)
	}
	none := NewFetcher(conn, "no-such-topic", 0, 0)
	defer none.Close()
	if _, err := none.Partitions(ctx); !errors.Is(err, ErrNoTopic) || !errors.Is(err, kafka.UnknownTopicOrPartition) {
		t.Errorf("Partitions of a missing topic: %v, want ErrNoTopic and UnknownTopicOrPartition", err)
	}
}

func TestEnsureTopicsCreatesThePartnerWithItsCount(t *testing.T) {
	b := testkit.StartBroker(t, devbroker.Config{Partitions: 2})
	createTopic(t, b.Addr(), "state", 5, "compact")
	conn := Connection{Brokers: []string{b.Addr()}, DialTimeout: 5 * time.Second}
	counts, err := EnsureTopics(context.Background(), conn, ownedSpecs(3))
	if err != nil {
		t.Fatal(err)
	}
	if counts["evidence"] != 5 {
		t.Errorf("evidence created with %d partitions, want the state topic's 5", counts["evidence"])
	}
}

func TestEnsureTopicsRefusesMisconfiguredTopics(t *testing.T) {
	for _, tc := range []struct {
		name   string
		create func(t *testing.T, addr string)
		want   []string
	}{{
		name:   "state not compacted",
		create: func(t *testing.T, addr string) { createTopic(t, addr, "state", 3, "delete") },
		want:   []string{"cases.state_topic: topic state has cleanup.policy=delete, want compact", "kafka-configs"},
	}, {
		name:   "state compacted and deleted",
		create: func(t *testing.T, addr string) { createTopic(t, addr, "state", 3, "compact,delete") },
		want:   []string{"cleanup.policy=compact,delete, want compact"},
	}, {
		name:   "evidence compacted",
		create: func(t *testing.T, addr string) { createTopic(t, addr, "evidence", 3, "compact") },
		want:   []string{"cases.evidence_topic: topic evidence has cleanup.policy=compact, want delete", "drop records"},
	}, {
		name:   "bindings not compacted",
		create: func(t *testing.T, addr string) { createTopic(t, addr, "bindings", 1, "delete") },
		want:   []string{"accounts.bindings_topic: topic bindings has cleanup.policy=delete, want compact"},
	}, {
		name: "partition counts differ",
		create: func(t *testing.T, addr string) {
			createTopic(t, addr, "evidence", 4, "delete")
			createTopic(t, addr, "state", 3, "compact")
		},
		want: []string{"cases.evidence_topic: topic evidence has 4 partitions but cases.state_topic (state) has 3", "co-partitioned"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			b := testkit.StartBroker(t, devbroker.Config{Partitions: 2})
			tc.create(t, b.Addr())
			conn := Connection{Brokers: []string{b.Addr()}, DialTimeout: 5 * time.Second}
			_, err := EnsureTopics(context.Background(), conn, ownedSpecs(3))
			if !errors.Is(err, ErrTopicConfig) {
				t.Fatalf("got %v, want an ErrTopicConfig", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestEnsureTopicsUnreachable(t *testing.T) {
	conn := Connection{Brokers: []string{testkit.FreeAddr(t)}, DialTimeout: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := EnsureTopics(ctx, conn, ownedSpecs(3))
	if err == nil || errors.Is(err, ErrTopicConfig) {
		t.Fatalf("got %v, want a retryable error", err)
	}
}

func TestPolicyFits(t *testing.T) {
	for _, tc := range []struct {
		got  string
		want CleanupPolicy
		ok   bool
	}{
		{"compact", Compact, true},
		{" compact ", Compact, true},
		{"compact,compact", Compact, true},
		{"compact,delete", Compact, false},
		{"delete", Compact, false},
		{"", Compact, false},
		{"delete", Delete, true},
		{"delete,compact", Delete, false},
	} {
		if got := policyFits(tc.got, tc.want); got != tc.ok {
			t.Errorf("policyFits(%q, %s) = %v, want %v", tc.got, tc.want, got, tc.ok)
		}
	}
}
