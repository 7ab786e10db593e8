package lists

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"flagstream/matchers"
)

const pressExemption = `kind: exemption
id: EX-IN-PRESS
category: journalist
reason: Accredited journalists; any action needs legal review
applies_to: [IN-1]
handles: ["@Reporter_One", reporter_two]
handles_file: press-handles.txt
user_ids: ["0099"]
user_ids_file: press-ids.txt
`

var exemptionFiles = map[string]string{
	"in-1.yaml":         "id: IN-1\njurisdiction: IN\naction: withhold\nhandles: [fict_farmer_01]\n",
	"de-1.yaml":         "kind: demand\nid: DE-1\njurisdiction: DE\nhashtags: [\"#Tag\"]\n",
	"press.yaml":        pressExemption,
	"press-handles.txt": "# more reporters\nreporter_three\n",
	"press-ids.txt":     "123\n",
	"everyone.yaml":     "kind: exemption\nid: EX-ALL\ncategory: news_media\nreason: Public broadcaster\napplies_to: \"*\"\nuser_ids: [\"7\"]\n",
}

func TestParseExemptions(t *testing.T) {
	l, warnings, err := ParseFS(mapFS(exemptionFiles), "lists")
	if err != nil {
		t.Fatalf("ParseFS: %v", err)
	}
	for _, w := range warnings {
		if !strings.Contains(w.Msg, "no authority") && !strings.Contains(w.Msg, "no legal_basis") {
			t.Errorf("unexpected warning %v", &w)
		}
	}
	if got := len(l.Demands); got != 2 {
		t.Fatalf("got %d demands, want 2 (a demand file may say kind: demand)", got)
	}
	if got := len(l.Exemptions); got != 2 {
		t.Fatalf("got %d exemptions, want 2", got)
	}
	var press, all *matchers.Exemption
	for i := range l.Exemptions {
		switch l.Exemptions[i].ID {
		case "EX-IN-PRESS":
			press = &l.Exemptions[i]
		case "EX-ALL":
			all = &l.Exemptions[i]
		}
	}
	if press == nil || all == nil {
		t.Fatalf("exemptions %+v", l.Exemptions)
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"Category", press.Category, matchers.CategoryJournalist},
		{"Reason", press.Reason, "Accredited journalists; any action needs legal review"},
		{"AppliesTo", strings.Join(press.AppliesTo, ","), "IN-1"},
		{"AllDemands", press.AllDemands, false},
		{"File", press.File, "lists/press.yaml"},
		{"Line", press.Line, 2},
		{"all.AllDemands", all.AllDemands, true},
		{"all.Category", all.Category, matchers.CategoryNewsMedia},
		{"Applies(IN-1)", press.Applies("IN-1"), true},
		{"Applies(DE-1)", press.Applies("DE-1"), false},
		{"all.Applies(DE-1)", all.Applies("DE-1"), true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	var got []string
	for i := range press.Entries.Len() {
		e := press.Entries.At(i)
		got = append(got, e.Kind.String()+" "+e.Value)
	}
	want := []string{"handle @Reporter_One", "handle reporter_two", "handle reporter_three", "user_id 0099", "user_id 123"}
	if !slices.Equal(got, want) {
		t.Errorf("entries = %q, want %q", got, want)
	}
	// Demands are parsed as before: ParseLists drops the exemptions.
	demands, _, err := ParseLists(mapFS(exemptionFiles), "lists")
	if err != nil || len(demands) != 2 {
		t.Errorf("ParseLists: %d demands, %v", len(demands), err)
	}
}

func TestParseGovernanceFields(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		mode matchers.Mode
		max  int
		// limit is TaskLimit with a default of 100.
		limit int
	}{
		{"", matchers.ModeLive, 0, 100},
		{"mode: live\n", matchers.ModeLive, 0, 100},
		{"mode: shadow\nmax_tasks_per_minute: 500\n", matchers.ModeShadow, 500, 500},
		{"max_tasks_per_minute: 0\n", matchers.ModeLive, matchers.NoTaskLimit, 0},
	} {
		d, _, err := ParseDemand("d.yaml", []byte("id: X\njurisdiction: IN\nhandles: [a]\n"+tc.yaml), nil)
		if err != nil {
			t.Errorf("%q: %v", tc.yaml, err)
			continue
		}
		if d.Mode != tc.mode || d.MaxTasksPerMinute != tc.max || d.TaskLimit(100) != tc.limit {
			t.Errorf("%q: mode %v, max %d, limit %d; want %v, %d, %d", tc.yaml, d.Mode, d.MaxTasksPerMinute, d.TaskLimit(100), tc.mode, tc.max, tc.limit)
		}
	}
}

