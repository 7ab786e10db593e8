package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// The schemas of the inputs (DESIGN.md, "Review task" and "Accounts:
// identity, bindings and cases"). The report parses them with its own
// minimal structs: it needs a few fields of each, and it must accept
// fields added later.
const (
	caseSchema     = "flagstream.review_case/v1"
	taskSchema     = "flagstream.review_task/v1"
	decisionSchema = "flagstream.review_decision/v1"
)

// caseEvent is the part of a case event the report reads.
type caseEvent struct {
	Schema        string   `json:"schema"`
	CaseID        string   `json:"case_id"`
	Event         string   `json:"event"`
	DemandID      string   `json:"demand_id"`
	Jurisdictions []string `json:"jurisdictions"`
	Authority     string   `json:"authority"`
	LegalBasis    string   `json:"legal_basis"`
	Reference     string   `json:"reference"`
	UpdatedAt     string   `json:"updated_at"`
	Account       struct {
		HandleNowHeldBy *string `json:"handle_now_held_by"`
	} `json:"account"`
	Evidence struct {
		Posts    int64 `json:"posts"`
		Mentions int64 `json:"mentions"`
	} `json:"evidence"`
	// Decision is null, or the decision the event carries: an object with
	// the decision's fields (decision, countries, decided_at, ...), or
	// only the decision's name as a string.
	Decision  json.RawMessage `json:"decision"`
	Shadow    bool            `json:"shadow"`
	Tripped   bool            `json:"tripped"`
	Exemption json.RawMessage `json:"exemption"`
}

// parsedCase is a case event, checked.
type parsedCase struct {
	caseEvent
	at       int64        // updated_at, Unix nanoseconds
	decision *decisionRef // from a decided or reopened event
	class    Class
	exempt   bool
}

var caseEvents = map[string]bool{"opened": true, "updated": true, "reassigned": true, "decided": true, "reopened": true}

func parseCase(b []byte) (parsedCase, error) {
	var p parsedCase
	if err := json.Unmarshal(b, &p.caseEvent); err != nil {
		return p, fmt.Errorf("not a case event: %w", err)
	}
	e := &p.caseEvent
	if err := checkSchema(e.Schema, caseSchema); err != nil {
		return p, err
	}
	switch {
	case e.CaseID == "":
		return p, errors.New("case_id: missing")
	case !caseEvents[e.Event]:
		return p, fmt.Errorf("event: %q is not opened, updated, reassigned, decided or reopened", e.Event)
	case e.DemandID == "":
		return p, errors.New("demand_id: missing")
	}
	if err := checkCountries("jurisdictions", e.Jurisdictions); err != nil {
		return p, err
	}
	at, err := parseTime("updated_at", e.UpdatedAt)
	if err != nil {
		return p, err
	}
	p.at = at
	p.class = classFrom(e.Shadow, e.Tripped)
	switch ex := bytes.TrimSpace(e.Exemption); {
	case isObject(ex):
		p.exempt = true
	case len(ex) > 0 && string(ex) != "null":
		return p, errors.New("exemption: not an object")
	}
	dec, err := parseEventDecision(e, at)
	if err != nil {
		return p, err
	}
	p.decision = dec
	return p, nil
}

