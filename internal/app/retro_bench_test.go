package app

import (
	"context"
	"testing"
	"time"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/retro"
	"flagstream/internal/testkit"
)

// BenchmarkRetroJob runs a retro job (started over each time) over 20,000
// records of an in-process broker, which takes some of the CPU: for
// profiles of the job's own path (fetch, copy, match, write, progress); the
// figures to quote come from BenchmarkRetroVsScan in internal/e2e.
func BenchmarkRetroJob(b *testing.B) {
	k := testkit.New(b, devbroker.Config{Partitions: 4}, testkit.Traffic(5, 0.01, 0, 0))
	const n = 20000
	k.Produce(n)
	cfg := k.Config("bench")
	cfg.Pipeline.BatchSize = 2048
	cfg.Input.FetchMaxBytes = 8 << 20
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewRetro(ctx, cfg, RetroOptions{
			Window:  retro.Window{Since: time.Now().Add(-time.Hour), SinceKey: "ago:1h"},
			Restart: true,
		})
		if err != nil {
			b.Fatal(err)
		}
		c, err := r.Run(ctx)
		r.Close()
		if err != nil || c.Records != n {
			b.Fatalf("read %d records, %v", c.Records, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
