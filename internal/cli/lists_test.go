package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"flagstream/internal/testkit"
)

func TestScanFileBeforeFlags(t *testing.T) {
	before := runMain(t, nil, "scan", "--lists", "testdata/lists", "--at", scanAt, scanInput)
	after := runMain(t, nil, "scan", scanInput, "--lists", "testdata/lists", "--at", scanAt)
	if after.code != ExitOK {
		t.Fatalf("scan FILE --lists DIR: exit %d; stderr:\n%s", after.code, after.stderr)
	}
	count := func(out string) int { return strings.Count(out, "\n") }
	if count(after.stdout) != 4 || count(after.stdout) != count(before.stdout) {
		t.Errorf("scan FILE --lists DIR wrote %d tasks, scan --lists DIR FILE %d; want 4 each", count(after.stdout), count(before.stdout))
	}
	// "--" ends the flags: a file may be named like one.
	r := runMain(t, nil, "scan", "--lists", "testdata/lists", "--", "--not-a-flag")
	if r.code != ExitIO || !strings.Contains(r.stderr, "--not-a-flag") {
		t.Errorf("scan -- --not-a-flag: exit %d, want 1 for a missing file; stderr:\n%s", r.code, r.stderr)
	}
}

// checkJSON runs lists check with args and --json, and decodes its report
// strictly.
func checkJSON(t *testing.T, args ...string) checkReport {
	t.Helper()
	r := runMain(t, nil, append(append([]string{"lists", "check"}, args...), "--json")...)
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	var report checkReport
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&report); err != nil {
		t.Fatalf("output is not a check report: %v\n%s", err, r.stdout)
	}
	return report
}

