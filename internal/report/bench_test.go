package report

import (
	"context"
	"io"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

// synthetic generates the records of a large report on the fly, into one
// reused buffer, so that a benchmark measures the report and not the
// input's memory. Every 50th task is repeated (a crash), every 20th is a
// shadow demand's; a third of the tasks and of the cases are decided.
type synthetic struct {
	tasks, cases int // tasks; cases (5 events each)
	demands      int
}

var synthStart = time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC)

// taskDemand returns the demand of task i.
func (s synthetic) taskDemand(i int) int { return i % s.demands }

// want returns the totals the generated records must give.
func (s synthetic) want() (liveTasks, shadowTasks, repeats, cases int64) {
	for i := range s.tasks {
		if i%20 == 19 {
			shadowTasks++
		} else {
			liveTasks++
		}
		if i%50 == 0 {
			repeats++
		}
	}
	return liveTasks, shadowTasks, repeats, int64(s.cases)
}

type genRecords struct {
	n, i int
	buf  []byte
	gen  func(buf []byte, i int) ([]byte, bool) // false: skip i
	name string
}

func (g *genRecords) Next() (Record, error) {
	for g.i < g.n {
		i := g.i
		g.i++
		var ok bool
		if g.buf, ok = g.gen(g.buf[:0], i); ok {
			return Record{Value: g.buf, Stream: g.name, Index: int64(i + 1)}, nil
		}
	}
	return Record{}, io.EOF
}

func hexID(buf []byte, prefix byte, i int) []byte {
	s := strconv.FormatInt(int64(i), 16)
	buf = append(buf, prefix)
	for range 31 - len(s) {
		buf = append(buf, '0')
	}
	return append(buf, s...)
}

