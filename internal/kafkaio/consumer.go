package kafkaio

import (
	"fmt"

	"github.com/segmentio/kafka-go"

	"flagstream/pipeline"
)

// Consumer is a pipeline source that consumes a topic in a consumer group:
// a Source (on kafka.Reader) or a GroupSource.
type Consumer interface {
	pipeline.Source
	// Stats returns the consumer's statistics since the last call.
	Stats() kafka.ReaderStats
	// Close flushes pending commits and leaves the group.
	Close() error
}

var (
	_ Consumer = (*Source)(nil)
	_ Consumer = (*GroupSource)(nil)
)

// NewConsumer returns the consumer that kind names (config input.consumer):
// "batch" (or "") for a GroupSource, "reader" for a Source.
func NewConsumer(kind string, conn Connection, cfg SourceConfig) (Consumer, error) {
	switch kind {
	case "", "batch":
		s, err := NewGroupSource(conn, cfg)
		if err != nil {
			return nil, err
		}
		return s, nil
	case "reader":
		s, err := NewSource(conn, cfg)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("kafka consumer: unknown consumer %q (want batch or reader)", kind)
}
