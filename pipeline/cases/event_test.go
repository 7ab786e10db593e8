package cases_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"flagstream/pipeline/cases"
	"flagstream/pipeline/schematest"
)

func TestSchemaFilesAreEmbedded(t *testing.T) {
	for file, get := range map[string]func() []byte{
		"review_case.schema.json":     cases.CaseSchema,
		"review_decision.schema.json": cases.DecisionSchema,
		"binding.schema.json":         cases.BindingSchema,
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(get(), b) {
			t.Errorf("the embedded schema differs from %s", file)
		}
		s := get()
		s[0] = 'x'
		if get()[0] == 'x' {
			t.Errorf("%s: the function returns the package's own bytes; a caller can change them", file)
		}
	}
}

// fullEvent is an event with every optional field set.
func fullEvent(t *testing.T) cases.Event {
	t.Helper()
	press := &cases.Exemption{ID: "EX-IN-PRESS", Category: "journalist", Reason: "press"}
	retro := &cases.Retro{Job: "j1", Since: t0.Add(-time.Hour), Until: t0}
	e := handleEvidence(t, meity).exempt(press).retro(retro).shadow()
	s, _, err := cases.Apply(nil, e.input(), t0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err = cases.Apply(s, e.by("9999", "Kisan_Ekta").input(), t0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, out, err := cases.Apply(s, decision(e.CaseID, cases.VerdictWithhold, "IN"), t0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ev := out.Events[0]
	ev.Retro, ev.Tripped = retro, true
	return ev
}

// TestCaseSchemaCoversEvent checks that the schema names exactly the
// fields of the Go types, and requires those that are always written.
func TestCaseSchemaCoversEvent(t *testing.T) {
	root := schematest.Parse(t, cases.CaseSchema())
	props := root["properties"].(map[string]any)
	defs := root["$defs"].(map[string]any)
	schematest.CheckObjects(t, []schematest.Object{
		{Name: "event", Type: reflect.TypeFor[cases.Event](), Schema: root},
		{Name: "account", Type: reflect.TypeFor[cases.EventAccount](), Schema: props["account"].(map[string]any)},
		{Name: "evidence", Type: reflect.TypeFor[cases.EventEvidence](), Schema: props["evidence"].(map[string]any)},
		{Name: "decision", Type: reflect.TypeFor[cases.Ruling](), Schema: defs["decision"].(map[string]any)},
		{Name: "exemption", Type: reflect.TypeFor[cases.Exemption](), Schema: props["exemption"].(map[string]any)},
		{Name: "retro", Type: reflect.TypeFor[cases.Retro](), Schema: props["retro"].(map[string]any)},
	})
}

// TestCaseSchemaRejects checks that the schema is not vacuous: events
// broken in one field each must fail it.
func TestCaseSchemaRejects(t *testing.T) {
	sch := schema(t, "review_case.schema.json")
	full := fullEvent(t)
	good := checkEvents(t, []cases.Event{full})
	plainIn := handleEvidence(t, meity).input()
	_, out, err := cases.Apply(nil, plainIn, t0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain := checkEvents(t, out.Events)
	for _, tc := range []struct {
		name   string
		doc    []byte
		mutate func(m map[string]any)
	}{
		{"wrong schema name", plain, func(m map[string]any) { m["schema"] = "flagstream.review_case/v2" }},
		{"case_id not hex", plain, func(m map[string]any) { m["case_id"] = "IN-MEITY/@kisan" }},
		{"unknown event", plain, func(m map[string]any) { m["event"] = "closed" }},
		{"unknown entry kind", plain, func(m map[string]any) { m["entry_kind"] = "hashtag" }},
		{"tweet scope", plain, func(m map[string]any) { m["scope"] = "tweet" }},
		{"escalate without exemption", plain, func(m map[string]any) { m["action"] = "escalate" }},
		{"exempt but withhold", good, func(m map[string]any) { m["action"] = "withhold" }},
		{"exempt but high", good, func(m map[string]any) { m["priority"] = "high" }},
		{"no jurisdictions", plain, func(m map[string]any) { m["jurisdictions"] = []any{} }},
		{"updated_at not UTC", plain, func(m map[string]any) { m["updated_at"] = "2026-01-02T08:34:05+05:30" }},
		{"missing account", plain, func(m map[string]any) { delete(m, "account") }},
		{"missing decision", plain, func(m map[string]any) { delete(m, "decision") }},
		{"held by not an id", plain, func(m map[string]any) { m["account"].(map[string]any)["handle_now_held_by"] = "@someone" }},
		{"user id with leading zero", plain, func(m map[string]any) { m["account"].(map[string]any)["user_id"] = "01111" }},
		{"unknown binding", plain, func(m map[string]any) { m["account"].(map[string]any)["binding"] = "guessed" }},
		{"opened without first_seen", plain, func(m map[string]any) { m["evidence"].(map[string]any)["first_seen"] = nil }},
		{"negative posts", plain, func(m map[string]any) { m["evidence"].(map[string]any)["posts"] = -1 }},
		{"eleven samples", plain, func(m map[string]any) {
			m["evidence"].(map[string]any)["sample_tweet_ids"] = []any{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}
		}},
		{"decided without decision", plain, func(m map[string]any) { m["status"] = "decided" }},
		{"open with a withhold", good, func(m map[string]any) { m["status"] = "open" }},
		{"decided by a reopen", good, func(m map[string]any) { m["decision"].(map[string]any)["decision"] = "reopen" }},
		{"withhold nowhere", good, func(m map[string]any) { m["decision"].(map[string]any)["countries"] = []any{} }},
		{"decision without reviewer", good, func(m map[string]any) { m["decision"].(map[string]any)["reviewer"] = "" }},
		{"shadow false", plain, func(m map[string]any) { m["shadow"] = false }},
		{"retro without job", good, func(m map[string]any) { delete(m["retro"].(map[string]any), "job") }},
		{"reassigned without holder", good, func(m map[string]any) {
			m["event"] = "reassigned"
			m["account"].(map[string]any)["handle_now_held_by"] = nil
		}},
		{"user id entry bound", plain, func(m map[string]any) { m["entry_kind"] = "user_id" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(tc.doc, &m); err != nil {
				t.Fatal(err)
			}
			tc.mutate(m)
			broken, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, broken); err == nil {
				t.Errorf("broken event validates:\n%s", indent(broken))
			}
		})
	}
}

func TestEventJSON(t *testing.T) {
	ev := fullEvent(t)
	golden(t, "full_event", checkEvents(t, []cases.Event{ev}))
	if ev.Key() != ev.CaseID {
		t.Errorf("Key = %s, want the case id", ev.Key())
	}
	// Append keeps what dst holds.
	out, err := ev.Append([]byte("key\t"))
	if err != nil || !bytes.HasPrefix(out, []byte("key\t{")) {
		t.Errorf("Append(prefix) = %q, %v", out, err)
	}
	far := ev
	far.UpdatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if out, err := far.Append([]byte("x")); err == nil || string(out) != "x" {
		t.Errorf("Append of an event in the year 10000 = %q, %v; want dst and an error", out, err)
	}
}

func TestEventAppendAllocatesNothing(t *testing.T) {
	ev := fullEvent(t)
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = ev.Append(buf[:0]); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Event.Append allocates %v times", n)
	}
}

func TestParseEvent(t *testing.T) {
	if _, err := cases.ParseEvent([]byte(`{"schema":"flagstream.review_task/v1"}`)); err == nil {
		t.Error("ParseEvent of a task: no error")
	}
	if _, err := cases.ParseEvent([]byte(`[]`)); err == nil {
		t.Error("ParseEvent of an array: no error")
	}
}