func (s synthetic) input() Input {
	// A task's copies: task j is written at index j, and again (a repeat)
	// at index tasks+j/50 for every 50th.
	nTaskRecords := s.tasks + (s.tasks+49)/50
	tasks := &genRecords{n: nTaskRecords, name: "tasks", gen: func(buf []byte, i int) ([]byte, bool) {
		j := i
		if i >= s.tasks {
			j = (i - s.tasks) * 50
		}
		d := s.taskDemand(j)
		at := synthStart.Add(time.Duration(j) * 30 * 24 * time.Hour / time.Duration(s.tasks))
		buf = append(buf, `{"schema":"flagstream.review_task/v1","task_id":"`...)
		buf = hexID(buf, 'a', j)
		buf = append(buf, `","created_at":"`...)
		buf = at.AppendFormat(buf, time.RFC3339)
		buf = append(buf, `","priority":"high","action":"withhold","jurisdictions":["IN"],"lists_version":"0123456789abcdef","tweet":{"id":"`...)
		buf = strconv.AppendInt(buf, int64(1e15)+int64(j), 10)
		buf = append(buf, `","created_at":"2021-02-01T00:00:00Z","lang":"en","text":"a tweet with #FarmerGenocide and some more words to make it the size of a real one, about a hundred and forty characters","author":{"id":"12345","handle":"someone"},"url":"https://twitter.com/someone/status/1"},"matches":[`...)
		for m := range 1 + j%3 {
			if m > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"kind":"`...)
			buf = append(buf, matchKinds[(j+m)%len(matchKinds)]...)
			buf = append(buf, `","in":"tweet","value":"#FarmerGenocide","entry":"#FarmerGenocide","tier":"exact","demand_id":"DEMAND-`...)
			buf = strconv.AppendInt(buf, int64(d), 10)
			buf = append(buf, `","jurisdiction":"IN","jurisdictions":["IN"],"authority":"Ministry","legal_basis":"IT Act 2000, s. 69A","action":"withhold","scope":"tweet","priority":"high"}`...)
		}
		buf = append(buf, `],"source":{"topic":"tweets","partition":3,"offset":`...)
		buf = strconv.AppendInt(buf, int64(j), 10)
		buf = append(buf, '}')
		if j%20 == 19 {
			buf = append(buf, `,"shadow":true`...)
		}
		return append(buf, '}'), true
	}}
	events := [...]string{"opened", "updated", "updated", "updated", "decided"}
	cases := &genRecords{n: 5 * s.cases, name: "cases", gen: func(buf []byte, i int) ([]byte, bool) {
		c, e := i%s.cases, i/s.cases // every case opens before any is updated
		ev := events[e]
		if ev == "decided" && c%3 != 0 {
			ev = "updated"
		}
		at := synthStart.Add(time.Duration(c)*time.Minute + time.Duration(e)*time.Hour)
		buf = append(buf, `{"schema":"flagstream.review_case/v1","case_id":"case-`...)
		buf = strconv.AppendInt(buf, int64(c), 10)
		buf = append(buf, `","event":"`...)
		buf = append(buf, ev...)
		buf = append(buf, `","demand_id":"DEMAND-`...)
		buf = strconv.AppendInt(buf, int64(c%s.demands), 10)
		buf = append(buf, `","entry":"@listed","jurisdictions":["IN"],"action":"withhold","priority":"high","scope":"user","authority":"Ministry","legal_basis":"IT Act","reference":"","lists_version":"0123","updated_at":"`...)
		buf = at.AppendFormat(buf, time.RFC3339)
		buf = append(buf, `","account":{"user_id":"1","handle":"listed","handles_seen":["listed"],"binding":"learned","handle_now_held_by":null},"evidence":{"posts":`...)
		buf = strconv.AppendInt(buf, int64(e+1), 10)
		buf = append(buf, `,"mentions":0,"first_seen":"2021-02-01T00:00:00Z","last_seen":"2021-02-01T00:00:00Z","sample_tweet_ids":["1"]},"status":"open","decision":`...)
		if ev == "decided" {
			buf = append(buf, `{"decision":"withhold","countries":["IN"],"decided_at":"`...)
			buf = at.AppendFormat(buf, time.RFC3339)
			buf = append(buf, `"}`...)
		} else {
			buf = append(buf, "null"...)
		}
		return append(buf, '}'), true
	}}
	// Decisions: every third task, and every third case (other than those
	// decided by their events).
	nTaskDecisions := (s.tasks + 2) / 3
	decisions := &genRecords{n: nTaskDecisions + s.cases, name: "decisions", gen: func(buf []byte, i int) ([]byte, bool) {
		buf = append(buf, `{"schema":"flagstream.review_decision/v1",`...)
		if i < nTaskDecisions {
			buf = append(buf, `"task_id":"`...)
			buf = hexID(buf, 'a', 3*i)
		} else {
			c := i - nTaskDecisions
			if c%3 != 1 {
				return buf, false
			}
			buf = append(buf, `"case_id":"case-`...)
			buf = strconv.AppendInt(buf, int64(c), 10)
		}
		buf = append(buf, `","decision":"no_action","countries":[],"reviewer":"r","reason":"","decided_at":"2021-03-01T00:00:00Z"}`...)
		return buf, true
	}}
	return Input{Cases: cases, Tasks: tasks, Decisions: decisions}
}

