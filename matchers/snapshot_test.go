// The tests of this file and match_test.go write their demands as list
// files, which internal/lists parses; internal/lists imports matchers, so
// these tests are in package matchers_test and import matchers with a dot,
// as tests that a circular dependency keeps out of their package do.
// export_test.go exports the few internals they check.
package matchers_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"flagstream/internal/lists/liststest"
	. "flagstream/matchers"
)

// parseLists parses demand files given as name → YAML text.
func parseLists(t testing.TB, files map[string]string) []Demand {
	t.Helper()
	return liststest.Parse(t, files).Demands
}

// compileAt parses demand files and compiles them as active at at.
func compileAt(t testing.TB, at time.Time, files map[string]string) *Snapshot {
	t.Helper()
	s, _, err := Compile(parseLists(t, files), at)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

var feb2021 = time.Date(2021, 2, 15, 0, 0, 0, 0, time.UTC)

const (
	versionDemandA = `id: IN-1
authority: Ministry of Electronics and Information Technology
jurisdiction: [IN]
legal_basis: IT Act 2000, s. 69A
reference: lumen:1
action: withhold
scope: user
priority: high
handles: ["@fict_farmer_01", "@fict_farmer_02"]
hashtags: ["#FarmerGenocide"]
phrases: ["farmer genocide"]
domains: [example.org]
user_ids: ["1234567890"]
`
	versionDemandB = `id: DE-2
jurisdiction: DE
handles: [fict_user_01]
`
)

func TestSnapshotVersion(t *testing.T) {
	base := compileAt(t, feb2021, map[string]string{"a.yaml": versionDemandA, "b.yaml": versionDemandB})
	if v := base.Version(); len(v) != 16 || strings.Trim(v, "0123456789abcdef") != "" {
		t.Fatalf("Version() = %q, want 16 hex digits", v)
	}
	same := []struct {
		name  string
		files map[string]string
	}{
		{"other file names and order", map[string]string{"z.yaml": versionDemandA, "a.yaml": versionDemandB}},
		{"entries reordered", map[string]string{
			"a.yaml": strings.Replace(versionDemandA, `["@fict_farmer_01", "@fict_farmer_02"]`, `["@fict_farmer_02", "@fict_farmer_01"]`, 1),
			"b.yaml": versionDemandB,
		}},
		{"entries moved to an entry file", map[string]string{
			"a.yaml": strings.Replace(versionDemandA, `handles: ["@fict_farmer_01", "@fict_farmer_02"]`, "handles_file: a.txt", 1),
			"a.txt":  "# comment\n@fict_farmer_02\n@fict_farmer_01\n",
			"b.yaml": versionDemandB,
		}},
		{"keys reordered and comments", map[string]string{
			"a.yaml": "# reordered\n" + strings.Replace(versionDemandA, "action: withhold\n", "", 1) + "action: withhold # comment\n",
			"b.yaml": versionDemandB,
		}},
		{"an inactive demand added", map[string]string{
			"a.yaml": versionDemandA, "b.yaml": versionDemandB,
			"c.yaml": "id: OLD-3\njurisdiction: FR\nexpires: 2020-01-01\nhandles: [fict_old]\n",
			"d.yaml": "id: OFF-4\njurisdiction: FR\nstatus: rescinded\nhandles: [fict_off]\n",
			"e.yaml": "id: NEW-5\njurisdiction: FR\nreceived: 2022-01-01\nhandles: [fict_new]\n",
		}},
		{"dates that keep it active", map[string]string{
			"a.yaml": versionDemandA + "received: 2021-01-01\nexpires: 2030-01-01\n",
			"b.yaml": versionDemandB,
		}},
	}
	for _, tt := range same {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := compileAt(t, feb2021, tt.files).Version(), base.Version(); got != want {
				t.Errorf("Version() = %s, want %s as for the base lists", got, want)
			}
		})
	}
	edits := []struct {
		name, old, new string
	}{
		{"id", "id: IN-1", "id: IN-9"},
		{"authority", "authority: Ministry", "authority: The Ministry"},
		{"jurisdiction", "jurisdiction: [IN]", "jurisdiction: [IN, NP]"},
		{"legal basis", "s. 69A", "s. 69B"},
		{"reference", "lumen:1", "lumen:2"},
		{"action", "action: withhold", "action: review"},
		{"scope", "scope: user", "scope: tweet"},
		{"priority", "priority: high", "priority: critical"},
		{"tiers", "scope: user\n", "scope: user\ntiers: [exact]\n"},
		{"a handle", "@fict_farmer_02", "@fict_farmer_03"},
		{"a handle's case", "@fict_farmer_02", "@Fict_Farmer_02"},
		{"a handle added", `"@fict_farmer_02"]`, `"@fict_farmer_02", fict_farmer_03]`},
		{"a hashtag", "#FarmerGenocide", "#FarmersGenocide"},
		{"a phrase", "farmer genocide", "farmers genocide"},
		{"a domain", "example.org", "example.net"},
		{"a user id", "1234567890", "1234567891"},
		{"an entry's kind", `user_ids: ["1234567890"]`, `handles: ["1234567890"]`},
		{"made inactive", "priority: high\n", "priority: high\nstatus: rescinded\n"},
	}
	for _, tt := range edits {
		t.Run("changed "+tt.name, func(t *testing.T) {
			a := strings.Replace(versionDemandA, tt.old, tt.new, 1)
			if a == versionDemandA {
				t.Fatalf("edit %q → %q changes nothing", tt.old, tt.new)
			}
			if tt.name == "an entry's kind" { // the key handles is already used
				a = strings.Replace(a, `handles: ["@fict_farmer_01", "@fict_farmer_02"]`+"\n", "", 1)
				a = strings.Replace(a, `handles: ["1234567890"]`, `handles: ["@fict_farmer_01", "@fict_farmer_02", "1234567890"]`, 1)
			}
			got := compileAt(t, feb2021, map[string]string{"a.yaml": a, "b.yaml": versionDemandB}).Version()
			if got == base.Version() {
				t.Errorf("Version() = %s after changing %s, want a new version", got, tt.name)
			}
		})
	}
}

