package app

import (
	"context"
	"fmt"
	"strconv"

	"flagstream/config"
	"flagstream/internal/kafkaio"
	"flagstream/internal/report"
)

// ReportTopics are the topics that `flagstream report --config` reads, by
// stream: the case events (cases.topic), the review tasks (output.topic,
// output.shadow_topic, output.escalation_topic) and the decisions
// (input.decisions_topic). Unset topics are left out. The shadow and
// escalation topics hold case events beside tasks; they are read once, in
// the tasks stream: the report counts a record by its schema, whichever
// stream it was read from.
type ReportTopics struct {
	Cases, Tasks, Decisions []string
}

// ReportTopicsOf returns the topics of cfg that the report reads.
func ReportTopicsOf(cfg config.Config) ReportTopics {
	var t ReportTopics
	add := func(dst *[]string, topics ...string) {
		for _, topic := range topics {
			if topic != "" {
				*dst = append(*dst, topic)
			}
		}
	}
	add(&t.Cases, cfg.Cases.Topic)
	add(&t.Tasks, cfg.Output.Topic, cfg.Output.ShadowTopic, cfg.Output.EscalationTopic)
	add(&t.Decisions, cfg.Input.DecisionsTopic)
	return t
}

// ReportInput returns the report's input read from the Kafka topics of
// cfg, each from its first offset to the end offsets found when it is
// first read, until ctx ends. missing is called with each topic that does
// not exist (it reads as empty: nothing was written to it yet).
func ReportInput(ctx context.Context, cfg config.Config, missing func(topic string)) (report.Input, error) {
	conn, err := kafkaio.NewConnection(cfg.Kafka)
	if err != nil {
		return report.Input{}, fmt.Errorf("%w: %w", errConfig, err)
	}
	topics := ReportTopicsOf(cfg)
	stream := func(names []string) report.Records {
		var rs []report.Records
		for _, name := range names {
			rs = append(rs, &topicRecords{ctx: ctx, r: kafkaio.NewTopicReader(conn, name), topic: name, missing: missing})
		}
		return report.Concat(rs...)
	}
	return report.Input{
		Cases:     stream(topics.Cases),
		Tasks:     stream(topics.Tasks),
		Decisions: stream(topics.Decisions),
	}, nil
}

// topicRecords are the record values of a topic as report.Records: the
// stream is "topic/partition", the index the offset.
type topicRecords struct {
	r       *kafkaio.TopicReader
	topic   string
	missing func(string)
	ctx     context.Context
	told    bool
}

func (t *topicRecords) Next() (report.Record, error) {
	rec, err := t.r.Next(t.ctx)
	if err != nil {
		if t.r.Missing() && !t.told && t.missing != nil {
			t.told = true
			t.missing(t.topic)
		}
		return report.Record{}, err
	}
	return report.Record{Value: rec.Value, Stream: t.topic + "/" + strconv.Itoa(rec.Partition), Index: rec.Offset}, nil
}
