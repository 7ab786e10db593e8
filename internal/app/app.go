// Package app is flagstream's one composition root: it assembles lists,
// sources, sinks, the pipeline, metrics and the admin server into the
// programs the command line runs. Run is flagstream run (Kafka in, review
// tasks out, live lists, metrics), with one owner for every goroutine and
// a fixed shutdown order; Scan is flagstream scan (NDJSON in and out).
// Both build on the same pieces (LoadLists, Engine, RegisterMetrics, the
// Kafka adapters' constructors), which a further entry point such as a
// retro-hunt reuses. The command line only parses flags and calls app;
// tests and the demo call it directly.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"flagstream/config"
	"flagstream/internal/admin"
	"flagstream/internal/kafkaio"
	"flagstream/internal/lists"
	"flagstream/internal/retro"
	"flagstream/matchers"
	"flagstream/pipeline"
	"flagstream/pipeline/breaker"
)

// ErrLists marks a failure to load the lists at start-up: the demand files
// are broken (exit status 2).
var ErrLists = errors.New("lists")

// Options are what Run takes beside the configuration.
type Options struct {
	Logger *slog.Logger
	// Reload receives when the lists should be reloaded (SIGHUP).
	Reload <-chan struct{}
	// Registry collects the metrics; default a new one with the Go and
	// process collectors.
	Registry *prometheus.Registry
	// Started, if set, is called once everything is up, with the admin
	// server's address ("" when there is none).
	Started func(adminAddr string)
	// Version is the program's version for flagstream_build_info.
	Version, Revision string
	// BeforeRecord is passed to the pipeline: fault-injection tests use it.
	BeforeRecord func(*pipeline.Record)
}

// Run runs the pipeline until ctx is done, then shuts down in order: not
// ready, stop fetching, drain and write in-flight batches, commit, leave
// the group, close the producer, stop the admin server.
func Run(ctx context.Context, cfg config.Config, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	metrics := RegisterMetrics(reg, opts.Version, opts.Revision)

	// The coordinator holds the current lists; the watcher decides when
	// they are reloaded, and every reload goes through it.
	coordinator := lists.NewCoordinator(cfg.Lists.Dir, log, metrics.Lists)
	// The demands' circuit breakers follow the lists: a demand whose file
	// changes gets a closed one.
	fuse := breaker.New(cfg.Limits.DemandTasksPerMinute, metrics.Breaker)
	coordinator.Subscribe(fuse.Update)
	// With lists.retro_window, a reload that adds entries queues a
	// retro-hunt job for them (auto, set up with the Kafka clients below).
	// The first load comes before auto: it is kept for auto, which needs
	// the lists to recover the jobs that instances before this one left
	// unfinished.
	var auto autoReloads
	if cfg.Lists.RetroWindow > 0 {
		coordinator.OnReload(auto.reloaded)
	}
	watcher := lists.NewWatcher(coordinator)
	if _, err := watcher.Reload(); err != nil {
		return fmt.Errorf("%w: %w", ErrLists, err)
	}

	for _, w := range cfg.Warnings() {
		log.Warn("config: " + w)
	}
	conn, err := kafkaio.NewConnection(cfg.Kafka)
	if err != nil {
		return fmt.Errorf("%w: %w", errConfig, err)
	}
	km := metrics.Kafka
	// An owned topic that exists with the wrong settings stops the run:
	// fatal cancels it with the cause, which Run returns.
	ctx, cancelRun := context.WithCancelCause(ctx)
	defer cancelRun(nil)
	caseSys := startCases(cfg, conn, log, metrics, fuse, func(err error) {
		log.Error("cannot run with the owned topics as they are", "err", err)
		cancelRun(fmt.Errorf("%w: %w", errConfig, err))
	})
	sink, err := newKafkaSink(conn, cfg, log, km)
	if err != nil {
		caseSys.Close()
		return fmt.Errorf("%w: %w", errConfig, err)
	}
	// The automatic retro-hunt runs beside the pipeline, through its sink,
	// over the partitions the consumer is assigned, until the pipeline has
	// stopped.
	autoCtx, stopAuto := context.WithCancel(ctx)
	defer stopAuto()
	var autoWG sync.WaitGroup
	var onAssign func([]int)
	var autoRetroHunt *retro.Auto
	if cfg.Lists.RetroWindow > 0 {
		a, store, offsets := autoRetro(cfg, conn, sink, fuse, caseSys, log, metrics.Retro)
		defer store.Close()
		defer offsets.Close()
		auto.start(a)
		autoRetroHunt, onAssign = a, a.Assigned
	}
	src, err := newConsumer(conn, cfg, log, km, onAssign)
	if err != nil {
		sink.Close()
		caseSys.Close()
		return fmt.Errorf("%w: %w", errConfig, err)
	}

	var stopping atomic.Bool
	ready := func() error {
		switch {
		case stopping.Load() || ctx.Err() != nil:
			return errors.New("shutting down")
		case coordinator.Snapshot() == nil:
			return errors.New("lists not loaded")
		case !km.Joined():
			return errors.New("consumer group not joined yet")
		}
		return caseSys.Ready()
	}
	var srv *admin.Server
	if cfg.HTTP.Listen != "" {
		srv, err = admin.Start(admin.Config{
			Listen:   cfg.HTTP.Listen,
			Gatherer: reg,
			Ready:    ready,
			Reload: func() (string, error) {
				s, err := watcher.Reload()
				if err != nil {
					return "", err
				}
				return s.Version(), nil
			},
			Demands:       func() any { return fuse.States(time.Now()) },
			ResetDemand:   func(id string) (any, bool) { return fuse.Reset(id, time.Now()) },
			Pprof:         cfg.HTTP.Pprof,
			WebConfigFile: cfg.HTTP.WebConfigFile,
			Logger:        log,
		})
		if err != nil {
			src.Close()
			sink.Close()
			caseSys.Close()
			if errors.Is(err, admin.ErrWebConfig) {
				return fmt.Errorf("%w: %w", errConfig, err)
			}
			return err
		}
	}

	// The lists watcher runs until the pipeline has stopped.
	stopWatch := make(chan struct{})
	var watchWG sync.WaitGroup
	watchWG.Add(1)
	go func() {
		defer watchWG.Done()
		reloadNow := opts.Reload
		if cfg.Lists.Reload == "off" {
			reloadNow = nil
		}
		watcher.Run(stopWatch, reloadNow, cfg.Lists.Reload == "watch", cfg.Lists.Interval)
	}()

	adminAddr := ""
	if srv != nil {
		adminAddr = srv.Addr()
	}
	log.Info("flagstream running", "brokers", cfg.Kafka.Brokers, "input", cfg.Input.Topic, "group", cfg.Input.Group,
		"output", cfg.Output.Topic, "dead_letters", cfg.Output.DeadLetterTopic, "admin", adminAddr,
		"lists_version", coordinator.Snapshot().Version(), "workers", EngineOf(cfg).workers())
	if opts.Started != nil {
		opts.Started(adminAddr)
	}

	if a := autoRetroHunt; a != nil {
		autoWG.Add(1)
		go func() { // owned by Run; joined once the pipeline has stopped, before the sink closes
			defer autoWG.Done()
			a.Run(autoCtx)
		}()
		log.Info("retro-hunt of reloads on", "window", cfg.Lists.RetroWindow, "rate", cfg.Lists.RetroRate,
			"progress_topic", cfg.Retro.ProgressTopic)
	}
	pc := EngineOf(cfg).Pipeline(src, sink, coordinator.Snapshot, metrics.Pipeline)
	pc.BeforeRecord = opts.BeforeRecord
	pc.Breaker = fuse
	// With cases on, account matches of scope: user demands are evidence
	// for the case processor; the matchers follow the bindings table.
	pc.Cases = CasesOn(cfg)
	pc.Bindings = caseSys.bindings(coordinator.Snapshot)
	// The pipeline starts once the owned topics are there (the consumer
	// has joined its group and fetches meanwhile, up to its queue).
	var runErr error
	select {
	case <-caseSys.TopicsReady():
		runErr = pipeline.Run(ctx, pc)
	case <-ctx.Done():
	}
	stopping.Store(true)
	stopAuto()
	autoWG.Wait()
	log.Info("pipeline stopped; committing and leaving the group", "err", runErr)

	// Shutdown order: the consumer flushes its commits and leaves the
	// group, the producer flushes, the case processor commits what it
	// applied and leaves its group, then the watcher and HTTP stop.
	errs := []error{runErr}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		errs = append(errs, cause)
	}
	if err := src.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := sink.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := caseSys.Close(); err != nil {
		errs = append(errs, err)
	}
	close(stopWatch)
	watchWG.Wait()
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("admin server: %w", err))
		}
	}
	err = errors.Join(errs...)
	if err == nil {
		log.Info("flagstream stopped cleanly")
	}
	return err
}

