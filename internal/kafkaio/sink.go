package kafkaio

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/pipeline"
	"flagstream/pipeline/cases"
	"flagstream/pipeline/review"
)

// SinkConfig configures the producer.
type SinkConfig struct {
	// Topic takes review tasks, DeadLetterTopic rejected records.
	Topic, DeadLetterTopic string
	// ShadowTopic takes shadow-mode and tripped demands' tasks;
	// EscalationTopic escalated tasks (Topic when empty); EvidenceTopic
	// case evidence (cases.evidence_topic). A batch with an output for an
	// empty ShadowTopic or EvidenceTopic fails to write.
	ShadowTopic, EscalationTopic, EvidenceTopic string
	BatchTimeout                                time.Duration
	BatchSize                                   int
	// MaxMessageBytes is the largest message the producer sends; a dead
	// letter beyond it is cut to fit, and its headers say so.
	MaxMessageBytes int
	Compression     string
	WriteTimeout    time.Duration
	Logger          *slog.Logger
	// Metrics receives the producer's metrics; nil: unregistered ones.
	Metrics *Metrics
}

// Sink produces review tasks (key = tweet id), case evidence (key =
// case_id) and dead letters (the original key, value and headers, plus
// flagstream.* headers saying why and where from) with acks=all, each
// output to the topic of its destination, all of a batch in one write: the
// batch, and so its input offsets, counts as written only once every one
// is acknowledged. A failed write is retried, with backoff
// (retry.Backoff), until it succeeds or the pipeline's context ends: the
// batch is then not committed, so nothing is lost, and the full pipeline
// stops fetching. It writes through a Producer.
type Sink struct {
	p   *Producer
	cfg SinkConfig
	// topics and schemas are by pipeline.Destination.
	topics  [4]string
	schemas [4][]kafka.Header
}

var _ pipeline.Sink = (*Sink)(nil)

// Dead-letter headers.
const (
	HeaderReason          = "flagstream.reason"
	HeaderError           = "flagstream.error"
	HeaderSourceTopic     = "flagstream.source.topic"
	HeaderSourcePartition = "flagstream.source.partition"
	HeaderSourceOffset    = "flagstream.source.offset"
	HeaderSourceTime      = "flagstream.source.timestamp"
	HeaderTruncated       = "flagstream.truncated"
	HeaderSchema          = "flagstream.schema"
)

// compressions are the producer's codecs by their names in config.Output.
var compressions = map[string]kafka.Compression{
	"": 0, "none": 0, "gzip": kafka.Gzip, "snappy": kafka.Snappy, "lz4": kafka.Lz4, "zstd": kafka.Zstd,
}

// NewSink returns a producer.
func NewSink(conn Connection, cfg SinkConfig) (*Sink, error) {
	codec, ok := compressions[cfg.Compression]
	if !ok {
		return nil, fmt.Errorf("kafka producer: unknown compression %q", cfg.Compression)
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 1 << 20
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	p := NewProducer(conn, ProducerConfig{
		BatchTimeout: cfg.BatchTimeout, BatchSize: cfg.BatchSize, MaxMessageBytes: cfg.MaxMessageBytes,
		Compression: codec, WriteTimeout: cfg.WriteTimeout, Logger: cfg.Logger, Metrics: cfg.Metrics,
	})
	s := &Sink{p: p, cfg: cfg}
	s.topics[pipeline.ToReview] = cfg.Topic
	s.topics[pipeline.ToShadow] = cfg.ShadowTopic
	s.topics[pipeline.ToEscalation] = cfg.EscalationTopic
	if cfg.EscalationTopic == "" {
		s.topics[pipeline.ToEscalation] = cfg.Topic
	}
	s.topics[pipeline.ToEvidence] = cfg.EvidenceTopic
	task := []kafka.Header{{Key: HeaderSchema, Value: []byte(review.SchemaID)}}
	s.schemas = [4][]kafka.Header{task, task, task, {{Key: HeaderSchema, Value: []byte(cases.InputSchemaID)}}}
	return s, nil
}

// Write produces b's outputs and dead letters and returns once the broker
// has acknowledged all of them.
func (s *Sink) Write(ctx context.Context, b *pipeline.Batch) error {
	if len(b.Outputs) == 0 && len(b.Rejects) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, 0, len(b.Outputs)+len(b.Rejects))
	for i := range b.Outputs {
		d := b.Outputs[i].Dest
		topic := s.topics[d]
		if topic == "" {
			return fmt.Errorf("kafka producer: no topic for %s outputs (set %s)", d, destinationKeys[d])
		}
		k, v := b.Output(i)
		msgs = append(msgs, kafka.Message{Topic: topic, Key: k, Value: v, Headers: s.schemas[d]})
	}
	for _, rej := range b.Rejects {
		msgs = append(msgs, s.deadLetter(&b.Records[rej.Record], rej))
	}
	return s.p.Write(ctx, msgs...)
}

// destinationKeys name the config key of each destination's topic.
var destinationKeys = [4]string{"output.topic", "output.shadow_topic", "output.escalation_topic", "cases.evidence_topic"}

// deadLetter builds the dead-letter message of a rejected record.
func (s *Sink) deadLetter(r *pipeline.Record, rej pipeline.Rejection) kafka.Message {
	headers := make([]kafka.Header, 0, len(r.Headers)+7)
	for _, h := range r.Headers {
		headers = append(headers, kafka.Header{Key: h.Key, Value: h.Value})
	}
	headers = DeadLetterHeaders(headers, string(rej.Reason), rej.Err, r.Topic, r.Partition, r.Offset, r.Time)
	value := r.Value
	if limit := s.cfg.MaxMessageBytes - 4096; len(value) > limit {
		headers = append(headers, kafka.Header{Key: HeaderTruncated, Value: strconv.AppendInt(nil, int64(len(value)), 10)})
		value = value[:max(limit, 0)]
	}
	return kafka.Message{Topic: s.cfg.DeadLetterTopic, Key: r.Key, Value: value, Headers: headers}
}

// DeadLetterHeaders appends to headers the flagstream.* headers of a dead
// letter: why (reason, and the error cut at 1024 bytes) and where its
// record was read (topic, partition, offset and, unless t is zero, the
// record's timestamp).
func DeadLetterHeaders(headers []kafka.Header, reason, err, topic string, partition int32, offset int64, t time.Time) []kafka.Header {
	headers = append(headers,
		kafka.Header{Key: HeaderReason, Value: []byte(reason)},
		kafka.Header{Key: HeaderError, Value: []byte(truncate(err, 1024))},
		kafka.Header{Key: HeaderSourceTopic, Value: []byte(topic)},
		kafka.Header{Key: HeaderSourcePartition, Value: strconv.AppendInt(nil, int64(partition), 10)},
		kafka.Header{Key: HeaderSourceOffset, Value: strconv.AppendInt(nil, offset, 10)},
	)
	if !t.IsZero() {
		headers = append(headers, kafka.Header{Key: HeaderSourceTime, Value: []byte(t.UTC().Format(time.RFC3339Nano))})
	}
	return headers
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Close flushes and closes the producer.
func (s *Sink) Close() error { return s.p.Close() }
