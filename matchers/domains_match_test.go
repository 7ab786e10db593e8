package matchers_test

import (
	"testing"

	. "flagstream/matchers"
)

var domainLists = map[string]string{
	"idn.yaml": `id: IDN-1
jurisdiction: RU
domains: ["пример.рф", "xn--bcher-kva.example", "straße.de", "strasse.com"]
`,
	"look.yaml": `id: LOOK-2
jurisdiction: DE
tiers: [exact, lookalike]
domains: [example.org]
`,
}

func TestMatchDomainsIDNA(t *testing.T) {
	s := compileAt(t, feb2021, domainLists)
	type want = textHit
	tests := []textCase{
		{"A-label link, U-label entry", "see http://xn--e1afmkfd.xn--p1ai/news", []want{{"http://xn--e1afmkfd.xn--p1ai/news", "пример.рф", "exact"}}},
		{"U-label link, A-label entry", "see bücher.example/x", []want{{"bücher.example/x", "xn--bcher-kva.example", "exact"}}},
		{"subdomain of an IDN", "https://новости.пример.рф/1", []want{{"https://новости.пример.рф/1", "пример.рф", "exact"}}},
		{"upper-case IDN", "ПРИМЕР.РФ/x", []want{{"ПРИМЕР.РФ/x", "пример.рф", "exact"}}},
		{"straße is not strasse", "https://strasse.de/ https://straße.com/", nil},
		{"straße is straße", "https://STRAßE.de/", []want{{"https://STRAßE.de/", "straße.de", "exact"}}},
		{"lookalike domain", "https://exаmple.org/login", []want{{"https://exаmple.org/login", "example.org", "lookalike"}}},
		{"lookalike A-label", "https://xn--exmple-4nf.org/login", []want{{"https://xn--exmple-4nf.org/login", "example.org", "lookalike"}}},
		{"lookalike subdomain", "https://login.examp1e.org/", []want{{"https://login.examp1e.org/", "example.org", "lookalike"}}},
		{"exact beats lookalike", "https://example.org/", []want{{"https://example.org/", "example.org", "exact"}}},
		{"not a lookalike", "https://example.com/ https://exampel.org/", nil},
	}
	checkTextHits(t, s, tests)
}

// TestLookalikeDomainsNeedTheTier: a demand without the lookalike tier
// does not match a lookalike domain.
func TestLookalikeDomainsNeedTheTier(t *testing.T) {
	s := compileAt(t, feb2021, map[string]string{"d.yaml": "id: D-1\njurisdiction: IN\ndomains: [example.org]\n"})
	var m Matcher
	if hits := m.Match(s, textPost("https://exаmple.org/ https://examp1e.org/"), nil); len(hits) != 0 {
		t.Errorf("Match = %v, want no hits at the default tiers", describeHits(s, hits))
	}
}
