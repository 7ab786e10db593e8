package lists

import (
	"errors"
	"slices"
	"testing"
	"time"

	"flagstream/matchers"
)

func FuzzParseDemand(f *testing.F) {
	f.Add([]byte(fullDemand), []byte("fict_user_01\n# comment\n#Tag\n"))
	f.Add([]byte("id: IN-1\njurisdiction: [IN]\nscope: user\nhandles: [\"@fict_farmer_01\"]\nuser_ids: [\"1234567890\"]\ndomains: [example.org]\n"), []byte(""))
	f.Add([]byte("id: T\njurisdiction: IN\ntexts: [\"the government has secretly added a tracking chemical to it\"]\ntexts_file: h.txt\ntext_similarity: 0.75\n"),
		[]byte("# claims\nBanks will freeze all savings accounts over ten thousand on Monday\nshort text\n"))
	f.Add([]byte("id: X\njurisdiction: [IN, in]\nhandles_file: h.txt\nhashtags: [\"#1\"]\n---\nid: Y\n"), []byte("bad-handle\n"))
	f.Add([]byte("id: &a X\njurisdiction: *a\nphrases: [*a, [b]]\ntiers: [loose]\nexpires: 2020-01-01\nreceived: 2021-01-01\n"), []byte{})
	f.Add([]byte("? [a]\n: b\nid: X\nid: Y\n"), []byte("\xff"))
	f.Add([]byte("\tid: X"), []byte(nil))
	f.Add([]byte("kind: demand\nid: G\njurisdiction: IN\nmode: shadow\nmax_tasks_per_minute: 50\nhashtags: [\"#T\"]\n"), []byte(nil))
	f.Add([]byte("id: G\njurisdiction: IN\nmode: dark\nmax_tasks_per_minute: -1\nhandles: [a]\n"), []byte(nil))
	f.Add([]byte("id: P\njurisdiction: IN\nscope: user\nhandles: [a]\naccounts:\n  - {handle: \"@A\", user_id: \"0042\"}\n  - {handle: b, user_id: 7}\n  - {handle: b, user_id: 8}\n"), []byte(nil))
	f.Fuzz(func(t *testing.T, data, entries []byte) {
		read := func(rel string) ([]byte, string, error) {
			if rel == "missing.txt" {
				return nil, "", errors.New("file does not exist")
			}
			return entries, rel, nil
		}
		d, _, err := ParseDemand("d.yaml", data, read)
		if err != nil {
			checkListErrors(t, err)
			return
		}
		if d.ID == "" || len(d.Jurisdictions) == 0 || d.Entries.Len() == 0 {
			t.Fatalf("ParseDemand(%q) accepted a demand without id, jurisdiction or entries: %+v", data, d)
		}
		// A demand that parses always compiles.
		s, _, err := matchers.Compile([]matchers.Demand{d}, time.Time{})
		if err != nil {
			t.Fatalf("Compile of a parsed demand: %v", err)
		}
		if s.Active(0) && s.Entries() == 0 {
			t.Errorf("active demand with %d entries compiled to none", d.Entries.Len())
		}
	})
}

// FuzzParseExemption checks that the exemption parser never fails but with
// *ListErrors, and that an exemption it accepts compiles beside the demands
// it applies to.
func FuzzParseExemption(f *testing.F) {
	f.Add([]byte(pressExemption), []byte("reporter_three\n# c\n123\n"))
	f.Add([]byte("kind: exemption\nid: EX-ALL\ncategory: news_media\nreason: r\napplies_to: \"*\"\nuser_ids: [\"007\"]\n"), []byte{})
	f.Add([]byte("kind: exemption\nid: E\ncategory: other\nreason: r\napplies_to: [\"*\", A, A]\nhandles_file: h.txt\nuser_ids_file: [i.txt]\n"), []byte("bad-handle\n99\n"))
	f.Add([]byte("kind: exemption\nkind: demand\nid: E\n"), []byte("\xff"))
	f.Add([]byte("kind: exemptions\n"), []byte(nil))
	f.Fuzz(func(t *testing.T, data, entries []byte) {
		read := func(rel string) ([]byte, string, error) { return entries, rel, nil }
		e, _, err := ParseExemption("e.yaml", data, read)
		if err != nil {
			checkListErrors(t, err)
			return
		}
		if e.ID == "" || e.Reason == "" || e.Entries.Len() == 0 || (!e.AllDemands && len(e.AppliesTo) == 0) {
			t.Fatalf("ParseExemption(%q) accepted an exemption without id, reason, accounts or demands: %+v", data, e)
		}
		var demands []matchers.Demand
		for _, id := range append([]string{"FUZZ-ANY"}, e.AppliesTo...) {
			d, _, err := ParseDemand(id+".yaml", []byte("id: "+id+"\njurisdiction: IN\nhandles: [fict_any]\n"), nil)
			if err != nil {
				t.Fatalf("demand %s: %v", id, err)
			}
			if !slices.ContainsFunc(demands, func(x matchers.Demand) bool { return x.ID == id }) {
				demands = append(demands, d)
			}
		}
		if _, _, err := matchers.CompileLists(matchers.Lists{Demands: demands, Exemptions: []matchers.Exemption{e}}, time.Time{}); err != nil {
			t.Fatalf("CompileLists of a parsed exemption: %v", err)
		}
	})
}
