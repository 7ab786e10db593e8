// Package breaker is the circuit breaker of demands: a fuse for a list
// entry that turns out far too broad (a #India in a hashtag list floods the
// review queue in seconds). Per demand and instance it counts the review
// tasks and case events emitted over the last minute; once a demand's
// count passes its limit (max_tasks_per_minute in the demand file, else
// limits.demand_tasks_per_minute), the demand trips: its further tasks and
// case events go to the shadow topic, marked "tripped": true, never
// dropped, until the demand's file changes or someone resets it
// (POST /-/demands/{id}/reset). A tripped demand stays tripped however the
// flood ebbs: a person decides when reviewers see its matches again.
//
// The pipeline's workers and the case processor share one Breaker; Allow
// is safe for concurrent use, takes no lock and allocates nothing.
package breaker

import (
	"crypto/sha256"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"flagstream/matchers"
)

// window is the span over which emissions are counted, in one-second
// buckets: a demand trips when more than its limit were emitted within the
// last window seconds (to the second).
const window = 60

// Breaker holds the circuit breaker of every demand of the current lists.
type Breaker struct {
	defaultLimit int
	metrics      *Metrics

	current atomic.Pointer[map[string]*demand]
	mu      sync.Mutex // serializes Update and Reset
}

// demand is one demand's breaker. A new one replaces it when the demand's
// file changes (its hash) or it is reset; workers holding the old one
// finish with it harmlessly.
type demand struct {
	id    string
	limit int // 0: no breaker
	hash  [sha256.Size]byte

	// buckets[s % window] holds the emissions of second s: s << 32 |
	// count.
	buckets   [window]atomic.Uint64
	tripped   atomic.Bool
	trippedAt atomic.Int64 // Unix nanoseconds
	diverted  atomic.Int64 // since it tripped
}

// New returns a breaker whose demands trip past defaultLimit tasks and
// case events a minute unless they set their own (0: no default breaker).
// It knows no demand until Update. metrics may be nil.
func New(defaultLimit int, metrics *Metrics) *Breaker {
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	b := &Breaker{defaultLimit: max(defaultLimit, 0), metrics: metrics}
	b.current.Store(&map[string]*demand{})
	return b
}

// Update takes the demands of snapshot s: a demand that is new, or whose
// file changed since the last Update (matchers.Snapshot.DemandHash), gets
// a closed breaker; the others keep theirs, tripped or not; demands gone
// from s are forgotten. Call it whenever the lists load.
func (b *Breaker) Update(s *matchers.Snapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := *b.current.Load()
	next := make(map[string]*demand, len(s.Demands()))
	for i := range s.Demands() {
		d := &s.Demands()[i]
		limit, hash := d.TaskLimit(b.defaultLimit), s.DemandHash(i)
		if prev, ok := old[d.ID]; ok && prev.hash == hash && prev.limit == limit {
			next[d.ID] = prev
			continue
		}
		next[d.ID] = &demand{id: d.ID, limit: limit, hash: hash}
		b.metrics.tripped.WithLabelValues(d.ID).Set(0)
	}
	for id := range old {
		if _, ok := next[id]; !ok {
			b.metrics.tripped.DeleteLabelValues(id)
		}
	}
	b.current.Store(&next)
}

// Allow counts one review task or case event of the demand with id,
// emitted at now, and reports whether it may go to reviewers: false when
// the demand has tripped, by this emission or earlier, and the emission
// must go to the shadow topic marked tripped. A demand without a breaker,
// or unknown to the last Update, is always allowed.
func (b *Breaker) Allow(id string, now time.Time) bool {
	d := (*b.current.Load())[id]
	if d == nil || d.limit == 0 {
		return true
	}
	sec := uint32(now.Unix())
	if d.tripped.Load() {
		d.diverted.Add(1)
		return false
	}
	slot := &d.buckets[sec%window]
	for {
		old := slot.Load()
		next := uint64(sec)<<32 | 1
		if uint32(old>>32) == sec {
			next = old + 1
		}
		if slot.CompareAndSwap(old, next) {
			break
		}
	}
	if d.lastMinute(sec) <= d.limit {
		return true
	}
	if d.tripped.CompareAndSwap(false, true) {
		d.trippedAt.Store(now.UnixNano())
		b.metrics.tripped.WithLabelValues(id).Set(1)
		b.metrics.trips.WithLabelValues(id).Inc()
	}
	d.diverted.Add(1)
	return false
}