// TestSynthetic checks the generated report's totals against the
// generator's construction, so the benchmark measures a correct report.
func TestSynthetic(t *testing.T) {
	s := synthetic{tasks: 10_000, cases: 2_000, demands: 7}
	r, err := Build(context.Background(), s.input(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	live, shadow, repeats, cases := s.want()
	if got := r.Totals.Live.Tasks.Emitted; got != live {
		t.Errorf("live tasks = %d, want %d", got, live)
	}
	if got := r.Totals.Shadow.Tasks.Emitted; got != shadow {
		t.Errorf("shadow tasks = %d, want %d", got, shadow)
	}
	if got := r.Inputs.Tasks.Repeats; got != repeats {
		t.Errorf("repeats = %d, want %d", got, repeats)
	}
	if got := r.Totals.Live.Accounts.Seen; got != cases {
		t.Errorf("cases = %d, want %d", got, cases)
	}
	// Cases c%3==0 are withheld by their events, c%3==1 no action by the
	// decisions stream, the rest pending.
	if a := r.Totals.Live.Accounts; a.Withheld != 667 || a.NoAction != 667 || a.Pending != 666 {
		t.Errorf("accounts %+v, want withheld 667, no action 667, pending 666", a)
	}
	// Every third task is decided no_action: tasks 0, 3, 6, ...
	if got, want := r.Totals.Live.Tasks.NoAction+r.Totals.Shadow.Tasks.NoAction, int64(3334); got != want {
		t.Errorf("tasks with no action = %d, want %d", got, want)
	}
	if in := r.Inputs; in.Cases.Bad+in.Tasks.Bad+in.Decisions.Bad != 0 || in.Decisions.Unmatched != 0 {
		t.Errorf("inputs = %+v", in)
	}
	checkInvariants(t, r)
}

// BenchmarkReport builds the report of 1,000,000 tasks (and 20,000 more
// copies of tasks), 100,000 case events of 20,000 cases and 353,334
// decisions, generated on the fly. peak-heap-MB is the largest heap seen
// while it ran (sampled every 20 ms; live objects and garbage not yet
// collected): the input is generated into one reused buffer, so this is
// the report's own memory.
func BenchmarkReport(b *testing.B) {
	s := synthetic{tasks: 1_000_000, cases: 20_000, demands: 50}
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		stop := sampleHeap(&peak)
		r, err := Build(context.Background(), s.input(), Options{})
		stop()
		if err != nil {
			b.Fatal(err)
		}
		if r.Inputs.Tasks.Reported != int64(s.tasks) {
			b.Fatalf("reported %d tasks", r.Inputs.Tasks.Reported)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(s.tasks)*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

// BenchmarkReportLiveHeap measures what the builder holds once it has
// read everything: the live heap after a collection, with the builder
// still in use (Build's steps, one by one), per task read.
func BenchmarkReportLiveHeap(b *testing.B) {
	s := synthetic{tasks: 1_000_000, cases: 20_000, demands: 50}
	var live uint64
	for b.Loop() {
		runtime.GC()
		before := liveHeap()
		bl := newBuilder(Options{})
		in := s.input()
		if err := bl.readDecisions(context.Background(), in.Decisions); err != nil {
			b.Fatal(err)
		}
		items := &itemReader{b: bl}
		if err := items.read(context.Background(), in.Cases, false); err != nil {
			b.Fatal(err)
		}
		if err := items.read(context.Background(), in.Tasks, true); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		live = liveHeap() - before
		bl.countCases()
		if r := bl.report(); r.Inputs.Tasks.Reported != int64(s.tasks) {
			b.Fatalf("reported %d tasks", r.Inputs.Tasks.Reported)
		}
	}
	b.ReportMetric(float64(live)/(1<<20), "live-heap-MB")
	b.ReportMetric(float64(live)/float64(s.tasks), "live-B/task")
}

func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// BenchmarkReportBaseline reads the same generated records with fastjson
// and nothing else: the floor the report's own work adds to.
func BenchmarkReportBaseline(b *testing.B) {
	s := synthetic{tasks: 1_000_000, cases: 20_000, demands: 50}
	b.ReportAllocs()
	for b.Loop() {
		var p fastjson.Parser
		in := s.input()
		for _, rs := range []Records{in.Decisions, in.Cases, in.Tasks} {
			for {
				r, err := rs.Next()
				if err == io.EOF {
					break
				}
				if _, err := p.ParseBytes(r.Value); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(float64(s.tasks)*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

// BenchmarkRender renders a report of 50 demands and 30 days in each
// format.
func BenchmarkRender(b *testing.B) {
	s := synthetic{tasks: 50_000, cases: 5_000, demands: 50}
	r, err := Build(context.Background(), s.input(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range Formats {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Render(io.Discard, r, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// sampleHeap records the largest live heap into peak until stop is
// called; stop waits for the sampler to end.
func sampleHeap(peak *uint64) (stop func()) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			*peak = max(*peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	runtime.GC()
	return func() { close(done); wg.Wait() }
}
