package pipeline

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"flagstream/matchers"
	"flagstream/pipeline/decode"
)

// Metrics are the pipeline's Prometheus metrics. Labels are bounded: a
// rejection reason, a demand id, a match kind; never a handle, hashtag or
// tweet id. Counts are added once per batch, after the batch is written.
type Metrics struct {
	tweets          prometheus.Counter
	records         prometheus.Counter
	rejected        *prometheus.CounterVec
	tasks           prometheus.Counter
	matches         *prometheus.CounterVec
	processDuration prometheus.Histogram
	endToEnd        prometheus.Histogram
	batches         prometheus.Counter
}

// RejectReasons lists every reason a record can be rejected for, so that
// each series exists from the start.
var RejectReasons = []decode.Reason{
	decode.ReasonInvalidUTF8, decode.ReasonInvalidJSON, decode.ReasonNotATweet,
	decode.ReasonMissingID, decode.ReasonWrongType, decode.ReasonTooManyTweets,
	decode.ReasonTooDeep, decode.ReasonTextTooLong, decode.ReasonDuplicateKey, ReasonTooLarge, ReasonPanic,
}

// NewMetrics registers the pipeline's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		tweets: f.NewCounter(prometheus.CounterOpts{
			Name: "flagstream_tweets_processed_total",
			Help: "Tweets decoded and matched against the lists (a search response or v2 page counts each tweet it carries).",
		}),
		records: f.NewCounter(prometheus.CounterOpts{
			Name: "flagstream_records_committed_total",
			Help: "Input records fully handled: their review tasks and dead letters written, their offsets committed.",
		}),
		rejected: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagstream_records_rejected_total",
			Help: "Input records that could not be processed, by reason; each was written to the dead-letter topic (or the rejects file).",
		}, []string{"reason"}),
		tasks: f.NewCounter(prometheus.CounterOpts{
			Name: "flagstream_review_tasks_emitted_total",
			Help: "Review tasks written and acknowledged.",
		}),
		matches: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagstream_matches_total",
			Help: "List entries matched, by demand id and match kind (hashtag, mention, author, author_id, phrase, domain).",
		}, []string{"demand", "kind"}),
		processDuration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "flagstream_process_duration_seconds",
			Help:    "Time to decode, match and build the tasks of one record; one record in 64 is timed.",
			Buckets: prometheus.ExponentialBuckets(1e-6, 2.5, 14),
		}),
		endToEnd: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "flagstream_end_to_end_lag_seconds",
			Help:    "Time from a flagged tweet's Kafka timestamp to its review task being acknowledged.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 16),
		}),
		batches: f.NewCounter(prometheus.CounterOpts{
			Name: "flagstream_batches_committed_total",
			Help: "Batches of records written and committed.",
		}),
	}
	for _, r := range RejectReasons {
		m.rejected.WithLabelValues(string(r))
	}
	return m
}

// observeBatch adds a written and committed batch's counts.
func (m *Metrics) observeBatch(b *Batch, now time.Time) {
	if m == nil {
		return
	}
	m.batches.Inc()
	m.records.Add(float64(len(b.Records)))
	m.tweets.Add(float64(b.Stats.Tweets))
	m.tasks.Add(float64(len(b.Tasks)))
	for _, r := range b.Rejects {
		m.rejected.WithLabelValues(string(r.Reason)).Inc()
	}
	for _, d := range b.Stats.Durations {
		m.processDuration.Observe(d)
	}
	for _, t := range b.Tasks {
		if ts := b.Records[t.Record].Time; !ts.IsZero() {
			m.endToEnd.Observe(now.Sub(ts).Seconds())
		}
	}
	if s := b.Stats.Snapshot; s != nil {
		demands := s.Demands()
		kinds := matchers.HitKinds()
		for i, n := range b.Stats.Matches {
			if n > 0 {
				m.matches.WithLabelValues(demands[i/NumHitKinds].ID, kinds[i%NumHitKinds].String()).Add(float64(n))
			}
		}
	}
}
