package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/pipeline"
)

// SourceConfig configures the consumer.
type SourceConfig struct {
	Topic, Group string
	// StartLatest makes a new group start at the end of the topic instead
	// of the beginning.
	StartLatest bool
	// Consumer tuning; see config.Input. kafka-go's defaults (10s fetch
	// wait, 3s heartbeat, synchronous commits, a 100-message queue) make a
	// rebalance take about 9s and consumption an order of magnitude slower.
	MaxWait           time.Duration
	FetchMaxBytes     int
	QueueCapacity     int
	CommitInterval    time.Duration
	HeartbeatInterval time.Duration
	SessionTimeout    time.Duration
	RebalanceTimeout  time.Duration
	// BatchRecords and Linger bound a batch: it is handed on when full, or
	// Linger after its first record.
	BatchRecords int
	Linger       time.Duration
	// MaxMessageBytes marks larger records oversize: they are rejected
	// unprocessed.
	MaxMessageBytes int
	Logger          *slog.Logger
	Metrics         *Metrics
}

// Source consumes tweets in a consumer group. Offsets are committed only
// through Commit, which the pipeline calls once every task and dead letter
// of a batch, and of every batch before it, is acknowledged.
type Source struct {
	r      *kafka.Reader
	cfg    SourceConfig
	commit []kafka.Message // scratch: one message per partition to commit

	failures failureLog
}

var _ pipeline.Source = (*Source)(nil)

// NewSource returns a consumer; it joins the group on its first Fetch.
func NewSource(conn Connection, cfg SourceConfig) (*Source, error) {
	start := kafka.FirstOffset
	if cfg.StartLatest {
		start = kafka.LastOffset
	}
	rc := kafka.ReaderConfig{
		Brokers:           conn.Brokers,
		GroupID:           cfg.Group,
		Topic:             cfg.Topic,
		Dialer:            conn.dialer(),
		QueueCapacity:     cfg.QueueCapacity,
		MinBytes:          1,
		MaxBytes:          cfg.FetchMaxBytes,
		MaxWait:           cfg.MaxWait,
		ReadBatchTimeout:  cfg.MaxWait + 10*time.Second,
		CommitInterval:    cfg.CommitInterval,
		HeartbeatInterval: cfg.HeartbeatInterval,
		SessionTimeout:    cfg.SessionTimeout,
		RebalanceTimeout:  cfg.RebalanceTimeout,
		JoinGroupBackoff:  cfg.HeartbeatInterval,
		StartOffset:       start,
		ReadBackoffMin:    10 * time.Millisecond,
		ReadBackoffMax:    cfg.MaxWait,
		MaxAttempts:       10,
	}
	if cfg.Logger != nil {
		rc.ErrorLogger = kafka.LoggerFunc(func(format string, args ...any) {
			cfg.Logger.Warn("kafka consumer: " + fmt.Sprintf(format, args...))
		})
	}
	if err := rc.Validate(); err != nil {
		return nil, fmt.Errorf("kafka consumer: %w", err)
	}
	if cfg.BatchRecords <= 0 {
		cfg.BatchRecords = 2048
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 5 * time.Millisecond
	}
	return &Source{r: kafka.NewReader(rc), cfg: cfg, failures: failureLog{logger: cfg.Logger, topic: cfg.Topic}}, nil
}

// Fetch waits for a record, then takes more until the batch is full or
// Linger has passed. While the cluster cannot be reached, it keeps
// waiting: the consumer retries with backoff until ctx is done.
func (s *Source) Fetch(ctx context.Context, b *pipeline.Batch) error {
	m, err := s.fetchRetrying(ctx)
	if err != nil {
		return err
	}
	s.add(b, m)
	lctx, cancel := context.WithTimeout(ctx, s.cfg.Linger)
	defer cancel()
	for len(b.Records) < s.cfg.BatchRecords {
		m, err := s.r.FetchMessage(lctx)
		if err != nil {
			// Linger over, stopping, or a consumer error: hand on what
			// the batch has; the next Fetch waits out any trouble.
			return nil
		}
		s.add(b, m)
	}
	return nil
}

// fetchRetrying fetches one message, retrying consumer errors (a broker
// gone, a group coordinator moving) with backoff until ctx is done.
func (s *Source) fetchRetrying(ctx context.Context) (kafka.Message, error) {
	backoff := 100 * time.Millisecond
	for {
		m, err := s.r.FetchMessage(ctx)
		switch {
		case err == nil:
			s.failures.recovered()
			return m, nil
		case ctx.Err() != nil:
			return m, ctx.Err()
		case errors.Is(err, io.EOF):
			return m, fmt.Errorf("kafka consume %s: consumer closed: %w", s.cfg.Topic, err)
		}
		s.failures.failed("fetch", err)
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (s *Source) add(b *pipeline.Batch, m kafka.Message) {
	r := pipeline.Record{
		Value:     m.Value,
		Key:       m.Key,
		Topic:     m.Topic,
		Partition: int32(m.Partition),
		Offset:    m.Offset,
		Time:      m.Time,
	}
	if len(m.Headers) > 0 {
		r.Headers = make([]pipeline.Header, len(m.Headers))
		for i, h := range m.Headers {
			r.Headers[i] = pipeline.Header{Key: h.Key, Value: h.Value}
		}
	}
	s.cfg.Metrics.observeLag(r.Partition, m.HighWaterMark, m.Offset)
	if len(m.Value) > s.cfg.MaxMessageBytes && s.cfg.MaxMessageBytes > 0 {
		r.Oversize = int64(len(m.Value))
	}
	b.Records = append(b.Records, r)
}

// Commit commits, per partition, the offset after the batch's last record.
// The pipeline calls it in batch order, so every earlier record of those
// partitions is written too.
func (s *Source) Commit(ctx context.Context, b *pipeline.Batch) error {
	s.commit = s.commit[:0]
	for i := range b.Records {
		r := &b.Records[i]
		found := false
		for j := range s.commit {
			if s.commit[j].Partition == int(r.Partition) && s.commit[j].Topic == r.Topic {
				s.commit[j].Offset = max(s.commit[j].Offset, r.Offset)
				found = true
				break
			}
		}
		if !found {
			s.commit = append(s.commit, kafka.Message{Topic: r.Topic, Partition: int(r.Partition), Offset: r.Offset})
		}
	}
	err := s.r.CommitMessages(ctx, s.commit...)
	s.cfg.Metrics.commitDone(err)
	if err != nil {
		return fmt.Errorf("kafka commit: %w", err)
	}
	return nil
}

// Stats returns the consumer's statistics since the last call.
func (s *Source) Stats() kafka.ReaderStats { return s.r.Stats() }

// Close flushes pending commits and leaves the group.
func (s *Source) Close() error {
	if err := s.r.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("kafka consumer close: %w", err)
	}
	return nil
}
