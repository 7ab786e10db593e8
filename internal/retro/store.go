package retro

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/kafkaio"
)

// KafkaStore keeps progress records in the compacted progress topic
// (retro.progress_topic), one per job and partition.
type KafkaStore struct {
	conn  kafkaio.Connection
	topic string
	w     *kafkaio.Producer
	log   *slog.Logger
}

var _ Store = (*KafkaStore)(nil)

// NewKafkaStore returns the store of topic, which Ensure creates.
func NewKafkaStore(conn kafkaio.Connection, topic string, log *slog.Logger) *KafkaStore {
	return &KafkaStore{conn: conn, topic: topic, w: kafkaio.NewProducer(conn, kafkaio.ProducerConfig{Logger: log}), log: log}
}

// ProgressTopicSpec returns the spec of the progress topic named topic:
// one partition, compacted.
func ProgressTopicSpec(topic string) kafkaio.TopicSpec {
	return kafkaio.TopicSpec{Key: "retro.progress_topic", Name: topic, Partitions: 1, Policy: kafkaio.Compact}
}

// Ensure creates the progress topic (ProgressTopicSpec) when it is
// missing, and fails when it exists and is not compacted.
func (s *KafkaStore) Ensure(ctx context.Context) error {
	_, err := kafkaio.EnsureTopics(ctx, s.conn, []kafkaio.TopicSpec{ProgressTopicSpec(s.topic)})
	return err
}

// Load reads the whole progress topic and returns job's latest record of
// each partition. A record that does not parse is logged and skipped: a
// job without it starts that partition over, which repeats work but loses
// none.
func (s *KafkaStore) Load(ctx context.Context, job string) (map[int32]Progress, error) {
	_, progress, err := s.read(ctx, job)
	if err != nil {
		return nil, err
	}
	if p := progress[job]; p != nil {
		return p, nil
	}
	return map[int32]Progress{}, nil
}

// Jobs reads the whole progress topic.
func (s *KafkaStore) Jobs(ctx context.Context) ([]JobRecord, map[string]map[int32]Progress, error) {
	return s.read(ctx, "")
}

// read reads the whole progress topic, for job only when it is not "".
func (s *KafkaStore) read(ctx context.Context, job string) ([]JobRecord, map[string]map[int32]Progress, error) {
	jobs := map[string]JobRecord{}
	progress := map[string]map[int32]Progress{}
	add := func(r *kafkaio.Message) {
		id, part, ok := bytes.Cut(r.Key, []byte("/"))
		if !ok || (job != "" && string(id) != job) {
			return
		}
		broken := func(err error) {
			if s.log != nil {
				s.log.Warn("retro: ignoring a broken record of the progress topic", "topic", s.topic, "partition", r.Partition,
					"offset", r.Offset, "key", string(r.Key), "err", err)
			}
		}
		if string(part) == "job" {
			if len(r.Value) == 0 {
				delete(jobs, string(id))
				return
			}
			jr, err := ParseJobRecord(r.Value)
			if err != nil || jr.Job != string(id) {
				broken(err)
				return
			}
			jobs[jr.Job] = jr
			return
		}
		n, err := strconv.ParseInt(string(part), 10, 32)
		if err != nil {
			return
		}
		byPart := progress[string(id)]
		if len(r.Value) == 0 { // a tombstone
			delete(byPart, int32(n))
			return
		}
		p, err := ParseProgress(r.Value)
		if err != nil || p.Job != string(id) || p.Partition != int32(n) {
			broken(err)
			return
		}
		if byPart == nil {
			byPart = map[int32]Progress{}
			progress[p.Job] = byPart
		}
		byPart[p.Partition] = p
	}
	err := kafkaio.ReadPartitions(ctx, s.conn, kafkaio.ReadConfig{Topic: s.topic, Logger: s.log}, func(msgs []kafkaio.Message) error {
		for i := range msgs {
			add(&msgs[i])
		}
		return nil
	})
	if errors.Is(err, kafkaio.ErrNoTopic) {
		return nil, progress, nil // no job has run yet; Ensure creates it
	}
	if err != nil {
		return nil, nil, fmt.Errorf("retro progress: %w", err)
	}
	out := make([]JobRecord, 0, len(jobs))
	for _, r := range jobs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b JobRecord) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, progress, nil
}

// SaveJob writes r and waits for the broker's acknowledgement.
func (s *KafkaStore) SaveJob(ctx context.Context, r JobRecord) error {
	v, err := r.Marshal()
	if err != nil {
		return err
	}
	if err := s.w.Write(ctx, kafka.Message{Topic: s.topic, Key: JobKey(r.Job), Value: v}); err != nil {
		return fmt.Errorf("retro job record: %w", err)
	}
	return nil
}

// Save writes ps and waits for the broker's acknowledgement.
func (s *KafkaStore) Save(ctx context.Context, ps ...Progress) error {
	msgs := make([]kafka.Message, 0, len(ps))
	for i := range ps {
		v, err := ps[i].Marshal()
		if err != nil {
			return err
		}
		msgs = append(msgs, kafka.Message{Topic: s.topic, Key: ps[i].Key(), Value: v})
	}
	if err := s.w.Write(ctx, msgs...); err != nil {
		return fmt.Errorf("retro progress: %w", err)
	}
	return nil
}

// Close closes the writer.
func (s *KafkaStore) Close() error { return s.w.Close() }
