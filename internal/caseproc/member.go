package caseproc

import (
	"context"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/kafkaio"
)

// member is what the case processor and the decisions forwarder each
// are: a member of a consumer group on one topic, with a fetcher of that
// topic and a producer of what its partitions write, and the lifecycle
// they share (start, then a graceful close).
type member struct {
	cg       *kafka.ConsumerGroup
	producer *kafkaio.Producer
	fetcher  *kafkaio.Fetcher

	// base is the context of writes: cancelled DrainTimeout after close
	// begins, so that a write that cannot finish does not hold it up.
	base       context.Context
	cancelBase context.CancelFunc

	stop      context.CancelFunc
	done      chan struct{} // closed when the group loop has ended
	closeOnce sync.Once
}

// start runs loop, the group loop, in a goroutine of its own until its
// context ends; close joins it.
func (m *member) start(loop func(ctx context.Context)) {
	m.base, m.cancelBase = context.WithCancel(context.Background())
	ctx, stop := context.WithCancel(context.Background())
	m.stop, m.done = stop, make(chan struct{})
	go func() { // owned by m; joined by close through m.done
		defer close(m.done)
		loop(ctx)
	}()
}

// close stops the member gracefully, once: leaving the group ends the
// generation, whose partitions finish the batch in hand (their writes
// within drain), then the group loop ends and the producer and fetcher
// close.
func (m *member) close(drain time.Duration) {
	m.closeOnce.Do(func() {
		timer := time.AfterFunc(drain, m.cancelBase)
		m.cg.Close() // ends the generation and waits for its goroutines, then leaves
		m.stop()
		<-m.done
		timer.Stop()
		m.cancelBase()
		m.producer.Close()
		m.fetcher.Close()
	})
}
