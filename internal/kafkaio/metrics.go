package kafkaio

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the Kafka adapters' metrics. The consumer, the producer and
// commits update them where things happen (a fetch answered, a group
// generation joined, a produce request completed), as franz-go's kprom
// plugin does from client hooks; nothing polls a client for statistics.
// Every method is safe for concurrent use. A consumer or producer
// configured without Metrics gets unregistered ones.
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

	isJoined  atomic.Bool
	blocked   atomic.Int64  // batch writes now retrying
	writeAvg  atomic.Uint64 // float64 bits of the moving average of writeTime
	lagMu     sync.Mutex
	lagByPart map[int32]int64 // guarded by lagMu
}

// NewMetrics registers the Kafka adapters' metrics with reg; with a nil
// reg they are registered nowhere.
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
		bytes:       counter("flagstream_kafka_consumer_bytes_total", "Message bytes (keys and values) received by the consumer."),
		fetchErrors: counter("flagstream_kafka_consumer_errors_total", "Consumer errors (fetch, connection, group, commit); each is retried."),
		rebalances:  counter("flagstream_kafka_consumer_rebalances_total", "Consumer group generations joined."),
		timeouts:    counter("flagstream_kafka_consumer_timeouts_total", "Fetch requests that timed out."),
		queueLength: gauge("flagstream_kafka_consumer_queue_length", "Records fetched and waiting to be taken by the pipeline."),
		lag: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagstream_kafka_consumer_lag_records",
			Help: "Records in the partition after the last one fetched (high watermark minus next offset), by partition assigned to this instance.",
		}, []string{"partition"}),
		lagTotal:     gauge("flagstream_kafka_consumer_instance_lag_records", "Consumer lag summed over the partitions assigned to this instance."),
		commits:      counter("flagstream_kafka_commits_total", "Offset commits made after a batch was written."),
		commitErrors: counter("flagstream_kafka_commit_errors_total", "Offset commits that failed."),
		joined:       gauge("flagstream_kafka_consumer_group_joined", "1 once the consumer has joined its group."),

		writes:        counter("flagstream_kafka_producer_writes_total", "Produce requests completed, one per partition batch."),
		writeMessages: counter("flagstream_kafka_producer_messages_total", "Messages produced and acknowledged (review tasks and dead letters)."),
		writeBytes:    counter("flagstream_kafka_producer_bytes_total", "Message bytes (keys and values) produced and acknowledged."),
		writeErrors:   counter("flagstream_kafka_producer_errors_total", "Produce requests that failed; flagstream writes their messages again."),
		writeRetries:  counter("flagstream_kafka_producer_retries_total", "Batch writes attempted again after a failed attempt."),
		writeFailures: counter("flagstream_kafka_producer_write_failures_total", "Batch write attempts that failed; flagstream retries them until they succeed."),
		writeBlocked:  gauge("flagstream_kafka_producer_blocked", "1 while a batch write is failing and being retried: the pipeline is applying back-pressure."),
		writeTime:     gauge("flagstream_kafka_producer_write_seconds_avg", "Moving average (weight 1/8) of the time a batch write takes until acknowledged."),
		lagByPart:     map[int32]int64{},
	}
}

// Joined reports whether the consumer has joined its group.
func (m *Metrics) Joined() bool { return m.isJoined.Load() }

// generationJoined records a group generation joined with the partitions
// assigned: the lag of any other partition is no longer this instance's.
func (m *Metrics) generationJoined(partitions []int) {
	m.rebalances.Inc()
	m.isJoined.Store(true)
	m.joined.Set(1)
	m.lagMu.Lock()
	defer m.lagMu.Unlock()
	var sum int64
	for p, lag := range m.lagByPart {
		kept := false
		for _, a := range partitions {
			kept = kept || int32(a) == p
		}
		if !kept {
			delete(m.lagByPart, p)
			m.lag.DeleteLabelValues(strconv.Itoa(int(p)))
			continue
		}
		sum += lag
	}
	m.lagTotal.Set(float64(sum))
}

// fetched records a fetch request answered with n records of size bytes.
func (m *Metrics) fetched(n int, size int64) {
	m.fetches.Inc()
	m.messages.Add(float64(n))
	m.bytes.Add(float64(size))
}

// consumerFailed records a consumer error; timedOut says a request timed
// out.
func (m *Metrics) consumerFailed(timedOut bool) {
	m.fetchErrors.Inc()
	if timedOut {
		m.timeouts.Inc()
	}
}

// queued records n more records fetched and waiting (n < 0: taken).
func (m *Metrics) queued(n int) {
	m.queueLength.Add(float64(n))
}

// observeLag records the lag of a partition after the record at offset,
// given the partition's high watermark.
func (m *Metrics) observeLag(partition int32, highWaterMark, offset int64) {
	lag := max(highWaterMark-offset-1, 0)
	m.lag.WithLabelValues(strconv.Itoa(int(partition))).Set(float64(lag))
	m.lagMu.Lock()
	defer m.lagMu.Unlock()
	m.lagByPart[partition] = lag
	var sum int64
	for _, l := range m.lagByPart {
		sum += l
	}
	m.lagTotal.Set(float64(sum))
}

// commitDone records an offset commit.
func (m *Metrics) commitDone(err error) {
	if err != nil {
		m.commitErrors.Inc()
		return
	}
	m.commits.Inc()
}

// produced records a completed produce request of n messages of size
// bytes.
func (m *Metrics) produced(n int, size int64, err error) {
	m.writes.Inc()
	if err != nil {
		m.writeErrors.Inc()
		return
	}
	m.writeMessages.Add(float64(n))
	m.writeBytes.Add(float64(size))
}

// batchWritten records how long a batch write took until acknowledged.
func (m *Metrics) batchWritten(d time.Duration) {
	for {
		old := m.writeAvg.Load()
		avg := math.Float64frombits(old)
		next := d.Seconds()
		if old != 0 {
			next = avg + (d.Seconds()-avg)/8
		}
		if m.writeAvg.CompareAndSwap(old, math.Float64bits(next)) {
			m.writeTime.Set(next)
			return
		}
	}
}

// writeFailed records a failed batch write attempt; retrying says another
// attempt follows.
func (m *Metrics) writeFailed(retrying bool) {
	m.writeFailures.Inc()
	if retrying {
		m.writeRetries.Inc()
	}
}

func (m *Metrics) setBlocked(delta int64) {
	if m.blocked.Add(delta) > 0 {
		m.writeBlocked.Set(1)
	} else {
		m.writeBlocked.Set(0)
	}
}
