package cases

import (
	"bytes"
	"slices"
	"strings"
	"time"
)

// Config configures the state machine.
type Config struct {
	// UpdateInterval is cases.update_interval: a case emits at most one
	// `updated` per interval after its last event; evidence counted in
	// between waits, pending, for the next evidence after the interval or
	// for Tick. Zero or less: an `updated` for every piece of evidence
	// counted after `opened`.
	UpdateInterval time.Duration
}

// Outcome says what an input did to its case, for metrics: a small fixed
// set, fit for labels.
type Outcome string

// The outcomes of Apply.
const (
	// OutcomeCounted is evidence counted for the case.
	OutcomeCounted Outcome = "counted"
	// OutcomeReassigned is a post under the listed handle by another
	// account than the bound one: not counted; a `reassigned` event when
	// that account is a new holder.
	OutcomeReassigned Outcome = "reassigned"
	// OutcomeOtherAccount is evidence about another account than the
	// case's: a post found through a binding the case does not hold, or a
	// mention without an id of a handle now held by another account. Not
	// counted, no event.
	OutcomeOtherAccount Outcome = "other_account"
	// OutcomeDecided is a decision that decided the case.
	OutcomeDecided Outcome = "decided"
	// OutcomeReopened is a reopen of a decided case.
	OutcomeReopened Outcome = "reopened"
	// OutcomeUnchanged is a reopen of a case that is open: nothing to do.
	OutcomeUnchanged Outcome = "unchanged"
)

// Output is what an input makes: events for the cases topic and a binding
// for the bindings topic.
type Output struct {
	Events []Event
	// Binding is the binding to publish when the input bound the case's
	// handle (learned from the post, or pinned by the demand); else nil.
	Binding *Binding
	Outcome Outcome
}

// Apply applies one input to a case and returns the case's next state and
// what to publish. s is the case's state, nil when it has none; next is a
// new State (s is not changed), or s itself when the input changed nothing,
// so the caller need not write it again. The rules:
//
//   - Evidence on a case without state creates it; `opened` is emitted
//     once, at the first evidence counted, with that evidence counted.
//   - Counted evidence on an open case emits `updated` when UpdateInterval
//     has passed since the case's last event, else leaves an update
//     pending (flushed by Tick, by the next evidence after the interval, or
//     by the next event). On a decided case it is counted silently.
//   - A handle entry's binding: a pin in the evidence binds the handle to
//     the pinned id (and replaces a learned binding); without one, the
//     first user id seen under the listed handle binds it (learned), and
//     so does an id the matcher found through the bindings table.
//     Output.Binding is the binding to publish.
//   - Evidence from the bound id counts under any handle. A post (or a
//     mention entity with an id) under the listed handle from another id
//     counts nothing and emits `reassigned` when that id is not already
//     the handle's known holder; when the bound id posts under the listed
//     handle again, the handle is the account's again. A mention without
//     id of a handle now held by another account, and evidence found
//     through a binding to another id, count nothing. A looser-tier
//     spelling of the handle by another account counts for the case (the
//     demand asked for such spellings) but is not recorded as the
//     account's handle.
//   - A decision other than reopen decides the case and emits `decided`,
//     also on a case already decided (the new decision replaces the old).
//     A reopen of a decided case opens it and emits `reopened`; a reopen of
//     an open case changes nothing. Decisions apply in the order consumed.
//     A decision for a case without state is an *Error with
//     ReasonUnknownCase.
//   - Exemption, from counted evidence: the evidence's, except that
//     evidence of the same lists version without one keeps the case's (a
//     worker cannot tell the account from every post).
//
// Replayed evidence is counted again: counts may over-count after a crash,
// never under-count. An input that fails Evidence.Validate, or a decision
// that ParseDecision would refuse, is an *Error with ReasonInvalidInput.
func Apply(s *State, in Input, now time.Time, cfg Config) (next *State, out Output, err error) {
	now = now.UTC()
	switch {
	case in.Evidence != nil && in.Decision == nil:
		return applyEvidence(s, in.Evidence, now, cfg)
	case in.Decision != nil && in.Evidence == nil:
		return applyDecision(s, &in.Decision.Decision, now)
	}
	return s, Output{}, refuse(ReasonInvalidInput, "an input needs exactly one of evidence and decision")
}

