package lists

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"flagstream/matchers"
)

// Metrics are the lists' Prometheus metrics, set by the Coordinator at
// every load.
type Metrics struct {
	reloads     *prometheus.CounterVec
	lastOK      prometheus.Gauge
	lastSuccess prometheus.Gauge
	entries     *prometheus.GaugeVec
	demands     *prometheus.GaugeVec
	version     *prometheus.GaugeVec
	bytes       prometheus.Gauge
}

// NewMetrics registers the lists' metrics with reg; with a nil reg they
// are registered nowhere.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	gauge := func(name, help string) prometheus.Gauge {
		return f.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	gaugeVec := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return f.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	m := &Metrics{
		reloads: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagstream_lists_reloads_total",
			Help: "Lists loads and reloads, by result; a failed one keeps the previous lists.",
		}, []string{"result"}),
		lastOK: gauge("flagstream_lists_last_reload_successful",
			"1 if the last lists load or reload succeeded, 0 if it failed (the previous lists stay active)."),
		lastSuccess: gauge("flagstream_lists_last_reload_success_timestamp_seconds", "Unix time of the last successful lists load."),
		entries: gaugeVec("flagstream_lists_entries",
			"Active list entries, by demand id and entry kind (handle, user_id, hashtag, phrase, domain).", "demand", "kind"),
		demands: gaugeVec("flagstream_lists_demands", "Demands in the lists, by state (active, pending, expired, rescinded).", "state"),
		version: gaugeVec("flagstream_lists_version_info", "The current lists version (always 1; the version is the label).", "version"),
		bytes:   gauge("flagstream_lists_snapshot_bytes", "Memory of the compiled lookup sets of the current lists."),
	}
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	return m
}

// reloadFailed records a failed load: the previous lists stay.
func (m *Metrics) reloadFailed() {
	m.reloads.WithLabelValues("failure").Inc()
	m.lastOK.Set(0)
}

// loaded records a successful load at now, whose snapshot s became
// current.
func (m *Metrics) loaded(s *matchers.Snapshot, now time.Time) {
	m.reloads.WithLabelValues("success").Inc()
	m.lastOK.Set(1)
	m.lastSuccess.Set(float64(now.UnixNano()) / 1e9)
	m.current(s)
}

// current describes s, the current snapshot: its demands by state, active
// entries, version and size. A view of the same lists at a later time
// (Coordinator.Advance) changes these and nothing of the loads.
func (m *Metrics) current(s *matchers.Snapshot) {
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