// lastMinute returns the emissions counted in the window ending at second
// sec, and those of the maxLag seconds after it: workers read the clock
// for a whole batch, so one whose reading is a second older than
// another's must still count the other's emissions, or both may pass the
// limit.
func (d *demand) lastMinute(sec uint32) int {
	n := 0
	for i := range d.buckets {
		v := d.buckets[i].Load()
		b := uint32(v >> 32)
		if sec-b < window || b-sec <= maxLag { // either difference wraps around when negative
			n += int(uint32(v))
		}
	}
	return n
}

// maxLag is how many seconds after a caller's second lastMinute counts:
// more than a batch takes, less than a clock stepped back by hand.
const maxLag = 5

// Reset closes the breaker of the demand with id, as of now: it counts
// afresh. ok is false when no demand has that id.
func (b *Breaker) Reset(id string, now time.Time) (State, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := *b.current.Load()
	prev, ok := old[id]
	if !ok {
		return State{}, false
	}
	next := maps.Clone(old)
	d := &demand{id: id, limit: prev.limit, hash: prev.hash}
	next[id] = d
	b.current.Store(&next)
	b.metrics.tripped.WithLabelValues(id).Set(0)
	if prev.tripped.Load() {
		b.metrics.resets.WithLabelValues(id).Inc()
	}
	return d.state(now), true
}

// State is where one demand's breaker stands, as the admin endpoints
// report it.
type State struct {
	Demand string `json:"demand"`
	// Limit is the most tasks and case events a minute before it trips;
	// 0 when the demand has no breaker.
	Limit   int  `json:"max_tasks_per_minute"`
	Tripped bool `json:"tripped"`
	// TrippedAt is when it tripped; nil while closed.
	TrippedAt *time.Time `json:"tripped_at"`
	// LastMinute counts the tasks and case events of the last minute
	// (to the second) that were counted before it tripped.
	LastMinute int `json:"tasks_last_minute"`
	// Diverted counts the tasks and case events sent to the shadow topic
	// since it tripped.
	Diverted int64 `json:"diverted"`
}

func (d *demand) state(now time.Time) State {
	st := State{Demand: d.id, Limit: d.limit, Tripped: d.tripped.Load(), Diverted: d.diverted.Load()}
	if st.Tripped {
		t := time.Unix(0, d.trippedAt.Load()).UTC()
		st.TrippedAt = &t
	}
	if d.limit > 0 {
		st.LastMinute = d.lastMinute(uint32(now.Unix()))
	}
	return st
}

// State returns the state of the demand with id; ok is false when no
// demand has that id.
func (b *Breaker) State(id string, now time.Time) (State, bool) {
	d, ok := (*b.current.Load())[id]
	if !ok {
		return State{}, false
	}
	return d.state(now), true
}

// States returns the state of every demand, sorted by id.
func (b *Breaker) States(now time.Time) []State {
	cur := *b.current.Load()
	out := make([]State, 0, len(cur))
	for _, id := range slices.Sorted(maps.Keys(cur)) {
		out = append(out, cur[id].state(now))
	}
	return out
}

// Tripped reports whether the demand with id has tripped.
func (b *Breaker) Tripped(id string) bool {
	d := (*b.current.Load())[id]
	return d != nil && d.tripped.Load()
}

// Metrics are the breaker's Prometheus metrics, labelled by demand id.
type Metrics struct {
	tripped *prometheus.GaugeVec
	trips   *prometheus.CounterVec
	resets  *prometheus.CounterVec
}

// NewMetrics registers the breaker's metrics with reg (nil: none).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		tripped: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagstream_demand_tripped",
			Help: "1 while the demand's circuit breaker has tripped on this instance: its tasks and case events go to the shadow topic, marked tripped, until its file changes or POST /-/demands/{id}/reset.",
		}, []string{"demand"}),
		trips: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagstream_demand_trips_total",
			Help: "Times the demand's circuit breaker tripped on this instance.",
		}, []string{"demand"}),
		resets: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagstream_demand_resets_total",
			Help: "Times a tripped circuit breaker of the demand was reset by POST /-/demands/{id}/reset.",
		}, []string{"demand"}),
	}
}