func TestParseExemptionErrors(t *testing.T) {
	const demand = "id: IN-1\njurisdiction: IN\nhandles: [a]\n"
	ex := func(body string) map[string]string {
		return map[string]string{"in-1.yaml": demand, "ex.yaml": body}
	}
	const head = "kind: exemption\nid: EX-1\ncategory: journalist\nreason: Press\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"unknown demand", ex(head + "applies_to: [IN-2, IN-1]\nhandles: [r]\n"),
			[]string{"lists/ex.yaml:5: ", `no demand has the id "IN-2"`, `did you mean "IN-1"?`}},
		{"unknown demand on its own line", ex(head + "applies_to:\n  - IN-1\n  - XX-FAR-AWAY-999\nhandles: [r]\n"),
			[]string{"lists/ex.yaml:7: ", `no demand has the id "XX-FAR-AWAY-999"`}},
		{"bad category", ex("kind: exemption\nid: EX-1\ncategory: celebrity\nreason: Famous\napplies_to: \"*\"\nhandles: [r]\n"),
			[]string{"lists/ex.yaml:3: ", `"celebrity" is not one of journalist | politician`}},
		{"hashtags", ex(head + "applies_to: \"*\"\nhashtags: [\"#press\"]\n"),
			[]string{"lists/ex.yaml:6: ", `unknown key "hashtags"`, "user_ids_file"}},
		{"no accounts", ex(head + "applies_to: \"*\"\n"),
			[]string{"lists/ex.yaml:1: ", "exemption names no accounts"}},
		{"no applies_to", ex(head + "handles: [r]\n"),
			[]string{"lists/ex.yaml:1: ", `missing required key "applies_to"`}},
		{"empty applies_to", ex(head + "applies_to: []\nhandles: [r]\n"),
			[]string{"lists/ex.yaml:5: ", "applies_to names no demand"}},
		{"bad applies_to", ex(head + "applies_to: [\"every demand\"]\nhandles: [r]\n"),
			[]string{"lists/ex.yaml:5: ", `"every demand" is not a demand id`}},
		{"no reason", ex("kind: exemption\nid: EX-1\ncategory: journalist\napplies_to: \"*\"\nhandles: [r]\n"),
			[]string{"lists/ex.yaml:1: ", `missing required key "reason"`}},
		{"empty reason", ex("kind: exemption\nid: EX-1\ncategory: journalist\nreason: \"  \"\napplies_to: \"*\"\nhandles: [r]\n"),
			[]string{"lists/ex.yaml:4: ", "reason is empty"}},
		{"no id", ex("kind: exemption\ncategory: journalist\nreason: r\napplies_to: \"*\"\nhandles: [r]\n"),
			[]string{"lists/ex.yaml:1: ", `missing required key "id"`}},
		{"bad handle", ex(head + "applies_to: \"*\"\nhandles: [not-a-handle]\n"),
			[]string{"lists/ex.yaml:6: ", `handle "not-a-handle" is not a Twitter handle`}},
		{"bad user id in a file", map[string]string{"in-1.yaml": demand, "ex.yaml": head + "applies_to: \"*\"\nuser_ids_file: ids.txt\n", "ids.txt": "1\nx2\n"},
			[]string{"lists/ids.txt:2: ", `user id "x2" is not a numeric account id`}},
		{"unknown kind", ex("kind: exception\nid: EX-1\n"),
			[]string{"lists/ex.yaml:1: ", `kind "exception" is not demand or exemption`}},
		{"kind not a value", ex("kind: [exemption]\nid: X\njurisdiction: IN\nhandles: [a]\n"),
			[]string{"lists/ex.yaml:1: ", "kind must be a single value"}},
		{"demand key in an exemption", ex(head + "applies_to: \"*\"\nhandles: [r]\njurisdiction: IN\n"),
			[]string{"lists/ex.yaml:7: ", `unknown key "jurisdiction"`}},
		{"repeated exemption id", map[string]string{"in-1.yaml": demand,
			"a.yaml": head + "applies_to: \"*\"\nhandles: [r]\n", "b.yaml": head + "applies_to: \"*\"\nhandles: [s]\n"},
			[]string{"lists/b.yaml:2: ", `exemption id "EX-1" is already used by lists/a.yaml:2`}},
		{"bad mode", map[string]string{"d.yaml": demand + "mode: dark\n"},
			[]string{"lists/d.yaml:4: ", `"dark" is not one of live | shadow`}},
		{"negative breaker", map[string]string{"d.yaml": demand + "max_tasks_per_minute: -1\n"},
			[]string{"lists/d.yaml:4: ", `max_tasks_per_minute "-1" must be a whole number from 0`}},
		{"breaker not a number", map[string]string{"d.yaml": demand + "max_tasks_per_minute: \"50\"\n"},
			[]string{"lists/d.yaml:4: ", "must be a whole number"}},
		{"demand file saying kind: exemption", map[string]string{"d.yaml": "kind: exemption\n" + demand},
			[]string{"lists/d.yaml:3: ", `unknown key "jurisdiction"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _, err := ParseFS(mapFS(tt.files), "lists")
			if err == nil {
				t.Fatalf("ParseFS succeeded with %d exemptions, want an error containing %q", len(l.Exemptions), tt.want)
			}
			if l.Demands != nil || l.Exemptions != nil {
				t.Errorf("ParseFS returned lists with its error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			checkListErrors(t, err)
		})
	}
}

func TestParseExemptionWarnings(t *testing.T) {
	files := map[string]string{
		"in-1.yaml": "id: IN-1\njurisdiction: IN\nhandles: [a]\nauthority: A\nlegal_basis: B\n",
		"ex.yaml":   "kind: exemption\nid: EX-1\ncategory: other\nreason: r\napplies_to: [\"*\", IN-1, IN-1]\nhandles: [r]\n",
	}
	l, warnings, err := ParseFS(mapFS(files), "")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, w := range warnings {
		msgs = append(msgs, w.Error())
	}
	want := []string{
		`ex.yaml:5: applies_to: "IN-1" repeats line 5`,
		`ex.yaml:5: applies_to: "*" already names every demand; the ids beside it add nothing`,
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("warnings = %q, want %q", msgs, want)
	}
	if e := l.Exemptions[0]; !e.AllDemands || len(e.AppliesTo) != 0 {
		t.Errorf("AllDemands %v, AppliesTo %q; want every demand", e.AllDemands, e.AppliesTo)
	}
}

func TestParseDemandAndExemption(t *testing.T) {
	if _, _, err := ParseDemand("ex.yaml", []byte(pressExemption), func(string) ([]byte, string, error) { return nil, "x", nil }); err == nil || !strings.Contains(err.Error(), "exemption file") {
		t.Errorf("ParseDemand of an exemption: %v, want an error saying it is an exemption file", err)
	}
	if _, _, err := ParseExemption("d.yaml", []byte("id: X\njurisdiction: IN\nhandles: [a]\n"), nil); err == nil || !strings.Contains(err.Error(), "kind: exemption") {
		t.Errorf("ParseExemption of a demand: %v, want an error naming kind: exemption", err)
	}
}

// TestLoadExemptions checks that Load compiles the exemptions into the
// snapshot and reports their entry files to the watcher.
func TestLoadExemptions(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, exemptionFiles)
	s, _, files, err := Loader{Dir: dir}.Load(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.Exemptions()); got != 2 {
		t.Fatalf("snapshot has %d exemptions, want 2", got)
	}
	in := -1
	for i, d := range s.Demands() {
		if d.ID == "IN-1" {
			in = i
		}
	}
	if e := s.ExemptionFor([]byte("REPORTER_three"), nil, in); e < 0 || s.Exemptions()[e].ID != "EX-IN-PRESS" {
		t.Errorf("ExemptionFor(REPORTER_three, IN-1) = %d, want EX-IN-PRESS", e)
	}
	if !slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(f, "press-handles.txt") }) ||
		!slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(f, "press-ids.txt") }) {
		t.Errorf("entry files %q lack the exemption's", files)
	}
}

// writeFiles writes files (name -> contents) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
