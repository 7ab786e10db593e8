package cases_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"flagstream/pipeline/cases"
)

// invalidDecisions says what ParseDecision must say of each file of
// testdata/decisions/invalid.
var invalidDecisions = map[string]string{
	"not_json.json":                   "not JSON",
	"array.json":                      "not a JSON object",
	"wrong_schema.json":               `schema "flagstream.review_decision/v2"`,
	"missing_schema.json":             "missing schema",
	"unknown_decision.json":           `decision "remove" is not one of`,
	"withhold_without_countries.json": "a withhold decision needs the countries",
	"withhold_empty_countries.json":   "a withhold decision needs the countries",
	"lowercase_country.json":          `country "in" is not an ISO 3166-1 alpha-2 code`,
	"country_twice.json":              `country "IN" is listed twice`,
	"countries_string.json":           "countries must be an array of strings",
	"both_ids.json":                   "both case_id and task_id",
	"no_id.json":                      "missing case_id or task_id",
	"case_id_uppercase.json":          "is not a case id",
	"empty_reviewer.json":             "reviewer is empty",
	"missing_reviewer.json":           "missing reviewer",
	"decided_at_not_rfc3339.json":     `decided_at "2021-02-05 10:00" is not an RFC 3339 time`,
	"decided_at_number.json":          "decided_at must be a string",
	"missing_decided_at.json":         "missing decided_at",
	"unknown_field.json":              `unknown field "countrys"`,
	"field_in_other_case.json":        `unknown field "Decision"`,
	"duplicate_decision.json":         `field "decision" given twice`,
	"null_reason.json":                "reason is null",
	"trailing_data.json":              "data after the object",
	"invalid_utf8.json":               "not valid UTF-8",
}

// beyondSchema are the invalid records a JSON Schema cannot see: a schema
// validates the value a parser made of the bytes.
var beyondSchema = []string{"duplicate_decision.json", "invalid_utf8.json"}

func fixtures(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "decisions", dir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in testdata/decisions/%s: %v", dir, err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
	return files
}