func applyEvidence(s *State, ev *Evidence, now time.Time, cfg Config) (*State, Output, error) {
	if err := ev.Validate(); err != nil {
		return s, Output{}, refuse(ReasonInvalidInput, "evidence of case %s: %v", ev.CaseID, err)
	}
	var listed [maxUserIDDigits]byte
	key, err := appendEntryKey(listed[:0], ev.EntryKind, ev.Entry)
	if err != nil {
		return s, Output{}, refuse(ReasonInvalidInput, "evidence of case %s: entry: %v", ev.CaseID, err)
	}
	if s != nil && s.CaseID != ev.CaseID {
		return s, Output{}, refuse(ReasonInvalidInput, "evidence of case %s applied to case %s", ev.CaseID, s.CaseID)
	}
	// n is the next state, copied to the heap only when it differs.
	var n State
	if s != nil {
		n = *s
	} else {
		n = State{
			CaseID: ev.CaseID, Entry: ev.Entry, EntryKind: ev.EntryKind, Status: StatusOpen,
			Account:  AccountState{Binding: BindingNone, HandlesSeen: []string{}},
			Evidence: EvidenceSummary{SampleTweetIDs: []string{}},
		}
		if ev.EntryKind == EntryUserID {
			n.Account.UserID = string(key)
		}
	}
	changed := s == nil || !sameDemand(&s.Demand, &ev.Demand)
	n.Demand = ev.Demand
	acct := &n.Account
	var out Output
	seenAt := ev.time()

	id, handleSeen := ev.candidate()
	handleSeen = trimSigilString(handleSeen)
	isListed := false
	if ev.EntryKind == EntryHandle && handleSeen != "" {
		var buf [maxHandleBytes]byte
		seen, err := appendHandleKey(buf[:0], handleSeen)
		isListed = err == nil && bytes.Equal(seen, key)
	}
	// The handle a binding names: as the post spells it, when that is
	// the platform's spelling (ASCII), else as the demand does.
	listedHandle := trimAt(ev.Entry)
	if isListed && isPlainHandle(handleSeen) {
		listedHandle = handleSeen
	}

	if ev.EntryKind == EntryHandle && ev.PinnedUserID != "" {
		pin, err := NormalizeUserID(ev.PinnedUserID)
		if err != nil {
			return s, Output{}, refuse(ReasonInvalidInput, "evidence of case %s: pinned_user_id: %v", ev.CaseID, err)
		}
		if acct.Binding != BindingPinned || acct.UserID != pin {
			acct.Binding, acct.UserID = BindingPinned, pin
			if acct.HandleNowHeldBy == pin {
				acct.HandleNowHeldBy = ""
			}
			out.Binding = &Binding{Handle: listedHandle, UserID: pin, FirstSeen: seenAt, TweetID: ev.TweetID, Source: BindingPinned}
			changed = true
		}
	}

	out.Outcome = OutcomeCounted
	switch bound := acct.UserID; {
	case ev.EntryKind == EntryUserID:
	case bound == "":
		if id != "" && (isListed || ev.ViaBinding) {
			acct.UserID, acct.Binding = id, BindingLearned
			if !ev.ViaBinding {
				// A binding found through the table is in the topic
				// already.
				out.Binding = &Binding{Handle: listedHandle, UserID: id, FirstSeen: seenAt, TweetID: ev.TweetID, Source: BindingLearned}
			}
		}
	case id == bound:
		if isListed {
			acct.HandleNowHeldBy = ""
		}
	case id == "":
		if isListed && acct.HandleNowHeldBy != "" {
			out.Outcome = OutcomeOtherAccount
		}
	case isListed:
		out.Outcome = OutcomeReassigned
	case ev.ViaBinding:
		out.Outcome = OutcomeOtherAccount
	}

	switch out.Outcome {
	case OutcomeOtherAccount:
		if s == nil {
			return nil, Output{Outcome: OutcomeOtherAccount}, nil
		}
		if !changed {
			return s, Output{Outcome: OutcomeOtherAccount}, nil
		}
		return n.commit(&out, "", now, nil), out, nil
	case OutcomeReassigned:
		if acct.HandleNowHeldBy == id {
			if !changed {
				return s, out, nil
			}
			return n.commit(&out, "", now, nil), out, nil
		}
		acct.HandleNowHeldBy = id
		return n.commit(&out, EventReassigned, now, utcRetro(ev.Retro)), out, nil
	}

	own := ev.EntryKind == EntryUserID || (id != "" && id == acct.UserID) || (id == "" && isListed)
	// A handle typed into a text (a mention without an entity) may be an
	// evasive spelling (fullwidth, invisible characters): only the
	// platform's spelling of a handle is one the account was seen with.
	if own && isPlainHandle(handleSeen) {
		if !slices.ContainsFunc(acct.HandlesSeen, func(h string) bool { return strings.EqualFold(h, handleSeen) }) &&
			len(acct.HandlesSeen) < MaxHandlesSeen {
			acct.HandlesSeen = append(slices.Clip(acct.HandlesSeen), handleSeen)
		}
		if id != "" || acct.Handle == "" {
			acct.Handle = handleSeen
		}
	}

	e := &n.Evidence
	if ev.Kind == EvidenceMention {
		e.Mentions++
	} else {
		e.Posts++
	}
	if e.FirstSeen.IsZero() || seenAt.Before(e.FirstSeen) {
		e.FirstSeen = seenAt
	}
	if seenAt.After(e.LastSeen) {
		e.LastSeen = seenAt
	}
	if len(e.SampleTweetIDs) < MaxSampleTweets && !slices.Contains(e.SampleTweetIDs, ev.TweetID) {
		e.SampleTweetIDs = append(slices.Clip(e.SampleTweetIDs), ev.TweetID)
	}
	switch {
	case ev.Exemption != nil:
		n.Exemption = ev.Exemption
	case s == nil || s.Demand.ListsVersion != ev.Demand.ListsVersion:
		n.Exemption = nil
	}

	var event EventKind
	switch {
	case n.OpenedAt.IsZero():
		n.OpenedAt = now
		event = EventOpened
	case n.Status == StatusDecided:
		// Counted, silently, until reopened.
	case cfg.UpdateInterval <= 0 || !now.Before(n.LastEventAt.Add(cfg.UpdateInterval)):
		event = EventUpdated
	default:
		n.UpdatePending = true
	}
	return n.commit(&out, event, now, utcRetro(ev.Retro)), out, nil
}

