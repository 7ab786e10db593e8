package app

import (
	"context"
	"fmt"
	"log/slog"

	"flagstream/config"
	"flagstream/internal/kafkaio"
	"flagstream/internal/retro"
	"flagstream/matchers"
	"flagstream/pipeline"
)

// autoRetro returns the automatic retro-hunt of run (lists.retro_window),
// writing through sink, and the progress store it uses.
// Its jobs count in the instance's circuit breakers (fuse), as live tasks
// do, match accounts through the instance's bindings table and start once
// the owned topics, the progress topic among them, are there (caseSys).
func autoRetro(cfg config.Config, conn kafkaio.Connection, sink pipeline.Sink, fuse pipeline.Breaker, caseSys *caseSystem, log *slog.Logger, m *retro.Metrics) (*retro.Auto, *retro.KafkaStore, *kafkaio.Fetcher) {
	store := retro.NewKafkaStore(conn, cfg.Retro.ProgressTopic, log)
	offsets := kafkaio.NewFetcher(conn, cfg.Input.Topic, 0, 0)
	auto := retro.NewAuto(retro.AutoConfig{
		Topic:   cfg.Input.Topic,
		Window:  cfg.Lists.RetroWindow,
		Offsets: offsets,
		Store:   store,
		Prepare: func(ctx context.Context) error {
			select {
			case <-caseSys.TopicsReady():
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		Run: func(ctx context.Context, job retro.Job, snap *matchers.Snapshot, tracker *retro.Tracker) error {
			return runThrottledJob(ctx, cfg, conn, sink, fuse, caseSys.liveBindings, log, m, job, snap, tracker)
		},
		Logger:  log,
		Metrics: m,
	})
	return auto, store, offsets
}

// runThrottledJob reads tracker's ranges at lists.retro_rate records a
// second on one worker, so that live traffic keeps priority, and writes
// what they match through the live pipeline's sink.
func runThrottledJob(ctx context.Context, cfg config.Config, conn kafkaio.Connection, sink pipeline.Sink, fuse pipeline.Breaker, bindings func() matchers.Bindings,
	log *slog.Logger, m *retro.Metrics, job retro.Job, snap *matchers.Snapshot, tracker *retro.Tracker) error {
	src := newRangeSource(conn, cfg, log, tracker, float64(cfg.Lists.RetroRate))
	defer src.Close()
	engine := EngineOf(cfg)
	engine.Workers, engine.Writers, engine.Slots = 1, 1, 0
	pc := engine.retroPipeline(src, &retroSink{Sink: sink, metrics: m, src: src}, snap, job)
	pc.Cases, pc.Bindings, pc.Breaker = CasesOn(cfg), bindings, fuse
	if err := pipeline.Run(ctx, pc); err != nil {
		return fmt.Errorf("retro job %s: %w", job.ID, err)
	}
	if ctx.Err() != nil {
		return nil // stopped; the progress of what was written is saved
	}
	return tracker.Finish(ctx)
}

// retroSink counts a job's written batches in the retro metrics.
type retroSink struct {
	pipeline.Sink
	metrics *retro.Metrics
	src     *kafkaio.RangeSource
}

func (s *retroSink) Write(ctx context.Context, b *pipeline.Batch) error {
	if err := s.Sink.Write(ctx, b); err != nil {
		return err
	}
	s.metrics.Written(len(b.Records), len(b.Outputs)-b.Count(pipeline.ToEvidence), s.src.Remaining())
	return nil
}
