package lists

import (
	"errors"
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
