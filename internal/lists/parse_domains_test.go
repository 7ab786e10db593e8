package lists

import (
	"strings"
	"testing"
)

// TestParseListsPublicSuffixes: a domain entry that is an ICANN-section
// public suffix is refused at its file and line, in the demand file and in
// a domains file; a private-section one loads with a warning there.
func TestParseListsPublicSuffixes(t *testing.T) {
	_, _, err := ParseLists(mapFS(map[string]string{
		"d.yaml":  "id: D-1\njurisdiction: GB\ndomains:\n  - bbc.co.uk\n  - co.uk\ndomains_file: d.txt\n",
		"d.txt":   "# suffixes\nexample.org\ncom\nрф\n",
		"ok.yaml": "id: OK-1\njurisdiction: IN\ndomains: [пример.рф]\n",
	}), "lists")
	if err == nil {
		t.Fatal("ParseLists accepted public suffixes as domains")
	}
	for _, want := range []string{
		`lists/d.yaml:5: domain "co.uk" is a public suffix`,
		`lists/d.txt:3: domain "com" is a public suffix`,
		`lists/d.txt:4: domain "рф" is a public suffix`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "bbc.co.uk") || strings.Contains(err.Error(), "example.org") || strings.Contains(err.Error(), "OK-1") {
		t.Errorf("error %q refuses a registrable domain", err)
	}
	checkListErrors(t, err)

	demands, warnings, err := ParseLists(mapFS(map[string]string{
		"p.yaml": "id: P-1\njurisdiction: US\nauthority: a\nlegal_basis: b\ndomains: [github.io, someone.github.io]\n",
	}), "lists")
	if err != nil {
		t.Fatalf("ParseLists: %v", err)
	}
	if n := demands[0].Entries.Len(); n != 2 {
		t.Errorf("%d entries, want both domains", n)
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0].Error(), `lists/p.yaml:5: domain "github.io" is a public suffix (private section`) {
		t.Errorf("warnings = %v, want one for github.io at lists/p.yaml:5", warnings)
	}
}
