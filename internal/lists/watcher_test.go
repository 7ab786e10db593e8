package lists

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"flagstream/internal/testkit"
	"flagstream/matchers"
)

func matches(s *matchers.Snapshot, handle string) int {
	var m matchers.Matcher
	return len(m.Match(s, &matchers.Post{Parts: []matchers.Part{{Tweet: &matchers.Tweet{AuthorHandle: []byte(handle)}}}}, nil))
}

func TestCoordinatorKeepsLastGoodLists(t *testing.T) {
	dir := t.TempDir()
	testkit.WriteFile(t, dir, "a.yaml", "id: A\njurisdiction: IN\nhandles: [fict_a]\n")
	reg := prometheus.NewPedanticRegistry()
	c := NewCoordinator(dir, nil, NewMetrics(reg))
	first, err := c.Reload()
	if err != nil {
		t.Fatal(err)
	}

	testkit.WriteFile(t, dir, "b.yaml", "id: B\njurisdiction: in\nhandles: [fict_b]\n")
	_, err = c.Reload()
	if err == nil || !strings.Contains(err.Error(), "b.yaml:2:") {
		t.Fatalf("reload with a broken file: %v, want an error naming b.yaml:2", err)
	}
	if got := c.Snapshot(); got != first {
		t.Fatal("a failed reload replaced the snapshot")
	}
	if matches(c.Snapshot(), "fict_a") != 1 {
		t.Error("the last good lists stopped matching")
	}
	if got := testkit.Labelled(reg, "flagstream_lists_reloads_total", "failure"); got != 1 {
		t.Errorf("failed reloads counted: %v, want 1", got)
	}
	if got := testkit.Sum(reg, "flagstream_lists_last_reload_successful"); got != 0 {
		t.Errorf("flagstream_lists_last_reload_successful = %v after a failure, want 0", got)
	}
	// A demand starting or expiring on time is no reload: it must not
	// clear the failure that FlagstreamListsReloadFailing alerts on.
	c.Advance()
	if got := testkit.Sum(reg, "flagstream_lists_last_reload_successful"); got != 0 {
		t.Errorf("flagstream_lists_last_reload_successful = %v after a failure and an advance, want 0", got)
	}
	if got := testkit.Labelled(reg, "flagstream_lists_reloads_total", "success"); got != 1 {
		t.Errorf("successful reloads counted after an advance: %v, want 1", got)
	}

	testkit.WriteFile(t, dir, "b.yaml", "id: B\njurisdiction: IN\nhandles: [fict_b]\n")
	s, err := c.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if s.Version() == first.Version() || matches(s, "fict_b") != 1 {
		t.Errorf("fixed file not loaded: version %s (was %s)", s.Version(), first.Version())
	}
	if got := testkit.Labelled(reg, "flagstream_lists_reloads_total", "success"); got != 2 {
		t.Errorf("successful reloads counted: %v, want 2", got)
	}
	if got := testkit.Labelled(reg, "flagstream_lists_demands", "active"); got != 2 {
		t.Errorf("flagstream_lists_demands{state=\"active\"} = %v, want 2", got)
	}

	os.Remove(filepath.Join(dir, "b.yaml"))
	s, err = c.Reload()
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

// newWatched writes files into a new lists directory and returns a
// coordinator of it with metrics in reg and a watcher that has loaded it.
func newWatched(t *testing.T, reg prometheus.Registerer, files map[string]string) (*Coordinator, *Watcher) {
	t.Helper()
	c := NewCoordinator(testkit.WriteLists(t, files), nil, NewMetrics(reg))
	w := NewWatcher(c)
	if _, err := w.Reload(); err != nil {
		t.Fatal(err)
	}
	return c, w
}

// watch starts w.Run with polling every second (when poll is set) inside
// the test's synctest bubble, and stops it when the test ends.
func watch(t *testing.T, w *Watcher, signal <-chan struct{}, poll bool) {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		w.Run(stop, signal, poll, time.Second)
	}()
	t.Cleanup(func() { close(stop); <-done })
}

// settle lets the bubble's clock run for d and waits for the watcher to
// be idle again.
func settle(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func TestWatchPollsFilesAndEntryFiles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, w := newWatched(t, nil, map[string]string{"a.yaml": "id: A\njurisdiction: IN\nhandles_file: a.txt\n", "a.txt": "fict_a\n"})
		dir := c.Dir()
		watch(t, w, nil, true)

		// A change to an entry file alone is picked up once it has stayed
		// for a poll interval.
		testkit.WriteFile(t, dir, "a.txt", "fict_a\nfict_a2\n")
		settle(1500 * time.Millisecond)
		if matches(c.Snapshot(), "fict_a2") != 0 {
			t.Error("a change was loaded at the first poll that saw it, before it had settled")
		}
		settle(time.Second)
		if matches(c.Snapshot(), "fict_a2") != 1 {
			t.Fatal("the entry file change was not loaded")
		}
		// A new demand file is picked up.
		testkit.WriteFile(t, dir, "b.yaml", "id: B\njurisdiction: IN\nhandles: [fict_b]\n")
		settle(3 * time.Second)
		if matches(c.Snapshot(), "fict_b") != 1 {
			t.Fatal("the new demand was not loaded")
		}
		// A broken change is refused, once; the lists keep matching.
		good := c.Snapshot()
		testkit.WriteFile(t, dir, "b.yaml", "id: B\njurisdiction: IN\nhandles: [\"not a handle\"]\n")
		settle(10 * time.Second)
		if c.Snapshot() != good {
			t.Fatal("a broken change replaced the lists")
		}
		// Removing the file removes the demand.
		os.Remove(filepath.Join(dir, "b.yaml"))
		settle(3 * time.Second)
		if matches(c.Snapshot(), "fict_b") != 0 {
			t.Error("the removed demand still matches")
		}
		if matches(c.Snapshot(), "fict_a") != 1 {
			t.Error("the remaining demand stopped matching")
		}
	})
}