func TestSnapshotActive(t *testing.T) {
	files := map[string]string{
		"active.yaml":    "id: A-ACTIVE\njurisdiction: IN\nreceived: 2021-02-15\nexpires: 2021-02-16\nhandles: [fict_active]\nhashtags: [ActiveTag]\n",
		"future.yaml":    "id: B-FUTURE\njurisdiction: IN\nreceived: 2021-03-01\nhandles: [fict_future]\nhashtags: [FutureTag]\n",
		"expired.yaml":   "id: C-EXPIRED\njurisdiction: IN\nexpires: 2021-02-15\nhandles: [fict_expired]\n",
		"rescinded.yaml": "id: D-RESCINDED\njurisdiction: IN\nstatus: rescinded\nhandles: [fict_rescinded]\nphrases: [rescinded phrase]\n",
		"open.yaml":      "id: E-OPEN\njurisdiction: IN\nhandles: [fict_open]\n",
	}
	s := compileAt(t, feb2021, files)
	var active []string
	for d, dem := range s.Demands() {
		if s.Active(d) {
			active = append(active, dem.ID)
		}
		if c := s.Counts(d); c == ([NumEntryKinds]int{}) {
			t.Errorf("demand %s has no entry counts; inactive demands keep theirs", dem.ID)
		}
	}
	if want := []string{"A-ACTIVE", "E-OPEN"}; !slices.Equal(active, want) {
		t.Errorf("active demands = %q, want %q", active, want)
	}
	if got, want := len(s.Demands()), 5; got != want {
		t.Errorf("Demands() has %d demands, want %d (inactive ones included)", got, want)
	}
	// The sets hold the entries of pending and expired demands too, so
	// that a view at another time needs no recompilation; not the
	// rescinded demand's.
	if got, want := s.Entries(), 6; got != want {
		t.Errorf("Entries() = %d, want %d", got, want)
	}
	if got, want := s.ActiveEntries(), 3; got != want {
		t.Errorf("ActiveEntries() = %d, want %d", got, want)
	}
	var m Matcher
	for _, h := range []string{"fict_future", "fict_expired", "fict_rescinded"} {
		post := &Post{Parts: []Part{{Tweet: &Tweet{AuthorHandle: []byte(h), Text: []byte("#FutureTag rescinded phrase")}}}}
		if hits := m.Match(s, post, nil); len(hits) != 0 {
			t.Errorf("post by inactive demand's %s: %d hits, want none", h, len(hits))
		}
	}
	post := &Post{Parts: []Part{{Tweet: &Tweet{AuthorHandle: []byte("fict_active")}}}}
	if hits := m.Match(s, post, nil); len(hits) != 1 {
		t.Errorf("post by active demand's fict_active: %d hits, want 1", len(hits))
	}
	if got, want := s.Time(), feb2021; !got.Equal(want) {
		t.Errorf("Time() = %v, want %v", got, want)
	}
	if got, want := s.Summary(), "5 demands (2 active), 6 entries (3 active), lists version "+s.Version(); got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}

