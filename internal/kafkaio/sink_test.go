package kafkaio

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/lists"
	"flagstream/internal/testkit"
	"flagstream/matchers"
	"flagstream/pipeline"
	"flagstream/pipeline/cases"
)

// recordSource hands out its values as records of the tweets topic, one
// batch of all of them.
type recordSource struct {
	values []string
	done   bool
}

func (s *recordSource) Fetch(_ context.Context, b *pipeline.Batch) error {
	if s.done {
		return io.EOF
	}
	s.done = true
	for i, v := range s.values {
		b.Records = append(b.Records, pipeline.Record{Value: []byte(v), Topic: "tweets", Partition: 0, Offset: int64(i)})
	}
	return nil
}

func (s *recordSource) Commit(context.Context, *pipeline.Batch) error { return nil }

// TestSinkWritesEvidence runs account matches of a scope: user demand
// through the pipeline with cases on into a broker: the evidence goes to
// the evidence topic keyed by case id, the tasks of the other matches to
// the review topic.
func TestSinkWritesEvidence(t *testing.T) {
	const evidenceTopic = "flagstream-case-evidence"
	b, err := devbroker.Start(devbroker.Config{Listen: "127.0.0.1:0", Partitions: 3,
		Topics: []string{"review-tasks", "tweets-dlq", evidenceTopic}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	d, _, err := lists.ParseDemand("u.yaml", []byte(`id: U-1
jurisdiction: IN
scope: user
handles: ["@listed_one", listed_two]
hashtags: ["#ListedTag"]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, _, err := matchers.Compile([]matchers.Demand{d}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sink, err := NewSink(Connection{Brokers: []string{b.Addr()}}, SinkConfig{
		Topic: "review-tasks", DeadLetterTopic: "tweets-dlq", EvidenceTopic: evidenceTopic,
		BatchTimeout: time.Millisecond, WriteTimeout: 10 * time.Second, Metrics: NewMetrics(prometheus.NewPedanticRegistry()),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tweet := func(id, handle, text string) string {
		return fmt.Sprintf(`{"id_str":%q,"text":%q,"user":{"id_str":"7%s","screen_name":%q}}`, id, text, id, handle)
	}
	src := &recordSource{values: []string{
		tweet("1", "listed_one", "hello"),
		tweet("2", "listed_two", "#ListedTag"),
		tweet("3", "someone", "hi @listed_one @listed_two"),
		`{"broken`,
	}}
	err = pipeline.Run(context.Background(), pipeline.Config{Source: src, Sink: sink, Cases: true,
		Lists: func() *matchers.Snapshot { return snap }})
	if err != nil {
		t.Fatal(err)
	}

	var got []string
	for _, m := range testkit.ReadTopic(t, b.Addr(), evidenceTopic) {
		in, err := cases.DecodeInput(m.Value)
		if err != nil {
			t.Fatalf("evidence record: %v\n%s", err, m.Value)
		}
		if string(m.Key) != in.Evidence.CaseID {
			t.Errorf("evidence key %q, want the case id %q", m.Key, in.Evidence.CaseID)
		}
		if h, _ := testkit.Header(m, HeaderSchema); h != cases.InputSchemaID {
			t.Errorf("evidence schema header %q, want %q", h, cases.InputSchemaID)
		}
		got = append(got, in.Evidence.TweetID+" "+in.Evidence.Entry+" "+string(in.Evidence.Kind))
	}
	slices.Sort(got)
	want := []string{"1 @listed_one post", "2 listed_two post", "3 @listed_one mention", "3 listed_two mention"}
	if !slices.Equal(got, want) {
		t.Errorf("evidence %q, want %q", got, want)
	}
	tasks := testkit.ReadTopic(t, b.Addr(), "review-tasks")
	if len(tasks) != 1 || string(tasks[0].Key) != "2" || !strings.Contains(string(tasks[0].Value), `"matches":[{"kind":"hashtag"`) ||
		strings.Contains(string(tasks[0].Value), `"kind":"author"`) {
		t.Errorf("review tasks: want one, of tweet 2's hashtag only; got %d: %v", len(tasks), tasks)
	}
	if dl := testkit.ReadTopic(t, b.Addr(), "tweets-dlq"); len(dl) != 1 {
		t.Errorf("%d dead letters, want 1", len(dl))
	}
}

// TestSinkNeedsTheEvidenceTopic checks that evidence without an evidence
// topic fails the write, naming the key to set, instead of going anywhere.
func TestSinkNeedsTheEvidenceTopic(t *testing.T) {
	d, _, err := lists.ParseDemand("u.yaml", []byte("id: U-1\njurisdiction: IN\nscope: user\nhandles: [listed_one]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, _, err := matchers.Compile([]matchers.Demand{d}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sink, err := NewSink(Connection{Brokers: []string{"127.0.0.1:1"}}, SinkConfig{Topic: "review-tasks", DeadLetterTopic: "dlq"})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	src := &recordSource{values: []string{`{"id_str":"1","text":"x","user":{"screen_name":"listed_one"}}`}}
	err = pipeline.Run(context.Background(), pipeline.Config{Source: src, Sink: sink, Cases: true,
		Lists: func() *matchers.Snapshot { return snap }})
	if err == nil || !strings.Contains(err.Error(), "cases.evidence_topic") {
		t.Errorf("Run = %v, want an error naming cases.evidence_topic", err)
	}
}
