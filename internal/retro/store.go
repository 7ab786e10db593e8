package retro

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/kafkaio"
	"flagstream/pipeline"
)

// KafkaStore keeps progress records in the compacted progress topic
// (retro.progress_topic), one per job and partition.
type KafkaStore struct {
	conn  kafkaio.Connection
	topic string
	w     *kafkaio.KeyedWriter
	log   *slog.Logger
}

var _ Store = (*KafkaStore)(nil)

// NewKafkaStore returns the store of topic, which Ensure creates.
func NewKafkaStore(conn kafkaio.Connection, topic string, log *slog.Logger) *KafkaStore {
	return &KafkaStore{conn: conn, topic: topic, w: kafkaio.NewKeyedWriter(conn, topic, log), log: log}
}

// Ensure creates the progress topic, compacted, when it is missing, and
// fails when it exists and is not compacted.
func (s *KafkaStore) Ensure(ctx context.Context) error {
	if err := kafkaio.EnsureCompacted(ctx, s.conn, s.topic, 1); err != nil {
		return fmt.Errorf("retro.progress_topic: %w", err)
	}
	return nil
}

// Load reads the whole progress topic and returns job's latest record of
// each partition. A record that does not parse is logged and skipped: a
// job without it starts that partition over, which repeats work but loses
// none.
func (s *KafkaStore) Load(ctx context.Context, job string) (map[int32]Progress, error) {
	prefix := []byte(job + "/")
	out := map[int32]Progress{}
	err := kafkaio.ReadTopic(ctx, s.conn, s.topic, func(r *pipeline.Record) error {
		if !bytes.HasPrefix(r.Key, prefix) {
			return nil
		}
		part, err := strconv.ParseInt(string(r.Key[len(prefix):]), 10, 32)
		if err != nil {
			return nil
		}
		if len(r.Value) == 0 { // a tombstone
			delete(out, int32(part))
			return nil
		}
		p, err := ParseProgress(r.Value)
		if err != nil || p.Job != job || p.Partition != int32(part) {
			if s.log != nil {
				s.log.Warn("retro: ignoring a broken progress record", "topic", s.topic, "partition", r.Partition,
					"offset", r.Offset, "key", string(r.Key), "err", err)
			}
			return nil
		}
		out[p.Partition] = p
		return nil
	})
	if errors.Is(err, kafkaio.ErrNoTopic) {
		return out, nil // no job has run yet; Ensure creates it
	}
	if err != nil {
		return nil, fmt.Errorf("retro progress: %w", err)
	}
	return out, nil
}

// Save writes ps and waits for the broker's acknowledgement.
func (s *KafkaStore) Save(ctx context.Context, ps ...Progress) error {
	msgs := make([]kafka.Message, 0, len(ps))
	for i := range ps {
		v, err := ps[i].Marshal()
		if err != nil {
			return err
		}
		msgs = append(msgs, kafka.Message{Key: ps[i].Key(), Value: v})
	}
	if err := s.w.Write(ctx, msgs...); err != nil {
		return fmt.Errorf("retro progress: %w", err)
	}
	return nil
}

// Close closes the writer.
func (s *KafkaStore) Close() error { return s.w.Close() }
