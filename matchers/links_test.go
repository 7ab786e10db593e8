package matchers

import (
	"fmt"
	"slices"
	"testing"
)

// link is a Link as the tests compare it: the link and its host as written.
type link struct{ text, host string }

func (l link) String() string { return fmt.Sprintf("{%+q host %+q}", l.text, l.host) }

func TestExtractLinks(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []link
	}{
		{"none", "no links here, just words.", nil},
		{"scheme URL", "see https://news.example.org/story?id=1 now", []link{{"https://news.example.org/story?id=1", "news.example.org"}}},
		{"http URL with port", "at http://example.org:8080/x", []link{{"http://example.org:8080/x", "example.org"}}},
		{"bare domain", "visit example.org today", []link{{"example.org", "example.org"}}},
		{"bare domain with path", "read news.example.org/story/1", []link{{"news.example.org/story/1", "news.example.org"}}},
		{"uppercase", "VISIT EXAMPLE.ORG", []link{{"EXAMPLE.ORG", "EXAMPLE.ORG"}}},
		{"trailing full stop", "Visit example.org.", []link{{"example.org", "example.org"}}},
		{"trailing punctuation", "(see https://example.org/a/b), ok?", []link{{"https://example.org/a/b", "example.org"}}},
		{"trailing question and quote", `"example.org/x?"`, []link{{"example.org/x", "example.org"}}},
		{"inner punctuation kept", "https://example.org/a.b,c!d. next", []link{{"https://example.org/a.b,c!d", "example.org"}}},
		{"fullwidth full stop", "visit example．org now", []link{{"example．org", "example．org"}}},
		{"ideographic full stop", "visit example。org now", []link{{"example。org", "example。org"}}},
		{"halfwidth ideographic full stop", "visit example｡org now", []link{{"example｡org", "example｡org"}}},
		{"fullwidth letters", "ｅｘａｍｐｌｅ．ｏｒｇ", []link{{"ｅｘａｍｐｌｅ．ｏｒｇ", "ｅｘａｍｐｌｅ．ｏｒｇ"}}},
		{"zero width space inside host", "exam\u200bple.org", []link{{"exam\u200bple.org", "exam\u200bple.org"}}},
		{"two links", "a.example.org and https://b.example.net/x", []link{
			{"a.example.org", "a.example.org"},
			{"https://b.example.net/x", "b.example.net"},
		}},
		{"one-letter last label", "a.b.c", nil},
		{"numeric last label", "version 1.2.3", nil},
		{"no dot", "localhost", nil},
		{"double dot", "example..org", nil},
		{"mention", "@baduser and @example.org", nil},
		{"fullwidth at sign", "＠example.org", nil},
		{"e-mail", "write to press@example.org", nil},
		{"e-mail with dotted user", "write to jane.doe@example.org", nil},
		{"user info", "https://example.org@evil.example.com/login", []link{{"https://example.org@evil.example.com/login", "evil.example.com"}}},
		{"Devanagari host", "देखें उदाहरण.भारत पर", []link{{"उदाहरण.भारत", "उदाहरण.भारत"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []link
			for _, l := range ExtractLinks(nil, []byte(tt.text)) {
				got = append(got, link{tt.text[l.Start:l.End], tt.text[l.Host:l.HostEnd]})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ExtractLinks(%+q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestHostOfURL(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://news.example.org/story?id=1", "news.example.org"},
		{"http://Example.ORG", "Example.ORG"},
		{"https://example.org?x=1", "example.org"},
		{"https://example.org#top", "example.org"},
		{"https://user:secret@example.org:8443/x", "example.org"},
		{"https://example.org@evil.example.com/", "evil.example.com"},
		{"http://[2001:db8::1]:8080/x", "[2001:db8::1]"},
		{"example.org/path", "example.org"},
		{"example.org:80", "example.org"},
		{"example.org", "example.org"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := string(HostOfURL([]byte(tt.url))); got != tt.want {
			t.Errorf("HostOfURL(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := []struct{ host, want string }{
		{"example.org", "example.org"},
		{"News.Example.ORG", "news.example.org"},
		{"example.org.", "example.org"},
		{"example.org..", "example.org"},
		{"example．org", "example.org"},
		{"example。org", "example.org"},
		{"example｡org", "example.org"},
		{"ｅｘａｍｐｌｅ．ｏｒｇ", "example.org"},
		{"exam\u200bple.org", "example.org"},
		{"उदाहरण.भारत", "xn--p1b6ci4b4b3a.xn--h2brj9c"},
		{"", ""},
	}
	var n Normalizer
	for _, tt := range tests {
		if got := string(NormalizeHost(&n, []byte("x"), []byte(tt.host))); got != "x"+tt.want {
			t.Errorf("NormalizeHost(%q) = %q, want %q after the prefix", tt.host, got, "x"+tt.want)
		}
	}
}

func TestParentDomains(t *testing.T) {
	tests := []struct {
		host string
		want []string
	}{
		{"a.b.example.org", []string{"a.b.example.org", "b.example.org", "example.org"}},
		{"example.org", []string{"example.org"}},
		{"org", []string{"org"}},
		{"example.org.evil.com", []string{"example.org.evil.com", "org.evil.com", "evil.com"}},
	}
	for _, tt := range tests {
		var got []string
		ParentDomains([]byte(tt.host), func(d []byte) bool {
			got = append(got, string(d))
			return true
		})
		if !slices.Equal(got, tt.want) {
			t.Errorf("ParentDomains(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
	var got []string
	ParentDomains([]byte("a.b.example.org"), func(d []byte) bool {
		got = append(got, string(d))
		return len(got) < 2
	})
	if want := []string{"a.b.example.org", "b.example.org"}; !slices.Equal(got, want) {
		t.Errorf("ParentDomains stopping after 2 = %q, want %q", got, want)
	}
}