// commit copies the next state n to the heap (n itself is not changed)
// and, when event is not "", emits that event of it at now into out.
func (n *State) commit(out *Output, event EventKind, now time.Time, retro *Retro) *State {
	next := new(State)
	*next = *n
	if event != "" {
		next.emitted(now)
		out.Events = []Event{newEvent(event, next, now, retro)}
	}
	return next
}

// appendEntryKey appends the key of an account entry (see EntryKey) to
// dst, without the '@' of a handle.
func appendEntryKey(dst []byte, kind EntryKind, value string) ([]byte, error) {
	switch kind {
	case EntryHandle:
		return appendHandleKey(dst, value)
	case EntryUserID:
		id, err := NormalizeUserID(value)
		return append(dst, id...), err
	}
	_, err := EntryKey(kind, value)
	return dst, err
}

// utcRetro returns r with its times in UTC, as events write them; r itself
// when they are.
func utcRetro(r *Retro) *Retro {
	if r == nil || r.Since.Location() == time.UTC && r.Until.Location() == time.UTC {
		return r
	}
	return &Retro{Job: r.Job, Since: r.Since.UTC(), Until: r.Until.UTC()}
}

// sameDemand reports whether a and b say the same of a demand.
func sameDemand(a, b *Demand) bool {
	return a.ID == b.ID && a.Action == b.Action && a.Priority == b.Priority && a.Scope == b.Scope &&
		a.Authority == b.Authority && a.LegalBasis == b.LegalBasis && a.Reference == b.Reference &&
		a.ListsVersion == b.ListsVersion && a.Shadow == b.Shadow && slices.Equal(a.Jurisdictions, b.Jurisdictions)
}

func applyDecision(s *State, d *Decision, now time.Time) (*State, Output, error) {
	if p := d.problems(); len(p) > 0 {
		return s, Output{}, refuse(ReasonInvalidInput, "decision: %s", joinProblems(p))
	}
	if d.CaseID == "" {
		return s, Output{}, refuse(ReasonInvalidInput, "a decision of task %s is not for cases", d.TaskID)
	}
	if s == nil {
		return nil, Output{}, refuse(ReasonUnknownCase, "no case %s", d.CaseID)
	}
	if d.CaseID != s.CaseID {
		return s, Output{}, refuse(ReasonInvalidInput, "decision for case %q applied to case %s", d.CaseID, s.CaseID)
	}
	if d.Verdict == VerdictReopen && s.Status == StatusOpen {
		return s, Output{Outcome: OutcomeUnchanged}, nil
	}
	n := *s
	r := d.Ruling()
	r.DecidedAt = r.DecidedAt.UTC()
	n.Decision = &r
	event, out := EventDecided, Output{Outcome: OutcomeDecided}
	n.Status = StatusDecided
	if d.Verdict == VerdictReopen {
		n.Status, event, out.Outcome = StatusOpen, EventReopened, OutcomeReopened
	}
	return n.commit(&out, event, now, nil), out, nil
}

// Tick emits the pending update of a case once the update interval has
// passed since its last event: the periodic flush, so that evidence that
// arrived inside an interval is not held back until more evidence comes.
// It returns s itself and no event when nothing is due.
func Tick(s *State, now time.Time, cfg Config) (*State, []Event) {
	if s == nil || !s.UpdatePending {
		return s, nil
	}
	if due, _ := Due(s, cfg); now.Before(due) {
		return s, nil
	}
	return flush(s, now.UTC())
}

// Flush emits the pending update of a case whether or not the update
// interval has passed: what `scan` does at the end of its input. It returns
// s itself and no event when no update is pending.
func Flush(s *State, now time.Time) (*State, []Event) {
	if s == nil || !s.UpdatePending {
		return s, nil
	}
	return flush(s, now.UTC())
}

func flush(s *State, now time.Time) (*State, []Event) {
	var out Output
	next := s.commit(&out, EventUpdated, now, nil)
	return next, out.Events
}

// emitted notes an event emitted at now: nothing is pending any more, and
// the update interval runs from now, or from the last event if a clock
// behind the one that emitted it (another instance's, after a rebalance)
// says now is earlier.
func (s *State) emitted(now time.Time) {
	s.UpdatePending = false
	if now.After(s.LastEventAt) {
		s.LastEventAt = now
	}
}

// Due returns when the pending update of a case is due (for a timer of the
// caller's); ok is false when none is pending.
func Due(s *State, cfg Config) (due time.Time, ok bool) {
	if s == nil || !s.UpdatePending {
		return time.Time{}, false
	}
	return s.LastEventAt.Add(max(cfg.UpdateInterval, 0)), true
}
