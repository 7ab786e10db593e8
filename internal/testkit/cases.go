package testkit

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"flagstream/config"
	"flagstream/internal/dev/synth"
)

// CaseTopic is the topic of case events, as run's defaults name it.
var CaseTopic = config.Default().Cases.Topic

// CaseEvent is what the tests read of a case event
// (flagstream.review_case/v1). The test kit parses it itself: it imports
// nothing that imports matchers.
type CaseEvent struct {
	Schema    string `json:"schema"`
	CaseID    string `json:"case_id"`
	Event     string `json:"event"`
	DemandID  string `json:"demand_id"`
	Entry     string `json:"entry"`
	EntryKind string `json:"entry_kind"`
	Account   struct {
		UserID          string   `json:"user_id"`
		Handle          string   `json:"handle"`
		HandlesSeen     []string `json:"handles_seen"`
		Binding         string   `json:"binding"`
		HandleNowHeldBy *string  `json:"handle_now_held_by"`
	} `json:"account"`
	Evidence struct {
		Posts    int64 `json:"posts"`
		Mentions int64 `json:"mentions"`
	} `json:"evidence"`
	Status   string `json:"status"`
	Decision *struct {
		Decision string `json:"decision"`
	} `json:"decision"`
	Shadow  bool `json:"shadow"`
	Tripped bool `json:"tripped"`
}

// Cases is what a test checks of the case events of a topic: every case's
// events in order, keyed by demand id and entry key (CaseKey).
type Cases map[string][]CaseEvent

// CaseKey returns the key of a case in Cases: the demand id and the entry,
// a handle as "@" and the handle in lowercase ("TEST-IN-1 @kisan_test_one",
// whether the demand file wrote "@Kisan_Test_One" or "kisan_test_one").
func CaseKey(demandID, kind, entry string) string {
	if kind == "handle" {
		entry = "@" + strings.ToLower(strings.TrimPrefix(entry, "@"))
	}
	return demandID + " " + entry
}

// ParseCases groups case event records by case, failing the test on a
// record that is not one, on a key that is not its case id, and on two case
// ids for one demand and entry.
func ParseCases(tb testing.TB, values, keys [][]byte) Cases {
	tb.Helper()
	out := Cases{}
	for i, v := range values {
		var e CaseEvent
		if err := json.Unmarshal(v, &e); err != nil || e.Schema != "flagstream.review_case/v1" || e.CaseID == "" {
			tb.Fatalf("not a case event (%v): %s", err, v)
		}
		if keys != nil && string(keys[i]) != e.CaseID {
			tb.Errorf("case event key %q, want its case id %s", keys[i], e.CaseID)
		}
		k := CaseKey(e.DemandID, e.EntryKind, e.Entry)
		if prev := out[k]; len(prev) > 0 && prev[0].CaseID != e.CaseID {
			tb.Errorf("%s: two case ids, %s and %s", k, prev[0].CaseID, e.CaseID)
		}
		out[k] = append(out[k], e)
	}
	return out
}

// Cases reads the case events of topic (CaseTopic when "").
func (k *Kit) Cases(topic string) Cases {
	k.tb.Helper()
	if topic == "" {
		topic = CaseTopic
	}
	return ReadCases(k.tb, k.Broker.Addr(), topic)
}

// ReadCases reads the case events of topic at addr, as ParseCases parses
// them, keys included.
func ReadCases(tb testing.TB, addr, topic string) Cases {
	tb.Helper()
	msgs := ReadTopic(tb, addr, topic)
	values, keys := make([][]byte, len(msgs)), make([][]byte, len(msgs))
	for i, m := range msgs {
		values[i], keys[i] = m.Value, m.Key
	}
	return ParseCases(tb, values, keys)
}

// Last returns the last event of a case, or the zero event.
func (c Cases) Last(key string) CaseEvent {
	if es := c[key]; len(es) > 0 {
		return es[len(es)-1]
	}
	return CaseEvent{}
}

// Count returns how many events of kind event a case has.
func (c Cases) Count(key, event string) int {
	n := 0
	for _, e := range c[key] {
		if e.Event == event {
			n++
		}
	}
	return n
}

// Kinds returns a case's event kinds joined by commas.
func (c Cases) Kinds(key string) string {
	var ks []string
	for _, e := range c[key] {
		ks = append(ks, e.Event)
	}
	return strings.Join(ks, ",")
}

// Evidence is the true evidence of a listed handle's case in what a Kit
// produced: posts by the listed account (renamed ones included) and
// mentions of it. TypedMentions are mentions without an entity (an id); a
// case counts them only while no other account holds the handle.
type Evidence struct {
	Posts, Mentions, TypedMentions int64
	TakenOver                      int64 // posts by another account under the handle: not the case's
}

