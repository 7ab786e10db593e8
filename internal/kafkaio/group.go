package kafkaio

import (
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// GroupConfig configures a consumer group of one topic.
type GroupConfig struct {
	ID, Topic                                           string
	HeartbeatInterval, SessionTimeout, RebalanceTimeout time.Duration
	// StartOffset is where a partition without a committed offset starts:
	// kafka.FirstOffset (the default) or kafka.LastOffset.
	StartOffset int64
}

// NewConsumerGroup returns a kafka-go consumer group on conn: GroupSource's
// and the case processor's and decisions forwarder's groups, which take
// their generations (ConsumerGroup.Next), run a goroutine per assigned
// partition and commit through the generation.
func NewConsumerGroup(conn Connection, cfg GroupConfig) (*kafka.ConsumerGroup, error) {
	if cfg.StartOffset == 0 {
		cfg.StartOffset = kafka.FirstOffset
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                cfg.ID,
		Brokers:           conn.Brokers,
		Dialer:            conn.dialer(),
		Topics:            []string{cfg.Topic},
		HeartbeatInterval: cfg.HeartbeatInterval,
		SessionTimeout:    cfg.SessionTimeout,
		RebalanceTimeout:  cfg.RebalanceTimeout,
		JoinGroupBackoff:  cfg.HeartbeatInterval,
		StartOffset:       cfg.StartOffset,
	})
	if err != nil {
		return nil, fmt.Errorf("kafka consumer group %s: %w", cfg.ID, err)
	}
	return cg, nil
}
