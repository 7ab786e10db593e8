package cases

import (
	"slices"
	"time"
)

// Processor applies inputs to cases in order, over states held in memory:
// what `scan` runs over its whole input, what tests use, and what the Kafka
// processor can keep per partition (restored with Restore). It is not safe
// for concurrent use: one goroutine owns it, as one instance owns a
// partition.
type Processor struct {
	cfg     Config
	states  map[string]*State
	pending map[string]struct{} // cases with an update pending
}

// NewProcessor returns a Processor without cases.
func NewProcessor(cfg Config) *Processor {
	return &Processor{cfg: cfg, states: map[string]*State{}, pending: map[string]struct{}{}}
}

// Restore sets the state of a case, as read from the case state topic;
// later records of a case replace earlier ones, as compaction would.
func (p *Processor) Restore(s *State) {
	p.set(s)
}

func (p *Processor) set(s *State) {
	p.states[s.CaseID] = s
	if s.UpdatePending {
		p.pending[s.CaseID] = struct{}{}
	} else {
		delete(p.pending, s.CaseID)
	}
}

// State returns the state of a case, nil if it has none. The state must not
// be changed.
func (p *Processor) State(caseID string) *State { return p.states[caseID] }

// Len returns the number of cases.
func (p *Processor) Len() int { return len(p.states) }

// CaseIDs returns the ids of every case, sorted.
func (p *Processor) CaseIDs() []string {
	ids := make([]string, 0, len(p.states))
	for id := range p.states {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Apply applies an input to its case (see the package function Apply) and
// keeps the case's next state. next is the state to write to the state
// topic; it is the previous state itself (or nil) when the input changed
// nothing. An error leaves the case as it was: the caller dead-letters the
// input and goes on.
func (p *Processor) Apply(in Input, now time.Time) (next *State, out Output, err error) {
	prev := p.states[in.CaseID()]
	next, out, err = Apply(prev, in, now, p.cfg)
	if err != nil {
		return prev, Output{}, err
	}
	if next != nil && next != prev {
		p.set(next)
	}
	return next, out, nil
}

// Tick appends to dst the updates that are due at now (see the package
// function Tick), in case id order, and keeps the cases' next states; the
// caller writes each event's state (State(event.CaseID)) after the event.
func (p *Processor) Tick(now time.Time, dst []Event) []Event {
	return p.flush(dst, func(s *State) (*State, []Event) { return Tick(s, now, p.cfg) })
}

// Flush appends to dst every pending update, due or not, in case id order:
// what `scan` does at the end of its input.
func (p *Processor) Flush(now time.Time, dst []Event) []Event {
	return p.flush(dst, func(s *State) (*State, []Event) { return Flush(s, now) })
}

func (p *Processor) flush(dst []Event, f func(*State) (*State, []Event)) []Event {
	if len(p.pending) == 0 {
		return dst
	}
	ids := make([]string, 0, len(p.pending))
	for id := range p.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		next, events := f(p.states[id])
		if len(events) > 0 {
			p.set(next)
			dst = append(dst, events...)
		}
	}
	return dst
}