// errConfig marks configuration the Kafka client refused.
var errConfig = errors.New("config")

// IsUsage reports whether err is a problem with configuration or lists
// rather than a runtime failure.
func IsUsage(err error) bool {
	var u *usageError
	return errors.Is(err, ErrLists) || errors.Is(err, errConfig) || errors.As(err, &u)
}

// usageError marks an error of the command's arguments, such as a retro
// window, without changing its message.
type usageError struct{ error }

func (e *usageError) Unwrap() error { return e.error }

func usage(err error) error { return &usageError{err} }

// ReserveProcs raises GOMAXPROCS to twice the CPUs the process may use,
// unless the GOMAXPROCS environment variable (read with getenv) sets it,
// and returns that number of CPUs, the number of pipeline workers to run.
//
// With one P per core and a worker on each, a list compiling in the
// background, the Kafka client or the garbage collector can only run by
// taking a worker's P, and Go's scheduler may keep that worker waiting for
// over 100 ms (BenchmarkReloadStall: 95-146 ms with 2 Ps on 2 cores).
// With spare Ps the operating system shares the cores in small slices
// instead (18-42 ms with 4 Ps).
//
// It may be called more than once (the tests run many commands in one
// process): the CPUs are those GOMAXPROCS said when the process started,
// so the second call sets what the first did instead of doubling it again.
func ReserveProcs(getenv func(string) string) (cpus int) {
	cpus = startProcs
	if getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2 * cpus)
	}
	return cpus
}

// startProcs is GOMAXPROCS as the process started: the CPUs it may use,
// or what the GOMAXPROCS environment variable set.
var startProcs = runtime.GOMAXPROCS(0)

// autoReloads passes the coordinator's reloads to the automatic
// retro-hunt once it has started, and the first load, which comes before
// it, when it starts.
type autoReloads struct {
	mu    sync.Mutex
	auto  *retro.Auto
	first *matchers.Lists // the first load's lists, until auto starts
	snap  *matchers.Snapshot
}

func (r *autoReloads) reloaded(prev, cur matchers.Lists, first bool, s *matchers.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.auto == nil {
		r.first, r.snap = &cur, s
		return
	}
	r.auto.Reloaded(prev, cur, first, s)
}

func (r *autoReloads) start(a *retro.Auto) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.auto = a
	if r.first != nil {
		a.Reloaded(matchers.Lists{}, *r.first, true, r.snap)
		r.first, r.snap = nil, nil
	}
}
