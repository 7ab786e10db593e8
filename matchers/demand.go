package matchers

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Demand is one legal demand: who asked, under which law and for which
// jurisdictions, what should happen, and the entries it names. It is the
// parsed form of one list file.
type Demand struct {
	ID            string
	Authority     string
	Jurisdictions []string // ISO 3166-1 alpha-2 codes
	LegalBasis    string
	Reference     string
	// Received and Expires bound when the demand's entries are active:
	// Received <= t < Expires. A zero time leaves that side open. StateAt
	// says where the demand stands at a time.
	Received, Expires time.Time
	Action            Action
	Scope             Scope
	Priority          Priority
	Status            Status
	// Tiers are the normalization tiers the demand's entries match at.
	Tiers TierSet
	// TextSimilarity is the Jaccard index of word shingles at which a
	// post matches one of the demand's texts; 0 means
	// DefaultTextSimilarity.
	TextSimilarity float64
	// Mode is where the demand's tasks and case events go: to reviewers
	// (live) or only to the shadow topic (shadow).
	Mode Mode
	// MaxTasksPerMinute is the demand's circuit breaker on each instance:
	// past this many tasks and case events within a minute the demand
	// trips. 0 leaves it to the configuration's default
	// (limits.demand_tasks_per_minute); NoTaskLimit turns it off.
	MaxTasksPerMinute int
	Entries           EntryList
	// Pins are the demand's pinned accounts (`accounts:`). The handle of
	// each is also one of Entries' handle entries: a pin binds that entry
	// to an account, so that the account's posts match the entry under any
	// handle.
	Pins []Pin

	File string // where the demand was read, for messages
	Line int    // line of its id
}

// TextThreshold returns the similarity at which the demand's texts match.
func (d *Demand) TextThreshold() float64 {
	if d.TextSimilarity == 0 {
		return DefaultTextSimilarity
	}
	return d.TextSimilarity
}

// JurisdictionList returns the jurisdictions joined by commas.
func (d *Demand) JurisdictionList() string { return strings.Join(d.Jurisdictions, ",") }

// Pin is an `accounts:` item of a demand: the account with user id UserID
// holds the listed handle Handle, whatever handle it posts under later.
type Pin struct {
	Handle string // as written, with or without '@'; a handle entry of the demand
	UserID string // digits, without leading zeros
	File   string
	Line   int
}

// Entry is one thing a demand names.
type Entry struct {
	Kind EntryKind
	// Value is the entry as written in the demand ("@Example", "#Tag"),
	// as review tasks report it.
	Value string
	File  string // the demand or entry file it came from
	Line  int
}

// EntryList holds a demand's entries in columns, so that a demand of
// millions of handles costs a few bytes per entry beyond its text.
type EntryList struct {
	kinds []EntryKind
	lines []int32
	files []uint16 // index into fileNames
	ends  []uint32 // end of each value in text
	text  []byte

	fileNames []string
}

// Len returns the number of entries.
func (l *EntryList) Len() int { return len(l.kinds) }

// Kind returns the kind of entry i.
func (l *EntryList) Kind(i int) EntryKind { return l.kinds[i] }

// Value returns entry i as written. The slice belongs to l.
func (l *EntryList) Value(i int) []byte {
	start, end := packedSpan(l.ends, i)
	return l.text[start:end]
}

// packedSpan returns where item i of items packed end to end lies, ends
// holding where each ends.
func packedSpan[I uint32 | int](ends []uint32, i I) (start, end uint32) {
	if i > 0 {
		start = ends[i-1]
	}
	return start, ends[i]
}

// At returns entry i.
func (l *EntryList) At(i int) Entry {
	return Entry{Kind: l.kinds[i], Value: string(l.Value(i)), File: l.fileNames[l.files[i]], Line: int(l.lines[i])}
}

// Add appends an entry.
func (l *EntryList) Add(e Entry) { l.Append(e.Kind, []byte(e.Value), e.File, e.Line) }

// Append appends an entry of kind, value as written, read at file:line;
// value is copied.
func (l *EntryList) Append(kind EntryKind, value []byte, file string, line int) {
	f := len(l.fileNames) - 1
	if f < 0 || l.fileNames[f] != file {
		if f = slices.Index(l.fileNames, file); f < 0 {
			f = len(l.fileNames)
			l.fileNames = append(l.fileNames, file)
		}
	}
	l.kinds = append(l.kinds, kind)
	l.lines = append(l.lines, int32(line))
	l.files = append(l.files, uint16(f))
	l.text = append(l.text, value...)
	l.ends = append(l.ends, uint32(len(l.text)))
}

// Grow makes room for n more entries of textBytes bytes in all.
func (l *EntryList) Grow(n, textBytes int) {
	l.kinds = slices.Grow(l.kinds, n)
	l.lines = slices.Grow(l.lines, n)
	l.files = slices.Grow(l.files, n)
	l.ends = slices.Grow(l.ends, n)
	l.text = slices.Grow(l.text, textBytes)
}

// TextBytes returns the bytes of all entries' text.
func (l *EntryList) TextBytes() int { return len(l.text) }

// Counts returns the number of entries of each kind.
func (l *EntryList) Counts() (n [numEntryKinds]int) {
	for _, k := range l.kinds {
		n[k]++
	}
	return n
}

// EntryKind is what an entry names.
type EntryKind uint8

