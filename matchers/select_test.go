package matchers_test

import (
	"slices"
	"strings"
	"testing"

	. "flagstream/matchers"
)

// entryStrings lists a demand's entries as "kind value".
func entryStrings(d *Demand) []string {
	var out []string
	for i := 0; i < d.Entries.Len(); i++ {
		e := d.Entries.At(i)
		out = append(out, e.Kind.String()+" "+e.Value)
	}
	return out
}

func TestSelectDemands(t *testing.T) {
	demands := parseLists(t, map[string]string{"a.yaml": versionDemandA, "b.yaml": versionDemandB})
	got, err := SelectDemands(demands, []string{"DE-2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "DE-2" {
		t.Fatalf("SelectDemands(DE-2) = %d demands, want DE-2 alone", len(got))
	}
	got, err = SelectDemands(demands, []string{"IN-1", "DE-2", "IN-1"})
	if err != nil || len(got) != 2 {
		t.Fatalf("SelectDemands(IN-1, DE-2, IN-1) = %d demands, %v; want 2", len(got), err)
	}
	_, err = SelectDemands(demands, []string{"XX-9", "IN-1", "YY"})
	if err == nil {
		t.Fatal("SelectDemands with unknown ids: no error")
	}
	for _, want := range []string{`"XX-9"`, `"YY"`, "DE-2, IN-1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestAddedEntries(t *testing.T) {
	old := parseLists(t, map[string]string{
		"a.yaml": `id: IN-1
jurisdiction: IN
handles: ["@Kept_One", "@removed_one"]
hashtags: ["#FarmerGenocide"]
phrases: ["farmer genocide"]
`,
		"r.yaml": `id: RESCINDED
jurisdiction: IN
status: rescinded
handles: [was_rescinded]
`,
	})
	cur := parseLists(t, map[string]string{
		"a.yaml": `id: IN-1
jurisdiction: IN
handles: ["kept_one", "@new_one"]
hashtags: ["#farmergenocide", "#NewTag"]
phrases: ["Farmer  Genocide", "new phrase here"]
domains: [new.example]
`,
		"b.yaml": `id: LATE
jurisdiction: [DE, FR]
action: withhold
handles: [late_one]
hashtags: ["#LateTag"]
`,
		"r.yaml": `id: RESCINDED
jurisdiction: IN
handles: [was_rescinded]
`,
		"s.yaml": `id: STILL-RESCINDED
jurisdiction: IN
status: rescinded
handles: [never_matches]
`,
	})
	got := AddedEntries(old, cur)
	byID := map[string][]string{}
	for i := range got {
		byID[got[i].ID] = entryStrings(&got[i])
	}
	want := map[string][]string{
		// Respelled entries ("kept_one", "#farmergenocide", the phrase's
		// spacing and case) are not added.
		"IN-1": {"handle @new_one", "hashtag #NewTag", "phrase new phrase here", "domain new.example"},
		"LATE": {"handle late_one", "hashtag #LateTag"},
		// A demand that was rescinded matched nothing: all its entries are new.
		"RESCINDED": {"handle was_rescinded"},
	}
	if len(byID) != len(want) {
		t.Errorf("AddedEntries gave demands %v, want %v", byID, want)
	}
	for id, w := range want {
		if g := byID[id]; !slices.Equal(g, w) {
			t.Errorf("%s: added %q, want %q", id, g, w)
		}
	}
	for i := range got {
		if got[i].ID == "LATE" && (got[i].Action != ActionWithhold || !slices.Equal(got[i].Jurisdictions, []string{"DE", "FR"})) {
			t.Errorf("LATE lost its metadata: %+v", got[i])
		}
	}
	// What AddedEntries returns compiles, and matches only the added
	// entries.
	s, _, err := Compile(got, feb2021)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Entries(); n != 7 {
		t.Errorf("compiled %d entries, want 7", n)
	}
	if e := AddedEntries(cur, cur); len(e) != 0 {
		t.Errorf("AddedEntries(cur, cur) = %d demands, want none", len(e))
	}
}

func TestEntryListSelect(t *testing.T) {
	demands := parseLists(t, map[string]string{"a.yaml": versionDemandA})
	l := &demands[0].Entries
	odd := l.Select(func(i int) bool { return i%2 == 1 })
	if odd.Len() != l.Len()/2 {
		t.Fatalf("Select kept %d of %d entries, want %d", odd.Len(), l.Len(), l.Len()/2)
	}
	for i := 0; i < odd.Len(); i++ {
		if got, want := odd.At(i), l.At(2*i+1); got != want {
			t.Errorf("entry %d = %+v, want %+v", i, got, want)
		}
	}
}

func TestAddedEntriesPins(t *testing.T) {
	old := parseLists(t, map[string]string{"a.yaml": `id: P
jurisdiction: IN
scope: user
handles: [one, two]
accounts: [{handle: one, user_id: "41"}]
`})
	cur := parseLists(t, map[string]string{"a.yaml": `id: P
jurisdiction: IN
scope: user
handles: [one, two, three]
accounts: [{handle: one, user_id: "41"}, {handle: two, user_id: "42"}, {handle: three, user_id: "43"}]
`})
	got := AddedEntries(old, cur)
	if len(got) != 1 {
		t.Fatalf("AddedEntries = %d demands, want 1", len(got))
	}
	// two is not new, but its pin is: its account's posts now match.
	if g, w := entryStrings(&got[0]), []string{"handle two", "handle three"}; !slices.Equal(g, w) {
		t.Errorf("added entries %q, want %q", g, w)
	}
	var pins []string
	for _, p := range got[0].Pins {
		pins = append(pins, p.Handle+"="+p.UserID)
	}
	if w := []string{"two=42", "three=43"}; !slices.Equal(pins, w) {
		t.Errorf("pins %q, want %q (one's pin is not new)", pins, w)
	}
	if _, _, err := Compile(got, feb2021); err != nil {
		t.Errorf("the added entries do not compile: %v", err)
	}
}

func TestListsRestrict(t *testing.T) {
	l := Lists{
		Demands: parseLists(t, map[string]string{"a.yaml": versionDemandA, "b.yaml": versionDemandB}),
		Exemptions: []Exemption{
			{ID: "EX-ALL", AllDemands: true},
			{ID: "EX-DE", AppliesTo: []string{"DE-2"}},
			{ID: "EX-BOTH", AppliesTo: []string{"IN-1", "DE-2"}},
		},
	}
	in, _ := SelectDemands(l.Demands, []string{"IN-1"})
	got := l.Restrict(in)
	var ids []string
	for _, e := range got.Exemptions {
		ids = append(ids, e.ID+":"+strings.Join(e.AppliesTo, ","))
	}
	if w := []string{"EX-ALL:", "EX-BOTH:IN-1"}; !slices.Equal(ids, w) {
		t.Errorf("Restrict to IN-1 keeps exemptions %q, want %q", ids, w)
	}
	if l.Exemptions[2].AppliesTo[1] != "DE-2" {
		t.Error("Restrict changed the lists' own exemptions")
	}
}
