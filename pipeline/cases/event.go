package cases

import (
	"encoding/json"
	"fmt"
	"time"
)

// CaseSchemaID names the format of a case event.
const CaseSchemaID = "flagstream.review_case/v1"

// EventKind is what happened to a case.
type EventKind string

// The case events.
const (
	// EventOpened is the case's first event with evidence counted; there
	// is one per case.
	EventOpened EventKind = "opened"
	// EventUpdated brings new evidence, at most once per update interval.
	EventUpdated EventKind = "updated"
	// EventReassigned says that another account posts under the listed
	// handle: account.handle_now_held_by names it.
	EventReassigned EventKind = "reassigned"
	// EventDecided follows a decision on the case.
	EventDecided EventKind = "decided"
	// EventReopened follows a reopen of a decided case.
	EventReopened EventKind = "reopened"
)

// Event is a case event (flagstream.review_case/v1): the value of a record
// of the cases topic, keyed by CaseID, or a line of `scan --cases`. Each
// event shows the whole case as it stands. The json tags give the contract;
// Append writes the same JSON faster.
type Event struct {
	Schema        string        `json:"schema"`
	CaseID        string        `json:"case_id"`
	Event         EventKind     `json:"event"`
	DemandID      string        `json:"demand_id"`
	Entry         string        `json:"entry"`
	EntryKind     EntryKind     `json:"entry_kind"`
	Jurisdictions []string      `json:"jurisdictions"`
	Action        string        `json:"action"`   // review | withhold, escalate when exempt
	Priority      string        `json:"priority"` // the demand's, critical when exempt
	Scope         string        `json:"scope"`
	Authority     string        `json:"authority"`
	LegalBasis    string        `json:"legal_basis"`
	Reference     string        `json:"reference,omitempty"`
	ListsVersion  string        `json:"lists_version"`
	UpdatedAt     time.Time     `json:"updated_at"`
	Account       EventAccount  `json:"account"`
	Evidence      EventEvidence `json:"evidence"`
	Status        Status        `json:"status"`
	Decision      *Ruling       `json:"decision"`
	// The governance fields, absent when not set.
	Exemption *Exemption `json:"exemption,omitempty"`
	Shadow    bool       `json:"shadow,omitempty"`
	// Tripped is set by the caller when the demand's circuit breaker has
	// tripped on this instance: the event goes to the shadow topic.
	Tripped bool   `json:"tripped,omitempty"`
	Retro   *Retro `json:"retro,omitempty"`
}

// EventAccount is a case event's account.
type EventAccount struct {
	UserID      string        `json:"user_id"`
	Handle      string        `json:"handle"`
	HandlesSeen []string      `json:"handles_seen"`
	Binding     BindingSource `json:"binding"`
	// HandleNowHeldBy is null until another account takes the listed
	// handle over.
	HandleNowHeldBy *string `json:"handle_now_held_by"`
}

// EventEvidence is a case event's evidence summary.
type EventEvidence struct {
	Posts          int64      `json:"posts"`
	Mentions       int64      `json:"mentions"`
	FirstSeen      *time.Time `json:"first_seen"` // null while no evidence counted
	LastSeen       *time.Time `json:"last_seen"`
	SampleTweetIDs []string   `json:"sample_tweet_ids"`
}

// newEvent returns the event of kind k of case s at now. The event points
// into s, which is never changed again.
func newEvent(k EventKind, s *State, now time.Time, retro *Retro) Event {
	e := Event{
		Schema:        CaseSchemaID,
		CaseID:        s.CaseID,
		Event:         k,
		DemandID:      s.Demand.ID,
		Entry:         s.Entry,
		EntryKind:     s.EntryKind,
		Jurisdictions: s.Demand.Jurisdictions,
		Action:        s.Demand.Action,
		Priority:      s.Demand.Priority,
		Scope:         s.Demand.Scope,
		Authority:     s.Demand.Authority,
		LegalBasis:    s.Demand.LegalBasis,
		Reference:     s.Demand.Reference,
		ListsVersion:  s.Demand.ListsVersion,
		UpdatedAt:     now,
		Account: EventAccount{
			UserID:      s.Account.UserID,
			Handle:      s.Account.Handle,
			HandlesSeen: s.Account.HandlesSeen,
			Binding:     s.Account.Binding,
		},
		Evidence: EventEvidence{
			Posts:          s.Evidence.Posts,
			Mentions:       s.Evidence.Mentions,
			SampleTweetIDs: s.Evidence.SampleTweetIDs,
		},
		Status:    s.Status,
		Decision:  s.Decision,
		Exemption: s.Exemption,
		Shadow:    s.Demand.Shadow,
		Retro:     retro,
	}
	if s.Account.HandleNowHeldBy != "" {
		e.Account.HandleNowHeldBy = &s.Account.HandleNowHeldBy
	}
	if !s.Evidence.FirstSeen.IsZero() {
		e.Evidence.FirstSeen, e.Evidence.LastSeen = &s.Evidence.FirstSeen, &s.Evidence.LastSeen
	}
	if s.Exemption != nil {
		e.Action, e.Priority = "escalate", "critical"
	}
	return e
}

