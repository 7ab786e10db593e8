package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// TopicReader reads every record of a topic, partition by partition in
// order, from the first offset to the end offsets it finds when it starts:
// a snapshot of what the topic held then, for `flagstream report` (which
// reads the cases, review, shadow, escalation and decisions topics). It
// joins no group and commits nothing. It is the pull form of a bounded
// ReadPartitions, stepping through each partition on the same cursor, but
// a failure ends the read instead of being retried.
//
// It is not safe for concurrent use.
type TopicReader struct {
	fetcher *Fetcher
	topic   string
	timeout time.Duration

	started bool
	missing bool
	parts   []*cursor
	part    int // index into parts
	empty   int // fetches of parts[part] in a row that returned nothing

	recs []Record // fetched, not returned yet
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
		p := r.parts[r.part]
		if p.reached() {
			r.part, r.empty = r.part+1, 0
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
	from, until, err := r.fetcher.bounds(ctx, nil, nil, nil)
	if errors.Is(err, ErrNoTopic) {
		r.missing = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("topic %s: %w", r.topic, err)
	}
	for p := range len(from) {
		r.parts = append(r.parts, &cursor{f: r.fetcher, r: PartitionRead{Partition: p, Until: max(until[p], 0)}, offset: max(from[p], 0)})
	}
	return nil
}

// fetch reads the next records of partition p into r.recs, once: a
// failure stops the read, rather than being retried.
func (r *TopicReader) fetch(ctx context.Context, p *cursor) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	before := p.offset
	c, _, hwm, _, err := p.step(ctx)
	if err != nil {
		return fmt.Errorf("topic %s/%d: fetch at offset %d: %w", r.topic, p.r.Partition, p.offset, err)
	}
	if c != nil {
		r.recs = append(r.recs, c.messages()...)
	}
	if p.offset != before {
		r.empty = 0
	} else if r.empty++; r.empty >= maxEmptyFetches {
		return fmt.Errorf("topic %s/%d: %d fetches at offset %d returned nothing, though the partition ends at %d",
			r.topic, p.r.Partition, r.empty, p.offset, hwm)
	}
	return nil
}

// maxEmptyFetches is how many fetches in a row may return nothing below the
// end offset before the read fails rather than loop.
const maxEmptyFetches = 5
