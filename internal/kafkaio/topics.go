package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/retry"
)

// CleanupPolicy is a topic's cleanup.policy as flagstream needs it.
type CleanupPolicy string

// The cleanup policies of the topics flagstream owns.
const (
	// Compact keeps the last record of each key: the state, bindings and
	// progress topics, which are read from their beginning.
	Compact CleanupPolicy = "compact"
	// Delete drops records after the retention time: the evidence topic,
	// a queue (compacting it would drop evidence before it is counted).
	Delete CleanupPolicy = "delete"
)

// TopicSpec is a topic flagstream owns: created when missing, checked
// when present.
type TopicSpec struct {
	// Key is the configuration key that names the topic, for messages.
	Key  string
	Name string
	// Partitions is the count a created topic gets.
	Partitions int
	Policy     CleanupPolicy
	// SameAs, when set, is the Key of another spec that this topic must
	// have exactly as many partitions as (co-partitioned topics). A topic
	// created for a spec whose partner exists gets the partner's count.
	SameAs string
}

// ErrTopicConfig marks an owned topic that exists with settings flagstream
// cannot work with: the wrong cleanup policy, or co-partitioned topics
// with different partition counts. Retrying does not help; an operator
// must fix the topic or the configuration.
var ErrTopicConfig = errors.New("owned topic misconfigured")

// client returns a client of the cluster on the connection's transport.
func (c Connection) client(t *kafka.Transport) *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(c.Brokers...), Transport: t, Timeout: 30 * time.Second}
}

// partitionCounts returns the partition counts of those of topics that
// exist.
func partitionCounts(ctx context.Context, c *kafka.Client, topics []string) (map[string]int, error) {
	res, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	out := map[string]int{}
	for _, t := range res.Topics {
		switch {
		case t.Error == nil:
			out[t.Name] = len(t.Partitions)
		case errors.Is(t.Error, kafka.UnknownTopicOrPartition):
		default:
			return nil, fmt.Errorf("metadata of topic %s: %w", t.Name, t.Error)
		}
	}
	return out, nil
}

// EnsureTopics creates the topics of specs that are missing, with their
// partition counts and cleanup policies (replication: the cluster's
// default), and checks those that exist: their cleanup policy, and that
// co-partitioned topics have equal partition counts. It returns the
// partition count of every topic. A topic that exists with settings that
// do not fit is an ErrTopicConfig error that says what is wrong and how to
// fix it; other errors (the cluster cannot be reached) are worth retrying.
func EnsureTopics(ctx context.Context, conn Connection, specs []TopicSpec) (map[string]int, error) {
	t := conn.transport()
	defer t.CloseIdleConnections()
	c := conn.client(t)
	names := make([]string, len(specs))
	byKey := map[string]*TopicSpec{}
	for i := range specs {
		names[i] = specs[i].Name
		byKey[specs[i].Key] = &specs[i]
	}
	counts, err := partitionCounts(ctx, c, names)
	if err != nil {
		return nil, err
	}

	var create []kafka.TopicConfig
	var created []string
	for i := range specs {
		s := &specs[i]
		if _, ok := counts[s.Name]; ok {
			continue
		}
		n := s.Partitions
		if p := byKey[s.SameAs]; p != nil {
			if pn, ok := counts[p.Name]; ok {
				n = pn
			}
		}
		if n <= 0 {
			return nil, fmt.Errorf("%s: cannot create topic %s with %d partitions", s.Key, s.Name, n)
		}
		create = append(create, kafka.TopicConfig{
			Topic: s.Name, NumPartitions: n, ReplicationFactor: -1,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: string(s.Policy)}},
		})
		created = append(created, s.Name)
	}
	if len(create) > 0 {
		res, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: create})
		if err != nil {
			return nil, fmt.Errorf("create topics %s: %w", strings.Join(created, ", "), err)
		}
		for name, err := range res.Errors {
			// Another instance starting at the same time may have
			// created it: it is checked below like any other.
			if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
				return nil, fmt.Errorf("create topic %s: %w", name, err)
			}
		}
		// A new topic's metadata may take a moment to show everywhere.
		for attempt := 0; ; attempt++ {
			if counts, err = partitionCounts(ctx, c, names); err != nil {
				return nil, err
			}
			if len(counts) == len(names) || attempt == 50 {
				break
			}
			if err := retry.Sleep(ctx, 100*time.Millisecond); err != nil {
				return nil, err
			}
		}
		for _, s := range specs {
			if _, ok := counts[s.Name]; !ok {
				return nil, fmt.Errorf("%s: topic %s was created but does not show in the cluster's metadata", s.Key, s.Name)
			}
		}
	}

	policies, err := cleanupPolicies(ctx, c, names)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, s := range specs {
		if got := policies[s.Name]; !policyFits(got, s.Policy) {
			problems = append(problems, fmt.Sprintf("%s: topic %s has cleanup.policy=%s, want %s%s (change it with "+
				"kafka-configs --alter --entity-type topics --entity-name %s --add-config cleanup.policy=%s, or name another topic)",
				s.Key, s.Name, got, s.Policy, policyWhy(s.Policy), s.Name, s.Policy))
		}
		if p := byKey[s.SameAs]; p != nil && counts[s.Name] != counts[p.Name] {
			problems = append(problems, fmt.Sprintf("%s: topic %s has %d partitions but %s (%s) has %d: the two must be "+
				"co-partitioned (equal counts), so that partition p of one holds the cases of partition p of the other",
				s.Key, s.Name, counts[s.Name], p.Key, p.Name, counts[p.Name]))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("%w: %s", ErrTopicConfig, strings.Join(problems, "; "))
	}
	out := map[string]int{}
	for _, s := range specs {
		out[s.Name] = counts[s.Name]
	}
	return out, nil
}

func policyWhy(p CleanupPolicy) string {
	if p == Compact {
		return " (flagstream reads it from the beginning: deleting old records would lose state)"
	}
	return " (it is a queue keyed by case: compacting it would drop records before they are processed)"
}

// policyFits reports whether a topic's cleanup.policy (a comma-separated
// list) is exactly want: compact without delete for a compacted topic,
// delete without compact for a queue.
func policyFits(got string, want CleanupPolicy) bool {
	var parts []string
	for p := range strings.SplitSeq(got, ",") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return len(parts) == 1 && parts[0] == string(want)
}

// cleanupPolicies returns the cleanup.policy of each topic.
func cleanupPolicies(ctx context.Context, c *kafka.Client, topics []string) (map[string]string, error) {
	req := &kafka.DescribeConfigsRequest{}
	for _, t := range topics {
		req.Resources = append(req.Resources, kafka.DescribeConfigRequestResource{
			ResourceType: kafka.ResourceTypeTopic, ResourceName: t, ConfigNames: []string{"cleanup.policy"},
		})
	}
	res, err := c.DescribeConfigs(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("describe configs: %w", err)
	}
	out := map[string]string{}
	for _, r := range res.Resources {
		if r.Error != nil {
			return nil, fmt.Errorf("describe configs of topic %s: %w", r.ResourceName, r.Error)
		}
		policy := "delete" // Kafka's default when the broker does not say
		for _, e := range r.ConfigEntries {
			if e.ConfigName == "cleanup.policy" {
				policy = e.ConfigValue
			}
		}
		out[r.ResourceName] = policy
	}
	for _, t := range topics {
		if _, ok := out[t]; !ok {
			return nil, fmt.Errorf("describe configs: no answer for topic %s", t)
		}
	}
	return out, nil
}
