package kafkaio

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
	"flagstream/internal/testkit"
	"flagstream/pipeline"
)

// BenchmarkFetchToBatch measures the consumer's own work per record on a
// real fetch response: reading the records of a 1 MiB response of one
// partition (newChunk) and moving them into pipeline batches (take), which
// copies keys and values into the batch's arena. The fetch itself, and so
// the broker, are outside the timer. ~780-byte synthetic tweets.
func BenchmarkFetchToBatch(b *testing.B) {
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
	s := newGroupSource(Connection{Brokers: []string{broker.Addr()}}, SourceConfig{Topic: "tweets", BatchRecords: 2048})
	g := newGeneration(1, func(map[string]map[int]int64) error { return nil })
	ctx := context.Background()
	var batch pipeline.Batch
	var offset int64
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		res, err := s.fetcher.client.Fetch(ctx, &kafka.FetchRequest{Topic: "tweets", Partition: 0, Offset: offset,
			MinBytes: 1, MaxBytes: maxChunkBytes, MaxWait: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c, next, _, err := newChunk(g, 0, offset, res.HighWatermark, res.Records, &s.recsPool)
		if err != nil || c == nil {
			b.Fatalf("newChunk: %v", err)
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
}
