package lists

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"flagstream/matchers"
)

// Clock is the time source of a Reloader; tests use a fake one.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RealClock is the wall clock.
var RealClock Clock = realClock{}

// Reloader keeps the current snapshot of a lists directory. Every reload
// parses and validates all files, compiles a new snapshot and swaps it in
// atomically; if anything is wrong the last good snapshot stays, and the
// failure is logged and counted. Between file changes, a new view of the
// snapshot is swapped in whenever a demand's received or expires time
// comes, so demands start and stop on time without a file change.
//
// Snapshot is safe to call from any goroutine; Reload and Advance serialize
// with each other.
type Reloader struct {
	dir     string
	clock   Clock
	log     *slog.Logger
	metrics *Metrics

	current atomic.Pointer[matchers.Snapshot]

	mu     sync.Mutex // serializes reloads; guards the fields below
	files  []string   // entry files the last good load read
	loaded fileSet    // the files' state when loaded
	failed fileSet    // their state at the last failed load
}

// NewReloader returns a reloader of dir; it holds no snapshot until Load
// succeeds. metrics may be nil.
func NewReloader(dir string, clock Clock, log *slog.Logger, metrics *Metrics) *Reloader {
	if clock == nil {
		clock = RealClock
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reloader{dir: dir, clock: clock, log: log, metrics: metrics}
}

// Snapshot returns the current snapshot, or nil before the first
// successful load.
func (r *Reloader) Snapshot() *matchers.Snapshot { return r.current.Load() }

// Reload reads the directory again and swaps in the new snapshot. It
// returns the new snapshot, or an error naming every broken file and line
// while the previous snapshot stays current.
func (r *Reloader) Reload() (*matchers.Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked()
}

func (r *Reloader) reloadLocked() (*matchers.Snapshot, error) {
	start := time.Now()
	before := scanFiles(r.dir, r.files)
	demands, warnings, err := Parse(r.dir)
	var s *matchers.Snapshot
	var more []matchers.Warning
	if err == nil {
		s, more, err = matchers.Compile(demands, r.clock.Now())
	}
	for _, w := range append(warnings, more...) {
		r.log.Warn("lists: " + w.Error())
	}
	if err != nil {
		r.failed = before
		r.metrics.reloaded(false, nil, r.clock.Now())
		r.log.Error("lists reload failed; keeping the previous lists", "dir", r.dir, "err", err,
			"lists_version", versionOf(r.current.Load()))
		return nil, err
	}
	r.files = entryFiles(r.dir, demands)
	r.loaded = scanFiles(r.dir, r.files)
	r.failed = nil
	prev := r.current.Swap(s)
	r.metrics.reloaded(true, s, r.clock.Now())
	r.log.Info("lists loaded", "dir", r.dir, "summary", s.Summary(), "lists_version", s.Version(),
		"previous_version", versionOf(prev), "took", time.Since(start).Round(time.Millisecond))
	return s, nil
}

// Advance swaps in the view of the current snapshot at the clock's time,
// so that demands that started or expired since take effect. It needs no
// file and no recompilation.
func (r *Reloader) Advance() *matchers.Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.current.Load()
	if prev == nil {
		return nil
	}
	s := prev.At(r.clock.Now())
	r.current.Store(s)
	r.metrics.reloaded(true, s, r.clock.Now())
	if prev.Version() != s.Version() {
		r.log.Info("lists: demands started or expired", "summary", s.Summary(),
			"lists_version", s.Version(), "previous_version", prev.Version())
	}
	return s
}

func versionOf(s *matchers.Snapshot) string {
	if s == nil {
		return ""
	}
	return s.Version()
}

// Changed reports whether the files differ from those of the last good
// load and from those of the last failed one (so a broken change is not
// retried until it changes again).
func (r *Reloader) Changed() bool {
	r.mu.Lock()
	files := r.files
	loaded, failed := r.loaded, r.failed
	r.mu.Unlock()
	now := scanFiles(r.dir, files)
	if now.equal(loaded) {
		return false
	}
	return failed == nil || !now.equal(failed)
}

