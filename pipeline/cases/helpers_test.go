package cases_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"flagstream/pipeline/cases"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files with the events made now")

// t0 is the time the scenarios start.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// cfg is the configuration of the scenarios: one update a minute.
var cfg = cases.Config{UpdateInterval: time.Minute}

// meity and netzdg are two demands; both name the handle @Kisan_Ekta.
var (
	meity = cases.Demand{
		ID: "IN-MEITY-2021-02-04", Jurisdictions: []string{"IN"}, Action: "withhold", Priority: "high", Scope: "user",
		Authority:  "Ministry of Electronics and Information Technology, Government of India",
		LegalBasis: "Information Technology Act 2000, section 69A", Reference: "lumen:00000000",
		ListsVersion: "a1b2c3d4e5f60718",
	}
	netzdg = cases.Demand{
		ID: "DE-NETZDG-7", Jurisdictions: []string{"DE", "AT"}, Action: "review", Priority: "critical", Scope: "user",
		Authority: "Bundesamt für Justiz", LegalBasis: "NetzDG § 3", ListsVersion: "a1b2c3d4e5f60718",
	}
)

// ev builds evidence for tests.
type ev struct{ cases.Evidence }

// evidence returns a post by user 1111 as @Kisan_Ekta, evidence for the
// entry "@Kisan_Ekta" of demand d.
func evidence(t testing.TB, d cases.Demand, kind cases.EntryKind, entry string) ev {
	t.Helper()
	id, err := cases.CaseOf(d.ID, kind, entry)
	if err != nil {
		t.Fatalf("CaseOf(%s, %s, %q): %v", d.ID, kind, entry, err)
	}
	return ev{cases.Evidence{
		CaseID: id, Demand: d, Entry: entry, EntryKind: kind,
		Kind: cases.EvidencePost, In: "tweet", Tier: "exact",
		TweetID: "1357254297624866818", TweetCreatedAt: t0.Add(-time.Hour), SeenAt: t0,
		Author: cases.Author{ID: "1111", Handle: "Kisan_Ekta"},
	}}
}

func handleEvidence(t testing.TB, d cases.Demand) ev {
	return evidence(t, d, cases.EntryHandle, "@Kisan_Ekta")
}

// by returns the evidence as a post by user id under handle.
func (e ev) by(id, handle string) ev {
	e.Kind, e.Author, e.Mention = cases.EvidencePost, cases.Author{ID: id, Handle: handle}, cases.Author{}
	return e
}

// mention returns the evidence as a mention of handle (with an id when the
// entity carried one) in a post by someone else.
func (e ev) mention(handle, id string) ev {
	e.Kind, e.Author, e.Mention = cases.EvidenceMention, cases.Author{ID: "2222", Handle: "reader"}, cases.Author{ID: id, Handle: handle}
	return e
}

func (e ev) tweet(id string, created time.Time) ev {
	e.TweetID, e.TweetCreatedAt = id, created
	return e
}

func (e ev) pinned(id string) ev          { e.PinnedUserID = id; return e }
func (e ev) viaBinding() ev               { e.ViaBinding = true; return e }
func (e ev) tier(tier string) ev          { e.Tier = tier; return e }
func (e ev) in(where string) ev           { e.In = where; return e }
func (e ev) seen(at time.Time) ev         { e.SeenAt = at; return e }
func (e ev) lists(v string) ev            { e.Demand.ListsVersion = v; return e }
func (e ev) shadow() ev                   { e.Demand.Shadow = true; return e }
func (e ev) exempt(x *cases.Exemption) ev { e.Exemption = x; return e }
func (e ev) retro(r *cases.Retro) ev      { e.Retro = r; return e }

func (e ev) input() cases.Input {
	x := e.Evidence
	return cases.Input{Evidence: &x}
}

// decision returns a decision on case id.
func decision(caseID string, v cases.Verdict, countries ...string) cases.Input {
	return cases.Input{Decision: &cases.ForwardedDecision{Decision: cases.Decision{
		CaseID: caseID, Verdict: v, Countries: countries, Reviewer: "reviewer-7",
		Reason: "checked the account", DecidedAt: t0.Add(30 * time.Minute),
	}}}
}

var (
	schemaOnce sync.Once
	schemas    map[string]*jsonschema.Schema
	schemaErr  error
)

// schema returns the compiled schema of a published file, asserting
// formats (date-time).
func schema(t testing.TB, name string) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		schemas = map[string]*jsonschema.Schema{}
		for name, doc := range map[string][]byte{
			"review_case.schema.json":     cases.CaseSchema(),
			"review_decision.schema.json": cases.DecisionSchema(),
			"binding.schema.json":         cases.BindingSchema(),
		} {
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
			if err != nil {
				schemaErr = err
				return
			}
			c := jsonschema.NewCompiler()
			c.AssertFormat()
			if err := c.AddResource(name, v); err != nil {
				schemaErr = err
				return
			}
			if schemas[name], err = c.Compile(name); err != nil {
				schemaErr = err
				return
			}
		}
	})
	if schemaErr != nil {
		t.Fatalf("compile schemas: %v", schemaErr)
	}
	return schemas[name]
}

func validate(sch *jsonschema.Schema, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// checkEvents appends each event, checks that Append writes what
// encoding/json writes of it and that it validates against the published
// schema, and returns the lines.
func checkEvents(t testing.TB, events []cases.Event) []byte {
	t.Helper()
	var out []byte
	for i := range events {
		e := &events[i]
		line, err := e.Append(nil)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(line, want.Bytes()) {
			t.Errorf("Append wrote\n%s\nencoding/json writes\n%s", line, want.Bytes())
		}
		if err := validate(schema(t, "review_case.schema.json"), line); err != nil {
			t.Errorf("event does not validate: %v\n%s", err, indent(line))
		}
		back, err := cases.ParseEvent(line)
		if err != nil {
			t.Errorf("ParseEvent: %v", err)
		} else if again, _ := back.Append(nil); !bytes.Equal(again, line) {
			t.Errorf("ParseEvent then Append gives\n%s\nwant\n%s", again, line)
		}
		out = append(out, line...)
	}
	return out
}

// checkState checks that a state is valid, that Append writes what
// encoding/json writes of it, and that it survives the state topic:
// encoded, decoded and encoded again it is the same.
func checkState(t testing.TB, s *cases.State) {
	t.Helper()
	if s == nil {
		return
	}
	if err := s.Validate(); err != nil {
		t.Errorf("state of case %s does not validate: %v", s.CaseID, err)
	}
	b, err := s.Append(nil)
	if err != nil {
		t.Fatalf("State.Append: %v", err)
	}
	if want := marshalState(t, s); !bytes.Equal(b, want) {
		t.Errorf("State.Append wrote\n%s\nencoding/json writes\n%s", b, want)
	}
	back, err := cases.DecodeState([]byte(s.CaseID), b)
	if err != nil {
		t.Fatalf("DecodeState: %v\n%s", err, b)
	}
	again, err := back.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, b) {
		t.Errorf("state round trip:\n got %s\nwant %s", again, b)
	}
}

func indent(b []byte) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return string(b)
	}
	return buf.String()
}

// golden compares got with testdata/name.golden, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden file: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./pipeline/cases -update to write it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("events differ from %s (run with -update if the change is intended):\ngot\n%s\nwant\n%s", path, got, want)
	}
}
