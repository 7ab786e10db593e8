package app

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"flagstream/pipeline"
	"flagstream/pipeline/cases"
)

// scanCases is scan's case processor: the pipeline's Ordered stage. It
// applies the evidence of every line in input order to one in-memory
// cases.Processor, writes the events as NDJSON, and keeps the bindings the
// cases learn, so that later lines match a bound account under any handle.
//
// Its clock is the evidence's: the post's created_at, else when the scan
// matched it. So the events, and when an `updated` is due, depend on the
// input alone, not on how fast the scan runs or how many workers it has.
type scanCases struct {
	proc *cases.Processor
	dec  cases.InputDecoder
	out  *bufio.Writer // nil: events are counted, not written
	// shadow and escalation, when set, take the events of shadow-mode and
	// tripped demands and those of exempt accounts, as run's shadow and
	// escalation topics do; else they go to out, marked.
	shadow, escalation *bufio.Writer
	// breaker, when set, counts the events of live demands with their
	// tasks; a tripped demand's events are marked and go to shadow.
	breaker pipeline.Breaker
	buf     []byte
	// refused is called for evidence the processor refuses (it is
	// counted too); scan reports it.
	refused func(r *pipeline.Record, err error)

	// handles maps a bound user id to the keys of the handles bound to
	// it, ids the key of a handle to its user id.
	handles map[string][][]byte
	ids     map[string]string

	clock  time.Time // the latest evidence time
	counts CaseCounts
}

// CaseCounts are what scan's case processor did.
type CaseCounts struct {
	// Evidence counts the evidence records applied, Refused those the
	// processor refused.
	Evidence, Refused int64
	// Events counts the events by kind; Cases the cases with state.
	Events map[cases.EventKind]int64
	Cases  int
	// Bindings counts the bindings learned or pinned.
	Bindings int64
}

var _ pipeline.Ordered = (*scanCases)(nil)

func newScanCases(out io.Writer, updateInterval time.Duration, refused func(*pipeline.Record, error)) *scanCases {
	c := &scanCases{
		proc:    cases.NewProcessor(cases.Config{UpdateInterval: updateInterval}),
		refused: refused,
		handles: map[string][][]byte{},
		ids:     map[string]string{},
		counts:  CaseCounts{Events: map[cases.EventKind]int64{}},
		out:     writerOf(out),
	}
	return c
}

// Bound reports whether userID is bound to a handle of a case.
func (c *scanCases) Bound(userID []byte) bool {
	_, ok := c.handles[string(userID)]
	return ok
}

// BoundHandles calls fn with the key of each handle bound to userID.
func (c *scanCases) BoundHandles(userID []byte, fn func(handleKey []byte)) {
	for _, h := range c.handles[string(userID)] {
		fn(h)
	}
}

// Evidence applies one evidence record and writes its events.
func (c *scanCases) Evidence(b *pipeline.Batch, r int, _, value []byte) error {
	in, err := c.dec.Decode(value)
	if err == nil && in.Evidence != nil {
		t := in.Evidence.TweetCreatedAt
		if t.IsZero() {
			t = in.Evidence.SeenAt
		}
		if t.After(c.clock) {
			c.clock = t
		}
		var out cases.Output
		if _, out, err = c.proc.Apply(in, c.clock); err == nil {
			c.counts.Evidence++
			if out.Binding != nil {
				c.bind(out.Binding)
			}
			return c.write(out.Events)
		}
	}
	c.counts.Refused++
	if c.refused != nil {
		c.refused(&b.Records[r], err)
	}
	return nil
}

// bind notes a binding: the handle is the user id's, no longer another's.
func (c *scanCases) bind(b *cases.Binding) {
	key, err := b.Key()
	if err != nil {
		return
	}
	c.counts.Bindings++
	if old, ok := c.ids[key]; ok {
		if old == b.UserID {
			return
		}
		hs := c.handles[old]
		for i, h := range hs {
			if string(h) == key {
				hs = append(hs[:i:i], hs[i+1:]...)
				break
			}
		}
		if len(hs) == 0 {
			delete(c.handles, old)
		} else {
			c.handles[old] = hs
		}
	}
	c.ids[key] = b.UserID
	c.handles[b.UserID] = append(c.handles[b.UserID], []byte(key))
}

func (c *scanCases) write(events []cases.Event) error {
	for i := range events {
		e := &events[i]
		c.counts.Events[e.Event]++
		// An exempt account's events always reach humans; a shadow
		// demand's never count against the breaker.
		if c.breaker != nil && !e.Shadow && e.Exemption == nil && !c.breaker.Allow(e.DemandID, time.Now()) {
			e.Shadow, e.Tripped = true, true
		}
		w := c.out
		switch {
		case e.Shadow && c.shadow != nil:
			w = c.shadow
		case e.Exemption != nil && c.escalation != nil:
			w = c.escalation
		}
		if w == nil {
			continue
		}
		var err error
		if c.buf, err = e.Append(c.buf[:0]); err != nil {
			return err
		}
		if _, err := w.Write(c.buf); err != nil {
			return fmt.Errorf("write cases: %w", err)
		}
	}
	for _, w := range []*bufio.Writer{c.out, c.shadow, c.escalation} {
		if w == nil {
			continue
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write cases: %w", err)
		}
	}
	return nil
}

// finish emits every pending update, at the latest evidence time, and
// returns the counts.
func (c *scanCases) finish() (CaseCounts, error) {
	err := c.write(c.proc.Flush(c.clock, nil))
	c.counts.Cases = c.proc.Len()
	return c.counts, err
}
