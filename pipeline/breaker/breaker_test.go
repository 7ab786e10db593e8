package breaker_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"flagstream/internal/lists/liststest"
	"flagstream/matchers"
	"flagstream/pipeline/breaker"
)

// snapshot compiles demand files given as name -> YAML.
func snapshot(t testing.TB, files map[string]string) *matchers.Snapshot {
	t.Helper()
	return liststest.Snapshot(t, time.Time{}, files)
}

var demands = map[string]string{
	"own.yaml":       "id: OWN\njurisdiction: IN\nhashtags: [India]\nmax_tasks_per_minute: 50\n",
	"default.yaml":   "id: DEFAULT\njurisdiction: IN\nhashtags: [Other]\n",
	"unlimited.yaml": "id: UNLIMITED\njurisdiction: IN\nhashtags: [Free]\nmax_tasks_per_minute: 0\n",
}

var t0 = time.Date(2021, 2, 4, 10, 0, 0, 0, time.UTC)

// allow calls Allow n times for id at now and returns how many it allowed.
func allow(b *breaker.Breaker, id string, n int, now time.Time) int {
	ok := 0
	for range n {
		if b.Allow(id, now) {
			ok++
		}
	}
	return ok
}

func TestBreakerTrips(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	b := breaker.New(10, breaker.NewMetrics(reg))
	b.Update(snapshot(t, demands))

	// A flood of 600 against 50 a minute: 50 pass, 550 are diverted.
	if got := allow(b, "OWN", 600, t0); got != 50 {
		t.Errorf("OWN: %d of 600 allowed, want 50", got)
	}
	st, _ := b.State("OWN", t0)
	if !st.Tripped || st.TrippedAt == nil || !st.TrippedAt.Equal(t0) || st.Diverted != 550 || st.Limit != 50 {
		t.Errorf("OWN after the flood: %+v, want tripped at %v with 550 diverted", st, t0)
	}
	// The other demands are untouched: the default limit, and none.
	if got := allow(b, "DEFAULT", 10, t0); got != 10 {
		t.Errorf("DEFAULT: %d of 10 allowed, want 10", got)
	}
	if b.Tripped("DEFAULT") || b.Tripped("UNLIMITED") {
		t.Error("a flood of OWN tripped another demand")
	}
	if got := allow(b, "UNLIMITED", 10000, t0); got != 10000 {
		t.Errorf("UNLIMITED (max_tasks_per_minute: 0): %d of 10000 allowed", got)
	}
	if got := allow(b, "DEFAULT", 1, t0); got != 0 || !b.Tripped("DEFAULT") {
		t.Errorf("DEFAULT's 11th task in a minute allowed (%d) or not tripped", got)
	}
	// A tripped demand stays tripped, however long it is quiet.
	if got := allow(b, "OWN", 1, t0.Add(time.Hour)); got != 0 {
		t.Error("OWN allowed again an hour later, without a reset")
	}
	if got := value(t, reg, "flagstream_demand_tripped", "OWN"); got != 1 {
		t.Errorf("flagstream_demand_tripped{demand=OWN} = %v, want 1", got)
	}
	// Unknown demands (a snapshot newer than the last Update) pass.
	if !b.Allow("NEW", t0) {
		t.Error("an unknown demand was not allowed")
	}
	if _, ok := b.State("NEW", t0); ok {
		t.Error("State of an unknown demand")
	}
}

// value returns the value of the series of the gauge or counter named name
// with the given demand label, from the registry.
func value(t *testing.T, reg *prometheus.Registry, name, demand string) float64 {
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
				if l.GetName() == "demand" && l.GetValue() == demand {
					return m.GetGauge().GetValue() + m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no series %s{demand=%q}", name, demand)
	return 0
}

// TestBreakerLaggingClock: a worker whose clock reading is a second
// older than another's (each reads it once a batch) still counts the
// other's emissions, so no more than the limit pass. Before, the second
// after its own was not counted, and a flood of 600 across a second's
// turn put 51 tasks of a 50-a-minute demand on the review topic.
func TestBreakerLaggingClock(t *testing.T) {
	for _, lag := range []time.Duration{time.Second, 5 * time.Second} {
		b := breaker.New(0, nil)
		b.Update(snapshot(t, demands))
		ahead := allow(b, "OWN", 30, t0.Add(lag))
		behind := allow(b, "OWN", 30, t0)
		if ahead != 30 || behind != 20 || !b.Tripped("OWN") {
			t.Errorf("lag %v: 30 tasks, then 30 stamped %v earlier: %d and %d allowed (tripped %v), want 30 and 20, tripped",
				lag, lag, ahead, behind, b.Tripped("OWN"))
		}
	}
}

// TestBreakerWindow checks that the minute slides by the second: emissions
// within 60 seconds add up, older ones no longer count.
func TestBreakerWindow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		gap     time.Duration
		tripped bool
	}{
		{"within the minute", 59 * time.Second, true},
		{"a minute later", 60 * time.Second, false},
		{"an hour later", time.Hour, false},
		{"the clock stepped back", -30 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := breaker.New(0, nil)
			b.Update(snapshot(t, demands))
			first := allow(b, "OWN", 40, t0)
			second := allow(b, "OWN", 40, t0.Add(tc.gap))
			if b.Tripped("OWN") != tc.tripped {
				t.Errorf("40 tasks, then 40 %v later: tripped %v, want %v", tc.gap, b.Tripped("OWN"), tc.tripped)
			}
			if tc.tripped && first+second != 50 {
				t.Errorf("%d allowed, want 50", first+second)
			}
		})
	}
}

