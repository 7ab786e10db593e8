package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
	"flagstream/internal/kafkaio"
	"flagstream/internal/testkit"
)

// topicConfig returns the partition count and cleanup policy of a topic.
func topicConfig(t *testing.T, addr, topic string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	parts, err := testkit.Partitions(ctx, addr, topic)
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	c := &kafka.Client{Addr: kafka.TCP(addr)}
	res, err := c.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: []string{"cleanup.policy"}}}})
	if err != nil || len(res.Resources) != 1 || res.Resources[0].Error != nil {
		t.Fatalf("describe %s: %v %+v", topic, err, res)
	}
	policy := ""
	for _, e := range res.Resources[0].ConfigEntries {
		policy = e.ConfigValue
	}
	return len(parts), policy
}

// TestRunCreatesOwnedTopics starts run on a broker without flagstream's
// own topics: it creates them (evidence and state with the input topic's
// partition count) before turning ready.
func TestRunCreatesOwnedTopics(t *testing.T) {
	h := testkit.New(t, devbroker.Config{Partitions: 3}, synth.Config{})
	cfg := h.Config("owned")
	in := start(t, cfg)
	testkit.WaitFor(t, 30*time.Second, "ready", func() bool { return httpStatus(t, "http://"+in.Addr+"/readyz") == http.StatusOK })
	addr := h.Broker.Addr()
	for topic, want := range map[string]struct {
		partitions int
		policy     string
	}{
		cfg.Accounts.BindingsTopic: {1, "compact"},
		cfg.Retro.ProgressTopic:    {1, "compact"},
		cfg.Cases.EvidenceTopic:    {3, "delete"},
		cfg.Cases.StateTopic:       {3, "compact"},
	} {
		n, policy := topicConfig(t, addr, topic)
		if n != want.partitions || policy != want.policy {
			t.Errorf("%s: %d partitions, cleanup.policy=%s; want %d, %s", topic, n, policy, want.partitions, want.policy)
		}
	}
	if err := in.Stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestRunRefusesMisconfiguredOwnedTopics: a state topic that is not
// compacted, or evidence and state topics of different partition counts,
// stop run with a usage error that says what to fix.
func TestRunRefusesMisconfiguredOwnedTopics(t *testing.T) {
	for _, tc := range []struct {
		name   string
		topics []kafka.TopicConfig
		want   []string
	}{{
		name:   "state topic not compacted",
		topics: []kafka.TopicConfig{{Topic: "flagstream-cases", NumPartitions: 4, ReplicationFactor: 1}},
		want:   []string{"cases.state_topic: topic flagstream-cases has cleanup.policy=delete, want compact"},
	}, {
		name: "partition counts differ",
		topics: []kafka.TopicConfig{
			{Topic: "flagstream-cases", NumPartitions: 2, ReplicationFactor: 1,
				ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}},
			{Topic: "flagstream-case-evidence", NumPartitions: 4, ReplicationFactor: 1},
		},
		want: []string{"has 4 partitions but cases.state_topic (flagstream-cases) has 2"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			h := testkit.New(t, devbroker.Config{}, synth.Config{})
			c := &kafka.Client{Addr: kafka.TCP(h.Broker.Addr()), Timeout: 10 * time.Second}
			if _, err := c.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: tc.topics}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := Run(ctx, h.Config("refuse"), Options{Logger: testkit.Logger(t)})
			if err == nil || ctx.Err() != nil {
				t.Fatalf("Run did not refuse to run: %v", err)
			}
			if !IsUsage(err) || !strings.Contains(err.Error(), kafkaio.ErrTopicConfig.Error()) {
				t.Errorf("got %v, want a usage error about the owned topics", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
