package cases

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"flagstream/pipeline/refusal"
)

// DecisionSchemaID names the format of a reviewer's decision.
const DecisionSchemaID = "flagstream.review_decision/v1"

// Verdict is what a reviewer decided about a case or task.
type Verdict string

// The verdicts of a decision. Reopen puts a decided case back to open.
const (
	VerdictWithhold       Verdict = "withhold"
	VerdictNoAction       Verdict = "no_action"
	VerdictTermsOfService Verdict = "terms_of_service"
	VerdictEscalate       Verdict = "escalate"
	VerdictReopen         Verdict = "reopen"
)

func (v Verdict) valid() bool {
	switch v {
	case VerdictWithhold, VerdictNoAction, VerdictTermsOfService, VerdictEscalate, VerdictReopen:
		return true
	}
	return false
}

// Limits of a decision record.
const (
	MaxDecisionBytes = 64 << 10
	maxReviewerBytes = 256
	maxReasonBytes   = 4096
	maxCountries     = 250
)

// Decision is a reviewer's decision (flagstream.review_decision/v1), as the
// review tool writes it to the decisions topic, keyed by the case or task
// id. Exactly one of CaseID and TaskID is set.
type Decision struct {
	CaseID  string
	TaskID  string
	Verdict Verdict
	// Countries are where a withhold applies (at least one); other
	// verdicts may name none.
	Countries []string
	Reviewer  string
	Reason    string
	DecidedAt time.Time // UTC
}

// Ruling returns what a case records of the decision, with a copy of its
// countries.
func (d *Decision) Ruling() Ruling {
	countries := slices.Clone(d.Countries)
	if countries == nil {
		countries = []string{}
	}
	return Ruling{Decision: d.Verdict, Countries: countries, Reviewer: d.Reviewer, Reason: d.Reason, DecidedAt: d.DecidedAt}
}

// Ruling is the decision a case records and its events show.
type Ruling struct {
	Decision  Verdict   `json:"decision"`
	Countries []string  `json:"countries"`
	Reviewer  string    `json:"reviewer"`
	Reason    string    `json:"reason"`
	DecidedAt time.Time `json:"decided_at"`
}

func (r *Ruling) append(w *jsonWriter) {
	w.raw(`{"decision":`)
	w.str(string(r.Decision))
	w.raw(`,"countries":`)
	w.strsOrNull(r.Countries)
	w.raw(`,"reviewer":`)
	w.str(r.Reviewer)
	w.raw(`,"reason":`)
	w.str(r.Reason)
	w.raw(`,"decided_at":`)
	w.time(r.DecidedAt)
	w.raw(`}`)
}

func (r *Ruling) validate() error {
	if p := r.problems(); len(p) > 0 {
		return errors.New(joinProblems(p))
	}
	return nil
}

// problem is one thing wrong with one field of a record.
type problem struct{ field, msg string }

// joinProblems writes the first problem of each field, in order.
func joinProblems(ps []problem) string {
	var b strings.Builder
	for i, p := range ps {
		first := true
		for _, o := range ps[:i] {
			if o.field == p.field {
				first = false
				break
			}
		}
		if !first {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.msg)
	}
	return b.String()
}

// problems lists what is wrong with the values of r.
func (r *Ruling) problems() []problem {
	var p []problem
	add := func(field, format string, args ...any) {
		p = append(p, problem{field, fmt.Sprintf(format, args...)})
	}
	if !r.Decision.valid() {
		add("decision", "decision %q is not one of withhold, no_action, terms_of_service, escalate, reopen", r.Decision)
	}
	if r.Decision == VerdictWithhold && len(r.Countries) == 0 {
		add("countries", "a withhold decision needs the countries where it applies")
	}
	if len(r.Countries) > maxCountries {
		add("countries", "%d countries; at most %d", len(r.Countries), maxCountries)
	}
	for i, c := range r.Countries {
		if !isCountry(c) {
			add("countries", "country %q is not an ISO 3166-1 alpha-2 code (two capital letters)", c)
			continue
		}
		if slices.Contains(r.Countries[:i], c) {
			add("countries", "country %q is listed twice", c)
		}
	}
	switch {
	case r.Reviewer == "":
		add("reviewer", "reviewer is empty; every decision names who made it")
	case len(r.Reviewer) > maxReviewerBytes:
		add("reviewer", "reviewer longer than %d bytes", maxReviewerBytes)
	}
	if len(r.Reason) > maxReasonBytes {
		add("reason", "reason longer than %d bytes", maxReasonBytes)
	}
	if r.DecidedAt.IsZero() || !inYears(r.DecidedAt) {
		add("decided_at", "decided_at is missing or outside the years 0001-9999")
	}
	return p
}

// Reason classifies why an input was refused; the reasons are a small
// fixed set, fit for the dead-letter topic's reason header and for metric
// labels.
type Reason string

// The reasons of refused inputs.
const (
	// ReasonInvalidDecision is a decision record that is not a valid
	// flagstream.review_decision/v1.
	ReasonInvalidDecision Reason = "invalid_decision"
	// ReasonUnknownCase is a decision for a case that has no state.
	ReasonUnknownCase Reason = "unknown_case"
	// ReasonInvalidInput is a malformed record of the internal case input
	// topic (evidence or a forwarded decision).
	ReasonInvalidInput Reason = "invalid_case_input"
	// ReasonInvalidState is a malformed record of the case state topic.
	ReasonInvalidState Reason = "invalid_case_state"
	// ReasonInvalidBinding is a malformed record of the bindings topic.
	ReasonInvalidBinding Reason = "invalid_binding"
)