// TestWatchLooksOncePerPoll counts the looks at the files: one a poll,
// however many files, and none more for a reload asked for from outside
// (POST /-/reload), which the next poll does not repeat.
func TestWatchLooksOncePerPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		c, w := newWatched(t, reg, map[string]string{
			"a.yaml": "id: A\njurisdiction: IN\nhandles_file: a.txt\n", "a.txt": "fict_a\n",
			"b.yaml": "id: B\njurisdiction: IN\nhandles: [fict_b]\n",
		})
		dir := c.Dir()
		before := w.scans
		watch(t, w, nil, true)
		settle(10*time.Second + 500*time.Millisecond)
		if got := w.scans - before; got != 10 {
			t.Errorf("%d looks at the files in 10 polls, want 10", got)
		}

		testkit.WriteFile(t, dir, "c.yaml", "id: C\njurisdiction: IN\nhandles: [fict_c]\n")
		if _, err := w.Reload(); err != nil { // as POST /-/reload does
			t.Fatal(err)
		}
		settle(5 * time.Second)
		if got := testkit.Labelled(reg, "flagstream_lists_reloads_total", "success"); got != 2 {
			t.Errorf("%v loads, want 2: the polls after an outside reload loaded the same files again", got)
		}
	})
}

func TestWatchReloadsOnSignalOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, w := newWatched(t, nil, map[string]string{"a.yaml": "id: A\njurisdiction: IN\nhandles: [fict_a]\n"})
		dir := c.Dir()
		hup := make(chan struct{})
		watch(t, w, hup, false)
		testkit.WriteFile(t, dir, "b.yaml", "id: B\njurisdiction: IN\nhandles: [fict_b]\n")
		settle(time.Hour)
		if matches(c.Snapshot(), "fict_b") != 0 {
			t.Fatal("reload=signal picked up a file change without a signal")
		}
		hup <- struct{}{}
		synctest.Wait()
		if matches(c.Snapshot(), "fict_b") != 1 {
			t.Fatal("the signal did not reload the lists")
		}
	})
}

// TestExpiryWithoutFileChange lets the clock pass a demand's received and
// expires times: it starts and stops matching with no file touched.
func TestExpiryWithoutFileChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now() // the bubble's clock: midnight UTC, 2000-01-01
		received, expires := start.Add(24*time.Hour), start.Add(48*time.Hour)
		reg := prometheus.NewPedanticRegistry()
		c, w := newWatched(t, reg, map[string]string{
			"a.yaml": "id: A\njurisdiction: IN\nreceived: " + received.Format(time.RFC3339) +
				"\nexpires: " + expires.Format(time.RFC3339) + "\nhandles: [fict_a]\n",
			"b.yaml": "id: B\njurisdiction: IN\nhandles: [fict_b]\n",
		})
		watch(t, w, nil, false)

		pending := c.Snapshot()
		if matches(pending, "fict_a") != 0 || testkit.Labelled(reg, "flagstream_lists_demands", "pending") != 1 {
			t.Fatal("a pending demand matches, or is not counted pending")
		}
		step := func(at time.Time, want int, state string, inState float64) {
			t.Helper()
			time.Sleep(time.Until(at))
			synctest.Wait()
			if got := matches(c.Snapshot(), "fict_a"); got != want {
				t.Errorf("at %v: %d hits for fict_a, want %d", at, got, want)
			}
			if matches(c.Snapshot(), "fict_b") != 1 {
				t.Errorf("at %v: the undated demand stopped matching", at)
			}
			if got := testkit.Labelled(reg, "flagstream_lists_demands", state); got != inState {
				t.Errorf("at %v: flagstream_lists_demands{state=%q} = %v, want %v", at, state, got, inState)
			}
		}
		step(received, 1, "active", 2)
		started := c.Snapshot().Version()
		step(expires, 0, "expired", 1)
		if v := c.Snapshot().Version(); v == started || v != pending.Version() {
			t.Errorf("versions: pending %s, active %s, expired %s; expired must equal pending and differ from active",
				pending.Version(), started, v)
		}
	})
}

// TestCoordinatorSubscribe checks that a subscriber sees the current
// snapshot at once and every snapshot swapped in after, and nothing of a
// failed load.
func TestCoordinatorSubscribe(t *testing.T) {
	dir := t.TempDir()
	testkit.WriteFile(t, dir, "a.yaml", "id: A\njurisdiction: IN\nhandles: [fict_a]\n")
	c := NewCoordinator(dir, nil, nil)
	var seen []*matchers.Snapshot
	c.Subscribe(func(s *matchers.Snapshot) { seen = append(seen, s) })
	if len(seen) != 0 {
		t.Fatal("a subscriber was called before any load")
	}
	first, err := c.Reload()
	if err != nil {
		t.Fatal(err)
	}
	testkit.WriteFile(t, dir, "b.yaml", "id: B\njurisdiction: in\nhandles: [fict_b]\n")
	if _, err := c.Reload(); err == nil {
		t.Fatal("a broken file loaded")
	}
	advanced := c.Advance()
	var late []*matchers.Snapshot
	c.Subscribe(func(s *matchers.Snapshot) { late = append(late, s) })
	if len(seen) != 2 || seen[0] != first || seen[1] != advanced {
		t.Errorf("the subscriber saw %d snapshots, want the load and the advance", len(seen))
	}
	if len(late) != 1 || late[0] != advanced {
		t.Errorf("a late subscriber saw %d snapshots, want the current one at once", len(late))
	}
}
