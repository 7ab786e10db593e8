package app

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"flagstream/internal/accounts"
	"flagstream/internal/caseproc"
	"flagstream/internal/kafkaio"
	"flagstream/internal/lists"
	"flagstream/internal/retro"
	"flagstream/pipeline"
	"flagstream/pipeline/breaker"
)

// Metrics are the metrics of flagstream run, beside the Go and process
// collectors: the pipeline's stages, the Kafka adapters', the lists' and
// flagstream_build_info, the bindings table's, the case processor's and
// the retro-hunt's.
type Metrics struct {
	Pipeline *pipeline.Metrics
	Kafka    *kafkaio.Metrics
	Lists    *lists.Metrics
	Accounts *accounts.Metrics
	Cases    *caseproc.Metrics
	Retro    *retro.Metrics
	Breaker  *breaker.Metrics
}

// RegisterMetrics registers every metric of flagstream run with reg; Run
// calls it, and the metrics lint test checks exactly this set.
func RegisterMetrics(reg prometheus.Registerer, version, revision string) Metrics {
	promauto.With(reg).NewGaugeVec(prometheus.GaugeOpts{
		Name: "flagstream_build_info",
		Help: "Build information; always 1.",
	}, []string{"version", "revision", "goversion"}).WithLabelValues(version, revision, runtime.Version()).Set(1)
	return Metrics{
		Pipeline: pipeline.NewMetrics(reg),
		Kafka:    kafkaio.NewMetrics(reg),
		Lists:    lists.NewMetrics(reg),
		Accounts: accounts.NewMetrics(reg),
		Cases:    caseproc.NewMetrics(reg),
		Retro:    retro.NewMetrics(reg),
		Breaker:  breaker.NewMetrics(reg),
	}
}