// Watch reloads until stop is closed: when reloadNow receives (SIGHUP),
// when the files change and then stay unchanged for one interval (if poll
// is true), and when a demand's received or expires time comes.
func (r *Reloader) Watch(stop <-chan struct{}, reloadNow <-chan struct{}, poll bool, interval time.Duration) {
	var pending fileSet
	for {
		var tick <-chan time.Time
		if poll {
			tick = r.clock.After(interval)
		}
		var change <-chan time.Time
		if s := r.Snapshot(); s != nil && !s.NextChange().IsZero() {
			change = r.clock.After(max(s.NextChange().Sub(r.clock.Now()), 0))
		}
		select {
		case <-stop:
			return
		case <-reloadNow:
			pending = nil
			_, _ = r.Reload()
		case <-change:
			r.Advance()
		case <-tick:
			if !r.Changed() {
				pending = nil
				continue
			}
			r.mu.Lock()
			files := r.files
			r.mu.Unlock()
			now := scanFiles(r.dir, files)
			if pending != nil && now.equal(pending) {
				pending = nil
				_, _ = r.Reload()
				continue
			}
			pending = now // debounce: reload once the files stop changing
		}
	}
}

// fileSet is the state of a lists directory's files: name, size, mtime
// and a hash of the content of small files.
type fileSet []fileState

type fileState struct {
	name    string
	size    int64
	modTime time.Time
	sum     [32]byte
}

func (a fileSet) equal(b fileSet) bool {
	return a != nil && b != nil && slices.Equal(a, b)
}

// scanFiles records the state of every demand file in dir and of the entry
// files named.
func scanFiles(dir string, entryFiles []string) fileSet {
	names, err := DemandFiles(os.DirFS(dir))
	if err != nil {
		return fileSet{{name: "error: " + err.Error()}}
	}
	var set fileSet
	for _, n := range names {
		set = append(set, stat(filepath.Join(dir, n)))
	}
	for _, f := range entryFiles {
		set = append(set, stat(f))
	}
	slices.SortFunc(set, func(a, b fileState) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return set
}

func stat(path string) fileState {
	st := fileState{name: path}
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			st.size = -1
		}
		return st
	}
	st.size, st.modTime = info.Size(), info.ModTime()
	// Editors can rewrite a file within one mtime tick; the content of
	// small files settles it.
	if info.Size() <= 1<<20 {
		if data, err := os.ReadFile(path); err == nil {
			st.sum = sha256.Sum256(data)
		}
	}
	return st
}

// entryFiles lists the entry files the demands read, as paths.
func entryFiles(dir string, demands []matchers.Demand) []string {
	var out []string
	for _, d := range demands {
		for _, f := range d.Entries.Files() {
			if f != d.File && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// Metrics are the lists' Prometheus metrics.
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
	m := &Metrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flagstream_lists_reloads_total",
			Help: "Lists loads and reloads, by result; a failed one keeps the previous lists.",
		}, []string{"result"}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "flagstream_lists_last_reload_successful",
			Help: "1 if the last lists load or reload succeeded, 0 if it failed (the previous lists stay active).",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "flagstream_lists_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful lists load.",
		}),
		entries: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagstream_lists_entries",
			Help: "Active list entries, by demand id and entry kind (handle, user_id, hashtag, phrase, domain).",
		}, []string{"demand", "kind"}),
		demands: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagstream_lists_demands",
			Help: "Demands in the lists, by state (active, pending, expired, rescinded).",
		}, []string{"state"}),
		version: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagstream_lists_version_info",
			Help: "The current lists version (always 1; the version is the label).",
		}, []string{"version"}),
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "flagstream_lists_snapshot_bytes",
			Help: "Memory of the compiled lookup sets of the current lists.",
		}),
	}
	reg.MustRegister(m.reloads, m.lastOK, m.lastSuccess, m.entries, m.demands, m.version, m.bytes)
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	return m
}

func (m *Metrics) reloaded(ok bool, s *matchers.Snapshot, now time.Time) {
	if m == nil {
		return
	}
	if !ok {
		m.reloads.WithLabelValues("failure").Inc()
		m.lastOK.Set(0)
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

// String describes the reloader for logs.
func (r *Reloader) String() string { return fmt.Sprintf("lists reloader of %s", r.dir) }
