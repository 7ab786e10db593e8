package report

import (
	"crypto/sha256"
	"encoding/hex"
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

// The report parses its inputs with fastjson, one parser per stream
// reused for every record: a report reads millions of records, and
// encoding/json took four times as long. Each parse fills a minimal
// struct of the few fields the report needs and checks their types, and
// ignores the fields it does not know (the formats grow compatibly).

// caseEvent is the part of a case event the report reads.
type caseEvent struct {
	CaseID        string
	Event         string
	DemandID      string
	Jurisdictions []string
	Authority     string
	LegalBasis    string
	Reference     string
	at            int64 // updated_at, Unix nanoseconds
	// reassigned: the event is reassigned, or its account has a
	// handle_now_held_by.
	reassigned bool
	posts      int64
	mentions   int64
	class      Class
	exempt     bool
	// decision is what a decided event carries (its decision object, or
	// only the decision's name as a string), or reopen for a reopened
	// event.
	decision *decisionRef
}

var caseEvents = map[string]bool{"opened": true, "updated": true, "reassigned": true, "decided": true, "reopened": true}

// parseCase reads a case event, v (checked to be an object of its schema).
func parseCase(v *fastjson.Value) (caseEvent, error) {
	var (
		e         caseEvent
		err       error
		updatedAt string
	)
	for _, f := range [...]struct {
		name string
		dst  *string
	}{
		{"case_id", &e.CaseID}, {"event", &e.Event}, {"demand_id", &e.DemandID}, {"authority", &e.Authority},
		{"legal_basis", &e.LegalBasis}, {"reference", &e.Reference}, {"updated_at", &updatedAt},
	} {
		if *f.dst, err = stringField(v, f.name); err != nil {
			return e, err
		}
	}
	switch {
	case e.CaseID == "":
		return e, errors.New("case_id: missing")
	case !caseEvents[e.Event]:
		return e, fmt.Errorf("event: %q is not opened, updated, reassigned, decided or reopened", e.Event)
	case e.DemandID == "":
		return e, errors.New("demand_id: missing")
	}
	if e.Jurisdictions, err = countriesField(v, "jurisdictions"); err != nil {
		return e, err
	}
	if len(e.Jurisdictions) == 0 {
		// flagstream writes a demand's jurisdictions into every event of
		// its cases (a demand has at least one); without them a withheld
		// case would count in no country.
		return e, errors.New("jurisdictions: missing or empty")
	}
	if e.at, err = parseTime("updated_at", updatedAt); err != nil {
		return e, err
	}
	if e.class, e.exempt, err = governed(v); err != nil {
		return e, err
	}
	if acc := v.Get("account"); acc != nil && acc.Type() == fastjson.TypeObject {
		held, err := stringField(acc, "handle_now_held_by")
		if err != nil {
			return e, fmt.Errorf("account.%w", err)
		}
		e.reassigned = held != ""
	}
	e.reassigned = e.reassigned || e.Event == "reassigned"
	if ev := v.Get("evidence"); ev != nil && ev.Type() == fastjson.TypeObject {
		if e.posts, err = countField(ev, "posts"); err != nil {
			return e, fmt.Errorf("evidence.%w", err)
		}
		if e.mentions, err = countField(ev, "mentions"); err != nil {
			return e, fmt.Errorf("evidence.%w", err)
		}
	}
	e.decision, err = eventDecision(v.Get("decision"), e.Event, e.at)
	return e, err
}

// eventDecision returns the decision a case event reports: the one it
// carries (an object or a name), or reopen for a reopened event. A
// decision without decided_at is dated by the event's updated_at.
func eventDecision(d *fastjson.Value, event string, at int64) (*decisionRef, error) {
	ref := &decisionRef{at: at}
	isNull := d == nil || d.Type() == fastjson.TypeNull
	if event == "reopened" {
		if !isNull && d.Type() == fastjson.TypeObject {
			if s, err := stringField(d, "decided_at"); err == nil && s != "" {
				if t, err := parseTime("decision.decided_at", s); err == nil {
					ref.at = t
				}
			}
		}
		return ref, nil
	}
	if isNull {
		if event == "decided" {
			return nil, errors.New("decision: a decided event needs its decision")
		}
		return nil, nil
	}
	var name, decidedAt string
	switch d.Type() {
	case fastjson.TypeString:
		name = string(d.GetStringBytes())
	case fastjson.TypeObject:
		var err error
		if name, err = stringField(d, "decision"); err != nil {
			return nil, fmt.Errorf("decision.%w", err)
		}
		if ref.countries, err = countriesField(d, "countries"); err != nil {
			return nil, fmt.Errorf("decision.%w", err)
		}
		if decidedAt, err = stringField(d, "decided_at"); err != nil {
			return nil, fmt.Errorf("decision.%w", err)
		}
	default:
		return nil, errors.New("decision: not an object, a string or null")
	}
	o, _, err := parseOutcome(name)
	if err != nil {
		return nil, fmt.Errorf("decision.%w", err)
	}
	ref.outcome = o
	if decidedAt != "" {
		if ref.at, err = parseTime("decision.decided_at", decidedAt); err != nil {
			return nil, err
		}
	}
	return ref, nil
}

// decision is the part of a decision the report reads.
type decision struct {
	caseID    string  // set for a decision on a case,
	taskKey   taskKey // else this is the task's
	outcome   outcome
	countries []string
	at        int64
}

func parseDecision(p *fastjson.Parser, b []byte) (decision, error) {
	var d decision
	v, err := parseObject(p, b, "decision")
	if err != nil {
		return d, err
	}
	if err := checkSchema(v, decisionSchema); err != nil {
		return d, err
	}
	caseID, taskID := v.Get("case_id"), v.Get("task_id")
	if caseID != nil && caseID.Type() == fastjson.TypeNull {
		caseID = nil
	}
	if taskID != nil && taskID.Type() == fastjson.TypeNull {
		taskID = nil
	}
	switch {
	case caseID != nil && taskID != nil:
		return d, errors.New("case_id and task_id: a decision is about one case or one task")
	case caseID != nil:
		if d.caseID, err = stringField(v, "case_id"); err != nil {
			return d, err
		}
	case taskID != nil:
		id, err := taskID.StringBytes()
		if err != nil || len(id) == 0 {
			return d, errors.New("task_id: empty or not a string")
		}
		d.taskKey = keyOf(id)
	}
	if d.caseID == "" && taskID == nil {
		return d, errors.New("case_id or task_id: missing")
	}
	name, err := stringField(v, "decision")
	if err != nil {
		return d, err
	}
	if d.outcome, _, err = parseOutcome(name); err != nil {
		return d, err
	}
	if d.countries, err = countriesField(v, "countries"); err != nil {
		return d, err
	}
	decidedAt, err := stringField(v, "decided_at")
	if err != nil {
		return d, err
	}
	if d.at, err = parseTime("decided_at", decidedAt); err != nil {
		return d, err
	}
	return d, nil
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

// parseTask reads a review task, v (checked to be an object of its schema).
func parseTask(v *fastjson.Value) (parsedTask, error) {
	var (
		t   parsedTask
		err error
	)
	id := v.Get("task_id")
	if id == nil || id.Type() != fastjson.TypeString || len(id.GetStringBytes()) == 0 {
		return t, errors.New("task_id: missing or not a string")
	}
	t.key = keyOf(id.GetStringBytes())
	created := v.Get("created_at")
	if created == nil || created.Type() != fastjson.TypeString {
		return t, errors.New("created_at: missing or not a string")
	}
	if t.at, err = parseTimeBytes("created_at", created.GetStringBytes()); err != nil {
		return t, err
	}
	if t.class, t.exempt, err = governed(v); err != nil {
		return t, err
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
			if s := m.Get(f); s == nil || s.Type() != fastjson.TypeString || len(s.GetStringBytes()) == 0 {
				return t, fmt.Errorf("matches[%d].%s: missing or not a string", i, f)
			}
		}
	}
	return t, nil
}

// matchDetails returns the details of a task match's demand.
func matchDetails(m *fastjson.Value) Demand {
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

// parseObject parses b, which must be a JSON object.
func parseObject(p *fastjson.Parser, b []byte, what string) (*fastjson.Value, error) {
	v, err := p.ParseBytes(b)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "cannot parse JSON: ")
		msg = strings.TrimSuffix(msg, `; unparsed tail: ""`)
		return nil, fmt.Errorf("not a %s: invalid JSON (%s)", what, msg)
	}
	if v.Type() != fastjson.TypeObject {
		return nil, fmt.Errorf("not a %s: not a JSON object", what)
	}
	return v, nil
}

