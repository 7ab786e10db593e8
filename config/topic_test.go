package config

import (
	"regexp"
	"strings"
	"testing"
)

// topicOracle is the regular expression validTopic replaced.
var topicOracle = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)

func TestValidTopic(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"tweets", true},
		{"flagstream.review-tasks_v1", true},
		{"A", true},
		{strings.Repeat("a", 249), true},
		{"", false},
		{strings.Repeat("a", 250), false},
		{"tweets topic", false},
		{"tweets/1", false},
		{"tw\u00e9ets", false},
		{"tweets\n", false},
	} {
		if got := validTopic(tc.name); got != tc.want {
			t.Errorf("validTopic(%q) = %v, want %v", tc.name, got, tc.want)
		}
		if got := topicOracle.MatchString(tc.name); got != tc.want {
			t.Errorf("oracle(%q) = %v, want %v: the table is wrong", tc.name, got, tc.want)
		}
	}
	// Every byte, alone and inside a name.
	for c := range 256 {
		for _, name := range []string{string([]byte{byte(c)}), "a" + string([]byte{byte(c)}) + "b"} {
			if got, want := validTopic(name), topicOracle.MatchString(name); got != want {
				t.Errorf("validTopic(%q) = %v, the regular expression says %v", name, got, want)
			}
		}
	}
}

func FuzzValidTopic(f *testing.F) {
	for _, s := range []string{"tweets", "", "a b", strings.Repeat("x", 249), strings.Repeat("x", 250)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := validTopic(name), topicOracle.MatchString(name); got != want {
			t.Fatalf("validTopic(%q) = %v, the regular expression says %v", name, got, want)
		}
	})
}
