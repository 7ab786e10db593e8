package matchers

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

func FuzzNormalize(f *testing.F) {
	for _, s := range normalizeCorpus()[:200] {
		f.Add(s)
	}
	f.Add("a\xffb\xc0")
	f.Fuzz(func(t *testing.T, s string) {
		var n Normalizer
		checkNormalizeProperties(t, &n, []byte(s))
		// Key agrees with the tiers computed one by one.
		e := n.Exact(nil, []byte(s))
		l := n.Loose(nil, e)
		k := n.Lookalike(nil, l)
		for tier, want := range [][]byte{e, l, k} {
			if got := n.Key(nil, []byte(s), Tier(tier)); !bytes.Equal(got, want) {
				t.Errorf("Key(%+q, %v) = %+q, want %+q", s, Tier(tier), got, want)
			}
		}
	})
}

func FuzzExtract(f *testing.F) {
	for _, s := range extractCorpus {
		f.Add(s)
	}
	f.Add("#\ufe0f\u20e3 #\u200b\u20e3 @\u200b@x ＠＠ｘ")
	f.Fuzz(func(t *testing.T, s string) {
		text := []byte(s)
		checkExtractInvariants(t, text)
		if name, ok := ExtractReply(text); ok && (len(name) == 0 || len(name) > 20) {
			t.Errorf("ExtractReply(%+q) = %q, want 1 to 20 characters", s, name)
		}
	})
}

func FuzzLinks(f *testing.F) {
	for _, s := range []string{
		"see https://news.example.org/story?id=1 now",
		"example．org ｅｘａｍｐｌｅ。ｏｒｇ exam\u200bple.org.",
		"jane.doe@example.org https://example.org@evil.example.com/x",
		"http://[2001:db8::1]:8080/x a..b.c https://user:pw@host.example/",
		"(example.org/a.b), \"example.org/x?\" 1.2.3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text := []byte(s)
		links := ExtractLinks(nil, text)
		var n Normalizer
		end := 0
		for i, l := range links {
			if !(end <= l.Start && l.Start <= l.Host && l.Host < l.HostEnd && l.HostEnd <= l.End && l.End <= len(text)) {
				t.Fatalf("ExtractLinks(%+q): link %d %+v out of order or overlapping (previous end %d, len %d)", s, i, l, end, len(text))
			}
			end = l.End
			checkHost(t, &n, text[l.Host:l.HostEnd])
		}
		host := HostOfURL(text)
		if len(host) > 0 && !bytes.Contains(text, host) {
			t.Errorf("HostOfURL(%+q) = %+q, not part of the URL", s, host)
		}
		checkHost(t, &n, host)
	})
}

// checkHost checks NormalizeHost and ParentDomains on a host.
func checkHost(t *testing.T, n *Normalizer, host []byte) {
	t.Helper()
	norm := NormalizeHost(n, nil, host)
	if utf8.Valid(host) && !utf8.Valid(norm) {
		t.Errorf("NormalizeHost(%+q) = %+q is not valid UTF-8", host, norm)
	}
	if bytes.HasSuffix(norm, []byte(".")) {
		t.Errorf("NormalizeHost(%+q) = %+q ends in a dot", host, norm)
	}
	calls := 0
	ParentDomains(norm, func(d []byte) bool {
		calls++
		if !bytes.HasSuffix(norm, d) || len(d) == 0 && len(norm) > 0 {
			t.Errorf("ParentDomains(%+q) gave %+q, not a suffix", norm, d)
		}
		return true
	})
	if calls == 0 || calls > bytes.Count(norm, []byte("."))+1 {
		t.Errorf("ParentDomains(%+q) called fn %d times", norm, calls)
	}
}
