// Package accounts keeps what every flagstream run instance knows of
// handle bindings: the Table of listed handles bound to user ids, which the
// matcher of every worker reads (through matchers.Bindings) to follow a
// listed account under a new handle, and the Follower that fills it from
// the compacted bindings topic: the whole topic before the instance turns
// ready, then every binding as the case processors publish it.
package accounts

import (
	"bytes"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"flagstream/matchers"
	"flagstream/pipeline/cases"
)

var _ matchers.Bindings = (*Table)(nil)

// Table is the bindings of handles to user ids: those read from the
// bindings topic, with the pins of the lists (a demand's `accounts:`)
// winning over them. Reads are lock-free, from any goroutine: an atomic
// pointer to an immutable view, rebuilt and swapped after each change.
// Changes (Apply, Remove, SetPins) come from few goroutines, rarely: the
// follower, per fetched batch, and the lists coordinator, per reload.
type Table struct {
	mu       sync.Mutex               // serializes changes; guards what follows
	bindings map[string]cases.Binding // normalized handle → the topic's binding
	pins     map[string]string        // normalized handle → pinned user id

	view atomic.Pointer[view]
}

// view is an immutable state of the table.
type view struct {
	byUser   map[string][][]byte // user id → normalized handles bound to it, sorted
	byHandle map[string]string   // normalized handle → user id
}

// NewTable returns an empty table.
func NewTable() *Table {
	t := &Table{bindings: map[string]cases.Binding{}, pins: map[string]string{}}
	t.view.Store(&view{byUser: map[string][][]byte{}, byHandle: map[string]string{}})
	return t
}

// BoundHandles calls fn with the normalized handle (the exact-tier key of a
// handle entry, without '@') of every handle bound to userID, in order; fn
// must neither change nor keep the slice. It does not allocate: workers
// call it for the author and mentions of every post.
func (t *Table) BoundHandles(userID []byte, fn func(handleKey []byte)) {
	for _, h := range t.view.Load().byUser[string(userID)] {
		fn(h)
	}
}

// UserID returns the user id a normalized handle is bound to.
func (t *Table) UserID(handleKey string) (string, bool) {
	id, ok := t.view.Load().byHandle[handleKey]
	return id, ok
}

// Len returns the number of handles bound.
func (t *Table) Len() int { return len(t.view.Load().byHandle) }

// Apply records bindings read from the bindings topic, in order; a later
// binding of a handle replaces an earlier one, as compaction would, except
// that a learned binding never replaces a pinned one (a pin is what a
// demand says; the topic's last learned binding may come from another
// demand's case). It reports how many changed the table.
func (t *Table) Apply(bs []cases.Binding) (changed int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range bs {
		key, err := b.Key()
		if err != nil {
			continue // DecodeBinding validated it; nothing else calls Apply
		}
		old, ok := t.bindings[key]
		if ok && old.Source == cases.BindingPinned && b.Source == cases.BindingLearned {
			continue
		}
		if ok && old.UserID == b.UserID && old.Source == b.Source {
			continue
		}
		t.bindings[key] = b
		changed++
	}
	if changed > 0 {
		t.publish()
	}
	return changed
}

// Remove forgets the binding of a handle (a tombstone in the topic).
func (t *Table) Remove(handleKey string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.bindings[handleKey]; ok {
		delete(t.bindings, handleKey)
		t.publish()
	}
}

// SetPins sets the pins of the lists now active (normalized handle → user
// id), replacing the previous ones: a pinned handle is bound to its pinned
// id whatever the topic says.
func (t *Table) SetPins(pins map[string]string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if maps.Equal(t.pins, pins) {
		return
	}
	t.pins = maps.Clone(pins)
	t.publish()
}

// publish builds the view of the bindings and pins and swaps it in.
func (t *Table) publish() {
	v := &view{byUser: make(map[string][][]byte, len(t.bindings)), byHandle: make(map[string]string, len(t.bindings)+len(t.pins))}
	for h, b := range t.bindings {
		v.byHandle[h] = b.UserID
	}
	maps.Copy(v.byHandle, t.pins)
	for h, id := range v.byHandle {
		v.byUser[id] = append(v.byUser[id], []byte(h))
	}
	for _, hs := range v.byUser {
		slices.SortFunc(hs, bytes.Compare)
	}
	t.view.Store(v)
}