func TestDecisionFixtures(t *testing.T) {
	sch := schema(t, "review_decision.schema.json")
	for name, data := range fixtures(t, "valid") {
		t.Run("valid/"+name, func(t *testing.T) {
			if err := validate(sch, data); err != nil {
				t.Errorf("schema rejects it: %v", err)
			}
			d, err := cases.ParseDecision(data)
			if err != nil {
				t.Fatalf("ParseDecision: %v", err)
			}
			if d.DecidedAt.Location() != time.UTC {
				t.Errorf("DecidedAt %v is not in UTC", d.DecidedAt)
			}
			// Written again, it parses to the same decision and
			// validates.
			out, err := d.Append(nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, out); err != nil {
				t.Errorf("schema rejects Append's record: %v\n%s", err, out)
			}
			back, err := cases.ParseDecision(out)
			if err != nil {
				t.Fatalf("ParseDecision(Append): %v\n%s", err, out)
			}
			if !sameDecision(back, d) {
				t.Errorf("round trip: %+v, want %+v", back, d)
			}
		})
	}
	seen := map[string]bool{}
	for name, data := range fixtures(t, "invalid") {
		seen[name] = true
		t.Run("invalid/"+name, func(t *testing.T) {
			want, ok := invalidDecisions[name]
			if !ok {
				t.Fatalf("no expected message for %s in invalidDecisions", name)
			}
			_, err := cases.ParseDecision(data)
			if err == nil {
				t.Fatalf("ParseDecision accepts it")
			}
			if cases.ReasonOf(err) != cases.ReasonInvalidDecision {
				t.Errorf("reason %q, want %q", cases.ReasonOf(err), cases.ReasonInvalidDecision)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			if !slices.Contains(beyondSchema, name) {
				if err := validate(sch, data); err == nil {
					t.Errorf("the schema accepts what ParseDecision refuses")
				}
			}
		})
	}
	for name := range invalidDecisions {
		if !seen[name] {
			t.Errorf("invalidDecisions names %s, which is not in testdata/decisions/invalid", name)
		}
	}
}

func sameDecision(a, b cases.Decision) bool {
	return a.CaseID == b.CaseID && a.TaskID == b.TaskID && a.Verdict == b.Verdict &&
		slices.Equal(a.Countries, b.Countries) && a.Reviewer == b.Reviewer && a.Reason == b.Reason &&
		a.DecidedAt.Equal(b.DecidedAt)
}

func TestParseDecisionSaysEveryProblem(t *testing.T) {
	_, err := cases.ParseDecision([]byte(`{"schema":"x","case_id":"nope","decision":"withhold","countries":["in"],"reviewer":"","decided_at":"soon"}`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`schema "x"`, `case_id "nope"`, `country "in"`, "reviewer is empty", `decided_at "soon"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	var e *cases.Error
	if !errors.As(err, &e) || e.Reason != cases.ReasonInvalidDecision {
		t.Errorf("error %T %v is not an *Error with reason invalid_decision", err, err)
	}
}

func TestParseDecisionLimits(t *testing.T) {
	base := `{"schema":"flagstream.review_decision/v1","case_id":"49466ec9db82bc9769979fbacb716e2f","decision":"no_action","reviewer":"r","decided_at":"2021-02-05T10:00:00Z","reason":"`
	for _, tc := range []struct {
		name   string
		reason string
		ok     bool
	}{
		{"reason of 4096 bytes", strings.Repeat("x", 4096), true},
		{"reason of 4097 bytes", strings.Repeat("x", 4097), false},
		{"record over 64 KiB", strings.Repeat("x", 70000), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cases.ParseDecision([]byte(base + tc.reason + `"}`))
			if (err == nil) != tc.ok {
				t.Errorf("ParseDecision: %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestDecisionInput(t *testing.T) {
	src := cases.Source{Topic: "review-decisions", Partition: 2, Offset: 99}
	files := fixtures(t, "valid")
	in, ok, err := cases.DecisionInput(files["withhold_case.json"], src)
	if err != nil || !ok {
		t.Fatalf("DecisionInput(case decision) = %v, %v", ok, err)
	}
	if in.CaseID() != "49466ec9db82bc9769979fbacb716e2f" {
		t.Errorf("CaseID = %s", in.CaseID())
	}
	if !bytes.Equal(in.Decision.Raw, bytes.TrimSpace(files["withhold_case.json"])) {
		t.Errorf("Raw = %s, want the record as read", in.Decision.Raw)
	}
	if _, ok, err := cases.DecisionInput(files["no_action_task.json"], src); ok || err != nil {
		t.Errorf("DecisionInput(task decision) = %v, %v; want not forwarded, no error", ok, err)
	}
	if _, _, err := cases.DecisionInput([]byte(`{}`), src); cases.ReasonOf(err) != cases.ReasonInvalidDecision {
		t.Errorf("DecisionInput({}) error %v, want reason invalid_decision", err)
	}
}

func FuzzParseDecision(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "decisions", "*", "*.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := cases.ParseDecision(data)
		if err != nil {
			if cases.ReasonOf(err) != cases.ReasonInvalidDecision {
				t.Fatalf("error without reason invalid_decision: %v", err)
			}
			return
		}
		out, err := d.Append(nil)
		if err != nil {
			t.Fatalf("Append of a parsed decision: %v", err)
		}
		back, err := cases.ParseDecision(out)
		if err != nil {
			t.Fatalf("a parsed decision, written again, does not parse: %v\n%s", err, out)
		}
		if !sameDecision(back, d) {
			t.Fatalf("round trip: %+v, want %+v", back, d)
		}
		if err := validate(schema(t, "review_decision.schema.json"), out); err != nil {
			t.Fatalf("schema rejects a decision ParseDecision accepts, as Append writes it: %v\n%s", err, out)
		}
	})
}
