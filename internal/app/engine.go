package app

import (
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"flagstream/config"
	"flagstream/internal/kafkaio"
	"flagstream/internal/lists"
	"flagstream/internal/retro"
	"flagstream/matchers"
	"flagstream/pipeline"
	"flagstream/pipeline/cases"
	"flagstream/pipeline/decode"
)

// The pieces below are what every entry point (run, scan, and retro to
// come) assembles: the lists, the engine's settings, the Kafka adapters.

// LoadLists loads the demand lists in dir as active at time at. A failure
// is an ErrLists error naming every broken file and line; warnings do not
// fail the load.
func LoadLists(dir string, at time.Time) (*matchers.Snapshot, []matchers.Warning, error) {
	snap, warnings, err := lists.Load(dir, at)
	if err != nil {
		return nil, warnings, fmt.Errorf("%w: %w", ErrLists, err)
	}
	return snap, warnings, nil
}

// Engine is how records are processed whatever their source and sink:
// the worker fan-out and what one record may be. Run takes it from the
// configuration (EngineOf), Scan from its options.
type Engine struct {
	// Workers is the number of matching goroutines; 0 is one per CPU.
	Workers int
	// Slots bounds the batches in flight (0: the pipeline's default), and
	// Writers the batches written at once (0: one, in order).
	Slots, Writers int
	// DrainTimeout bounds the wait for batches in flight at shutdown.
	DrainTimeout time.Duration
	Limits       decode.Limits
}

// workers returns the number of matching goroutines: Workers, or one per
// CPU (GOMAXPROCS) when it is 0, as the pipeline reads it.
func (e Engine) workers() int {
	if e.Workers > 0 {
		return e.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// EngineOf returns the engine settings of a run configuration.
func EngineOf(cfg config.Config) Engine {
	return Engine{
		Workers:      cfg.Pipeline.Workers,
		Slots:        cfg.Pipeline.Slots,
		Writers:      cfg.Pipeline.Writers,
		DrainTimeout: cfg.Pipeline.DrainTimeout,
		Limits: decode.Limits{
			MaxTweets:     cfg.Limits.MaxTweetsPerRecord,
			MaxEmbedDepth: cfg.Limits.MaxEmbedDepth,
			MaxTextBytes:  int(cfg.Limits.MaxTextBytes),
		},
	}
}

// CasesOn reports whether cfg has cases: account matches of scope: user
// demands are case evidence for the evidence topic, not review tasks.
// cases.topic "" turns them off.
func CasesOn(cfg config.Config) bool { return cfg.Cases.Topic != "" }

// Pipeline returns the pipeline configuration that runs records from src
// through the lists that snapshot returns to sink with these settings;
// metrics may be nil.
func (e Engine) Pipeline(src pipeline.Source, sink pipeline.Sink, snapshot func() *matchers.Snapshot, metrics *pipeline.Metrics) pipeline.Config {
	return pipeline.Config{
		Source:       src,
		Sink:         sink,
		Lists:        snapshot,
		Workers:      e.Workers,
		Slots:        e.Slots,
		Writers:      e.Writers,
		DrainTimeout: e.DrainTimeout,
		Limits:       e.Limits,
		Metrics:      metrics,
	}
}

// newConsumer returns the consumer group source of cfg's input topic;
// onAssign, when set, learns the partitions of each generation.
func newConsumer(conn kafkaio.Connection, cfg config.Config, log *slog.Logger, m *kafkaio.Metrics, onAssign func([]int)) (*kafkaio.GroupSource, error) {
	return kafkaio.NewGroupSource(conn, kafkaio.SourceConfig{
		Topic:             cfg.Input.Topic,
		Group:             cfg.Input.Group,
		StartLatest:       cfg.Input.Start == "latest",
		MaxWait:           cfg.Input.MaxWait,
		FetchMaxBytes:     int(cfg.Input.FetchMaxBytes),
		QueueCapacity:     cfg.Input.QueueCapacity,
		CommitInterval:    cfg.Input.CommitInterval,
		HeartbeatInterval: cfg.Input.HeartbeatInterval,
		SessionTimeout:    cfg.Input.SessionTimeout,
		RebalanceTimeout:  cfg.Input.RebalanceTimeout,
		BatchRecords:      cfg.Pipeline.BatchSize,
		Linger:            cfg.Pipeline.BatchLinger,
		MaxMessageBytes:   int(cfg.Limits.MaxMessageBytes),
		Logger:            log,
		Metrics:           m,
		OnAssign:          onAssign,
	})
}

// newRangeSource returns the source of a retro job: tracker's ranges of
// cfg's input topic, read at rate records a second (0: unbounded), each
// batch's progress passed to tracker once it is committed.
func newRangeSource(conn kafkaio.Connection, cfg config.Config, log *slog.Logger, tracker *retro.Tracker, rate float64) *kafkaio.RangeSource {
	return kafkaio.NewRangeSource(conn, kafkaio.RangeConfig{
		Topic:           cfg.Input.Topic,
		Ranges:          tracker.Ranges(),
		BatchRecords:    cfg.Pipeline.BatchSize,
		Linger:          cfg.Pipeline.BatchLinger,
		FetchMaxBytes:   int(cfg.Input.FetchMaxBytes),
		MaxMessageBytes: int(cfg.Limits.MaxMessageBytes),
		Rate:            rate,
		Committed:       tracker.Committed,
		Logger:          log,
	})
}

// retroPipeline returns the pipeline configuration of a retro job with
// e's settings: records from src matched against snap and written to sink,
// marked with job.
func (e Engine) retroPipeline(src pipeline.Source, sink pipeline.Sink, snap *matchers.Snapshot, job retro.Job) pipeline.Config {
	pc := e.Pipeline(src, sink, func() *matchers.Snapshot { return snap }, nil)
	pc.Retro = &cases.Retro{Job: job.ID, Since: job.Since, Until: job.Until}
	return pc
}

// newKafkaSink returns the producer of review tasks, case evidence and
// dead letters to cfg's topics.
func newKafkaSink(conn kafkaio.Connection, cfg config.Config, log *slog.Logger, m *kafkaio.Metrics) (*kafkaio.Sink, error) {
	return kafkaio.NewSink(conn, kafkaio.SinkConfig{
		Topic:           cfg.Output.Topic,
		DeadLetterTopic: cfg.Output.DeadLetterTopic,
		ShadowTopic:     cfg.Output.ShadowTopic,
		EscalationTopic: cfg.Output.EscalationTopic,
		EvidenceTopic:   cfg.Cases.EvidenceTopic,
		BatchTimeout:    cfg.Output.BatchTimeout,
		BatchSize:       cfg.Output.BatchSize,
		MaxMessageBytes: 1 << 20,
		Compression:     cfg.Output.Compression,
		WriteTimeout:    cfg.Output.WriteTimeout,
		Logger:          log,
		Metrics:         m,
	})
}
