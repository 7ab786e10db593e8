package lists

import (
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"flagstream/matchers"
)

// Watcher decides when a Coordinator reloads: when asked (SIGHUP,
// POST /-/reload: Reload), when the files change and then stay unchanged
// for one poll interval, and when a demand's received or expires time
// comes (Coordinator.Advance).
//
// Every reload goes through Reload, which looks at the files just before
// loading, so the watcher knows what each load read. A poll looks at every
// file once: its size, modification time and, for files up to 1 MiB, a
// hash of its content. A change that failed to load is not retried until
// the files change again.
type Watcher struct {
	c *Coordinator

	mu      sync.Mutex // serializes Reload and poll; guards the fields below
	loaded  fileSet    // the files when the current snapshot was loaded
	failed  fileSet    // the files at the last failed load, if later
	pending fileSet    // the files at the last poll, when they had changed
	scans   int        // looks at the files, for tests
}

// NewWatcher returns a watcher of c.
func NewWatcher(c *Coordinator) *Watcher { return &Watcher{c: c} }

// Reload reloads the lists now; see Coordinator.Reload.
func (w *Watcher) Reload() (*matchers.Snapshot, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reloadLocked(w.scan())
}

// reloadLocked reloads the lists, whose files are now as seen.
func (w *Watcher) reloadLocked(seen fileSet) (*matchers.Snapshot, error) {
	before := w.c.EntryFiles()
	s, err := w.c.Reload()
	w.pending = nil
	if err != nil {
		w.failed = seen
		return nil, err
	}
	if !slices.Equal(before, w.c.EntryFiles()) {
		seen = w.scan() // the load read other entry files: look at those
	}
	w.loaded, w.failed = seen, nil
	return s, nil
}

// poll looks at the files once and reloads when a change has settled: it
// was seen at the previous poll and nothing has changed since.
func (w *Watcher) poll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.scan()
	switch {
	case now.equal(w.loaded) || now.equal(w.failed):
		w.pending = nil
	case now.equal(w.pending):
		_, _ = w.reloadLocked(now)
	default:
		w.pending = now // debounce: reload once the files stop changing
	}
}

// Run reloads until stop is closed: when signal receives, every interval
// when poll is set and the files have changed, and when a demand's
// received or expires time comes. signal may be nil.
func (w *Watcher) Run(stop, signal <-chan struct{}, poll bool, interval time.Duration) {
	var ticks <-chan time.Time
	if poll {
		t := time.NewTicker(interval)
		defer t.Stop()
		ticks = t.C
	}
	change := time.NewTimer(0)
	defer change.Stop()
	for {
		// Until the current lists' next start or expiry, if any.
		change.Stop()
		var changed <-chan time.Time
		if s := w.c.Snapshot(); s != nil && !s.NextChange().IsZero() {
			change.Reset(max(time.Until(s.NextChange()), 0))
			changed = change.C
		}
		select {
		case <-stop:
			return
		case <-signal:
			_, _ = w.Reload()
		case <-changed:
			w.c.Advance()
		case <-ticks:
			w.poll()
		}
	}
}

// fileSet is the state of a lists directory's files: name, size, mtime
// and a hash of the content of small files. nil means not looked at.
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

// scan records the state of every demand file of the directory and of the
// entry files the current lists read. w.mu must be held.
func (w *Watcher) scan() fileSet {
	w.scans++
	dir := w.c.Dir()
	names, err := DemandFiles(os.DirFS(dir))
	if err != nil {
		return fileSet{{name: "error: " + err.Error()}}
	}
	set := fileSet{}
	for _, n := range names {
		set = append(set, stat(filepath.Join(dir, n)))
	}
	for _, f := range w.c.EntryFiles() {
		set = append(set, stat(f))
	}
	slices.SortFunc(set, func(a, b fileState) int { return strings.Compare(a.name, b.name) })
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
