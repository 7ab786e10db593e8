package accounts

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"flagstream/internal/kafkaio"
	"flagstream/internal/retry"
	"flagstream/pipeline/cases"
)

// Metrics are the bindings table's and follower's metrics.
type Metrics struct {
	bound    prometheus.Gauge
	read     prometheus.Counter
	invalid  prometheus.Counter
	caughtUp prometheus.Gauge
}

// NewMetrics registers the metrics with reg; with a nil reg they are
// registered nowhere.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		bound: f.NewGauge(prometheus.GaugeOpts{Name: "flagstream_bindings",
			Help: "Handles bound to a user id in this instance's bindings table (from the bindings topic and pinned in the lists)."}),
		read: f.NewCounter(prometheus.CounterOpts{Name: "flagstream_bindings_records_read_total",
			Help: "Records of the bindings topic read by this instance."}),
		invalid: f.NewCounter(prometheus.CounterOpts{Name: "flagstream_bindings_records_invalid_total",
			Help: "Records of the bindings topic that are not valid bindings; they are skipped."}),
		caughtUp: f.NewGauge(prometheus.GaugeOpts{Name: "flagstream_bindings_caught_up",
			Help: "1 once this instance has read the bindings topic up to the end offsets it found at start."}),
	}
}

// FollowerConfig configures a Follower.
type FollowerConfig struct {
	Conn  kafkaio.Connection
	Topic string
	Table *Table
	// MaxWait is how long a fetch waits for new bindings (default 500ms):
	// about how long a binding takes to reach the matchers.
	MaxWait time.Duration
	Logger  *slog.Logger
	Metrics *Metrics // nil: unregistered ones
}

// Follower reads the whole bindings topic into a Table, from the earliest
// offset of every partition, and then follows it. It is caught up once it
// has read the end offsets found when it started: an instance turns ready
// only then, so that its matchers know every binding made before.
type Follower struct {
	cfg      FollowerConfig
	caught   atomic.Bool
	caughtCh chan struct{}
	once     sync.Once
}

// NewFollower returns a follower; Run starts it.
func NewFollower(cfg FollowerConfig) *Follower {
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Follower{cfg: cfg, caughtCh: make(chan struct{})}
}

// CaughtUp reports whether the follower has read the topic up to the end
// offsets it found at start.
func (f *Follower) CaughtUp() bool { return f.caught.Load() }

// Done returns a channel closed once the follower is caught up.
func (f *Follower) Done() <-chan struct{} { return f.caughtCh }

// Run follows the topic until ctx is done, then returns nil. Errors (the
// cluster away, the topic missing) are logged and retried.
func (f *Follower) Run(ctx context.Context) error {
	start := time.Now()
	backoff := retry.Backoff{Min: 200 * time.Millisecond, Max: 5 * time.Second}
	var buf []cases.Binding
	for {
		err := kafkaio.ReadPartitions(ctx, f.cfg.Conn, kafkaio.ReadConfig{
			Topic: f.cfg.Topic, Follow: true, MaxWait: f.cfg.MaxWait, Logger: f.cfg.Logger,
			CaughtUp: func() {
				f.once.Do(func() {
					f.caught.Store(true)
					f.cfg.Metrics.caughtUp.Set(1)
					close(f.caughtCh)
					f.cfg.Logger.Info("bindings table caught up", "topic", f.cfg.Topic, "bindings", f.cfg.Table.Len(),
						"took", time.Since(start).Round(time.Millisecond))
				})
			},
		}, func(msgs []kafkaio.Message) error {
			buf = f.apply(msgs, buf[:0])
			return nil
		})
		if ctx.Err() != nil {
			return nil
		}
		f.cfg.Logger.Warn("bindings follower: reading the bindings topic failed; retrying", "topic", f.cfg.Topic, "err", err)
		if backoff.Wait(ctx) != nil {
			return nil
		}
	}
}

// apply decodes msgs into the table; buf is scratch space.
func (f *Follower) apply(msgs []kafkaio.Message, buf []cases.Binding) []cases.Binding {
	m := f.cfg.Metrics
	m.read.Add(float64(len(msgs)))
	flush := func() {
		if len(buf) > 0 {
			f.cfg.Table.Apply(buf)
			buf = buf[:0]
		}
	}
	for _, msg := range msgs {
		if msg.Value == nil {
			// A tombstone: the handle's binding was deleted.
			flush()
			f.cfg.Table.Remove(string(msg.Key))
			continue
		}
		b, err := cases.DecodeBinding(msg.Key, msg.Value)
		if err != nil {
			m.invalid.Inc()
			f.cfg.Logger.Warn("bindings follower: skipping an invalid binding", "topic", f.cfg.Topic,
				"partition", msg.Partition, "offset", msg.Offset, "err", err)
			continue
		}
		buf = append(buf, b)
	}
	flush()
	m.bound.Set(float64(f.cfg.Table.Len()))
	return buf
}
