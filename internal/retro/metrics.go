package retro

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the retro-hunt's metrics in run (lists.retro_window). They
// are updated as a job's batches are written and as jobs start and end.
type Metrics struct {
	records   prometheus.Counter
	tasks     prometheus.Counter
	remaining prometheus.Gauge
	running   prometheus.Gauge
	jobs      *prometheus.CounterVec
	queued    prometheus.Gauge
}

// The results of a job on an instance, the values of
// flagstream_retro_jobs_total's result label.
const (
	ResultDone    = "done"    // every partition it was assigned is read
	ResultStopped = "stopped" // stopped by a shutdown or a rebalance; resumed from its progress
	ResultFailed  = "failed"  // failed; retried
)

// NewMetrics registers the metrics with reg; with a nil reg they are
// registered nowhere.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		records: f.NewCounter(prometheus.CounterOpts{
			Name: "flagstream_retro_records_total",
			Help: "Records of retained input read and written by retro-hunt jobs on this instance.",
		}),
		tasks: f.NewCounter(prometheus.CounterOpts{
			Name: "flagstream_retro_tasks_total",
			Help: "Review tasks written by retro-hunt jobs on this instance (also counted in flagstream_review_tasks_emitted_total).",
		}),
		remaining: f.NewGauge(prometheus.GaugeOpts{
			Name: "flagstream_retro_remaining_records",
			Help: "Offsets the running retro-hunt job of this instance has left to read on the partitions it is assigned; 0 when none runs.",
		}),
		running: f.NewGauge(prometheus.GaugeOpts{
			Name: "flagstream_retro_jobs_running",
			Help: "1 while a retro-hunt job runs on this instance (one at a time).",
		}),
		jobs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagstream_retro_jobs_total",
			Help: "Retro-hunt job runs on this instance by result: done, stopped (shutdown or rebalance; resumed later) or failed (retried).",
		}, []string{"result"}),
		queued: f.NewGauge(prometheus.GaugeOpts{
			Name: "flagstream_retro_jobs_queued",
			Help: "Retro-hunt jobs of lists reloads waiting on this instance for the running one to finish.",
		}),
	}
	for _, r := range []string{ResultDone, ResultStopped, ResultFailed} {
		m.jobs.WithLabelValues(r)
	}
	return m
}

// Written counts a written batch of a job: its records and tasks, and the
// offsets the job has left.
func (m *Metrics) Written(records, tasks int, remaining int64) {
	m.records.Add(float64(records))
	m.tasks.Add(float64(tasks))
	m.remaining.Set(float64(remaining))
}

func (m *Metrics) started(remaining int64) {
	m.running.Set(1)
	m.remaining.Set(float64(remaining))
}

func (m *Metrics) ended(result string) {
	m.running.Set(0)
	m.remaining.Set(0)
	m.jobs.WithLabelValues(result).Inc()
}
