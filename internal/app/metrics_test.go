package app

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// contractMetrics are the metric names DESIGN.md promises; they are never
// renamed or removed.
var contractMetrics = []string{
	"flagstream_tweets_processed_total",
	"flagstream_records_rejected_total",
	"flagstream_review_tasks_emitted_total",
	"flagstream_matches_total",
	"flagstream_process_duration_seconds",
	"flagstream_lists_entries",
	"flagstream_lists_reloads_total",
	"flagstream_lists_last_reload_success_timestamp_seconds",
	"flagstream_build_info",
	"flagstream_end_to_end_lag_seconds",
	"flagstream_kafka_consumer_lag_records",
}

// TestMetricsLint lints, with client_golang's promlint, every metric that
// flagstream run registers (RegisterMetrics is what Run calls), and checks
// that the contract's names are all among them.
func TestMetricsLint(t *testing.T) {
	reg := &recordingRegisterer{Registry: prometheus.NewPedanticRegistry()}
	RegisterMetrics(reg, "v1.2.3", "abc123")
	// A vector without a series is not gathered, so not linted: give each
	// one a series.
	for _, c := range reg.collectors {
		addSeries(t, c)
	}

	problems, err := testutil.GatherAndLint(reg.Registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
		if !strings.HasPrefix(mf.GetName(), "flagstream_") {
			t.Errorf("metric %s lacks the flagstream_ prefix", mf.GetName())
		}
		if mf.GetHelp() == "" {
			t.Errorf("metric %s has no help", mf.GetName())
		}
	}
	for _, name := range contractMetrics {
		if !have[name] {
			t.Errorf("contract metric %s is not registered", name)
		}
	}
}

// recordingRegisterer keeps every collector registered through it.
type recordingRegisterer struct {
	*prometheus.Registry
	collectors []prometheus.Collector
}

func (r *recordingRegisterer) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return r.Registry.Register(c)
}

func (r *recordingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// addSeries adds a series with placeholder label values to c if it is a
// metric vector.
func addSeries(t *testing.T, c prometheus.Collector) {
	t.Helper()
	for n := 1; n <= 8; n++ {
		lvs := make([]string, n)
		for i := range lvs {
			lvs[i] = "lint"
		}
		var err error
		switch v := c.(type) {
		case *prometheus.CounterVec:
			_, err = v.GetMetricWithLabelValues(lvs...)
		case *prometheus.GaugeVec:
			_, err = v.GetMetricWithLabelValues(lvs...)
		case *prometheus.HistogramVec:
			_, err = v.GetMetricWithLabelValues(lvs...)
		case *prometheus.SummaryVec:
			_, err = v.GetMetricWithLabelValues(lvs...)
		default:
			return
		}
		if err == nil {
			return
		}
	}
	t.Fatalf("could not add a series to %T", c)
}
