package review_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"flagstream/matchers"
	"flagstream/pipeline/review"
	"flagstream/pipeline/schematest"
)

// compileSchema compiles review.Schema, asserting formats (date-time).
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(review.Schema()))
	if err != nil {
		t.Fatalf("read schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "review_task.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("add schema: %v", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return sch
}

func validate(sch *jsonschema.Schema, line []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

func TestSchemaFileIsEmbedded(t *testing.T) {
	file, err := os.ReadFile("review_task.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(review.Schema(), file) {
		t.Error("Schema() differs from review_task.schema.json")
	}
	s := review.Schema()
	s[0] = 'x'
	if review.Schema()[0] == 'x' {
		t.Error("Schema() returns the package's own bytes; a caller can change them")
	}
}

// TestSchemaValidatesTasks validates tasks as Build and Append write them,
// with Kafka and file sources.
func TestSchemaValidatesTasks(t *testing.T) {
	sch := compileSchema(t)
	s := testSnapshot(t)
	sources := map[string]review.Source{
		"kafka":         review.KafkaSource("tweets", 3, 1234),
		"kafka at zero": review.KafkaSource("tweets", 0, 0),
		"file":          {File: "tweets.jsonl", Line: 7},
		"stdin":         {File: "stdin", Line: 1},
	}
	for _, c := range goldenCases() {
		for srcName, src := range sources {
			t.Run(c.name+"/"+srcName, func(t *testing.T) {
				s := c.snapshot(t)
				task := review.Build(s, c.post, match(t, s, c.post), src, now)
				line, err := task.Append(nil)
				if err != nil {
					t.Fatalf("Append: %v", err)
				}
				if err := validate(sch, line); err != nil {
					t.Errorf("task does not validate: %v\n%s", err, indent(line))
				}
			})
		}
	}
	t.Run("retro", func(t *testing.T) {
		p := post(tweet{id: "7", text: "#FarmerGenocide"})
		task := review.Build(s, p, match(t, s, p), review.KafkaSource("tweets", 1, 2), now)
		task.Retro = review.NewRetro("retro-0123456789abcdef", now.Add(-72*time.Hour), now)
		line, err := task.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(sch, line); err != nil {
			t.Errorf("task does not validate: %v\n%s", err, indent(line))
		}
		want := `"retro":{"job":"retro-0123456789abcdef","since":"2025-12-30T03:04:05.6Z","until":"2026-01-02T03:04:05.6Z"}`
		if !bytes.Contains(line, []byte(want)) {
			t.Errorf("task %s\nlacks %s", line, want)
		}
	})
	for _, tc := range []struct{ name, text string }{
		{"misinformation", "a farmer genocide is planned"},
		{"hashtag", "#FarmerGenocide"},
		{"mention", "@kisan_ekta"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := post(tweet{id: "7", text: tc.text})
			task := review.Build(s, p, match(t, s, p), review.KafkaSource("tweets", 1, 2), now)
			line, err := task.Append(nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, line); err != nil {
				t.Errorf("task does not validate: %v\n%s", err, indent(line))
			}
		})
	}
}

// TestSchemaGovernance validates the governance fields as Build, Escalate
// and the worker's flags write them.
func TestSchemaGovernance(t *testing.T) {
	sch := compileSchema(t)
	s, c, hits := firstCase(t)
	ex := &matchers.Exemption{ID: "EX-IN-PRESS", Category: matchers.CategoryJournalist, Reason: "Accredited journalists; any action needs legal review"}
	for _, tc := range []struct {
		name string
		edit func(*review.Task)
	}{
		{"escalated", func(task *review.Task) { task.Escalate(ex) }},
		{"shadow", func(task *review.Task) { task.Shadow = true }},
		{"tripped", func(task *review.Task) { task.Shadow, task.Tripped = true, true }},
		{"escalated in shadow", func(task *review.Task) { task.Escalate(ex); task.Shadow = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := review.Build(s, c.post, hits, c.src, now)
			id := task.TaskID
			tc.edit(&task)
			if task.TaskID != id {
				t.Errorf("the task id changed from %s to %s", id, task.TaskID)
			}
			line, err := task.Append(nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, line); err != nil {
				t.Errorf("task does not validate: %v\n%s", err, indent(line))
			}
		})
	}
	task := review.Build(s, c.post, hits, c.src, now)
	task.Escalate(ex)
	if task.Action != "escalate" || task.Priority != "critical" || *task.Exemption != (review.Exemption{ID: "EX-IN-PRESS", Category: "journalist", Reason: ex.Reason}) {
		t.Errorf("Escalate: action %s, priority %s, exemption %+v", task.Action, task.Priority, task.Exemption)
	}
	for _, m := range task.Matches {
		if m.Action == "escalate" {
			t.Errorf("a match's action (the demand's) became escalate")
		}
	}
}

// TestSchemaRejects checks that the schema is not vacuous: tasks broken in
// one field each must fail it.
func TestSchemaRejects(t *testing.T) {
	sch := compileSchema(t)
	s, c, hits := firstCase(t)
	good, err := json.Marshal(review.Build(s, c.post, hits, c.src, now))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(sch, good); err != nil {
		t.Fatalf("the unbroken task does not validate: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(task map[string]any)
	}{
		{"wrong schema name", func(m map[string]any) { m["schema"] = "flagstream.review_task/v2" }},
		{"task_id not hex", func(m map[string]any) { m["task_id"] = "not-an-id" }},
		{"created_at not RFC 3339", func(m map[string]any) { m["created_at"] = "Thu Feb 04 09:00:00 +0000 2021" }},
		{"created_at not UTC", func(m map[string]any) { m["created_at"] = "2026-01-02T08:34:05+05:30" }},
		{"unknown priority", func(m map[string]any) { m["priority"] = "urgent" }},
		{"unknown action", func(m map[string]any) { m["action"] = "remove" }},
		{"lowercase jurisdiction", func(m map[string]any) { m["jurisdictions"] = []any{"in"} }},
		{"alpha-3 jurisdiction", func(m map[string]any) { m["jurisdictions"] = []any{"IND"} }},
		{"repeated jurisdiction", func(m map[string]any) { m["jurisdictions"] = []any{"IN", "IN"} }},
		{"no jurisdictions", func(m map[string]any) { m["jurisdictions"] = []any{} }},
		{"no matches", func(m map[string]any) { m["matches"] = []any{} }},
		{"matches null", func(m map[string]any) { m["matches"] = nil }},
		{"missing tweet", func(m map[string]any) { delete(m, "tweet") }},
		{"missing source", func(m map[string]any) { delete(m, "source") }},
		{"missing lists_version", func(m map[string]any) { delete(m, "lists_version") }},
		{"tweet without author", func(m map[string]any) { delete(m["tweet"].(map[string]any), "author") }},
		{"tweet id empty", func(m map[string]any) { m["tweet"].(map[string]any)["id"] = "" }},
		{"tweet url elsewhere", func(m map[string]any) { m["tweet"].(map[string]any)["url"] = "https://example.org/x" }},
		{"unknown kind", func(m map[string]any) { firstMatch(m)["kind"] = "emoji" }},
		{"similarity on a hashtag match", func(m map[string]any) { firstMatch(m)["similarity"] = 0.9 }},
		{"text match without similarity", func(m map[string]any) { firstMatch(m)["kind"] = "text" }},
		{"unknown in", func(m map[string]any) { firstMatch(m)["in"] = "thread" }},
		{"via not binding", func(m map[string]any) { firstMatch(m)["via"] = "handle" }},
		{"unknown tier", func(m map[string]any) { firstMatch(m)["tier"] = "fuzzy" }},
		{"unknown scope", func(m map[string]any) { firstMatch(m)["scope"] = "account" }},
		{"match priority unknown", func(m map[string]any) { firstMatch(m)["priority"] = "p1" }},
		{"match jurisdiction lowercase", func(m map[string]any) { firstMatch(m)["jurisdiction"] = "de,at" }},
		{"match without demand_id", func(m map[string]any) { delete(firstMatch(m), "demand_id") }},
		{"match with empty value", func(m map[string]any) { firstMatch(m)["value"] = "" }},
		{"source empty", func(m map[string]any) { m["source"] = map[string]any{} }},
		{"source without offset", func(m map[string]any) { m["source"] = map[string]any{"topic": "t", "partition": 1} }},
		{"source negative partition", func(m map[string]any) {
			m["source"] = map[string]any{"topic": "t", "partition": -1, "offset": 0}
		}},
		{"source fractional offset", func(m map[string]any) {
			m["source"] = map[string]any{"topic": "t", "partition": 0, "offset": 1.5}
		}},
		{"source line 0", func(m map[string]any) { m["source"] = map[string]any{"file": "f", "line": 0} }},
		{"retro without job", func(m map[string]any) {
			m["retro"] = map[string]any{"since": "2021-02-01T00:00:00Z", "until": "2021-02-04T00:00:00Z"}
		}},
		{"retro since not a time", func(m map[string]any) {
			m["retro"] = map[string]any{"job": "j", "since": "72h", "until": "2021-02-04T00:00:00Z"}
		}},
		{"source file and kafka both", func(m map[string]any) {
			m["source"] = map[string]any{"topic": "t", "partition": 0, "offset": 0, "file": "f", "line": 1}
		}},
		{"escalated without an exemption", func(m map[string]any) { m["action"] = "escalate" }},
		{"exemption but withheld", func(m map[string]any) {
			m["exemption"] = map[string]any{"id": "EX-1", "category": "journalist", "reason": "Press"}
			m["priority"] = "critical"
		}},
		{"exemption not critical", func(m map[string]any) {
			m["exemption"] = map[string]any{"id": "EX-1", "category": "journalist", "reason": "Press"}
			m["action"], m["priority"] = "escalate", "high"
		}},
		{"exemption of an unknown category", func(m map[string]any) {
			m["exemption"] = map[string]any{"id": "EX-1", "category": "celebrity", "reason": "Famous"}
			m["action"], m["priority"] = "escalate", "critical"
		}},
		{"exemption without a reason", func(m map[string]any) {
			m["exemption"] = map[string]any{"id": "EX-1", "category": "journalist"}
			m["action"], m["priority"] = "escalate", "critical"
		}},
		{"shadow false", func(m map[string]any) { m["shadow"] = false }},
		{"tripped without shadow", func(m map[string]any) { m["tripped"] = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			tc.mutate(m)
			broken, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, broken); err == nil {
				t.Errorf("broken task validates:\n%s", indent(broken))
			}
		})
	}
}

func firstMatch(m map[string]any) map[string]any {
	return m["matches"].([]any)[0].(map[string]any)
}

// TestSchemaCoversTask checks that the schema names exactly the fields of
// the Go types, and requires those that are always written.
func TestSchemaCoversTask(t *testing.T) {
	root := schematest.Parse(t, review.Schema())
	defs := root["$defs"].(map[string]any)
	tweetDef := defs["tweet"].(map[string]any)
	schematest.CheckObjects(t, []schematest.Object{
		{Name: "task", Type: reflect.TypeFor[review.Task](), Schema: root},
		{Name: "tweet", Type: reflect.TypeFor[review.Tweet](), Schema: tweetDef},
		{Name: "author", Type: reflect.TypeFor[review.Author](), Schema: tweetDef["properties"].(map[string]any)["author"].(map[string]any)},
		{Name: "match", Type: reflect.TypeFor[review.Match](), Schema: defs["match"].(map[string]any)},
		{Name: "source", Type: reflect.TypeFor[review.Source](), Schema: defs["source"].(map[string]any), AnyRequired: true},
		{Name: "retro", Type: reflect.TypeFor[review.Retro](), Schema: defs["retro"].(map[string]any)},
		{Name: "exemption", Type: reflect.TypeFor[review.Exemption](), Schema: root["properties"].(map[string]any)["exemption"].(map[string]any)},
	})
}
