package matchers

import (
	"slices"
	"strings"
	"testing"
)

func TestNormalizeHostIDNA(t *testing.T) {
	tests := []struct{ host, want string }{
		{"пример.рф", "xn--e1afmkfd.xn--p1ai"},
		{"ПРИМЕР.РФ", "xn--e1afmkfd.xn--p1ai"},
		{"xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"},
		{"XN--E1AFMKFD.XN--P1AI", "xn--e1afmkfd.xn--p1ai"},
		{"пример。рф", "xn--e1afmkfd.xn--p1ai"},
		{"straße.de", "xn--strae-oqa.de"}, // non-transitional: ß stays
		{"STRASSE.de", "strasse.de"},
		{"Bücher.example", "xn--bcher-kva.example"},
		{"bu\u0308cher.example", "xn--bcher-kva.example"}, // NFC
		{"ｂüｃｈｅｒ．example", "xn--bcher-kva.example"},
		{"exam\u200dple.org", "example.org"}, // a joiner where none may stand is dropped
		{"exam\u200bple.org", "example.org"},
		{"ex\u00adample.org.", "example.org"},
		{"exаmple.org", "xn--exmple-4nf.org"}, // Cyrillic а: another domain
		{"r3---sn-apo3qvuoxuxbt-j5pe.example", "r3---sn-apo3qvuoxuxbt-j5pe.example"},
		{"under_score.example", "under_score.example"},
	}
	var n Normalizer
	for _, tt := range tests {
		for range 2 { // the second time through the cache
			if got := string(NormalizeHost(&n, nil, []byte(tt.host))); got != tt.want {
				t.Errorf("NormalizeHost(%q) = %q, want %q", tt.host, got, tt.want)
			}
		}
	}
}

func TestHostLookalike(t *testing.T) {
	var n Normalizer
	key := func(host string) string {
		return string(n.AppendHostLookalike(nil, NormalizeHost(&n, nil, []byte(host))))
	}
	want := key("example.org")
	for _, h := range []string{"exаmple.org", "xn--exmple-4nf.org", "ехаmple.org", "examp1e.org", "EXAMPLE.org"} {
		if got := key(h); got != want {
			t.Errorf("lookalike key of %q = %q, want %q (that of example.org)", h, got, want)
		}
	}
	for _, h := range []string{"example.com", "exampel.org", "examples.org", "exampleorg"} {
		if got := key(h); got == want {
			t.Errorf("lookalike key of %q = %q, the same as example.org's", h, got)
		}
	}
	if got := key("news.exаmple.org"); !strings.HasSuffix(got, "."+want) {
		t.Errorf("lookalike key of news.exаmple.org = %q, want a subdomain of %q", got, want)
	}
}

func TestClassifyDomain(t *testing.T) {
	tests := []struct {
		domain string
		want   SuffixKind
	}{
		{"com", ICANNSuffix},
		{"co.uk", ICANNSuffix},
		{"xn--p1ai", ICANNSuffix}, // рф
		{"github.io", PrivateSuffix},
		{"blogspot.com", PrivateSuffix},
		{"example.com", NotSuffix},
		{"bbc.co.uk", NotSuffix},
		{"user.github.io", NotSuffix},
		{"example.invalidtld", NotSuffix},
		{"invalidtld", NotSuffix},
	}
	for _, tt := range tests {
		if got := ClassifyDomain(tt.domain); got != tt.want {
			t.Errorf("ClassifyDomain(%q) = %d, want %d", tt.domain, got, tt.want)
		}
	}
}

func TestDomainEntries(t *testing.T) {
	tests := []struct {
		value, key, err, warning string
	}{
		{value: "example.org", key: "example.org"},
		{value: "пример.рф", key: "xn--e1afmkfd.xn--p1ai"},
		{value: "xn--e1afmkfd.xn--p1ai", key: "xn--e1afmkfd.xn--p1ai"},
		{value: "straße.de", key: "xn--strae-oqa.de"},
		{value: "bbc.co.uk", key: "bbc.co.uk"},
		{value: "co.uk", err: `domain "co.uk" is a public suffix (ICANN section`},
		{value: "com", err: `domain "com" is a public suffix (ICANN section`},
		{value: "рф", err: `domain "рф" is a public suffix (ICANN section`},
		{value: "github.io", key: "github.io", warning: `domain "github.io" is a public suffix (private section`},
		{value: "someone.github.io", key: "someone.github.io"},
		{value: "localhost", err: "needs at least two labels"},
		{value: "https://example.org/", err: "bare host name"},
		{value: "xn--zz.example", err: "not a valid internationalized domain name"},
		{value: "a\u200cb.example", err: ""}, // the joiner is dropped: Latin allows none
	}
	var n Normalizer
	for _, tt := range tests {
		key, err := appendDomainKey(nil, &n, []byte(tt.value))
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("domain %q: error %v, want one containing %q", tt.value, err, tt.err)
			}
			continue
		case err != nil:
			t.Errorf("domain %q: %v", tt.value, err)
			continue
		}
		if tt.key != "" && string(key) != tt.key {
			t.Errorf("domain %q: key %q, want %q", tt.value, key, tt.key)
		}
		if w := DomainWarning(key); !strings.Contains(w, tt.warning) || (tt.warning == "") != (w == "") {
			t.Errorf("domain %q: warning %q, want %q", tt.value, w, tt.warning)
		}
	}
}

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
	type want struct{ value, entry, tier string }
	tests := []struct {
		name string
		text string
		want []want
	}{
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
	var m Matcher
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []want
			for _, h := range m.Match(s, textPost(tt.text)) {
				got = append(got, want{string(h.Value), string(s.EntryValue(h.Entry)), h.Tier.String()})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Match(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestLookalikeDomainsNeedTheTier: a demand without the lookalike tier
// does not match a lookalike domain.
func TestLookalikeDomainsNeedTheTier(t *testing.T) {
	s := compileAt(t, feb2021, map[string]string{"d.yaml": "id: D-1\njurisdiction: IN\ndomains: [example.org]\n"})
	var m Matcher
	if hits := m.Match(s, textPost("https://exаmple.org/ https://examp1e.org/")); len(hits) != 0 {
		t.Errorf("Match = %v, want no hits at the default tiers", describeHits(s, hits))
	}
}