// stringField returns the string member f of v; absent or null is empty.
func stringField(v *fastjson.Value, f string) (string, error) {
	m := v.Get(f)
	if m == nil || m.Type() == fastjson.TypeNull {
		return "", nil
	}
	s, err := m.StringBytes()
	if err != nil {
		return "", fmt.Errorf("%s: not a string", f)
	}
	return string(s), nil
}

// countriesField returns the member f of v, an array of ISO 3166-1
// alpha-2 codes; absent or null is none.
func countriesField(v *fastjson.Value, f string) ([]string, error) {
	m := v.Get(f)
	if m == nil || m.Type() == fastjson.TypeNull {
		return nil, nil
	}
	a, err := m.Array()
	if err != nil {
		return nil, fmt.Errorf("%s: not an array", f)
	}
	var out []string
	for _, c := range a {
		s, err := c.StringBytes()
		if err != nil || !validCountry(string(s)) {
			return nil, fmt.Errorf("%s: %s is not an ISO 3166-1 alpha-2 code", f, c)
		}
		out = append(out, string(s))
	}
	return out, nil
}

// countField returns the member f of v, a count; absent or null is 0.
func countField(v *fastjson.Value, f string) (int64, error) {
	m := v.Get(f)
	if m == nil || m.Type() == fastjson.TypeNull {
		return 0, nil
	}
	n, err := m.Int64()
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: not a count", f)
	}
	return n, nil
}

