package kafkaio

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
)

// TopicReader reads every record of a topic, partition by partition in
// order, from the first offset to the end offsets it finds when it starts:
// a snapshot of what the topic held then, for `flagstream report` (which
// reads the cases, review, shadow, escalation and decisions topics). It
// joins no group and commits nothing. It is the pull form of a bounded
// ReadPartitions, on the same Fetcher.
//
// It is not safe for concurrent use.
type TopicReader struct {
	fetcher *Fetcher
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

// Record is one record of a topic, its key and value copied.
type Record = Message

// NewTopicReader returns a reader of topic; nothing is read until Next.
// Close releases its connections.
func NewTopicReader(conn Connection, topic string) *TopicReader {
	return &TopicReader{
		fetcher: NewFetcher(conn, topic, 500*time.Millisecond, 4<<20),
		topic:   topic,
		timeout: 30 * time.Second,
	}
}

// Close closes the reader's idle connections.
func (r *TopicReader) Close() { r.fetcher.Close() }

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
	c := r.fetcher.client
	counts, err := partitionCounts(ctx, c, []string{r.topic})
	if err != nil {
		return fmt.Errorf("topic %s: %w", r.topic, err)
	}
	n, ok := counts[r.topic]
	if !ok || n == 0 {
		r.missing = true
		return nil
	}
	parts := make([]int, n)
	for p := range parts {
		parts[p] = p
	}
	first, err := listOffsets(ctx, c, r.topic, parts, kafka.FirstOffset)
	if err != nil {
		return fmt.Errorf("topic %s: %w", r.topic, err)
	}
	last, err := listOffsets(ctx, c, r.topic, parts, kafka.LastOffset)
	if err != nil {
		return fmt.Errorf("topic %s: %w", r.topic, err)
	}
	for _, p := range parts {
		r.parts = append(r.parts, partitionRange{partition: p, next: max(first[p], 0), stop: max(last[p], 0)})
	}
	return nil
}

// fetch reads the next records of partition p into r.recs.
func (r *TopicReader) fetch(ctx context.Context, p *partitionRange) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	msgs, next, hwm, err := r.fetcher.Fetch(ctx, p.partition, p.next)
	if err != nil {
		return fmt.Errorf("topic %s/%d: fetch at offset %d: %w", r.topic, p.partition, p.next, err)
	}
	before := p.next
	for _, m := range msgs {
		if m.Offset < p.stop {
			r.recs = append(r.recs, m)
		}
	}
	p.next = min(max(p.next, next), p.stop)
	switch {
	case p.next != before:
		p.empty = 0
	case hwm <= p.next:
		// The partition holds nothing more (truncated below the end
		// offset taken at the start): done with it.
		p.next = p.stop
	default:
		if p.empty++; p.empty >= maxEmptyFetches {
			return fmt.Errorf("topic %s/%d: %d fetches at offset %d returned nothing, though the partition ends at %d",
				r.topic, p.partition, p.empty, p.next, hwm)
		}
	}
	return nil
}

// maxEmptyFetches is how many fetches in a row may return nothing below the
// end offset before the read fails rather than loop.
const maxEmptyFetches = 5