// Reasons lists every Reason, so that each metric series exists from the
// start.
var Reasons = []Reason{ReasonInvalidDecision, ReasonUnknownCase, ReasonInvalidInput, ReasonInvalidState, ReasonInvalidBinding}

// Error is an input refused with a reason class and what exactly is wrong.
type Error = refusal.Error[Reason]

func refuse(r Reason, format string, args ...any) *Error {
	return refusal.New(r, format, args...)
}

// ReasonOf returns the reason class of an error of this package, or "" when
// err is not one.
func ReasonOf(err error) Reason { return refusal.ReasonOf[Reason](err) }

var decisionFields = map[string]bool{
	"schema": true, "case_id": true, "task_id": true, "decision": true,
	"countries": true, "reviewer": true, "reason": true, "decided_at": true,
}

// ParseDecision parses a decision record strictly: a JSON object with the
// fields of flagstream.review_decision/v1 and no others, each once and
// spelled exactly, valid UTF-8, at most MaxDecisionBytes. The error, an
// *Error with ReasonInvalidDecision for the dead-letter topic, says what is
// wrong with each field that is.
func ParseDecision(data []byte) (Decision, error) {
	var d Decision
	if len(data) > MaxDecisionBytes {
		return d, refuse(ReasonInvalidDecision, "record of %d bytes, more than the %d a decision may have", len(data), MaxDecisionBytes)
	}
	r, err := newObjectReader(data)
	if err != nil {
		return d, refuse(ReasonInvalidDecision, "%v", err)
	}
	var (
		ps     []problem
		schema string
		have   = map[string]bool{}
	)
	for {
		name, value, err := r.next(func(n string) bool { return decisionFields[n] })
		if err != nil {
			return Decision{}, refuse(ReasonInvalidDecision, "%s", joinProblems(append(ps, problem{"", err.Error()})))
		}
		if name == "" {
			break
		}
		have[name] = true
		var target any
		switch name {
		case "schema":
			target = &schema
		case "case_id":
			target = &d.CaseID
		case "task_id":
			target = &d.TaskID
		case "decision":
			target = &d.Verdict
		case "countries":
			target = &d.Countries
		case "reviewer":
			target = &d.Reviewer
		case "reason":
			target = &d.Reason
		case "decided_at":
			var s string
			if err := json.Unmarshal(value, &s); err != nil {
				ps = append(ps, problem{name, "decided_at must be a string (RFC 3339)"})
				continue
			}
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				ps = append(ps, problem{name, fmt.Sprintf("decided_at %q is not an RFC 3339 time", s)})
				continue
			}
			d.DecidedAt = t.UTC()
			continue
		}
		if err := json.Unmarshal(value, target); err != nil {
			kind := "a string"
			if name == "countries" {
				kind = "an array of strings"
			}
			ps = append(ps, problem{name, fmt.Sprintf("%s must be %s", name, kind)})
		}
	}
	switch {
	case !have["schema"]:
		ps = append(ps, problem{"schema", "missing schema"})
	case schema != DecisionSchemaID:
		ps = append(ps, problem{"schema", fmt.Sprintf("schema %q, want %q", schema, DecisionSchemaID)})
	}
	for _, f := range []string{"decision", "reviewer", "decided_at"} {
		if !have[f] {
			ps = append(ps, problem{f, "missing " + f})
		}
	}
	ps = append(ps, d.problems()...)
	if len(ps) > 0 {
		return Decision{}, refuse(ReasonInvalidDecision, "%s", joinProblems(ps))
	}
	return d, nil
}

// problems lists what is wrong with the values of d.
func (d *Decision) problems() []problem {
	var p []problem
	switch {
	case d.CaseID != "" && d.TaskID != "":
		p = append(p, problem{"id", "both case_id and task_id; a decision is about one case or one task"})
	case d.CaseID == "" && d.TaskID == "":
		p = append(p, problem{"id", "missing case_id or task_id"})
	case d.CaseID != "" && !isHexID(d.CaseID):
		p = append(p, problem{"id", fmt.Sprintf("case_id %q is not a case id (32 lowercase hex digits)", d.CaseID)})
	case d.TaskID != "" && !isHexID(d.TaskID):
		p = append(p, problem{"id", fmt.Sprintf("task_id %q is not a task id (32 lowercase hex digits)", d.TaskID)})
	}
	r := d.Ruling()
	return append(p, r.problems()...)
}

// Append appends d as a flagstream.review_decision/v1 record, one line of
// compact JSON with a trailing newline, to dst: what a review tool writes,
// and what tests and the demo's synthetic reviewer can use.
func (d *Decision) Append(dst []byte) ([]byte, error) {
	w := jsonWriter{b: dst}
	w.raw(`{"schema":"` + DecisionSchemaID + `"`)
	if d.CaseID != "" {
		w.raw(`,"case_id":`)
		w.str(d.CaseID)
	}
	if d.TaskID != "" {
		w.raw(`,"task_id":`)
		w.str(d.TaskID)
	}
	w.raw(`,"decision":`)
	w.str(string(d.Verdict))
	w.raw(`,"countries":`)
	countries := d.Countries
	if countries == nil {
		countries = []string{}
	}
	w.strs(countries)
	w.raw(`,"reviewer":`)
	w.str(d.Reviewer)
	w.raw(`,"reason":`)
	w.str(d.Reason)
	w.raw(`,"decided_at":`)
	w.time(d.DecidedAt)
	w.raw(`}`)
	if w.err != nil {
		return dst, fmt.Errorf("encode decision: %w", w.err)
	}
	return append(w.b, '\n'), nil
}
