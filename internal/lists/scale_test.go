package lists

import (
	"bufio"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"flagstream/matchers"
)

// writeBigDemand writes a demand naming n distinct handles through a
// handles_file, a third of them with an underscore (so the loose tier has
// keys of its own).
func writeBigDemand(tb testing.TB, dir string, n int) {
	tb.Helper()
	f, err := os.Create(filepath.Join(dir, "big-handles.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		s := strconv.FormatUint(uint64(i)*2654435761%(1<<40)+uint64(i), 36)
		if i%3 == 0 {
			fmt.Fprintf(w, "@fx_%s\n", s)
		} else {
			fmt.Fprintf(w, "@fx%s\n", s)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	write2(tb, dir, "big.yaml", "id: BIG\njurisdiction: IN\nauthority: bench\nlegal_basis: bench\nhandles_file: big-handles.txt\n")
}

func write2(tb testing.TB, dir, name, content string) {
	tb.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkLoad measures loading a demand of millions of handles: parse,
// validate, compile. It reports the seconds of the first load in the
// process (whose memory is fresh from the operating system: page faults are
// costly on small VMs) and the mean of the later ones (a reload, reusing
// the heap), the memory the snapshot keeps per entry once loaded (measured
// on the heap after collection, the parsed files released) and what its
// sets and entry text take per entry. Run it with -benchtime 3x or more.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("handles=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			writeBigDemand(b, dir, n)
			var (
				kept        uint64
				s           *matchers.Snapshot
				first, rest time.Duration
				loads       int
			)
			for b.Loop() {
				b.StopTimer()
				s = nil
				base := heapInUse()
				b.StartTimer()
				start := time.Now()
				var err error
				s, _, err = Load(dir, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				if loads == 0 {
					first = time.Since(start)
				} else {
					rest += time.Since(start)
				}
				loads++
				b.StopTimer()
				kept = heapInUse() - base
				b.StartTimer()
			}
			if s.ActiveEntries() != n {
				b.Fatalf("loaded %d entries, want %d", s.ActiveEntries(), n)
			}
			b.ReportMetric(first.Seconds(), "first-load-s")
			if loads > 1 {
				b.ReportMetric(rest.Seconds()/float64(loads-1), "reload-s")
			}
			b.ReportMetric(float64(kept)/float64(n), "bytes/entry")
			b.ReportMetric(float64(s.Bytes())/float64(n), "set-bytes/entry")
			runtime.KeepAlive(s)
		})
	}
}

// BenchmarkReloadStall keeps two workers matching posts against the current
// snapshot of a 1,000,000-entry list while the list is reloaded again and
// again, and reports the longest time any one match took (the stall a
// reload can cause: compilation runs beside the workers, the swap is one
// atomic store, and the sets hold no pointers for the collector to scan)
// and the 99.99th percentile.
func BenchmarkReloadStall(b *testing.B) {
	dir := b.TempDir()
	writeBigDemand(b, dir, 1_000_000)
	r := NewCoordinator(dir, nil, nil)
	if _, err := r.Reload(); err != nil {
		b.Fatal(err)
	}
	posts := make([]*matchers.Post, 256)
	for i := range posts {
		h := "someone" + strconv.Itoa(i)
		if i%10 == 0 {
			h = "fx" + strconv.FormatUint(uint64(i)*2654435761%(1<<40)+uint64(i), 36)
		}
		posts[i] = &matchers.Post{Parts: []matchers.Part{{Tweet: &matchers.Tweet{
			AuthorHandle: []byte(h),
			Text:         []byte("farmers march on the capital again today @" + h + " #news"),
		}}}}
	}
	// Each worker keeps a histogram of match durations in microseconds
	// (power-of-two buckets) and its maximum, allocating nothing.
	type stats struct {
		buckets [40]int64
		max     time.Duration
		n       int64
	}
	// As flagstream run does (app.ReserveProcs): one worker per CPU, and
	// twice as many Ps, so that compilation and the collector run beside
	// the workers.
	nWorkers := runtime.GOMAXPROCS(0)
	if os.Getenv("GOMAXPROCS") == "" {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2 * nWorkers))
	}
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		workers = make([]stats, nWorkers)
	)
	for w := range nWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m matchers.Matcher
			st := &workers[w]
			for i := 0; !stop.Load(); i++ {
				start := time.Now()
				m.Match(r.Snapshot(), posts[i%len(posts)], nil)
				d := time.Since(start)
				st.buckets[bits.Len64(uint64(d.Microseconds()))]++
				st.max = max(st.max, d)
				st.n++
			}
		}()
	}
	for b.Loop() {
		if _, err := r.Reload(); err != nil {
			b.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	var all stats
	for _, st := range workers {
		for i, c := range st.buckets {
			all.buckets[i] += c
		}
		all.max = max(all.max, st.max)
		all.n += st.n
	}
	// The 99.99th percentile, as the upper bound of its bucket.
	var seen int64
	p9999 := time.Duration(0)
	for i, c := range all.buckets {
		seen += c
		if seen >= all.n*9999/10000 {
			p9999 = time.Duration(1<<i) * time.Microsecond
			break
		}
	}
	b.ReportMetric(float64(all.max.Microseconds())/1000, "max-stall-ms")
	b.ReportMetric(float64(p9999.Microseconds())/1000, "p99.99-ms")
	b.ReportMetric(float64(all.n), "matches")
}
