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
	evidence        *prometheus.CounterVec
	matches         *prometheus.CounterVec
	shadow          *prometheus.CounterVec
	diverted        *prometheus.CounterVec
	exemptions      *prometheus.CounterVec
	processDuration prometheus.Histogram
	endToEnd        prometheus.Histogram
	batches         prometheus.Counter

	// seen is the snapshot whose governance series exist; only the
	// committer calls observeBatch.
	seen *matchers.Snapshot
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
	counter := func(name, help string) prometheus.Counter {
		return f.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return f.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, buckets []float64) prometheus.Histogram {
		return f.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	}
	m := &Metrics{
		tweets: counter("flagstream_tweets_processed_total",
			"Tweets decoded and matched against the lists (a search response or v2 page counts each tweet it carries)."),
		records: counter("flagstream_records_committed_total",
			"Input records fully handled: their review tasks and dead letters written, their offsets committed."),
		rejected: counterVec("flagstream_records_rejected_total",
			"Input records that could not be processed, by reason; each was written to the dead-letter topic (or the rejects file).", "reason"),
		tasks: counter("flagstream_review_tasks_emitted_total", "Review tasks written and acknowledged."),
		evidence: counterVec("flagstream_case_evidence_emitted_total",
			"Case evidence records (matches of the account entries of scope: user demands) written to the evidence topic and acknowledged, by demand id.", "demand"),
		matches: counterVec("flagstream_matches_total",
			"List entries matched, by demand id and match kind (hashtag, mention, author, author_id, phrase, domain).", "demand", "kind"),
		shadow: counterVec("flagstream_shadow_total",
			"Review tasks of shadow-mode demands written to the shadow topic (never to reviewers), by demand id; a task naming several counts for each.", "demand"),
		diverted: counterVec("flagstream_demand_diverted_total",
			"Review tasks of demands whose circuit breaker had tripped, written to the shadow topic marked tripped instead of to reviewers, by demand id.", "demand"),
		exemptions: counterVec("flagstream_exemptions_applied_total",
			"Review tasks escalated because their author is exempt (an exemption file), by exemption id and demand id.", "exemption", "demand"),
		processDuration: histogram("flagstream_process_duration_seconds",
			"Time to decode, match and build the tasks of one record; one record in 64 is timed.", prometheus.ExponentialBuckets(1e-6, 2.5, 14)),
		endToEnd: histogram("flagstream_end_to_end_lag_seconds",
			"Time from a flagged tweet's Kafka timestamp to its review task being acknowledged.", prometheus.ExponentialBuckets(0.001, 2.5, 16)),
		batches: counter("flagstream_batches_committed_total", "Batches of records written and committed."),
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
	tasks := 0
	var evidence []uint32 // by demand index
	for i := range b.Outputs {
		o := &b.Outputs[i]
		if o.Dest != ToEvidence {
			tasks++
			if ts := b.Records[o.Record].Time; !ts.IsZero() {
				m.endToEnd.Observe(now.Sub(ts).Seconds())
			}
			continue
		}
		if evidence == nil {
			evidence = make([]uint32, len(b.Stats.Snapshot.Demands()))
		}
		evidence[o.Demand]++
	}
	m.tasks.Add(float64(tasks))
	for _, r := range b.Rejects {
		m.rejected.WithLabelValues(string(r.Reason)).Inc()
	}
	for _, d := range b.Stats.Durations {
		m.processDuration.Observe(d)
	}
	if s := b.Stats.Snapshot; s != nil {
		m.governanceSeries(s)
		demands := s.Demands()
		byDemand := func(c *prometheus.CounterVec, counts []uint32) {
			for d, n := range counts {
				if n > 0 {
					c.WithLabelValues(demands[d].ID).Add(float64(n))
				}
			}
		}
		byDemand(m.evidence, evidence)
		byDemand(m.shadow, b.Stats.Shadow)
		byDemand(m.diverted, b.Stats.Diverted)
		if nd := len(demands); nd > 0 {
			exemptions := s.Exemptions()
			for i, n := range b.Stats.Exempt {
				if n > 0 {
					m.exemptions.WithLabelValues(exemptions[i/nd].ID, demands[i%nd].ID).Add(float64(n))
				}
			}
		}
		kinds := matchers.HitKinds()
		for i, n := range b.Stats.Matches {
			if n > 0 {
				m.matches.WithLabelValues(demands[i/NumHitKinds].ID, kinds[i%NumHitKinds].String()).Add(float64(n))
			}
		}
	}
}

// governanceSeries makes the governance counters' series of a snapshot's
// demands exist at 0 (shadow and diverted for every demand, exemptions for
// each demand an exemption applies to), so that dashboards and alerts see
// them before the first such task. Bounded: by demands and exemptions.
func (m *Metrics) governanceSeries(s *matchers.Snapshot) {
	if s == m.seen {
		return
	}
	m.seen = s
	for _, d := range s.Demands() {
		m.shadow.WithLabelValues(d.ID)
		m.diverted.WithLabelValues(d.ID)
	}
	for _, e := range s.Exemptions() {
		for _, d := range s.Demands() {
			if e.Applies(d.ID) {
				m.exemptions.WithLabelValues(e.ID, d.ID)
			}
		}
	}
}