// TrueEvidence returns, by listed handle, the evidence its case must count
// at least (see Evidence), of the records that named the Kit's
// CaseHandles.
func (k *Kit) TrueEvidence() map[string]Evidence { return TrueEvidence(k.Exp.Accounts, k.CaseHandles) }

// TrueEvidence returns, by listed handle among handles (all when nil), the
// evidence its case must count at least in records that named accounts.
func TrueEvidence(accounts []synth.AccountPost, handles map[string]bool) map[string]Evidence {
	out := map[string]Evidence{}
	for _, a := range accounts {
		if handles != nil && !handles[a.Handle] {
			continue
		}
		ev := out[a.Handle]
		switch {
		case a.TakenOver:
			ev.TakenOver++
		case a.Mention && a.UserID == "":
			ev.TypedMentions++
		case a.Mention:
			ev.Mentions++
		default:
			ev.Posts++
		}
		out[a.Handle] = ev
	}
	return out
}

// atLeast returns the counts a case must show at least: typed mentions of
// a handle taken over are not required (the case counts them only while
// the handle is the account's).
func (e Evidence) atLeast() (posts, mentions int64) {
	if e.TakenOver > 0 {
		return e.Posts, e.Mentions
	}
	return e.Posts, e.Mentions + e.TypedMentions
}

// CheckCases asserts what every case of the Kit's demand must show in the
// case events cs (see the function CheckCases).
func (k *Kit) CheckCases(cs Cases, demandID string, crashed bool) {
	k.tb.Helper()
	CheckCases(k.tb, cs, demandID, k.TrueEvidence(), crashed)
}

// CheckCases asserts what the cases of a demand must show in the case
// events cs, by listed handle of truth (TrueEvidence): a case, opened once
// (at least once when crashed is set: a crash may repeat the last events,
// with the same case id), and last counts not under the true ones. No case
// may exist for a handle entry the records did not name.
func CheckCases(tb testing.TB, cs Cases, demandID string, truth map[string]Evidence, crashed bool) {
	tb.Helper()
	for handle, ev := range truth {
		key := CaseKey(demandID, "handle", handle)
		posts, mentions := ev.atLeast()
		if posts+mentions == 0 {
			continue // only the new holder's posts: they are not the account's
		}
		if len(cs[key]) == 0 {
			tb.Errorf("listed account %s posted or was mentioned but has no case", handle)
			continue
		}
		opened := cs.Count(key, "opened")
		if opened == 0 || (!crashed && opened != 1) {
			tb.Errorf("case %s: %d opened events (%s)", key, opened, cs.Kinds(key))
		}
		last := cs.Last(key)
		if last.Evidence.Posts < posts || last.Evidence.Mentions < mentions {
			tb.Errorf("case %s: last event counts %d posts and %d mentions, under the true %d and %d",
				key, last.Evidence.Posts, last.Evidence.Mentions, posts, mentions)
		}
	}
	for key, es := range cs {
		if es[0].DemandID != demandID || es[0].EntryKind != "handle" {
			continue
		}
		if _, named := truth[strings.TrimPrefix(key, demandID+" @")]; !named {
			tb.Errorf("case %s for an account the records never named", key)
		}
	}
}

// String returns, for a log message, each case's events and last counts.
func (c Cases) String() string {
	var parts []string
	for key := range c {
		last := c.Last(key)
		parts = append(parts, fmt.Sprintf("%s: %s (%d posts, %d mentions)", key, c.Kinds(key), last.Evidence.Posts, last.Evidence.Mentions))
	}
	return strings.Join(parts, "; ")
}

// Settled reports whether the last events of the cases of a demand in cs
// count at least the true evidence (TrueEvidence) of every listed handle:
// the pending updates have been emitted.
func (c Cases) Settled(demandID string, truth map[string]Evidence) bool {
	for handle, ev := range truth {
		posts, mentions := ev.atLeast()
		if posts+mentions == 0 {
			continue
		}
		last := c.Last(CaseKey(demandID, "handle", handle))
		if last.Evidence.Posts < posts || last.Evidence.Mentions < mentions {
			return false
		}
	}
	return true
}

// CasesSettled reports whether the cases in cs of the Kit's demand count
// the true evidence of the Kit's records (see Cases.Settled).
func (k *Kit) CasesSettled(cs Cases, demandID string) bool {
	return cs.Settled(demandID, k.TrueEvidence())
}
