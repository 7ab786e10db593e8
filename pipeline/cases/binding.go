package cases

import (
	"encoding/json"
	"fmt"
	"time"
)

// BindingSchemaID names the format of a record of the bindings topic.
const BindingSchemaID = "flagstream.binding/v1"

// BindingSource says where a case's binding of handle to user id comes
// from: learned from a post, pinned by the demand's `accounts:`, or none
// yet (and always none for a user id entry, which is an account already).
type BindingSource string

// The binding sources.
const (
	BindingNone    BindingSource = "none"
	BindingLearned BindingSource = "learned"
	BindingPinned  BindingSource = "pinned"
)

// Binding is a record of the compacted bindings topic: the account (user
// id) a listed handle belongs to. Its key is the normalized handle
// ([Binding.Key]). Every instance's matcher follows the topic, so that a
// bound account matches its handle's entry under any new handle (via
// binding); a pinned binding (from the lists) wins over a learned one.
type Binding struct {
	Handle    string        `json:"handle"` // as first seen bound, without '@'
	UserID    string        `json:"user_id"`
	FirstSeen time.Time     `json:"first_seen"` // when the binding was first seen: the post's time
	TweetID   string        `json:"tweet_id"`   // the post it was learned from
	Source    BindingSource `json:"source"`     // learned | pinned
}

// Key returns the record's key: the normalized handle.
func (b *Binding) Key() (string, error) { return NormalizeHandle(b.Handle) }

// Append appends the binding as one line of compact JSON, with a trailing
// newline, to dst.
func (b *Binding) Append(dst []byte) ([]byte, error) {
	w := jsonWriter{b: dst}
	w.raw(`{"schema":"` + BindingSchemaID + `","handle":`)
	w.str(b.Handle)
	w.raw(`,"user_id":`)
	w.str(b.UserID)
	w.raw(`,"first_seen":`)
	w.time(b.FirstSeen)
	w.raw(`,"tweet_id":`)
	w.str(b.TweetID)
	w.raw(`,"source":`)
	w.str(string(b.Source))
	w.raw(`}`)
	if w.err != nil {
		return dst, fmt.Errorf("encode binding: %w", w.err)
	}
	return append(w.b, '\n'), nil
}

// Validate reports what is wrong with b, if anything.
func (b *Binding) Validate() error {
	if !isPlainHandle(b.Handle) {
		return fmt.Errorf("binding handle %q is not a handle (1-%d letters, digits or _, no '@')", b.Handle, maxHandleBytes)
	}
	if id, err := NormalizeUserID(b.UserID); err != nil || id != b.UserID {
		return fmt.Errorf("binding of %s: user_id %q is not a numeric user id without leading zeros", b.Handle, b.UserID)
	}
	if b.Source != BindingLearned && b.Source != BindingPinned {
		return fmt.Errorf("binding of %s: source %q, want learned or pinned", b.Handle, b.Source)
	}
	if b.FirstSeen.IsZero() || !inYears(b.FirstSeen) {
		return fmt.Errorf("binding of %s: first_seen missing or outside the years 0001-9999", b.Handle)
	}
	return nil
}

// DecodeBinding decodes a record of the bindings topic, given its key (nil
// to skip the check that the key is the normalized handle). Fields it does
// not know are ignored; an error is an *Error with ReasonInvalidBinding.
func DecodeBinding(key, value []byte) (Binding, error) {
	var w struct {
		Schema string `json:"schema"`
		Binding
		FirstSeen *time.Time `json:"first_seen"`
	}
	if err := json.Unmarshal(value, &w); err != nil {
		return Binding{}, refuse(ReasonInvalidBinding, "%v", err)
	}
	if w.Schema != BindingSchemaID {
		return Binding{}, refuse(ReasonInvalidBinding, "schema %q, want %q", w.Schema, BindingSchemaID)
	}
	b := w.Binding
	if w.FirstSeen != nil {
		b.FirstSeen = w.FirstSeen.UTC()
	}
	if err := b.Validate(); err != nil {
		return Binding{}, refuse(ReasonInvalidBinding, "%v", err)
	}
	if key != nil {
		if k, _ := b.Key(); string(key) != k {
			return Binding{}, refuse(ReasonInvalidBinding, "key %q, but the binding is of handle %q (key %q)", key, b.Handle, k)
		}
	}
	return b, nil
}
