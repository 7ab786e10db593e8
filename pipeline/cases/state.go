package cases

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// StateSchemaID names the format of a record of the case state topic.
const StateSchemaID = "flagstream.case_state/v1"

// Bounds of what a case keeps.
const (
	// MaxSampleTweets is how many tweet ids a case keeps: its first.
	MaxSampleTweets = 10
	// MaxHandlesSeen is how many distinct handles a case keeps of its
	// account; later ones are not recorded.
	MaxHandlesSeen = 20
)

// Status is where a case stands: open (pending a decision) or decided.
type Status string

// The case statuses.
const (
	StatusOpen    Status = "open"
	StatusDecided Status = "decided"
)

// State is everything a case's processor needs to go on after a restart or
// a rebalance; it is the value of the compacted case state topic, keyed by
// CaseID. Apply and Tick never change a State they are given: they return a
// new one, which may share slices with the old (neither is changed again),
// so events can point into states without copying them.
type State struct {
	CaseID    string    `json:"case_id"`
	Entry     string    `json:"entry"` // as written in the demand file
	EntryKind EntryKind `json:"entry_kind"`
	// Demand is the demand as the last evidence carried it.
	Demand   Demand          `json:"demand"`
	Account  AccountState    `json:"account"`
	Evidence EvidenceSummary `json:"evidence"`
	Status   Status          `json:"status"`
	// Decision is the last decision consumed (a reopen included); nil
	// until the first.
	Decision *Ruling `json:"decision"`
	// Exemption is the exemption of the case's account, as the last
	// evidence said (see Apply).
	Exemption *Exemption `json:"exemption,omitempty"`
	// OpenedAt is when the `opened` event was emitted; zero while no
	// evidence has counted (a case can begin with `reassigned`).
	OpenedAt time.Time `json:"opened_at,omitzero"`
	// LastEventAt is when the case's last event was emitted; `updated`
	// waits for the update interval to pass after it.
	LastEventAt time.Time `json:"last_event_at,omitzero"`
	// UpdatePending is true when evidence counted since the last event
	// waits for an `updated` (see Tick).
	UpdatePending bool `json:"update_pending"`
}

// AccountState is the account a case is about, as far as it is known.
type AccountState struct {
	// UserID is the account's id: the entry itself for a user id entry,
	// the bound id for a handle entry; empty while unbound.
	UserID string `json:"user_id"`
	// Handle is the handle the account last used, without '@'.
	Handle string `json:"handle"`
	// HandlesSeen are the distinct handles the account was seen with, the
	// first MaxHandlesSeen of them.
	HandlesSeen []string      `json:"handles_seen"`
	Binding     BindingSource `json:"binding"`
	// HandleNowHeldBy is the user id of another account that now posts
	// under the listed handle; empty while the handle is the account's.
	HandleNowHeldBy string `json:"handle_now_held_by,omitempty"`
}

// EvidenceSummary counts a case's evidence. Counts are cumulative and may
// over-count after a crash (evidence replayed), never under-count.
type EvidenceSummary struct {
	Posts    int64 `json:"posts"`
	Mentions int64 `json:"mentions"`
	// FirstSeen and LastSeen are the earliest and latest time of the
	// evidence counted (the post's time, else when it was seen); zero
	// while none has counted.
	FirstSeen      time.Time `json:"first_seen,omitzero"`
	LastSeen       time.Time `json:"last_seen,omitzero"`
	SampleTweetIDs []string  `json:"sample_tweet_ids"` // the first MaxSampleTweets, distinct
}

// stateWire is the JSON of a state record.
type stateWire struct {
	Schema string `json:"schema"`
	*State
}

// Append appends the state as one line of compact JSON, with a trailing
// newline, to dst: the JSON encoding/json writes of the State's fields
// after "schema", written without reflection, as the processor writes a
// state for nearly every input.
func (s *State) Append(dst []byte) ([]byte, error) {
	w := jsonWriter{b: dst}
	w.raw(`{"schema":"` + StateSchemaID + `","case_id":`)
	w.str(s.CaseID)
	w.raw(`,"entry":`)
	w.str(s.Entry)
	w.raw(`,"entry_kind":`)
	w.str(string(s.EntryKind))
	w.raw(`,"demand":`)
	s.Demand.append(&w)
	a := &s.Account
	w.account(a.UserID, a.Handle, a.HandlesSeen, a.Binding)
	if a.HandleNowHeldBy != "" {
		w.raw(`,"handle_now_held_by":`)
		w.str(a.HandleNowHeldBy)
	}
	e := &s.Evidence
	w.evidence(e.Posts, e.Mentions)
	if !e.FirstSeen.IsZero() {
		w.raw(`,"first_seen":`)
		w.time(e.FirstSeen)
	}
	if !e.LastSeen.IsZero() {
		w.raw(`,"last_seen":`)
		w.time(e.LastSeen)
	}
	w.status(e.SampleTweetIDs, s.Status, s.Decision, s.Exemption)
	if !s.OpenedAt.IsZero() {
		w.raw(`,"opened_at":`)
		w.time(s.OpenedAt)
	}
	if !s.LastEventAt.IsZero() {
		w.raw(`,"last_event_at":`)
		w.time(s.LastEventAt)
	}
	w.raw(`,"update_pending":`)
	if s.UpdatePending {
		w.raw(`true}`)
	} else {
		w.raw(`false}`)
	}
	if w.err != nil {
		return dst, fmt.Errorf("encode case state: %w", w.err)
	}
	return append(w.b, '\n'), nil
}

