package matchers_test

import (
	"strings"
	"testing"
	"time"

	"flagstream/internal/lists/liststest"
	. "flagstream/matchers"
)

// compileListsAt parses list files (demands and exemptions) and compiles
// them as active at at.
func compileListsAt(t testing.TB, at time.Time, files map[string]string) *Snapshot {
	t.Helper()
	return liststest.Snapshot(t, at, files)
}

var governedFiles = map[string]string{
	"a.yaml": versionDemandA,
	"b.yaml": versionDemandB,
	"press.yaml": `kind: exemption
id: EX-PRESS
category: journalist
reason: Accredited journalists
applies_to: [IN-1]
handles: ["@Reporter_One"]
user_ids: ["00042"]
`,
	"all.yaml": `kind: exemption
id: EX-ALL
category: politician
reason: Members of parliament
applies_to: "*"
handles: [reporter_one, mp_two]
`,
}

func TestExemptionFor(t *testing.T) {
	s := compileListsAt(t, feb2021, governedFiles)
	demand := map[string]int{}
	for i, d := range s.Demands() {
		demand[d.ID] = i
	}
	ex := s.Exemptions()
	if len(ex) != 2 || ex[0].ID != "EX-ALL" || ex[1].ID != "EX-PRESS" {
		t.Fatalf("Exemptions() = %+v, want EX-ALL and EX-PRESS, by id", ex)
	}
	if h, ids := s.ExemptionCounts(1); h != 1 || ids != 1 {
		t.Errorf("ExemptionCounts(EX-PRESS) = %d handles, %d user ids; want 1, 1", h, ids)
	}
	for _, tc := range []struct {
		handle, id, demand string
		want               string // exemption id, "" for none
	}{
		// The first exemption by id that applies wins.
		{"reporter_one", "", "IN-1", "EX-ALL"},
		{"@REPORTER_ONE", "", "DE-2", "EX-ALL"},
		{"mp_two", "", "DE-2", "EX-ALL"},
		// By user id, leading zeros or not; only for the demand it names.
		{"", "42", "IN-1", "EX-PRESS"},
		{"someone", "0042", "IN-1", "EX-PRESS"},
		{"", "42", "DE-2", ""},
		{"", "420", "IN-1", ""},
		// Not handles, or not exempt.
		{"reporter_on", "", "IN-1", ""},
		{"reporter_one_", "", "IN-1", ""},
		{"ｒeporter_one", "", "IN-1", ""},
		{"reporter-one", "", "IN-1", ""},
		{strings.Repeat("a", 40), "", "IN-1", ""},
		{"", "", "IN-1", ""},
	} {
		got := ""
		if e := s.ExemptionFor([]byte(tc.handle), []byte(tc.id), demand[tc.demand]); e >= 0 {
			got = ex[e].ID
		}
		if got != tc.want {
			t.Errorf("ExemptionFor(%q, %q, %s) = %q, want %q", tc.handle, tc.id, tc.demand, got, tc.want)
		}
	}
	if !strings.Contains(s.Summary(), ", 2 exemptions,") {
		t.Errorf("Summary() = %q, want it to count the exemptions", s.Summary())
	}
	// Without exemptions nothing is exempt, and nothing breaks.
	plain := compileAt(t, feb2021, map[string]string{"a.yaml": versionDemandA})
	if e := plain.ExemptionFor([]byte("reporter_one"), []byte("42"), 0); e != -1 || plain.Exemptions() != nil {
		t.Errorf("without exemptions: ExemptionFor = %d, Exemptions = %v", e, plain.Exemptions())
	}
}

func TestExemptionForAllocatesNothing(t *testing.T) {
	s := compileListsAt(t, feb2021, governedFiles)
	handle, id := []byte("Reporter_One"), []byte("0042")
	if n := testing.AllocsPerRun(100, func() { s.ExemptionFor(handle, id, 0) }); n != 0 {
		t.Errorf("ExemptionFor allocates %.1f times a call, want 0", n)
	}
}

func BenchmarkExemptionFor(b *testing.B) {
	s := compileListsAt(b, feb2021, governedFiles)
	handle, id := []byte("fict_nobody_01"), []byte("1234567")
	b.ReportAllocs()
	for b.Loop() {
		s.ExemptionFor(handle, id, 1)
	}
}