func TestSnapshotNextChange(t *testing.T) {
	files := map[string]string{
		"a.yaml": "id: A\njurisdiction: IN\nreceived: 2021-02-01\nexpires: 2021-04-01\nhandles: [a]\n",
		"b.yaml": "id: B\njurisdiction: IN\nreceived: 2021-03-01\nexpires: 2021-06-01\nhandles: [b]\n",
		"c.yaml": "id: C\njurisdiction: IN\nexpires: 2021-01-01\nhandles: [c]\n",
		"d.yaml": "id: D\njurisdiction: IN\nhandles: [d]\n",
	}
	demands := parseLists(t, files)
	date := func(m time.Month, d int) time.Time { return time.Date(2021, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		at, want time.Time
	}{
		{date(1, 1), date(2, 1)},
		{date(2, 15), date(3, 1)},
		{date(3, 1), date(4, 1)}, // at a boundary: the next one
		{date(3, 1).Add(-time.Nanosecond), date(3, 1)},
		{date(5, 1), date(6, 1)},
		{date(6, 1), time.Time{}},
	}
	for _, tt := range tests {
		s, _, err := Compile(demands, tt.at)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.NextChange(); !got.Equal(tt.want) {
			t.Errorf("compiled at %v: NextChange() = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestSnapshotDemandOfEntry(t *testing.T) {
	files := map[string]string{
		"1.yaml": "id: C-3\njurisdiction: IN\nhandles: [c1, c2]\nhashtags: [CTag]\n",
		"2.yaml": "id: A-1\njurisdiction: IN\nhandles: [a1]\n",
		"3.yaml": "id: B-2\njurisdiction: IN\nstatus: rescinded\nhandles: [b1]\n",
		"4.yaml": "id: D-4\njurisdiction: IN\nhandles: [d1]\nphrases: [d phrase]\n",
	}
	s := compileAt(t, feb2021, files)
	var got []string
	for e := range uint32(s.Entries()) {
		got = append(got, s.Demands()[s.Demand(e)].ID+" "+string(s.EntryValue(e)))
	}
	want := []string{"A-1 a1", "C-3 c1", "C-3 c2", "C-3 CTag", "D-4 d1", "D-4 d phrase"}
	if !slices.Equal(got, want) {
		t.Errorf("entries by demand = %q, want %q", got, want)
	}
	var ids []string
	for _, d := range s.Demands() {
		ids = append(ids, d.ID)
	}
	if want := []string{"A-1", "B-2", "C-3", "D-4"}; !slices.Equal(ids, want) {
		t.Errorf("Demands() = %q, want %q sorted by id", ids, want)
	}
	if got, want := s.Counts(2), [NumEntryKinds]int{EntryHandle: 2, EntryHashtag: 1}; got != want {
		t.Errorf("Counts(C-3) = %v, want %v", got, want)
	}
}

func TestSnapshotRepeatedEntries(t *testing.T) {
	files := map[string]string{
		"a.yaml": "id: A\njurisdiction: IN\nhandles: [\"@fict_dup\", fict_other]\nhandles_file: a.txt\nhashtags: [\"#DupTag\", duptag]\n",
		"a.txt":  "FICT_DUP\nfict_last\n",
		"b.yaml": "id: B\njurisdiction: IN\nhandles: [fict_dup]\n",
	}
	demands := parseLists(t, files)
	s, warnings, err := Compile(demands, feb2021)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, w := range warnings {
		msgs = append(msgs, w.Error())
	}
	wantMsgs := []string{
		`a.txt:1: handle "FICT_DUP" repeats "@fict_dup" of this demand; counted once`,
		`a.yaml:5: hashtag "duptag" repeats "#DupTag" of this demand; counted once`,
	}
	if !slices.Equal(msgs, wantMsgs) {
		t.Errorf("warnings = %q, want %q", msgs, wantMsgs)
	}
	if got, want := s.Counts(0), [NumEntryKinds]int{EntryHandle: 3, EntryHashtag: 1}; got != want {
		t.Errorf("Counts(A) = %v, want %v", got, want)
	}
	if got, want := s.Entries(), 5; got != want {
		t.Errorf("Entries() = %d, want %d", got, want)
	}
	// The repeat adds no reference: each handle finds only its own entry,
	// and the handle in two demands finds one entry of each.
	var m Matcher
	for handle, want := range map[string][]string{
		"fict_dup":   {"A @fict_dup", "B fict_dup"},
		"fict_other": {"A fict_other"},
		"fict_last":  {"A fict_last"},
	} {
		post := &Post{Parts: []Part{{Tweet: &Tweet{AuthorHandle: []byte(handle)}}}}
		var got []string
		for _, h := range m.Match(s, post, nil) {
			got = append(got, s.Demands()[s.Demand(h.Entry)].ID+" "+string(s.EntryValue(h.Entry)))
		}
		if !slices.Equal(got, want) {
			t.Errorf("author %s: hits on %q, want %q", handle, got, want)
		}
	}
}

func TestCompileDuplicateID(t *testing.T) {
	demands := parseLists(t, map[string]string{"a.yaml": "id: A\njurisdiction: IN\nhandles: [a]\n"})
	other := demands[0]
	other.File = "other.yaml"
	_, _, err := Compile(append(demands, other), feb2021)
	if err == nil || !strings.Contains(err.Error(), `demand id "A" is already used`) {
		t.Errorf("Compile of a repeated id: error %v, want one naming the id", err)
	}
}

func TestCompileKeepsInputOrder(t *testing.T) {
	demands := parseLists(t, map[string]string{
		"a.yaml": "id: B\njurisdiction: IN\nhandles: [b]\n",
		"b.yaml": "id: A\njurisdiction: IN\nhandles: [a]\n",
	})
	if _, _, err := Compile(demands, feb2021); err != nil {
		t.Fatal(err)
	}
	if got, want := demands[0].ID+demands[1].ID, "BA"; got != want {
		t.Errorf("after Compile the demands are in order %s, want %s: Compile sorted its input", got, want)
	}
}

// TestSnapshotAtFlipsActivity checks that a view at another instant turns
// demands on and off, changes the version, and shares the lookup sets.
func TestSnapshotAtFlipsActivity(t *testing.T) {
	files := map[string]string{
		"a.yaml": "id: A\njurisdiction: IN\nreceived: 2021-03-01\nexpires: 2021-04-01\nhandles: [fict_march]\n",
		"b.yaml": "id: B\njurisdiction: IN\nhandles: [fict_always]\n",
	}
	date := func(m time.Month, d int) time.Time { return time.Date(2021, m, d, 0, 0, 0, 0, time.UTC) }
	feb := compileAt(t, date(2, 15), files)
	mar := feb.At(date(3, 1))
	apr := mar.At(date(4, 1))
	again := apr.At(date(2, 15))

	if !SharesCompilation(mar, feb) || !SharesCompilation(apr, feb) {
		t.Error("views do not share the compiled sets")
	}
	if feb.Version() == mar.Version() || mar.Version() == apr.Version() {
		t.Errorf("versions feb %s, mar %s, apr %s: each change of activity must change the version", feb.Version(), mar.Version(), apr.Version())
	}
	if feb.Version() != apr.Version() || feb.Version() != again.Version() {
		t.Errorf("versions feb %s, apr %s, feb again %s: the same active demands must give the same version", feb.Version(), apr.Version(), again.Version())
	}
	if got, want := feb.NextChange(), date(3, 1); !got.Equal(want) {
		t.Errorf("feb NextChange = %v, want %v", got, want)
	}
	if got, want := mar.NextChange(), date(4, 1); !got.Equal(want) {
		t.Errorf("mar NextChange = %v, want %v", got, want)
	}
	if got := apr.NextChange(); !got.IsZero() {
		t.Errorf("apr NextChange = %v, want none", got)
	}
	var m Matcher
	post := &Post{Parts: []Part{{Tweet: &Tweet{AuthorHandle: []byte("fict_march")}}}}
	for _, tc := range []struct {
		name string
		s    *Snapshot
		want int
	}{{"feb", feb, 0}, {"mar", mar, 1}, {"apr", apr, 0}} {
		if got := len(m.Match(tc.s, post, nil)); got != tc.want {
			t.Errorf("%s: %d hits for fict_march, want %d", tc.name, got, tc.want)
		}
	}
}
