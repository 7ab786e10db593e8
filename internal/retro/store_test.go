package retro

import (
	"context"
	"testing"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/kafkaio"
	"flagstream/internal/testkit"
)

func TestKafkaStore(t *testing.T) {
	b := testkit.StartBroker(t, devbroker.Config{})
	ctx := context.Background()
	s := NewKafkaStore(kafkaio.Connection{Brokers: []string{b.Addr()}}, "flagstream-retro", nil)
	defer s.Close()
	// Before the topic exists, no job has run.
	if got, err := s.Load(ctx, "retro-1"); err != nil || len(got) != 0 {
		t.Fatalf("Load before the topic exists: %v, %v", got, err)
	}
	if err := s.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	p := goodProgress()
	p.Job = "retro-1"
	q := p
	q.Job, q.Partition = "retro-2", 0
	if err := s.Save(ctx, p, q); err != nil {
		t.Fatal(err)
	}
	p.Next = 200
	if err := s.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	rec := JobRecord{Job: "retro-2", Topic: "tweets", Since: t0, Until: t0, Selection: Selection{Origin: OriginReload},
		Entries: []JobEntry{{Demand: "LATE", Kind: "hashtag", Entry: "#Late"}}, CreatedAt: t0}
	if err := s.SaveJob(ctx, rec); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, "retro-1")
	if p3 := got[3]; err != nil || len(got) != 1 || p3.Next != 200 || !p3.Done() {
		t.Fatalf("Load(retro-1) = %+v, %v; want partition 3 done at 200", got, err)
	}
	jobs, progress, err := s.Jobs(ctx)
	if err != nil || len(jobs) != 1 || jobs[0].Entries[0].Entry != "#Late" || len(progress["retro-2"]) != 1 || len(progress["retro-1"]) != 1 {
		t.Fatalf("Jobs = %+v, %+v, %v", jobs, progress, err)
	}
	// A record that does not parse is skipped.
	w := kafkaio.NewProducer(kafkaio.Connection{Brokers: []string{b.Addr()}}, kafkaio.ProducerConfig{})
	defer w.Close()
	if err := w.Write(ctx, kafkaMessage("retro-1/4", "{not json")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, "retro-1"); err != nil || len(got) != 1 {
		t.Errorf("Load with a broken record: %+v, %v", got, err)
	}
}

func kafkaMessage(key, value string) kafka.Message {
	return kafka.Message{Topic: "flagstream-retro", Key: []byte(key), Value: []byte(value)}
}