// parseEventDecision returns the decision a case event reports: the one it
// carries (an object or a name), or reopen for a reopened event.
func parseEventDecision(e *caseEvent, at int64) (*decisionRef, error) {
	raw := bytes.TrimSpace(e.Decision)
	if e.Event == "reopened" {
		d := &decisionRef{at: at, outcome: pending}
		if isObject(raw) {
			var obj struct {
				DecidedAt string `json:"decided_at"`
			}
			if err := json.Unmarshal(raw, &obj); err == nil && obj.DecidedAt != "" {
				if t, err := parseTime("decision.decided_at", obj.DecidedAt); err == nil {
					d.at = t
				}
			}
		}
		return d, nil
	}
	if len(raw) == 0 || string(raw) == "null" {
		if e.Event == "decided" {
			return nil, errors.New("decision: a decided event needs its decision")
		}
		return nil, nil
	}
	var name string
	var countries []string
	decidedAt := ""
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &name); err != nil {
			return nil, fmt.Errorf("decision: %w", err)
		}
	} else {
		var obj struct {
			Decision  string   `json:"decision"`
			Countries []string `json:"countries"`
			DecidedAt string   `json:"decided_at"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("decision: %w", err)
		}
		name, countries, decidedAt = obj.Decision, obj.Countries, obj.DecidedAt
	}
	o, reopen, err := parseOutcome(name)
	if err != nil {
		return nil, fmt.Errorf("decision.%w", err)
	}
	if reopen {
		o = pending
	}
	if err := checkCountries("decision.countries", countries); err != nil {
		return nil, err
	}
	d := &decisionRef{at: at, outcome: o, countries: countries}
	if decidedAt != "" {
		t, err := parseTime("decision.decided_at", decidedAt)
		if err != nil {
			return nil, err
		}
		d.at = t
	}
	return d, nil
}

// decisionRecord is the part of a decision the report reads.
type decisionRecord struct {
	Schema    string   `json:"schema"`
	CaseID    *string  `json:"case_id"`
	TaskID    *string  `json:"task_id"`
	Decision  string   `json:"decision"`
	Countries []string `json:"countries"`
	DecidedAt string   `json:"decided_at"`
}

type parsedDecision struct {
	caseID  string // exactly one of caseID and taskID is set
	taskID  string
	outcome outcome
	at      int64
	d       decisionRecord
}

func parseDecision(b []byte) (parsedDecision, error) {
	var p parsedDecision
	d := &p.d
	if err := json.Unmarshal(b, d); err != nil {
		return p, fmt.Errorf("not a decision: %w", err)
	}
	if err := checkSchema(d.Schema, decisionSchema); err != nil {
		return p, err
	}
	switch {
	case d.CaseID != nil && d.TaskID != nil:
		return p, errors.New("case_id and task_id: a decision is about one case or one task")
	case d.CaseID != nil && *d.CaseID != "":
		p.caseID = *d.CaseID
	case d.TaskID != nil && *d.TaskID != "":
		p.taskID = *d.TaskID
	default:
		return p, errors.New("case_id or task_id: missing")
	}
	o, _, err := parseOutcome(d.Decision)
	if err != nil {
		return p, err
	}
	p.outcome = o
	if err := checkCountries("countries", d.Countries); err != nil {
		return p, err
	}
	at, err := parseTime("decided_at", d.DecidedAt)
	if err != nil {
		return p, err
	}
	p.at = at
	return p, nil
}

// parseOutcome reads a decision's name; reopen is pending.
func parseOutcome(s string) (o outcome, reopen bool, err error) {
	switch s {
	case "withhold":
		return withheld, false, nil
	case "no_action":
		return noAction, false, nil
	case "terms_of_service":
		return termsOfService, false, nil
	case "escalate":
		return escalated, false, nil
	case "reopen":
		return pending, true, nil
	case "":
		return 0, false, errors.New("decision: missing")
	}
	return 0, false, fmt.Errorf("decision: %q is not withhold, no_action, terms_of_service, escalate or reopen", s)
}

// parsedTask is the part of a review task the report reads. Tasks are the
// bulk of the input, so they are read with fastjson (a parser reused for
// every task), not encoding/json.
type parsedTask struct {
	key     taskKey
	at      int64
	class   Class
	exempt  bool
	matches []*fastjson.Value
}

func parseTask(p *fastjson.Parser, b []byte) (parsedTask, error) {
	var t parsedTask
	v, err := p.ParseBytes(b)
	if err != nil {
		return t, fmt.Errorf("not a review task: %w", err)
	}
	if v.Type() != fastjson.TypeObject {
		return t, errors.New("not a review task: not a JSON object")
	}
	schema, err := stringField(v, "schema")
	if err != nil {
		return t, err
	}
	if err := checkSchema(string(schema), taskSchema); err != nil {
		return t, err
	}
	id, err := stringField(v, "task_id")
	if err != nil {
		return t, err
	}
	if len(id) == 0 {
		return t, errors.New("task_id: missing")
	}
	t.key = keyOf(id)
	created, err := stringField(v, "created_at")
	if err != nil {
		return t, err
	}
	if t.at, err = parseTime("created_at", string(created)); err != nil {
		return t, err
	}
	shadow, err := boolField(v, "shadow")
	if err != nil {
		return t, err
	}
	tripped, err := boolField(v, "tripped")
	if err != nil {
		return t, err
	}
	t.class = classFrom(shadow, tripped)
	if ex := v.Get("exemption"); ex != nil {
		switch ex.Type() {
		case fastjson.TypeObject:
			t.exempt = true
		case fastjson.TypeNull:
		default:
			return t, errors.New("exemption: not an object")
		}
	}
	ms := v.Get("matches")
	if ms == nil || ms.Type() != fastjson.TypeArray {
		return t, errors.New("matches: missing or not an array")
	}
	t.matches, _ = ms.Array()
	if len(t.matches) == 0 {
		return t, errors.New("matches: empty")
	}
	for i, m := range t.matches {
		if m.Type() != fastjson.TypeObject {
			return t, fmt.Errorf("matches[%d]: not an object", i)
		}
		for _, f := range [...]string{"demand_id", "kind"} {
			s, err := stringField(m, f)
			if err != nil || len(s) == 0 {
				return t, fmt.Errorf("matches[%d].%s: missing or not a string", i, f)
			}
		}
	}
	return t, nil
}

// matchDemand returns the details of a task match's demand.
func matchDemand(m *fastjson.Value) Demand {
	d := Demand{
		ID:         string(m.GetStringBytes("demand_id")),
		Authority:  string(m.GetStringBytes("authority")),
		LegalBasis: string(m.GetStringBytes("legal_basis")),
		Reference:  string(m.GetStringBytes("reference")),
	}
	for _, j := range m.GetArray("jurisdictions") {
		if s := j.GetStringBytes(); validCountry(string(s)) {
			d.Jurisdictions = append(d.Jurisdictions, string(s))
		}
	}
	if len(d.Jurisdictions) == 0 {
		for _, s := range strings.Split(string(m.GetStringBytes("jurisdiction")), ",") {
			if s = strings.TrimSpace(s); validCountry(s) {
				d.Jurisdictions = append(d.Jurisdictions, s)
			}
		}
	}
	return d
}

// stringField returns the string member f of v; absent is empty.
func stringField(v *fastjson.Value, f string) ([]byte, error) {
	m := v.Get(f)
	if m == nil {
		return nil, nil
	}
	s, err := m.StringBytes()
	if err != nil {
		return nil, fmt.Errorf("%s: not a string", f)
	}
	return s, nil
}

// boolField returns the boolean member f of v; absent or null is false.
func boolField(v *fastjson.Value, f string) (bool, error) {
	m := v.Get(f)
	if m == nil || m.Type() == fastjson.TypeNull {
		return false, nil
	}
	b, err := m.Bool()
	if err != nil {
		return false, fmt.Errorf("%s: not a boolean", f)
	}
	return b, nil
}

// taskKey identifies a task id in 16 bytes: the id itself when it is the
// contract's 32 hex digits, else the first half of its SHA-256.
type taskKey [16]byte

func keyOf(id []byte) taskKey {
	var k taskKey
	if len(id) == 32 && isLowerHex(id) {
		if _, err := hex.Decode(k[:], id); err == nil {
			return k
		}
	}
	sum := sha256.Sum256(id)
	copy(k[:], sum[:16])
	return k
}

func isLowerHex(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func checkSchema(got, want string) error {
	switch got {
	case want:
		return nil
	case "":
		return fmt.Errorf("schema: missing (want %s)", want)
	}
	return fmt.Errorf("schema: %q is not %s", got, want)
}

func checkCountries(field string, cs []string) error {
	for _, c := range cs {
		if !validCountry(c) {
			return fmt.Errorf("%s: %q is not an ISO 3166-1 alpha-2 code", field, c)
		}
	}
	return nil
}

func validCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// The times the report reads, so that each fits Unix nanoseconds.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// parseTime reads an RFC 3339 time as Unix nanoseconds.
func parseTime(field, s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("%s: missing", field)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not an RFC 3339 time", field, s)
	}
	if t.Before(minTime) || t.After(maxTime) {
		return 0, fmt.Errorf("%s: %q is not between %d and %d", field, s, minTime.Year(), maxTime.Year())
	}
	return t.UnixNano(), nil
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

func classFrom(shadow, tripped bool) Class {
	switch {
	case tripped:
		return Tripped
	case shadow:
		return Shadow
	}
	return Live
}
