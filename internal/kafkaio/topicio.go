package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"

	"flagstream/pipeline"
)

// ReadTopic calls fn with every record topic holds now, from each
// partition's earliest retained offset up to its end offset at the call,
// in offset order within a partition. A compacted topic so reads as its
// current state: a later record of a key replaces an earlier one.
func ReadTopic(ctx context.Context, conn Connection, topic string, fn func(r *pipeline.Record) error) error {
	o := NewFetcher(conn, topic, 0, 0)
	defer o.Close()
	parts, err := o.Partitions(ctx)
	if err != nil {
		return err
	}
	first, err := o.First(ctx, parts)
	if err != nil {
		return err
	}
	end, err := o.End(ctx, parts)
	if err != nil {
		return err
	}
	ranges := make([]PartitionRange, 0, len(parts))
	for _, p := range parts {
		ranges = append(ranges, PartitionRange{Partition: int32(p), Start: first[p], End: end[p]})
	}
	s := NewRangeSource(conn, RangeConfig{Topic: topic, Ranges: ranges})
	defer s.Close()
	var b pipeline.Batch
	for {
		b.Records, b.Data = b.Records[:0], b.Data[:0]
		err := s.Fetch(ctx, &b)
		for i := range b.Records {
			if ferr := fn(&b.Records[i]); ferr != nil {
				return ferr
			}
		}
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("read %s: %w", topic, err)
		}
	}
}