func TestCompileExemptionErrors(t *testing.T) {
	demands := parseLists(t, map[string]string{"a.yaml": versionDemandA})
	var entries EntryList
	entries.Append(EntryHandle, []byte("reporter_one"), "x.yaml", 6)
	for _, tc := range []struct {
		name string
		ex   []Exemption
		want string
	}{
		{"unknown demand", []Exemption{{ID: "E", AppliesTo: []string{"XX-9"}, Entries: entries, File: "x.yaml", Line: 2}},
			`x.yaml:2: exemption E applies to demand "XX-9", which no demand file defines`},
		{"repeated id", []Exemption{{ID: "E", AllDemands: true, Entries: entries, File: "x.yaml", Line: 2}, {ID: "E", AllDemands: true, Entries: entries, File: "y.yaml", Line: 3}},
			`y.yaml:3: exemption id "E" is already used by x.yaml:2`},
	} {
		_, _, err := CompileLists(Lists{Demands: demands, Exemptions: tc.ex}, feb2021)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: CompileLists: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	var hashtag EntryList
	hashtag.Append(EntryHashtag, []byte("#press"), "x.yaml", 7)
	_, _, err := CompileLists(Lists{Demands: demands, Exemptions: []Exemption{{ID: "E", AllDemands: true, Entries: hashtag}}}, feb2021)
	if err == nil || !strings.Contains(err.Error(), "x.yaml:7: an exemption names accounts") {
		t.Errorf("CompileLists of an exemption naming a hashtag: %v", err)
	}
}

// TestGovernanceVersion checks what the governance settings do to the lists
// version and the demand hash: lists that use none keep their version;
// shadow mode, a breaker and exemptions each make a new one.
func TestGovernanceVersion(t *testing.T) {
	base := compileAt(t, feb2021, map[string]string{"a.yaml": versionDemandA, "b.yaml": versionDemandB})
	explicit := compileAt(t, feb2021, map[string]string{"a.yaml": "kind: demand\nmode: live\n" + versionDemandA, "b.yaml": versionDemandB})
	if explicit.Version() != base.Version() || explicit.DemandHash(1) != base.DemandHash(1) {
		t.Errorf("kind: demand and mode: live change the version: %s, want %s", explicit.Version(), base.Version())
	}
	seen := map[string]string{base.Version(): "base"}
	for name, files := range map[string]map[string]string{
		"shadow":     {"a.yaml": versionDemandA + "mode: shadow\n", "b.yaml": versionDemandB},
		"breaker":    {"a.yaml": versionDemandA + "max_tasks_per_minute: 50\n", "b.yaml": versionDemandB},
		"no breaker": {"a.yaml": versionDemandA + "max_tasks_per_minute: 0\n", "b.yaml": versionDemandB},
		"exemptions": governedFiles,
	} {
		s := compileListsAt(t, feb2021, files)
		if prev, ok := seen[s.Version()]; ok {
			t.Errorf("%s: version %s, the same as %s", name, s.Version(), prev)
		}
		seen[s.Version()] = name
		if name != "exemptions" && s.DemandHash(1) == base.DemandHash(1) {
			t.Errorf("%s: the demand hash of IN-1 did not change", name)
		}
		if s.DemandHash(0) != base.DemandHash(0) {
			t.Errorf("%s: the demand hash of DE-2, unchanged, changed", name)
		}
	}
	// An exemption's accounts count in the version, whatever their order.
	reordered := map[string]string{}
	for k, v := range governedFiles {
		reordered[k] = strings.Replace(v, "[reporter_one, mp_two]", "[MP_two, reporter_one]", 1)
	}
	if a, b := compileListsAt(t, feb2021, governedFiles).Version(), compileListsAt(t, feb2021, reordered).Version(); a != b {
		t.Errorf("reordering an exemption's handles changed the version: %s, %s", a, b)
	}
	fewer := map[string]string{}
	for k, v := range governedFiles {
		fewer[k] = strings.Replace(v, "[reporter_one, mp_two]", "[reporter_one]", 1)
	}
	if a, b := compileListsAt(t, feb2021, governedFiles).Version(), compileListsAt(t, feb2021, fewer).Version(); a == b {
		t.Errorf("removing an exempt handle kept the version %s", a)
	}
}