// objectField says whether v has a member f that is an object; absent or
// null is false, anything else an error.
func objectField(v *fastjson.Value, f string) (bool, error) {
	m := v.Get(f)
	switch {
	case m == nil || m.Type() == fastjson.TypeNull:
		return false, nil
	case m.Type() == fastjson.TypeObject:
		return true, nil
	}
	return false, fmt.Errorf("%s: not an object", f)
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

func checkSchema(v *fastjson.Value, want string) error {
	m := v.Get("schema")
	if m != nil && m.Type() == fastjson.TypeString && string(m.GetStringBytes()) == want {
		return nil
	}
	got, err := stringField(v, "schema")
	if err != nil {
		return err
	}
	switch got {
	case want:
		return nil
	case "":
		return fmt.Errorf("schema: missing (want %s)", want)
	}
	return fmt.Errorf("schema: %q is not %s", got, want)
}

func validCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// The times the report reads, so that each fits Unix nanoseconds.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// parseTimeBytes is parseTime for the bytes of a JSON string, faster for
// the form flagstream writes (UTC, "2006-01-02T15:04:05Z" with or without
// a fraction of a second).
func parseTimeBytes(field string, b []byte) (int64, error) {
	if t, ok := parseUTC(b); ok {
		return t, nil
	}
	return parseTime(field, string(b))
}

// parseUTC reads "YYYY-MM-DDTHH:MM:SS[.fraction]Z" within the report's
// range; ok is false for anything else.
func parseUTC(b []byte) (int64, bool) {
	if len(b) < 20 || b[len(b)-1] != 'Z' || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 59 || year < minTime.Year() || year >= maxTime.Year() {
		return 0, false // time.Parse says what is wrong
	}
	var nanos int
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return 0, false
		}
		f, ok := num(frac[1:])
		if !ok {
			return 0, false
		}
		for range 10 - len(frac) {
			f *= 10
		}
		nanos = f
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nanos, time.UTC).UnixNano(), true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

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

// governed reads what case events and review tasks both say of how their
// demand governs them: shadow and tripped (their class) and whether an
// exemption applies.
func governed(v *fastjson.Value) (c Class, exempt bool, err error) {
	shadow, err := boolField(v, "shadow")
	if err != nil {
		return Live, false, err
	}
	tripped, err := boolField(v, "tripped")
	if err != nil {
		return Live, false, err
	}
	exempt, err = objectField(v, "exemption")
	return classFrom(shadow, tripped), exempt, err
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
