package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
)

// TopicReader reads every record of a topic, partition by partition in
// order, from the first offset to the end offsets it finds when it starts:
// a snapshot of what the topic held then, for `flagstream report` (which
// reads the cases, review, shadow, escalation and decisions topics). It
// joins no group and commits nothing.
//
// It is not safe for concurrent use.
type TopicReader struct {
	client  *kafka.Client
	topic   string
	timeout time.Duration

	started bool
	missing bool
	parts   []partitionRange
	part    int // index into parts

	recs []Record // fetched, not returned yet
}

// partitionRange is what is left to read of one partition.
type partitionRange struct {
	partition  int
	next, stop int64
	empty      int // fetches in a row that returned nothing
}

// Record is one record of a topic, its value copied.
type Record struct {
	Partition int
	Offset    int64
	Key       []byte
	Value     []byte
	Time      time.Time
}

// NewTopicReader returns a reader of topic; nothing is read until Next.
func NewTopicReader(conn Connection, topic string) *TopicReader {
	return &TopicReader{
		client:  &kafka.Client{Addr: kafka.TCP(conn.Brokers...), Transport: conn.transport(), Timeout: 30 * time.Second},
		topic:   topic,
		timeout: 30 * time.Second,
	}
}

// Missing reports, once Next has been called, that the topic did not
// exist: it reads as empty.
func (r *TopicReader) Missing() bool { return r.missing }

// Next returns the next record, io.EOF after the last one before the end
// offsets found at the start, or an error that stops the read.
func (r *TopicReader) Next(ctx context.Context) (Record, error) {
	if !r.started {
		if err := r.start(ctx); err != nil {
			return Record{}, err
		}
		r.started = true
	}
	for len(r.recs) == 0 {
		if r.part >= len(r.parts) {
			return Record{}, io.EOF
		}
		p := &r.parts[r.part]
		if p.next >= p.stop {
			r.part++
			continue
		}
		if err := r.fetch(ctx, p); err != nil {
			return Record{}, err
		}
	}
	rec := r.recs[0]
	r.recs = r.recs[1:]
	return rec, nil
}

// start finds the partitions and their first and end offsets.
func (r *TopicReader) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	meta, err := r.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{r.topic}})
	if err != nil {
		return fmt.Errorf("topic %s: metadata: %w", r.topic, err)
	}
	var parts []int
	for _, t := range meta.Topics {
		if t.Name != r.topic {
			continue
		}
		if t.Error != nil {
			if errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
				r.missing = true
				return nil
			}
			return fmt.Errorf("topic %s: %w", r.topic, t.Error)
		}
		for _, p := range t.Partitions {
			parts = append(parts, p.ID)
		}
	}
	if len(parts) == 0 {
		r.missing = true
		return nil
	}
	slices.Sort(parts)
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, p := range parts {
		req.Topics[r.topic] = append(req.Topics[r.topic], kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
	}
	res, err := r.client.ListOffsets(ctx, req)
	if err != nil {
		return fmt.Errorf("topic %s: list offsets: %w", r.topic, err)
	}
	byPartition := map[int]partitionRange{}
	for _, po := range res.Topics[r.topic] {
		if po.Error != nil {
			return fmt.Errorf("topic %s/%d: list offsets: %w", r.topic, po.Partition, po.Error)
		}
		pr := byPartition[po.Partition]
		pr.partition = po.Partition
		if po.FirstOffset >= 0 {
			pr.next = po.FirstOffset
		}
		if po.LastOffset >= 0 {
			pr.stop = po.LastOffset
		}
		byPartition[po.Partition] = pr
	}
	for _, p := range parts {
		pr, ok := byPartition[p]
		if !ok {
			return fmt.Errorf("topic %s/%d: list offsets: no answer", r.topic, p)
		}
		r.parts = append(r.parts, pr)
	}
	return nil
}

// fetch reads the next records of partition p into r.recs.
func (r *TopicReader) fetch(ctx context.Context, p *partitionRange) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	res, err := r.client.Fetch(ctx, &kafka.FetchRequest{
		Topic: r.topic, Partition: p.partition, Offset: p.next,
		MinBytes: 1, MaxBytes: 4 << 20, MaxWait: 500 * time.Millisecond,
	})
	if err == nil && res.Error != nil {
		err = res.Error
	}
	if err != nil {
		return fmt.Errorf("topic %s/%d: fetch at offset %d: %w", r.topic, p.partition, p.next, err)
	}
	before := p.next
	read := func(rr kafka.RecordReader, keep bool) error {
		for {
			rec, err := rr.ReadRecord()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if rec.Offset < p.next || rec.Offset >= p.stop {
				continue
			}
			p.next = rec.Offset + 1
			if !keep {
				continue
			}
			out := Record{Partition: p.partition, Offset: rec.Offset, Time: rec.Time}
			if rec.Key != nil {
				out.Key, _ = io.ReadAll(rec.Key)
			}
			if rec.Value != nil {
				if out.Value, err = io.ReadAll(rec.Value); err != nil {
					return err
				}
			}
			r.recs = append(r.recs, out)
		}
	}
	if stream, ok := res.Records.(*protocol.RecordStream); ok {
		for _, batch := range stream.Records {
			_, control := batch.(*protocol.ControlBatch)
			if err := read(batch, !control); err != nil {
				return fmt.Errorf("topic %s/%d: read: %w", r.topic, p.partition, err)
			}
		}
	} else if res.Records != nil {
		if err := read(res.Records, true); err != nil {
			return fmt.Errorf("topic %s/%d: read: %w", r.topic, p.partition, err)
		}
	}
	switch {
	case p.next != before:
		p.empty = 0
	case res.HighWatermark <= p.next:
		// The partition holds nothing more (truncated below the end
		// offset taken at the start): done with it.
		p.next = p.stop
	default:
		if p.empty++; p.empty >= maxEmptyFetches {
			return fmt.Errorf("topic %s/%d: %d fetches at offset %d returned nothing, though the partition ends at %d",
				r.topic, p.partition, p.empty, p.next, res.HighWatermark)
		}
	}
	return nil
}

// maxEmptyFetches is how many fetches in a row may return nothing below the
// end offset before the read fails rather than loop.
const maxEmptyFetches = 5
