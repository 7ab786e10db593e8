package lists

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"flagstream/matchers"
)

// Metrics are the lists' Prometheus metrics, set by the Coordinator at
// every load. Methods do nothing on a nil *Metrics.
type Metrics struct {
	reloads     *prometheus.CounterVec
	lastOK      prometheus.Gauge
	lastSuccess prometheus.Gauge
	entries     *prometheus.GaugeVec
	demands     *prometheus.GaugeVec
	version     *prometheus.GaugeVec
	bytes       prometheus.Gauge
}

// NewMetrics registers the lists' metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		reloads: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagstream_lists_reloads_total",
			Help: "Lists loads and reloads, by result; a failed one keeps the previous lists.",
		}, []string{"result"}),
		lastOK: f.NewGauge(prometheus.GaugeOpts{
			Name: "flagstream_lists_last_reload_successful",
			Help: "1 if the last lists load or reload succeeded, 0 if it failed (the previous lists stay active).",
		}),
		lastSuccess: f.NewGauge(prometheus.GaugeOpts{
			Name: "flagstream_lists_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful lists load.",
		}),
		entries: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagstream_lists_entries",
			Help: "Active list entries, by demand id and entry kind (handle, user_id, hashtag, phrase, domain).",
		}, []string{"demand", "kind"}),
		demands: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagstream_lists_demands",
			Help: "Demands in the lists, by state (active, pending, expired, rescinded).",
		}, []string{"state"}),
		version: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagstream_lists_version_info",
			Help: "The current lists version (always 1; the version is the label).",
		}, []string{"version"}),
		bytes: f.NewGauge(prometheus.GaugeOpts{
			Name: "flagstream_lists_snapshot_bytes",
			Help: "Memory of the compiled lookup sets of the current lists.",
		}),
	}
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	return m
}

// reloadFailed records a failed load: the previous lists stay.
func (m *Metrics) reloadFailed() {
	if m == nil {
		return
	}
	m.reloads.WithLabelValues("failure").Inc()
	m.lastOK.Set(0)
}

// loaded records that s became the current snapshot at now.
func (m *Metrics) loaded(s *matchers.Snapshot, now time.Time) {
	if m == nil {
		return
	}
	m.reloads.WithLabelValues("success").Inc()
	m.lastOK.Set(1)
	m.lastSuccess.Set(float64(now.UnixNano()) / 1e9)
	m.entries.Reset()
	m.demands.Reset()
	for _, state := range matchers.States() {
		m.demands.WithLabelValues(state.String())
	}
	for i, d := range s.Demands() {
		m.demands.WithLabelValues(s.State(i).String()).Inc()
		if !s.Active(i) {
			continue
		}
		counts := s.Counts(i)
		for _, k := range matchers.EntryKinds() {
			m.entries.WithLabelValues(d.ID, k.String()).Set(float64(counts[k]))
		}
	}
	m.version.Reset()
	m.version.WithLabelValues(s.Version()).Set(1)
	m.bytes.Set(float64(s.Bytes()))
}
