package matchers

import (
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

// TestHostKeyValidity checks which hosts hostKey reports valid; a label
// longer than DNS allows is not, however IDNA converts it (past some
// length its A-label no longer decodes back).
func TestHostKeyValidity(t *testing.T) {
	tests := []struct {
		host  string
		valid bool
	}{
		{"пример.рф", true},
		{"xn--e1afmkfd.xn--p1ai", true},
		{"b\u00fccher." + strings.Repeat("e", 50) + ".example", true},
		{"b\u00fccher" + strings.Repeat("e", 60) + ".example", false}, // A-label of 70 bytes
		{"\u0510" + strings.Repeat("e", 2000), false},                 // whose A-label does not decode
		{"xn--zz.example", false},
		{"\xff.example", false},
	}
	var n Normalizer
	for _, tt := range tests {
		key, valid := n.hostKey(nil, []byte(tt.host))
		if valid != tt.valid {
			t.Errorf("hostKey(%+q) = %q, valid %v, want valid %v", tt.host, key, valid, tt.valid)
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