// The entry kinds.
const (
	EntryHandle EntryKind = iota
	EntryUserID
	EntryHashtag
	EntryPhrase
	EntryDomain
	// EntryText is a known text, matched as a near-duplicate.
	EntryText

	numEntryKinds = 6
)

var entryKindNames = [numEntryKinds]string{"handle", "user_id", "hashtag", "phrase", "domain", "text"}

// String returns the kind's name, as used in metrics and `lists check`.
func (k EntryKind) String() string {
	if int(k) < len(entryKindNames) {
		return entryKindNames[k]
	}
	return "unknown"
}

// EntryKinds lists every entry kind in order.
func EntryKinds() []EntryKind {
	return []EntryKind{EntryHandle, EntryUserID, EntryHashtag, EntryPhrase, EntryDomain, EntryText}
}

// enum is the name table of a small enumeration.
type enum []string

func (e enum) name(i uint8) string {
	if int(i) < len(e) {
		return e[i]
	}
	return "unknown"
}

func (e enum) parse(s string) (uint8, bool) {
	for i, n := range e {
		if n == s {
			return uint8(i), true
		}
	}
	return 0, false
}

// parseEnum returns the value of T that names s, or an error listing the
// names.
func parseEnum[T ~uint8](names enum, s string) (T, error) {
	i, ok := names.parse(s)
	if !ok {
		return 0, fmt.Errorf("%q is not one of %s", s, names)
	}
	return T(i), nil
}

func (e enum) String() string { return strings.Join(e, " | ") }

// Action is what the demand asks the platform to do.
type Action uint8

// The actions.
const (
	ActionReview Action = iota
	ActionWithhold
)

var actionNames = enum{"review", "withhold"}

func (a Action) String() string { return actionNames.name(uint8(a)) }

// ParseAction returns the action named s.
func ParseAction(s string) (Action, error) { return parseEnum[Action](actionNames, s) }

// Scope is whether a demand targets an account or single tweets.
type Scope uint8

// The scopes.
const (
	ScopeTweet Scope = iota
	ScopeUser
)

var scopeNames = enum{"tweet", "user"}

func (s Scope) String() string { return scopeNames.name(uint8(s)) }

// ParseScope returns the scope named s.
func ParseScope(s string) (Scope, error) { return parseEnum[Scope](scopeNames, s) }

// Priority orders review work; higher is more urgent.
type Priority uint8

// The priorities, lowest first.
const (
	PriorityLow Priority = iota
	PriorityNormal
	PriorityHigh
	PriorityCritical
)

var priorityNames = enum{"low", "normal", "high", "critical"}

func (p Priority) String() string { return priorityNames.name(uint8(p)) }

// ParsePriority returns the priority named s.
func ParsePriority(s string) (Priority, error) { return parseEnum[Priority](priorityNames, s) }

// Status is whether a demand stands.
type Status uint8

// The statuses.
const (
	StatusActive Status = iota
	// StatusRescinded stops a withdrawn demand while keeping its file for
	// the record.
	StatusRescinded
)

var statusNames = enum{"active", "rescinded"}

func (s Status) String() string { return statusNames.name(uint8(s)) }

// ParseStatus returns the status named s.
func ParseStatus(s string) (Status, error) { return parseEnum[Status](statusNames, s) }

// Mode is whether a demand's matches reach reviewers.
type Mode uint8

// The modes.
const (
	ModeLive Mode = iota
	// ModeShadow sends a demand's tasks and case events to the shadow
	// topic only, marked "shadow": true, so that a team sees a new
	// demand's volume before reviewers do.
	ModeShadow
)

var modeNames = enum{"live", "shadow"}

func (m Mode) String() string { return modeNames.name(uint8(m)) }

// ParseMode returns the mode named s.
func ParseMode(s string) (Mode, error) { return parseEnum[Mode](modeNames, s) }

// NoTaskLimit, as a Demand's MaxTasksPerMinute, turns its circuit breaker
// off whatever the configuration's default (a demand file's
// max_tasks_per_minute: 0).
const NoTaskLimit = -1

// TaskLimit returns the demand's circuit breaker given the configuration's
// default: the most tasks and case events a minute before it trips, 0 for
// none.
func (d *Demand) TaskLimit(defaultLimit int) int {
	switch {
	case d.MaxTasksPerMinute == NoTaskLimit:
		return 0
	case d.MaxTasksPerMinute > 0:
		return d.MaxTasksPerMinute
	}
	return max(defaultLimit, 0)
}

// TierSet is a set of tiers.
type TierSet uint8

// DefaultTiers are the tiers a demand matches at unless it says otherwise.
const DefaultTiers = TierSet(1<<TierExact | 1<<TierLoose)

// Has reports whether t is in the set.
func (s TierSet) Has(t Tier) bool { return s&(1<<t) != 0 }

// String lists the set's tiers, strongest first.
func (s TierSet) String() string {
	var names []string
	for t := Tier(0); t < numTiers; t++ {
		if s.Has(t) {
			names = append(names, t.String())
		}
	}
	return strings.Join(names, ",")
}

// ListError is a problem in a list file, at a line when known.
type ListError struct {
	File string
	Line int // 0 when the problem concerns the whole file
	Msg  string
}

// Warning is something odd in a list that does not stop it from loading.
type Warning = ListError

func (e *ListError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Files returns the names of the files the entries came from: the demand
// file and its entry files.
func (l *EntryList) Files() []string { return l.fileNames }
