package kafkaio

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the Kafka client's metrics: kafka-go's reader and writer
// statistics (polled; kafka-go resets its counters on each read, so one
// poller owns reading them), consumer lag per partition, and the outcome
// of commits and produce attempts.
type Metrics struct {
	fetches, messages, bytes, fetchErrors, rebalances, timeouts prometheus.Counter
	queueLength                                                 prometheus.Gauge
	lag                                                         *prometheus.GaugeVec
	lagTotal                                                    prometheus.Gauge
	commits, commitErrors                                       prometheus.Counter
	joined                                                      prometheus.Gauge

	writes, writeMessages, writeBytes, writeErrors, writeRetries prometheus.Counter
	writeFailures                                                prometheus.Counter
	writeBlocked                                                 prometheus.Gauge
	writeTime                                                    prometheus.Gauge

	isJoined atomic.Bool
	blocked  atomic.Int64 // sink writes now retrying

	mu      sync.Mutex
	lagByPt map[int32]lagSample
	polls   uint64 // statistics polls done
}

// lagSample is a partition's lag and the number of polls done when it
// was observed.
type lagSample struct {
	lag  int64
	poll uint64
}

// NewMetrics registers the Kafka client's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	counter := func(name, help string) prometheus.Counter {
		return f.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	gauge := func(name, help string) prometheus.Gauge {
		return f.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	return &Metrics{
		fetches:     counter("flagstream_kafka_consumer_fetches_total", "Fetch requests made by the consumer."),
		messages:    counter("flagstream_kafka_consumer_messages_total", "Messages received by the consumer."),
		bytes:       counter("flagstream_kafka_consumer_bytes_total", "Message bytes received by the consumer."),
		fetchErrors: counter("flagstream_kafka_consumer_errors_total", "Consumer errors (fetch, connection, group)."),
		rebalances:  counter("flagstream_kafka_consumer_rebalances_total", "Consumer group generations joined."),
		timeouts:    counter("flagstream_kafka_consumer_timeouts_total", "Consumer fetch timeouts."),
		queueLength: gauge("flagstream_kafka_consumer_queue_length", "Messages fetched and waiting to be taken by the pipeline."),
		lag: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagstream_kafka_consumer_lag_records",
			Help: "Records in the partition after the last one fetched (high watermark minus next offset), by partition assigned to this instance.",
		}, []string{"partition"}),
		lagTotal:     gauge("flagstream_kafka_consumer_instance_lag_records", "Consumer lag summed over the partitions assigned to this instance."),
		commits:      counter("flagstream_kafka_commits_total", "Offset commits made after a batch was written."),
		commitErrors: counter("flagstream_kafka_commit_errors_total", "Offset commits that failed."),
		joined:       gauge("flagstream_kafka_consumer_group_joined", "1 once the consumer has joined its group."),

		writes:        counter("flagstream_kafka_producer_writes_total", "Produce requests sent."),
		writeMessages: counter("flagstream_kafka_producer_messages_total", "Messages produced (review tasks and dead letters)."),
		writeBytes:    counter("flagstream_kafka_producer_bytes_total", "Message bytes produced."),
		writeErrors:   counter("flagstream_kafka_producer_errors_total", "Produce requests that failed inside the client (retried by it)."),
		writeRetries:  counter("flagstream_kafka_producer_retries_total", "Produce retries made inside the client."),
		writeFailures: counter("flagstream_kafka_producer_write_failures_total", "Batch writes that failed after the client's retries; flagstream retries them until they succeed."),
		writeBlocked:  gauge("flagstream_kafka_producer_blocked", "1 while a batch write is failing and being retried: the pipeline is applying back-pressure."),
		writeTime:     gauge("flagstream_kafka_producer_write_seconds_avg", "Average time of a produce request over the last poll."),
		lagByPt:       map[int32]lagSample{},
	}
}

// Joined reports whether the consumer has joined its group.
func (m *Metrics) Joined() bool { return m != nil && m.isJoined.Load() }

// markJoined records that the consumer has joined its group. Source's
// joined state comes from its statistics (a rebalance); GroupSource marks
// it on each generation.
func (m *Metrics) markJoined() {
	if m == nil {
		return
	}
	m.isJoined.Store(true)
	m.joined.Set(1)
}

// observeLag records the lag of a partition from a fetched message.
func (m *Metrics) observeLag(partition int32, highWaterMark, offset int64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.lagByPt[partition] = lagSample{lag: max(highWaterMark-offset-1, 0), poll: m.polls}
	m.mu.Unlock()
}

func (m *Metrics) commitDone(err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.commitErrors.Inc()
		return
	}
	m.commits.Inc()
}

func (m *Metrics) writeFailed() {
	if m == nil {
		return
	}
	m.writeFailures.Inc()
}

func (m *Metrics) setBlocked(delta int64) {
	if m == nil {
		return
	}
	if m.blocked.Add(delta) > 0 {
		m.writeBlocked.Set(1)
	} else {
		m.writeBlocked.Set(0)
	}
}

// Poll reads the consumer's and producer's statistics every interval until
// the returned function is called (which waits for the poller to end).
func (m *Metrics) Poll(src Consumer, sink *Sink, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // owned by the caller of Poll; joined by stop
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			m.poll(src, sink)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

func (m *Metrics) poll(src Consumer, sink *Sink) {
	if src != nil {
		rs := src.Stats()
		m.fetches.Add(float64(rs.Fetches))
		m.messages.Add(float64(rs.Messages))
		m.bytes.Add(float64(rs.Bytes))
		m.fetchErrors.Add(float64(rs.Errors))
		m.rebalances.Add(float64(rs.Rebalances))
		m.timeouts.Add(float64(rs.Timeouts))
		m.queueLength.Set(float64(rs.QueueLength))
		m.mu.Lock()
		if rs.Rebalances > 0 {
			m.isJoined.Store(true)
			m.joined.Set(1)
			// A new generation may assign other partitions: forget the
			// lags observed before the previous poll. Those observed
			// since may already be of the new generation's partitions.
			for p, s := range m.lagByPt {
				if s.poll < m.polls {
					delete(m.lagByPt, p)
				}
			}
			m.lag.Reset()
		}
		var sum int64
		for p, s := range m.lagByPt {
			m.lag.WithLabelValues(strconv.Itoa(int(p))).Set(float64(s.lag))
			sum += s.lag
		}
		m.polls++
		m.mu.Unlock()
		m.lagTotal.Set(float64(sum))
	}
	if sink != nil {
		ws := sink.Stats()
		m.writes.Add(float64(ws.Writes))
		m.writeMessages.Add(float64(ws.Messages))
		m.writeBytes.Add(float64(ws.Bytes))
		m.writeErrors.Add(float64(ws.Errors))
		m.writeRetries.Add(float64(ws.Retries))
		m.writeTime.Set(ws.WriteTime.Avg.Seconds())
	}
}
