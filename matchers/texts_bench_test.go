package matchers_test

import (
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"flagstream/internal/dev/synth"
	"flagstream/internal/lists"
	. "flagstream/matchers"
)

// threadCPU returns the CPU time of the calling thread in nanoseconds: on
// a shared machine steadier than wall time. The benchmark loop runs on one
// goroutine; runtime.LockOSThread keeps it on this thread.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// benchListsWithTexts is benchLists with a demand of n known texts: the
// claims of the test corpus first, then synthetic ones (synth.Texts, as
// the scan benchmark lists them).
func benchListsWithTexts(t testing.TB, n int) map[string]string {
	files := benchLists()
	texts := append(loadTextCorpus(t).claims, synth.Texts(7, n)...)[:n]
	files["texts.yaml"] = "id: TEXTS-BENCH\njurisdiction: IN\ntexts_file: texts.txt\n"
	files["texts.txt"] = strings.Join(texts, "\n") + "\n"
	return files
}

// textBenchPost is an edited copy of a listed text (and mentions a listed
// handle).
var textBenchPost = textPost("RT @fict_user_0042: BANKS will freeze all savings accounts over ten thousand on Monday morning, withdraw your money today before the government takes it to pay its debts!! 🔥 https://t.co/x")

// BenchmarkMatchTexts matches the benchmark posts against benchLists, and
// against the same lists with 10,000 known texts more: the cost of texts
// per post. Each operation matches every post once.
func BenchmarkMatchTexts(b *testing.B) {
	for _, n := range []int{0, 10_000} {
		b.Run(fmt.Sprintf("texts=%d", n), func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			files := benchLists()
			if n > 0 {
				files = benchListsWithTexts(b, n)
			}
			s := compileAt(b, feb2021, files)
			var m Matcher
			b.ReportAllocs()
			cpu := threadCPU()
			for b.Loop() {
				for _, bp := range benchPosts {
					m.Match(s, bp.post, nil)
				}
			}
			b.ReportMetric(float64(b.N*len(benchPosts))/b.Elapsed().Seconds(), "posts/s")
			b.ReportMetric(float64(threadCPU()-cpu)/float64(b.N*len(benchPosts)), "cpu-ns/post")
		})
	}
}

// BenchmarkMatchTextHit matches a post that is an edited copy of one of
// 10,000 listed texts: the whole path, signature, bands and exact check.
func BenchmarkMatchTextHit(b *testing.B) {
	s := compileAt(b, feb2021, benchListsWithTexts(b, 10_000))
	var m Matcher
	if hits := m.Match(s, textBenchPost, nil); len(hits) != 2 { // the text and a listed mention
		b.Fatalf("%d hits, want 2", len(hits))
	}
	b.ReportAllocs()
	for b.Loop() {
		m.Match(s, textBenchPost, nil)
	}
}

// BenchmarkCompileTexts parses and compiles lists of 10,000 known texts.
func BenchmarkCompileTexts(b *testing.B) {
	files := benchListsWithTexts(b, 10_000)
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	b.ReportAllocs()
	for b.Loop() {
		ds, _, err := lists.ParseLists(fsys, "lists")
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Compile(ds, feb2021); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMatchAllocsWithTexts: with 10,000 known texts listed, matching
// still allocates nothing per post, whether a post matches a text or not.
func TestMatchAllocsWithTexts(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	s := compileAt(t, feb2021, benchListsWithTexts(t, 10_000))
	posts := append([]struct {
		name string
		post *Post
		hits int
	}{{"text copy", textBenchPost, 2}}, benchPosts...)
	for _, bp := range posts {
		t.Run(bp.name, func(t *testing.T) {
			var m Matcher
			if hits := m.Match(s, bp.post, nil); len(hits) != bp.hits {
				t.Fatalf("Match: %d hits %v, want %d", len(hits), describeHits(s, hits), bp.hits)
			}
			if allocs := testing.AllocsPerRun(100, func() { m.Match(s, bp.post, nil) }); allocs != 0 {
				t.Errorf("Match allocates %v times per call after warm-up, want 0", allocs)
			}
		})
	}
}