func TestBreakerReset(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	b := breaker.New(0, breaker.NewMetrics(reg))
	s := snapshot(t, demands)
	b.Update(s)
	allow(b, "OWN", 100, t0)
	if !b.Tripped("OWN") {
		t.Fatal("not tripped")
	}
	// Reloading unchanged lists keeps the trip.
	b.Update(snapshot(t, demands))
	if !b.Tripped("OWN") {
		t.Error("reloading the same lists reset the breaker")
	}
	// The reset endpoint closes it: it counts afresh.
	st, ok := b.Reset("OWN", t0)
	if !ok || st.Tripped || st.LastMinute != 0 || st.Diverted != 0 {
		t.Errorf("Reset = %+v, %v; want closed and counting afresh", st, ok)
	}
	if got := value(t, reg, "flagstream_demand_tripped", "OWN"); got != 0 {
		t.Errorf("flagstream_demand_tripped{demand=OWN} = %v after the reset, want 0", got)
	}
	if got := value(t, reg, "flagstream_demand_resets_total", "OWN"); got != 1 {
		t.Errorf("flagstream_demand_resets_total{demand=OWN} = %v, want 1", got)
	}
	if got := allow(b, "OWN", 60, t0); got != 50 {
		t.Errorf("after the reset %d of 60 allowed, want 50", got)
	}
	if _, ok := b.Reset("NOPE", t0); ok {
		t.Error("Reset of an unknown demand succeeded")
	}
	// A change of the demand's file closes it too; a demand removed from
	// the lists is forgotten, its series gone.
	changed := map[string]string{
		"own.yaml":     strings.Replace(demands["own.yaml"], "hashtags: [India]", "hashtags: [India2021]", 1),
		"default.yaml": demands["default.yaml"],
	}
	b.Update(snapshot(t, changed))
	if b.Tripped("OWN") {
		t.Error("a change of the demand's file kept the breaker tripped")
	}
	if _, ok := b.State("UNLIMITED", t0); ok {
		t.Error("a removed demand is still known")
	}
	if got := testutil.CollectAndCount(reg, "flagstream_demand_tripped"); got != 2 {
		t.Errorf("flagstream_demand_tripped has %d series, want 2 (one per demand)", got)
	}
	states := b.States(t0)
	if len(states) != 2 || states[0].Demand != "DEFAULT" || states[1].Demand != "OWN" || states[0].Limit != 0 || states[1].Limit != 50 {
		t.Errorf("States = %+v", states)
	}
}

// TestBreakerConcurrent has workers flood one demand at once: exactly the
// limit is allowed at most, and every emission is either allowed or
// diverted.
func TestBreakerConcurrent(t *testing.T) {
	b := breaker.New(0, nil)
	b.Update(snapshot(t, demands))
	var allowed, denied atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if b.Allow("OWN", t0) {
					allowed.Add(1)
				} else {
					denied.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if a, d := allowed.Load(), denied.Load(); a > 50 || a < 40 || a+d != 800 {
		t.Errorf("%d allowed and %d diverted of 800, want at most (about) 50 allowed and all 800 accounted for", a, d)
	}
}

func TestAllowAllocatesNothing(t *testing.T) {
	b := breaker.New(1<<30, nil)
	b.Update(snapshot(t, demands))
	if n := testing.AllocsPerRun(1000, func() { b.Allow("DEFAULT", t0) }); n != 0 {
		t.Errorf("Allow allocates %.1f times a call", n)
	}
}

func BenchmarkAllow(b *testing.B) {
	br := breaker.New(1<<30, nil)
	br.Update(snapshot(b, demands))
	b.ReportAllocs()
	for b.Loop() {
		br.Allow("DEFAULT", t0)
	}
}