// Key returns the event's record key: its case id.
func (e *Event) Key() string { return e.CaseID }

// Append appends the event as one line of JSON, with a trailing newline, to
// dst: the same JSON as encoding/json writes of e with HTML escaping off,
// without reflection or allocation.
func (e *Event) Append(dst []byte) ([]byte, error) {
	w := jsonWriter{b: dst}
	w.raw(`{"schema":`)
	w.str(e.Schema)
	w.raw(`,"case_id":`)
	w.str(e.CaseID)
	w.raw(`,"event":`)
	w.str(string(e.Event))
	w.raw(`,"demand_id":`)
	w.str(e.DemandID)
	w.raw(`,"entry":`)
	w.str(e.Entry)
	w.raw(`,"entry_kind":`)
	w.str(string(e.EntryKind))
	w.raw(`,"jurisdictions":`)
	w.strsOrNull(e.Jurisdictions)
	w.raw(`,"action":`)
	w.str(e.Action)
	w.raw(`,"priority":`)
	w.str(e.Priority)
	w.raw(`,"scope":`)
	w.str(e.Scope)
	w.raw(`,"authority":`)
	w.str(e.Authority)
	w.raw(`,"legal_basis":`)
	w.str(e.LegalBasis)
	if e.Reference != "" {
		w.raw(`,"reference":`)
		w.str(e.Reference)
	}
	w.raw(`,"lists_version":`)
	w.str(e.ListsVersion)
	w.raw(`,"updated_at":`)
	w.time(e.UpdatedAt)

	a := &e.Account
	w.account(a.UserID, a.Handle, a.HandlesSeen, a.Binding)
	w.raw(`,"handle_now_held_by":`)
	if a.HandleNowHeldBy == nil {
		w.raw(`null`)
	} else {
		w.str(*a.HandleNowHeldBy)
	}

	v := &e.Evidence
	w.evidence(v.Posts, v.Mentions)
	w.raw(`,"first_seen":`)
	w.timeOrNull(v.FirstSeen)
	w.raw(`,"last_seen":`)
	w.timeOrNull(v.LastSeen)
	w.status(v.SampleTweetIDs, e.Status, e.Decision, e.Exemption)
	if e.Shadow {
		w.raw(`,"shadow":true`)
	}
	if e.Tripped {
		w.raw(`,"tripped":true`)
	}
	if e.Retro != nil {
		w.raw(`,"retro":`)
		e.Retro.append(&w)
	}
	w.raw("}\n")
	if w.err != nil {
		return dst, fmt.Errorf("encode case event: %w", w.err)
	}
	return w.b, nil
}

// account writes the members that a case event's and a state's account
// share, from `,"account":{`, left open.
func (w *jsonWriter) account(userID, handle string, handlesSeen []string, binding BindingSource) {
	w.raw(`,"account":{"user_id":`)
	w.str(userID)
	w.raw(`,"handle":`)
	w.str(handle)
	w.raw(`,"handles_seen":`)
	w.strsOrNull(handlesSeen)
	w.raw(`,"binding":`)
	w.str(string(binding))
}

// evidence closes the account and writes the evidence's counts, left
// open.
func (w *jsonWriter) evidence(posts, mentions int64) {
	w.raw(`},"evidence":{"posts":`)
	w.int(posts)
	w.raw(`,"mentions":`)
	w.int(mentions)
}

// status writes the evidence's sample tweets, closing it, then the case's
// status, decision and exemption, as a case event and a state have them.
func (w *jsonWriter) status(sampleTweetIDs []string, status Status, d *Ruling, ex *Exemption) {
	w.raw(`,"sample_tweet_ids":`)
	w.strsOrNull(sampleTweetIDs)
	w.raw(`},"status":`)
	w.str(string(status))
	w.raw(`,"decision":`)
	if d == nil {
		w.raw(`null`)
	} else {
		d.append(w)
	}
	if ex != nil {
		w.raw(`,"exemption":`)
		ex.append(w)
	}
}

// strsOrNull writes a nil slice as null, as encoding/json does.
func (w *jsonWriter) strsOrNull(ss []string) {
	if ss == nil {
		w.raw(`null`)
		return
	}
	w.strs(ss)
}

func (w *jsonWriter) timeOrNull(t *time.Time) {
	if t == nil {
		w.raw(`null`)
		return
	}
	w.time(*t)
}

// ParseEvent decodes a case event, as the report and tests read them. It
// checks the schema name and leaves the rest to the reader: fields it does
// not know are ignored, so that later versions may add some.
func ParseEvent(data []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(data, &e); err != nil {
		return Event{}, fmt.Errorf("decode case event: %w", err)
	}
	if e.Schema != CaseSchemaID {
		return Event{}, fmt.Errorf("decode case event: schema %q, want %q", e.Schema, CaseSchemaID)
	}
	return e, nil
}