// DecodeState decodes a record of the case state topic, given its key (nil
// to skip the check that it is the case id). It checks what the state
// machine relies on and ignores fields it does not know; an error is an
// *Error with ReasonInvalidState.
func DecodeState(key, value []byte) (*State, error) {
	s := new(State)
	w := stateWire{State: s}
	if err := json.Unmarshal(value, &w); err != nil {
		return nil, refuse(ReasonInvalidState, "%v", err)
	}
	if w.Schema != StateSchemaID {
		return nil, refuse(ReasonInvalidState, "schema %q, want %q", w.Schema, StateSchemaID)
	}
	s.utc()
	if s.Account.HandlesSeen == nil {
		s.Account.HandlesSeen = []string{}
	}
	if s.Evidence.SampleTweetIDs == nil {
		s.Evidence.SampleTweetIDs = []string{}
	}
	if s.Decision != nil && s.Decision.Countries == nil {
		s.Decision.Countries = []string{}
	}
	if err := s.Validate(); err != nil {
		return nil, refuse(ReasonInvalidState, "%v", err)
	}
	if key != nil && string(key) != s.CaseID {
		return nil, refuse(ReasonInvalidState, "key %q, but the state is of case %s", key, s.CaseID)
	}
	return s, nil
}

// utc puts every time of s in UTC, as the state machine writes them.
func (s *State) utc() {
	for _, t := range []*time.Time{&s.OpenedAt, &s.LastEventAt, &s.Evidence.FirstSeen, &s.Evidence.LastSeen} {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	if s.Decision != nil {
		s.Decision.DecidedAt = s.Decision.DecidedAt.UTC()
	}
}

// Validate reports what is wrong with s, if anything.
func (s *State) Validate() error {
	if err := s.Demand.validate(); err != nil {
		return err
	}
	if err := checkCaseID(s.CaseID, s.Demand.ID, s.EntryKind, s.Entry); err != nil {
		return err
	}
	a, e := &s.Account, &s.Evidence
	switch {
	case s.Status != StatusOpen && s.Status != StatusDecided:
		return fmt.Errorf("unknown status %q", s.Status)
	case s.Status == StatusDecided && (s.Decision == nil || s.Decision.Decision == VerdictReopen):
		return fmt.Errorf("decided without a decision")
	case s.Status == StatusOpen && s.Decision != nil && s.Decision.Decision != VerdictReopen:
		return fmt.Errorf("open with the decision %s", s.Decision.Decision)
	case a.Binding != BindingNone && a.Binding != BindingLearned && a.Binding != BindingPinned:
		return fmt.Errorf("unknown binding %q", a.Binding)
	case s.EntryKind == EntryUserID && (a.Binding != BindingNone || a.UserID != trimZeros(s.Entry)):
		return fmt.Errorf("user id entry %s with account %q bound %s", s.Entry, a.UserID, a.Binding)
	case s.EntryKind == EntryHandle && (a.Binding == BindingNone) != (a.UserID == ""):
		return fmt.Errorf("account %q with binding %s", a.UserID, a.Binding)
	case e.Posts < 0 || e.Mentions < 0:
		return fmt.Errorf("negative evidence counts")
	case (e.Posts+e.Mentions > 0) != !s.OpenedAt.IsZero():
		return fmt.Errorf("%d pieces of evidence but opened at %v", e.Posts+e.Mentions, s.OpenedAt)
	case (e.Posts+e.Mentions > 0) != !e.FirstSeen.IsZero() || e.FirstSeen.IsZero() != e.LastSeen.IsZero() || e.LastSeen.Before(e.FirstSeen):
		return fmt.Errorf("evidence seen from %v to %v", e.FirstSeen, e.LastSeen)
	case len(e.SampleTweetIDs) > MaxSampleTweets:
		return fmt.Errorf("%d sample tweets; at most %d", len(e.SampleTweetIDs), MaxSampleTweets)
	case len(a.HandlesSeen) > MaxHandlesSeen:
		return fmt.Errorf("%d handles seen; at most %d", len(a.HandlesSeen), MaxHandlesSeen)
	case s.UpdatePending && (s.OpenedAt.IsZero() || s.Status != StatusOpen):
		return fmt.Errorf("an update pending on a case not open")
	case !s.OpenedAt.IsZero() && s.LastEventAt.Before(s.OpenedAt):
		return fmt.Errorf("last event before the case was opened")
	}
	if a.UserID != "" {
		if id, err := NormalizeUserID(a.UserID); err != nil || id != a.UserID {
			return fmt.Errorf("account user id %q is not a numeric user id without leading zeros", a.UserID)
		}
	}
	if a.HandleNowHeldBy != "" {
		if id, err := NormalizeUserID(a.HandleNowHeldBy); err != nil || id != a.HandleNowHeldBy || id == a.UserID {
			return fmt.Errorf("handle_now_held_by %q is not another account's user id", a.HandleNowHeldBy)
		}
	}
	if slices.Contains(e.SampleTweetIDs, "") {
		return fmt.Errorf("an empty sample tweet id")
	}
	if err := checkTimes(s.OpenedAt, s.LastEventAt, e.FirstSeen, e.LastSeen); err != nil {
		return err
	}
	if s.Decision != nil {
		if err := s.Decision.validate(); err != nil {
			return fmt.Errorf("decision: %w", err)
		}
	}
	if s.Exemption != nil {
		if err := s.Exemption.validate(); err != nil {
			return err
		}
	}
	return nil
}
