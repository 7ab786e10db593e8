package lists

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"flagstream/matchers"
)

// Coordinator holds the current snapshot of a lists directory. Reload
// loads the directory and swaps the new snapshot in atomically; if
// anything is wrong the last good snapshot stays, and the failure is
// logged and counted. Advance swaps in the view of the current snapshot
// at the present time, so that demands start and stop on time without a
// file change.
//
// Snapshot is safe to call from any goroutine and never blocks; Reload and
// Advance serialize with each other.
type Coordinator struct {
	loader  Loader
	log     *slog.Logger
	metrics *Metrics

	current atomic.Pointer[matchers.Snapshot]

	mu          sync.Mutex // serializes loads; guards files and subscribers
	files       []string   // entry files the last good load read
	subscribers []func(*matchers.Snapshot)

	// onReload, when set, is called after each reload that swapped a
	// snapshot in, with the lists of the last good load before it (none,
	// and first true, at first) and of this one, which are kept for it.
	onReload func(prev, cur matchers.Lists, first bool, s *matchers.Snapshot)
	lists    matchers.Lists
	loaded   bool // lists holds a load's
}

// OnReload has fn called after every Reload that swaps a snapshot in,
// with the parsed lists before (empty, first false, for the first load)
// and after and the new snapshot, one call at a time, under the
// coordinator's lock: fn must return quickly and not call Reload or
// Advance. The coordinator keeps the last good load's parsed lists for it.
// Call OnReload before the first Reload.
func (c *Coordinator) OnReload(fn func(prev, cur matchers.Lists, first bool, s *matchers.Snapshot)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onReload = fn
}

// Subscribe has fn called with every snapshot the coordinator swaps in,
// after the swap, by Reload or Advance (one call at a time, in order), and
// at once with the current one if there is one. fn must not call the
// coordinator's Reload or Advance.
func (c *Coordinator) Subscribe(fn func(*matchers.Snapshot)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subscribers = append(c.subscribers, fn)
	if s := c.current.Load(); s != nil {
		fn(s)
	}
}

func (c *Coordinator) notify(s *matchers.Snapshot) {
	for _, fn := range c.subscribers {
		fn(s)
	}
}

// NewCoordinator returns a coordinator of the lists in dir; it holds no
// snapshot until Reload succeeds. log and metrics may be nil.
func NewCoordinator(dir string, log *slog.Logger, metrics *Metrics) *Coordinator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	return &Coordinator{loader: Loader{Dir: dir}, log: log, metrics: metrics}
}

// Dir returns the lists directory.
func (c *Coordinator) Dir() string { return c.loader.Dir }

// Snapshot returns the current snapshot, or nil before the first
// successful load.
func (c *Coordinator) Snapshot() *matchers.Snapshot { return c.current.Load() }

// EntryFiles returns the entry files that the current snapshot's demands
// read beside the demand files.
func (c *Coordinator) EntryFiles() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.files)
}

// Reload loads the directory and swaps in the new snapshot. It returns the
// new snapshot, or an error naming every broken file and line while the
// previous snapshot stays current.
func (c *Coordinator) Reload() (*matchers.Snapshot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := time.Now()
	s, lists, warnings, files, err := c.loader.LoadLists(start)
	for _, w := range warnings {
		c.log.Warn("lists: " + w.Error())
	}
	if err != nil {
		c.metrics.reloadFailed()
		c.log.Error("lists reload failed; keeping the previous lists", "dir", c.loader.Dir, "err", err,
			"lists_version", versionOf(c.current.Load()))
		return nil, err
	}
	c.files = files
	prev := c.current.Swap(s)
	c.notify(s)
	c.metrics.loaded(s, time.Now())
	c.log.Info("lists loaded", "dir", c.loader.Dir, "summary", s.Summary(), "lists_version", s.Version(),
		"previous_version", versionOf(prev), "took", time.Since(start).Round(time.Millisecond))
	if c.onReload != nil {
		c.onReload(c.lists, lists, !c.loaded, s)
		c.lists, c.loaded = lists, true
	}
	return s, nil
}

// Advance swaps in the view of the current snapshot at the present time,
// so that demands that started or expired since take effect. It needs no
// file and no recompilation. It returns the snapshot now current (nil
// before the first load).
func (c *Coordinator) Advance() *matchers.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev := c.current.Load()
	if prev == nil {
		return nil
	}
	s := prev.At(time.Now())
	c.current.Store(s)
	c.notify(s)
	// Not a load: a failed reload before stays failed in the metrics.
	c.metrics.current(s)
	if prev.Version() != s.Version() {
		c.log.Info("lists: demands started or expired", "summary", s.Summary(),
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

// String describes the coordinator for logs.
func (c *Coordinator) String() string { return fmt.Sprintf("lists coordinator of %s", c.loader.Dir) }
