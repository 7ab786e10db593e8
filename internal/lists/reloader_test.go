package lists

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"flagstream/matchers"
)

// fakeClock is a Clock that moves only when told to.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	at := c.now.Add(d)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at, ch})
	return ch
}

// Set moves the clock to t and fires the waiters that are due.
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.ch <- t
			continue
		}
		kept = append(kept, w)
	}
	c.waiters = kept
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func matches(s *matchers.Snapshot, handle string) int {
	var m matchers.Matcher
	return len(m.Match(s, &matchers.Post{Parts: []matchers.Part{{Tweet: &matchers.Tweet{AuthorHandle: []byte(handle)}}}}))
}

func counterValue(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestReloadKeepsLastGoodLists(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", "id: A\njurisdiction: IN\nhandles: [fict_a]\n")
	reg := prometheus.NewPedanticRegistry()
	r := NewReloader(dir, nil, nil, NewMetrics(reg))
	first, err := r.Reload()
	if err != nil {
		t.Fatal(err)
	}

	write(t, dir, "b.yaml", "id: B\njurisdiction: in\nhandles: [fict_b]\n")
	_, err = r.Reload()
	if err == nil || !strings.Contains(err.Error(), "b.yaml:2:") {
		t.Fatalf("reload with a broken file: %v, want an error naming b.yaml:2", err)
	}
	if got := r.Snapshot(); got != first {
		t.Fatal("a failed reload replaced the snapshot")
	}
	if matches(r.Snapshot(), "fict_a") != 1 {
		t.Error("the last good lists stopped matching")
	}
	if got := counterValue(t, reg, "flagstream_lists_reloads_total", "failure"); got != 1 {
		t.Errorf("failed reloads counted: %v, want 1", got)
	}

	write(t, dir, "b.yaml", "id: B\njurisdiction: IN\nhandles: [fict_b]\n")
	s, err := r.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if s.Version() == first.Version() || matches(s, "fict_b") != 1 {
		t.Errorf("fixed file not loaded: version %s (was %s)", s.Version(), first.Version())
	}
	if got := counterValue(t, reg, "flagstream_lists_reloads_total", "success"); got != 2 {
		t.Errorf("successful reloads counted: %v, want 2", got)
	}

	os.Remove(filepath.Join(dir, "b.yaml"))
	s, err = r.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if matches(s, "fict_b") != 0 || s.Version() != first.Version() {
		t.Errorf("removed demand still matches, or the version (%s) is not the first one's (%s)", s.Version(), first.Version())
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
}

func TestWatchPollsFilesAndEntryFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", "id: A\njurisdiction: IN\nhandles_file: a.txt\n")
	write(t, dir, "a.txt", "fict_a\n")
	r := NewReloader(dir, nil, nil, nil)
	if _, err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Watch(stop, nil, true, 20*time.Millisecond)
	}()
	defer func() { close(stop); <-done }()

	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// A change to an entry file alone is picked up.
	write(t, dir, "a.txt", "fict_a\nfict_a2\n")
	waitUntil("the entry file change", func() bool { return matches(r.Snapshot(), "fict_a2") == 1 })
	// A new demand file is picked up.
	write(t, dir, "b.yaml", "id: B\njurisdiction: IN\nhandles: [fict_b]\n")
	waitUntil("the new demand", func() bool { return matches(r.Snapshot(), "fict_b") == 1 })
	// A broken change is refused; the lists keep matching.
	good := r.Snapshot()
	write(t, dir, "b.yaml", "id: B\njurisdiction: IN\nhandles: [\"not a handle\"]\n")
	time.Sleep(300 * time.Millisecond)
	if r.Snapshot() != good {
		t.Fatal("a broken change replaced the lists")
	}
	// Removing the file removes the demand.
	os.Remove(filepath.Join(dir, "b.yaml"))
	waitUntil("the removed demand to go", func() bool { return matches(r.Snapshot(), "fict_b") == 0 })
	if matches(r.Snapshot(), "fict_a") != 1 {
		t.Error("the remaining demand stopped matching")
	}
}

func TestWatchReloadsOnSignalOnly(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", "id: A\njurisdiction: IN\nhandles: [fict_a]\n")
	r := NewReloader(dir, nil, nil, nil)
	if _, err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	hup := make(chan struct{})
	go func() {
		defer close(done)
		r.Watch(stop, hup, false, 10*time.Millisecond)
	}()
	defer func() { close(stop); <-done }()
	write(t, dir, "b.yaml", "id: B\njurisdiction: IN\nhandles: [fict_b]\n")
	time.Sleep(200 * time.Millisecond)
	if matches(r.Snapshot(), "fict_b") != 0 {
		t.Fatal("reload=signal picked up a file change without a signal")
	}
	hup <- struct{}{}
	deadline := time.Now().Add(5 * time.Second)
	for matches(r.Snapshot(), "fict_b") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the signal did not reload the lists")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestExpiryWithoutFileChange moves a fake clock over a demand's received
// and expires dates: it starts and stops matching with no file touched.
func TestExpiryWithoutFileChange(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", "id: A\njurisdiction: IN\nreceived: 2021-03-01T00:00:00Z\nexpires: 2021-03-02T00:00:00Z\nhandles: [fict_a]\n")
	write(t, dir, "b.yaml", "id: B\njurisdiction: IN\nhandles: [fict_b]\n")
	clock := newFakeClock(time.Date(2021, 2, 28, 23, 0, 0, 0, time.UTC))
	reg := prometheus.NewPedanticRegistry()
	r := NewReloader(dir, clock, nil, NewMetrics(reg))
	if _, err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		r.Watch(stop, nil, false, time.Hour)
	}()
	defer func() { close(stop); <-done }()

	before := r.Snapshot()
	if matches(before, "fict_a") != 0 {
		t.Fatal("a pending demand matches")
	}
	step := func(at time.Time, want int) {
		t.Helper()
		prev := r.Snapshot()
		clock.Set(at)
		deadline := time.Now().Add(5 * time.Second)
		for r.Snapshot() == prev {
			if time.Now().After(deadline) {
				t.Fatalf("at %v: the lists were not advanced", at)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got := matches(r.Snapshot(), "fict_a"); got != want {
			t.Errorf("at %v: %d hits for fict_a, want %d", at, got, want)
		}
		if matches(r.Snapshot(), "fict_b") != 1 {
			t.Errorf("at %v: the undated demand stopped matching", at)
		}
	}
	step(time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), 1)
	started := r.Snapshot().Version()
	step(time.Date(2021, 3, 2, 0, 0, 0, 0, time.UTC), 0)
	if v := r.Snapshot().Version(); v == started || v != before.Version() {
		t.Errorf("versions: pending %s, active %s, expired %s; expired must equal pending and differ from active",
			before.Version(), started, v)
	}
}
