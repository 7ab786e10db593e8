package kafkaio

import (
	"context"
	"testing"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
	"flagstream/internal/testkit"
	"flagstream/pipeline"
)

// BenchmarkFetch measures a fetch of one partition and the move of its
// records into pipeline batches (take, which copies keys and values into
// the batch's arena), over the wire (appendRecordBatches) and through
// kafka-go's Client.Fetch and record reader (the fallback). The broker
// runs in this process, the same for both: the difference between them
// is the client's. ~780-byte synthetic tweets, 1 MiB fetches.
func BenchmarkFetch(b *testing.B) {
	broker, err := devbroker.Start(devbroker.Config{Listen: "127.0.0.1:0", Partitions: 1, Topics: []string{"tweets"}})
	if err != nil {
		b.Fatal(err)
	}
	defer broker.Close()
	const records = 20_000
	gen := synth.New(synth.Config{Seed: 1, Handles: synth.Handles(1, 10), FlagRate: 0.01})
	values := make([][]byte, records)
	for i := range values {
		values[i], _ = gen.Next(nil)
	}
	testkit.Produce(b, broker.Addr(), "tweets", values)
	for _, path := range []string{"wire", "kafka-go"} {
		b.Run(path, func(b *testing.B) {
			s := newGroupSource(Connection{Brokers: []string{broker.Addr()}}, SourceConfig{Topic: "tweets", BatchRecords: 2048})
			defer s.fetcher.Close()
			if path == "kafka-go" {
				s.fetcher.wire = nil
			}
			g := newGeneration(1, func(map[string]map[int]int64) error { return nil })
			ctx := context.Background()
			var batch pipeline.Batch
			var offset int64
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				c, next, _, err := s.fetcher.fetchChunk(ctx, 0, offset, fetchOptions{gen: g, pool: &s.recsPool})
				if err != nil || c == nil {
					b.Fatalf("fetch: %v", err)
				}
				for c.next < len(c.recs) {
					batch.Records, batch.Data, s.spans = batch.Records[:0], batch.Data[:0], s.spans[:0]
					s.take(&batch, c)
					n += len(batch.Records)
				}
				c.release()
				if offset = next; offset >= records {
					offset = 0
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
		})
	}
}
