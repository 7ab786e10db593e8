package kafkaio

import (
	"context"
	"errors"
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

// TakeGenerations takes cg's generations until ctx is done or cg is
// closed, handing each to start as it begins; failed is called with each
// failure to join (the group retries). GroupSource, the case processor and
// the decisions forwarder run on it.
func TakeGenerations(ctx context.Context, cg *kafka.ConsumerGroup, failed func(what string, err error), start func(*kafka.Generation)) {
	for {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				return
			}
			failed("join group", err)
			continue
		}
		start(gen)
	}
}