func TestListsCheckJSON(t *testing.T) {
	report := checkJSON(t, "../../deploy/examples/lists", "--at", "2022-01-01")
	if report.Schema != "flagstream.lists_check/v1" || !report.OK || report.At != "2022-01-01T00:00:00Z" || len(report.ListsVersion) != 16 {
		t.Errorf("report header = %+v", report)
	}
	text := runMain(t, nil, "lists", "check", "../../deploy/examples/lists", "--at", "2022-01-01")
	if !strings.Contains(text.stdout, "lists version "+report.ListsVersion) {
		t.Errorf("the JSON version %s is not the one of the text output:\n%s", report.ListsVersion, text.stdout)
	}
	var ids []string
	for _, d := range report.Demands {
		ids = append(ids, d.ID)
	}
	if want := []string{"DE-NETZDG-2020-117", "IN-MEITY-2021-02-04", "TS-MISINFO-2021-001"}; !slices.Equal(ids, want) {
		t.Fatalf("demands %v, want %v", ids, want)
	}
	in := report.Demands[1]
	want := checkDemand{
		ID: "IN-MEITY-2021-02-04", File: "../../deploy/examples/lists/in-meity-2021-02-04.yaml", State: "active",
		Jurisdictions: []string{"IN"}, Action: "withhold", Scope: "user", Priority: "high",
		Received: "2021-02-04", Expires: "2031-02-04", Tiers: []string{"exact", "loose"},
		EntryFiles: []string{"../../deploy/examples/lists/in-meity-2021-02-04-handles.txt"},
	}
	if in.ID != want.ID || in.File != want.File || in.State != want.State || !slices.Equal(in.Jurisdictions, want.Jurisdictions) ||
		in.Action != want.Action || in.Scope != want.Scope || in.Priority != want.Priority || in.Received != want.Received ||
		in.Expires != want.Expires || !slices.Equal(in.Tiers, want.Tiers) || !slices.Equal(in.EntryFiles, want.EntryFiles) {
		t.Errorf("demand = %+v\nwant      %+v", in, want)
	}
	if in.Line < 1 || in.Authority == "" || in.LegalBasis == "" || in.Entries["hashtag"] != 2 || in.Entries["handle"] < 1 {
		t.Errorf("demand lacks its line, authority, legal basis or entry counts: %+v", in)
	}
	if report.Demands[0].State != "rescinded" {
		t.Errorf("DE-NETZDG state %q, want rescinded", report.Demands[0].State)
	}
	if len(report.Problems) != 0 || report.Warnings == nil {
		t.Errorf("problems %v, warnings %v; want none and an empty list", report.Problems, report.Warnings)
	}

	t.Run("broken", func(t *testing.T) {
		r := runMain(t, nil, "lists", "check", "testdata/broken-lists", "--json")
		if r.code != ExitUsage {
			t.Errorf("exit %d, want 2", r.code)
		}
		var report checkReport
		if err := json.Unmarshal([]byte(r.stdout), &report); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
		}
		want := []listIssue{{File: "testdata/broken-lists/broken.yaml", Line: 3, Message: `jurisdiction "ZZZ" is not an ISO 3166-1 alpha-2 country code`}}
		if report.OK || !reflect.DeepEqual(report.Problems, want) || len(report.Demands) != 0 {
			t.Errorf("report = %+v, want ok false and problems %v", report, want)
		}
		if !strings.Contains(r.stderr, "1 problem") {
			t.Errorf("stderr lacks the count of problems:\n%s", r.stderr)
		}
	})
	t.Run("absent", func(t *testing.T) {
		r := runMain(t, nil, "lists", "check", "testdata/absent", "--json")
		var report checkReport
		if err := json.Unmarshal([]byte(r.stdout), &report); err != nil || r.code != ExitUsage {
			t.Fatalf("exit %d, output %q: %v", r.code, r.stdout, err)
		}
		if len(report.Problems) != 1 || report.Problems[0].File != "testdata/absent" || report.Problems[0].Line != 0 {
			t.Errorf("problems = %+v, want one about testdata/absent", report.Problems)
		}
	})
	t.Run("warnings", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "w.yaml"), "id: W-1\njurisdiction: IN\nhandles: [a, A]\n")
		r := runMain(t, nil, "lists", "check", dir, "--json")
		var report checkReport
		if err := json.Unmarshal([]byte(r.stdout), &report); err != nil || r.code != ExitOK {
			t.Fatalf("exit %d, output %q: %v", r.code, r.stdout, err)
		}
		var msgs []string
		for _, w := range report.Warnings {
			msgs = append(msgs, w.Message)
			if w.File != filepath.Join(dir, "w.yaml") {
				t.Errorf("warning of file %q", w.File)
			}
		}
		if got := strings.Join(msgs, "\n"); !strings.Contains(got, "repeats") || !strings.Contains(got, "no authority") {
			t.Errorf("warnings lack the repeat and the missing authority:\n%s", got)
		}
		if r.stderr != "" {
			t.Errorf("--json writes warnings to stderr too:\n%s", r.stderr)
		}
	})
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestListsDiff(t *testing.T) {
	args := []string{"lists", "diff", "testdata/diff/old", "testdata/diff/new", "--at", "2026-01-01"}
	text := runMain(t, nil, args...)
	if text.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", text.code, text.stderr)
	}
	testkit.Golden(t, "testdata/diff/diff.golden", []byte(text.stdout))

	js := runMain(t, nil, append(args, "--json")...)
	if js.code != ExitOK {
		t.Fatalf("--json: exit %d; stderr:\n%s", js.code, js.stderr)
	}
	testkit.Golden(t, "testdata/diff/diff.json.golden", []byte(js.stdout))
	var d listsDiff
	dec := json.NewDecoder(strings.NewReader(js.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("output is not a lists diff: %v", err)
	}
	changes := map[string]demandDiff{}
	for _, dd := range d.Demands {
		changes[dd.ID] = dd
	}
	if _, ok := changes["XX-SAME"]; ok || len(d.Demands) != 3 || d.Identical {
		t.Errorf("demands %v, want XX-ADDED, XX-CHANGED, XX-REMOVED (not XX-SAME)", d.Demands)
	}
	if changes["XX-ADDED"].Change != "added" || changes["XX-REMOVED"].Change != "removed" || changes["XX-CHANGED"].Change != "changed" {
		t.Errorf("changes = %+v", changes)
	}
	c := changes["XX-CHANGED"]
	wantFields := []fieldChange{
		{"jurisdiction", "IN", "IN,PK"}, {"expires", "2030-01-01", "2031-01-01"}, {"action", "review", "withhold"},
		{"mode", "live", "shadow"}, {"max_tasks_per_minute", "", "50"},
	}
	if !reflect.DeepEqual(c.Fields, wantFields) {
		t.Errorf("fields = %+v, want %+v", c.Fields, wantFields)
	}
	entry := func(es []diffEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Kind+" "+e.Entry)
		}
		return out
	}
	if got, want := entry(c.Entries.Added), []string{"handle delta", "handle eta"}; !slices.Equal(got, want) {
		t.Errorf("added %v, want %v", got, want)
	}
	if got, want := entry(c.Entries.Removed), []string{"handle gamma", "handle zeta"}; !slices.Equal(got, want) {
		t.Errorf("removed %v, want %v", got, want)
	}
	wantRespelled := []respellEntry{
		{Kind: "handle", Old: "@Alpha", New: "alpha", File: "testdata/diff/new/changed.yaml", Line: 8},
		{Kind: "hashtag", Old: "#FarmerGenocide", New: "#farmergenocide", File: "testdata/diff/new/changed.yaml", Line: 9},
	}
	if !reflect.DeepEqual(c.Entries.Respelled, wantRespelled) {
		t.Errorf("respelled %+v, want %+v", c.Entries.Respelled, wantRespelled)
	}
	if e := c.Entries.Added[1]; e.File != "testdata/diff/new/changed-handles.txt" || e.Line != 3 {
		t.Errorf("entry from an entry file at %s:%d, want testdata/diff/new/changed-handles.txt:3", e.File, e.Line)
	}
	want := diffSummary{DemandsAdded: 1, DemandsRemoved: 1, DemandsChanged: 1, EntriesAdded: 3, EntriesRemoved: 3, EntriesRespelled: 2,
		ExemptionsAdded: 1, ExemptionsChanged: 1, AccountsAdded: 2, AccountsRemoved: 1}
	if d.Summary != want {
		t.Errorf("summary %+v, want %+v", d.Summary, want)
	}
	// Exemptions are compared as demands are: fields, then accounts.
	if len(d.Exemptions) != 2 || d.Exemptions[0].ID != "EX-MPS" || d.Exemptions[0].Change != "added" ||
		d.Exemptions[1].ID != "EX-PRESS" || d.Exemptions[1].Change != "changed" {
		t.Fatalf("exemptions %+v, want EX-MPS added and EX-PRESS changed", d.Exemptions)
	}
	press := d.Exemptions[1]
	wantPress := []fieldChange{
		{"reason", "Accredited journalists", "Accredited journalists; any action needs legal review"}, {"applies_to", "XX-CHANGED", "*"},
	}
	if !reflect.DeepEqual(press.Fields, wantPress) {
		t.Errorf("EX-PRESS fields = %+v, want %+v", press.Fields, wantPress)
	}
	if got := entry(press.Entries.Added); !slices.Equal(got, []string{"handle reporter_three"}) {
		t.Errorf("EX-PRESS added %v", got)
	}
	if got := entry(press.Entries.Removed); !slices.Equal(got, []string{"handle reporter_two"}) {
		t.Errorf("EX-PRESS removed %v", got)
	}
	if d.Old.ListsVersion == d.New.ListsVersion || d.Old.Demands != 3 || d.New.Demands != 3 {
		t.Errorf("sides %+v %+v", d.Old, d.New)
	}

	t.Run("exit code", func(t *testing.T) {
		tests := []struct {
			args []string
			code int
		}{
			{[]string{"lists", "diff", "testdata/diff/old", "testdata/diff/new"}, ExitOK},
			{[]string{"lists", "diff", "--exit-code", "testdata/diff/old", "testdata/diff/new"}, 1},
			{[]string{"lists", "diff", "--exit-code", "testdata/diff/old", "testdata/diff/old"}, ExitOK},
			{[]string{"lists", "diff", "--exit-code", "--json", "testdata/diff/new", "testdata/diff/new"}, ExitOK},
		}
		for _, tc := range tests {
			r := runMain(t, nil, tc.args...)
			if r.code != tc.code || r.stderr != "" {
				t.Errorf("%v: exit %d, stderr %q; want %d and nothing", tc.args, r.code, r.stderr, tc.code)
			}
		}
		same := runMain(t, nil, "lists", "diff", "testdata/diff/old", "testdata/diff/old")
		if !strings.Contains(same.stdout, "no differences") {
			t.Errorf("diff of a directory with itself:\n%s", same.stdout)
		}
	})
	t.Run("same content in other files", func(t *testing.T) {
		// The demand of one file split into two, spelled differently:
		// the entries are the same, so only the file changes.
		oldDir, newDir := t.TempDir(), t.TempDir()
		writeFile(t, filepath.Join(oldDir, "a.yaml"), "id: A\njurisdiction: IN\nauthority: x\nlegal_basis: y\nhashtags: [\"#One\"]\nhandles: [\"@Two\"]\n")
		writeFile(t, filepath.Join(newDir, "b.yaml"), "id: A\njurisdiction: IN\nauthority: x\nlegal_basis: y\nhashtags: [\"#One\"]\nhandles_file: h.txt\n")
		writeFile(t, filepath.Join(newDir, "h.txt"), "@Two\n")
		r := runMain(t, nil, "lists", "diff", "--json", oldDir, newDir)
		var d listsDiff
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatal(err)
		}
		if len(d.Demands) != 1 || !reflect.DeepEqual(d.Demands[0].Fields, []fieldChange{{"file", "a.yaml", "b.yaml"}}) ||
			d.Summary.EntriesAdded+d.Summary.EntriesRemoved+d.Summary.EntriesRespelled != 0 {
			t.Errorf("diff = %+v", d)
		}
		if d.Old.ListsVersion != d.New.ListsVersion {
			t.Errorf("versions %s and %s of the same entries differ", d.Old.ListsVersion, d.New.ListsVersion)
		}
	})
}

