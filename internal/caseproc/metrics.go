package caseproc

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"flagstream/pipeline/cases"
)

// Metrics are the case processor's and the decisions forwarder's metrics,
// updated where things happen (an input applied, a batch written, a
// restore done). Labels are bounded: demand ids, event kinds, verdicts,
// outcomes and reasons, never a case id, handle or tweet id.
type Metrics struct {
	events      *prometheus.CounterVec // demand, event
	decisions   *prometheus.CounterVec // demand, decision
	inputs      *prometheus.CounterVec // demand, outcome
	refused     *prometheus.CounterVec // reason
	learned     *prometheus.CounterVec // source
	reassigned  *prometheus.CounterVec // demand
	restoreTime prometheus.Histogram
	restoring   prometheus.Gauge
	restored    prometheus.Counter
	assigned    prometheus.Gauge
	held        prometheus.Gauge
	lagSeconds  prometheus.Histogram
	lagRecords  prometheus.Gauge
	errors      prometheus.Counter
	forwarded   *prometheus.CounterVec // result
}

// NewMetrics registers the metrics with reg; with a nil reg they are
// registered nowhere.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		events: f.NewCounterVec(prometheus.CounterOpts{Name: "flagstream_case_events_total",
			Help: "Case events emitted (opened, updated, reassigned, decided, reopened), by demand."}, []string{"demand", "event"}),
		decisions: f.NewCounterVec(prometheus.CounterOpts{Name: "flagstream_case_decisions_total",
			Help: "Reviewers' decisions applied to cases, by demand and decision (withhold, no_action, terms_of_service, escalate, reopen)."},
			[]string{"demand", "decision"}),
		inputs: f.NewCounterVec(prometheus.CounterOpts{Name: "flagstream_case_inputs_total",
			Help: "Case inputs (evidence and decisions) applied, by demand and outcome (counted, reassigned, other_account, decided, reopened, unchanged)."},
			[]string{"demand", "outcome"}),
		refused: f.NewCounterVec(prometheus.CounterOpts{Name: "flagstream_case_inputs_refused_total",
			Help: "Case inputs refused and sent to the dead-letter topic, by reason (invalid_case_input, unknown_case)."}, []string{"reason"}),
		learned: f.NewCounterVec(prometheus.CounterOpts{Name: "flagstream_bindings_learned_total",
			Help: "Handle bindings published to the bindings topic by this instance's case processor, by source (learned, pinned)."},
			[]string{"source"}),
		reassigned: f.NewCounterVec(prometheus.CounterOpts{Name: "flagstream_bindings_reassigned_total",
			Help: "Posts under a listed handle by another account than the one bound to it (not counted as the listed account's), by demand."},
			[]string{"demand"}),
		restoreTime: f.NewHistogram(prometheus.HistogramOpts{Name: "flagstream_case_state_restore_seconds",
			Help:    "Time to restore the case states of one assigned partition from the state topic.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}}),
		restoring: f.NewGauge(prometheus.GaugeOpts{Name: "flagstream_case_state_restoring_partitions",
			Help: "Assigned partitions whose case states are being restored; evidence waits meanwhile."}),
		restored: f.NewCounter(prometheus.CounterOpts{Name: "flagstream_case_state_records_restored_total",
			Help: "Records of the case state topic read while restoring."}),
		assigned: f.NewGauge(prometheus.GaugeOpts{Name: "flagstream_case_partitions_assigned",
			Help: "Partitions of the case evidence topic assigned to this instance."}),
		held: f.NewGauge(prometheus.GaugeOpts{Name: "flagstream_cases",
			Help: "Cases held by this instance (those of its assigned partitions)."}),
		lagSeconds: f.NewHistogram(prometheus.HistogramOpts{Name: "flagstream_case_evidence_lag_seconds",
			Help:    "Time from a post matched to its evidence applied to the case.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}}),
		lagRecords: f.NewGauge(prometheus.GaugeOpts{Name: "flagstream_case_evidence_lag_records",
			Help: "Records of the case evidence topic not yet applied, summed over this instance's assigned partitions."}),
		errors: f.NewCounter(prometheus.CounterOpts{Name: "flagstream_case_processor_errors_total",
			Help: "Errors of the case processor and decisions forwarder (fetch, commit, group); each is retried."}),
		forwarded: f.NewCounterVec(prometheus.CounterOpts{Name: "flagstream_decisions_total",
			Help: "Records of the decisions topic read, by result: forwarded (a case decision, to its case), task (a task decision, for the report), invalid (to the dead-letter topic)."},
			[]string{"result"}),
	}
	for _, r := range []cases.Reason{cases.ReasonInvalidInput, cases.ReasonUnknownCase} {
		m.refused.WithLabelValues(string(r))
	}
	for _, s := range []cases.BindingSource{cases.BindingLearned, cases.BindingPinned} {
		m.learned.WithLabelValues(string(s))
	}
	for _, r := range []string{"forwarded", "task", "invalid"} {
		m.forwarded.WithLabelValues(r)
	}
	return m
}

// applied counts what an input did to its case.
func (m *Metrics) applied(demand string, out *cases.Output, decision cases.Verdict) {
	m.inputs.WithLabelValues(demand, string(out.Outcome)).Inc()
	if out.Outcome == cases.OutcomeReassigned {
		m.reassigned.WithLabelValues(demand).Inc()
	}
	if decision != "" {
		m.decisions.WithLabelValues(demand, string(decision)).Inc()
	}
	if out.Binding != nil {
		m.learned.WithLabelValues(string(out.Binding.Source)).Inc()
	}
}

// emitted counts events written.
func (m *Metrics) emitted(events []cases.Event) {
	for i := range events {
		m.events.WithLabelValues(events[i].DemandID, string(events[i].Event)).Inc()
	}
}

func (m *Metrics) restoreDone(d time.Duration) {
	m.restoreTime.Observe(d.Seconds())
}