func TestListsTest(t *testing.T) {
	const lists = "../../deploy/examples/lists"
	t.Run("text", func(t *testing.T) {
		r := runMain(t, nil, "lists", "test", "they plan a #Farmer_Genocide, see https://www.genocide-news.example/x", "--lists", lists, "--at", "2022-01-01")
		if r.code != ExitOK {
			t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
		}
		testkit.Golden(t, "testdata/liststest/text.golden", []byte(r.stdout))
		for _, want := range []string{"#Farmer_Genocide", "#FarmerGenocide", "loose", "IN-MEITY-2021-02-04", "withhold", "genocide-news.example", "TS-MISINFO-2021-001"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q", want)
			}
		}
	})
	t.Run("no match", func(t *testing.T) {
		r := runMain(t, nil, "lists", "test", "--lists", lists, "a farmer and a genocide researcher")
		if r.code != ExitOK || r.stdout != "no match\n" {
			t.Errorf("exit %d, stdout %q; want 0 and \"no match\"", r.code, r.stdout)
		}
	})
	t.Run("inactive demand", func(t *testing.T) {
		r := runMain(t, nil, "lists", "test", "--lists", lists, "#ExampleBannedTag")
		if r.stdout != "no match\n" {
			t.Errorf("a rescinded demand's hashtag matches:\n%s", r.stdout)
		}
	})
	tweet := filepath.Join(t.TempDir(), "tweet.json")
	writeFile(t, tweet, `{"id_str": "42", "full_text": "RT @kisan_awaaz_ex: #FarmerGenocide now",
	  "user": {"screen_name": "someone", "id_str": "7"},
	  "quoted_status": {"id_str": "41", "text": "see https://www.genocide-news.example/a",
	    "user": {"screen_name": "Tractor2Delhi_X", "id_str": "8"}}}`)
	t.Run("tweet", func(t *testing.T) {
		r := runMain(t, nil, "lists", "test", "--lists", lists, "--at", "2022-01-01", "--tweet", tweet)
		if r.code != ExitOK {
			t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
		}
		testkit.Golden(t, "testdata/liststest/tweet.golden", []byte(r.stdout))
	})
	t.Run("tweet json from stdin", func(t *testing.T) {
		data, err := os.ReadFile(tweet)
		if err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := Main(t.Context(), []string{"lists", "test", "--lists", lists, "--at", "2022-01-01", "--tweet", "-", "--json"},
			&Env{Stdin: bytes.NewReader(data), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
		if code != ExitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
		}
		var e explanation
		dec := json.NewDecoder(&stdout)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("output is not a lists test report: %v", err)
		}
		if e.Schema != "flagstream.lists_test/v1" || len(e.Posts) != 1 || e.ListsVersion == "" {
			t.Fatalf("report = %+v", e)
		}
		p := e.Posts[0]
		if p.TweetID != "42" || p.Author != "someone" || !p.Matched || p.Action != "withhold" || p.Priority != "high" ||
			!slices.Equal(p.Jurisdictions, []string{"GB", "IN", "US"}) {
			t.Errorf("post = %+v", p)
		}
		var got []string
		for _, m := range p.Matches {
			got = append(got, m.Kind+" "+m.In+" "+m.Value+" -> "+m.Entry+" "+m.Tier+" "+m.DemandID)
		}
		want := []string{
			"author quoted @Tractor2Delhi_X -> @tractor2delhi_x exact IN-MEITY-2021-02-04",
			"domain quoted https://www.genocide-news.example/a -> genocide-news.example exact TS-MISINFO-2021-001",
			"hashtag tweet #FarmerGenocide -> #FarmerGenocide exact IN-MEITY-2021-02-04",
			"mention tweet @kisan_awaaz_ex -> @kisan_awaaz_ex exact IN-MEITY-2021-02-04",
			"phrase tweet FarmerGenocide -> farmer genocide loose TS-MISINFO-2021-001",
		}
		if !slices.Equal(got, want) {
			t.Errorf("matches:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("same as scan", func(t *testing.T) {
		// lists test and scan agree on every tweet of the scan fixture;
		// lists test shows account matches too, which scan makes tasks of
		// only with --no-cases.
		data, err := os.ReadFile(scanInput)
		if err != nil {
			t.Fatal(err)
		}
		scan := runMain(t, nil, "scan", "--lists", "testdata/lists", "--at", scanAt, "--no-cases", scanInput)
		var flagged []string
		for _, line := range strings.Split(strings.TrimSpace(scan.stdout), "\n") {
			var task struct {
				Matches json.RawMessage `json:"matches"`
			}
			if err := json.Unmarshal([]byte(line), &task); err != nil {
				t.Fatal(err)
			}
			flagged = append(flagged, string(task.Matches))
		}
		var explained []string
		for i, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			path := filepath.Join(t.TempDir(), "tweet.json")
			writeFile(t, path, string(line))
			r := runMain(t, nil, "lists", "test", "--lists", "testdata/lists", "--at", scanAt, "--tweet", path, "--json")
			if r.code != ExitOK {
				continue // a line scan rejects
			}
			var e struct {
				Posts []struct {
					Matches json.RawMessage `json:"matches"`
				} `json:"posts"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &e); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			for _, p := range e.Posts {
				var compact bytes.Buffer
				json.Compact(&compact, p.Matches)
				if compact.String() != "[]" {
					explained = append(explained, compact.String())
				}
			}
		}
		if len(flagged) != 7 || !slices.Equal(explained, flagged) {
			t.Errorf("lists test explains\n%s\nscan flagged\n%s", strings.Join(explained, "\n"), strings.Join(flagged, "\n"))
		}
	})
}

func TestSchemaCommand(t *testing.T) {
	for _, s := range publishedSchemas() {
		t.Run(s.name, func(t *testing.T) {
			r := runMain(t, nil, "schema", s.name)
			if r.code != ExitOK {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(r.stdout))
			if err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if m, _ := doc.(map[string]any); m["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
				t.Errorf("$schema = %v, want draft 2020-12", m["$schema"])
			}
			c := jsonschema.NewCompiler()
			if err := c.AddResource(s.name+".schema.json", doc); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Compile(s.name + ".schema.json"); err != nil {
				t.Errorf("does not compile as a JSON Schema: %v", err)
			}
		})
	}
}

func TestListsCheckExemptions(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in.yaml"), "id: IN-1\njurisdiction: IN\naction: withhold\nmode: shadow\nmax_tasks_per_minute: 50\nhandles: [fict_a]\n")
	writeFile(t, filepath.Join(dir, "de.yaml"), "id: DE-1\njurisdiction: DE\nmax_tasks_per_minute: 0\nhashtags: [\"#Tag\"]\n")
	writeFile(t, filepath.Join(dir, "press.yaml"), "kind: exemption\nid: EX-PRESS\ncategory: journalist\nreason: Press\napplies_to: [IN-1]\nhandles: [reporter_one, reporter_two]\nuser_ids_file: press-ids.txt\n")
	writeFile(t, filepath.Join(dir, "press-ids.txt"), "42\n")

	report := checkJSON(t, dir)
	want := []checkExemption{{
		ID: "EX-PRESS", File: filepath.Join(dir, "press.yaml"), Line: 2, Category: "journalist", Reason: "Press",
		AppliesTo: []string{"IN-1"}, Handles: 2, UserIDs: 1, EntryFiles: []string{filepath.Join(dir, "press-ids.txt")},
	}}
	if !reflect.DeepEqual(report.Exemptions, want) {
		t.Errorf("exemptions = %+v, want %+v", report.Exemptions, want)
	}
	byID := map[string]checkDemand{}
	for _, d := range report.Demands {
		byID[d.ID] = d
	}
	if d := byID["IN-1"]; d.Mode != "shadow" || d.MaxTasksPerMinute == nil || *d.MaxTasksPerMinute != 50 {
		t.Errorf("IN-1: mode %q, max_tasks_per_minute %v; want shadow, 50", d.Mode, d.MaxTasksPerMinute)
	}
	if d := byID["DE-1"]; d.Mode != "live" || d.MaxTasksPerMinute == nil || *d.MaxTasksPerMinute != 0 {
		t.Errorf("DE-1: mode %q, max_tasks_per_minute %v; want live, 0 (off)", d.Mode, d.MaxTasksPerMinute)
	}

	text := runMain(t, nil, "lists", "check", dir)
	for _, w := range []string{"MODE", "BREAKER", "shadow", "50/min", "off", "EXEMPTION", "EX-PRESS", "journalist", "1 exemption,"} {
		if !strings.Contains(text.stdout, w) {
			t.Errorf("the table lacks %q:\n%s", w, text.stdout)
		}
	}

	// A bad exemption fails the check with its file and line.
	writeFile(t, filepath.Join(dir, "bad.yaml"), "kind: exemption\nid: EX-BAD\ncategory: journalist\nreason: r\napplies_to: [IN-2]\nhandles: [x]\n")
	bad := runMain(t, nil, "lists", "check", dir)
	if bad.code != ExitUsage || !strings.Contains(bad.stderr, filepath.Join(dir, "bad.yaml")+`:5: applies_to: no demand has the id "IN-2" (did you mean "IN-1"?)`) {
		t.Errorf("a bad exemption: exit %d, stderr:\n%s", bad.code, bad.stderr)
	}
}

// TestListsTestGovernance: lists test says when run would escalate a
// tweet (its author exempt) and which matches go to the shadow topic.
func TestListsTestGovernance(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in.yaml"), "id: IN-1\njurisdiction: IN\naction: withhold\nhashtags: [India]\n")
	writeFile(t, filepath.Join(dir, "quiet.yaml"), "id: QUIET\njurisdiction: DE\nmode: shadow\nhashtags: [Quiet]\n")
	writeFile(t, filepath.Join(dir, "press.yaml"), "kind: exemption\nid: EX-PRESS\ncategory: journalist\nreason: Accredited journalists\napplies_to: [IN-1]\nhandles: [reporter_one]\n")
	tweet := filepath.Join(dir, "tweet.json")
	writeFile(t, tweet, `{"id_str":"42","text":"#India and #Quiet","user":{"id_str":"7","screen_name":"Reporter_One"}}`)

	r := runMain(t, nil, "lists", "test", "--lists", dir, "--tweet", tweet)
	for _, want := range []string{"escalated: the author is exempt under EX-PRESS (journalist: Accredited journalists)", "shadow mode: the matches of QUIET go to the shadow topic"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("lists test output lacks %q:\n%s", want, r.stdout)
		}
	}
	js := runMain(t, nil, "lists", "test", "--lists", dir, "--tweet", tweet, "--json")
	var e explanation
	if err := json.Unmarshal([]byte(js.stdout), &e); err != nil || len(e.Posts) != 1 {
		t.Fatalf("--json: %v\n%s", err, js.stdout)
	}
	if p := e.Posts[0]; p.Exemption == nil || p.Exemption.ID != "EX-PRESS" || !slices.Equal(p.ShadowDemands, []string{"QUIET"}) {
		t.Errorf("--json: exemption %+v, shadow demands %q", p.Exemption, p.ShadowDemands)
	}
	// A text has no author: nothing is exempt.
	text := runMain(t, nil, "lists", "test", "--lists", dir, "#India")
	if strings.Contains(text.stdout, "escalated") {
		t.Errorf("a text was escalated:\n%s", text.stdout)
	}
}
