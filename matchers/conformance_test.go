package matchers

import (
	"os"
	"slices"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"flagstream/internal/testkit"
)

// conformanceSuite is the part of twitter-text's extract.yml that concerns
// hashtags, mentions, lists and replies.
type conformanceSuite struct {
	Tests struct {
		Mentions            []conformanceCase[[]string]       `yaml:"mentions"`
		MentionsWithIndices []conformanceCase[[]indexedMatch] `yaml:"mentions_with_indices"`
		MentionsOrLists     []conformanceCase[[]indexedMatch] `yaml:"mentions_or_lists_with_indices"`
		Replies             []conformanceCase[*string]        `yaml:"replies"`
		Hashtags            []conformanceCase[[]string]       `yaml:"hashtags"`
		HashtagsFromAstral  []conformanceCase[[]string]       `yaml:"hashtags_from_astral"`
		HashtagsWithIndices []conformanceCase[[]indexedMatch] `yaml:"hashtags_with_indices"`
	} `yaml:"tests"`
}

type conformanceCase[T any] struct {
	Description string `yaml:"description"`
	Text        string `yaml:"text"`
	Expected    T      `yaml:"expected"`
}

type indexedMatch struct {
	ScreenName string `yaml:"screen_name"`
	ListSlug   string `yaml:"list_slug"`
	Hashtag    string `yaml:"hashtag"`
	Indices    [2]int `yaml:"indices"`
}

func loadConformance(t *testing.T) conformanceSuite {
	t.Helper()
	data, err := os.ReadFile(testkit.SharedPath(t, "conformance/twitter-text/extract.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var s conformanceSuite
	if err := yaml.Unmarshal(data, &s); err != nil {
		t.Fatalf("parse extract.yml: %v", err)
	}
	if len(s.Tests.Hashtags) == 0 || len(s.Tests.Mentions) == 0 {
		t.Fatal("extract.yml has no hashtag or mention cases")
	}
	return s
}

// extractors are the two public readings; both must pass twitter-text's
// suite, so the evasion-resistant union adds nothing where twitter-text
// says a text holds no token.
var extractors = []struct {
	name string
	fn   func([]Token, []byte) []Token
}{
	{"standard", ExtractStandard},
	{"union", Extract},
}

func TestConformanceTwitterText(t *testing.T) {
	s := loadConformance(t)
	for _, x := range extractors {
		t.Run(x.name, func(t *testing.T) {
			run := func(group string, cases []conformanceCase[[]string], kinds ...TokenKind) {
				for _, c := range cases {
					text := []byte(c.Text)
					var got []string
					for _, tok := range x.fn(nil, text) {
						if slices.Contains(kinds, tok.Kind) {
							got = append(got, string(text[tok.Name:tok.NameEnd]))
						}
					}
					if !slices.Equal(got, c.Expected) && len(got)+len(c.Expected) > 0 {
						t.Errorf("%s: %s\ntext %q\ngot  %q\nwant %q", group, c.Description, c.Text, got, c.Expected)
					}
				}
			}
			run("mentions", s.Tests.Mentions, TokenMention)
			run("hashtags", s.Tests.Hashtags, TokenHashtag)
			run("hashtags_from_astral", s.Tests.HashtagsFromAstral, TokenHashtag)

			indexed := func(group string, cases []conformanceCase[[]indexedMatch], kinds ...TokenKind) {
				for _, c := range cases {
					text := []byte(c.Text)
					var got []indexedMatch
					for _, tok := range x.fn(nil, text) {
						if !slices.Contains(kinds, tok.Kind) {
							continue
						}
						m := indexedMatch{Indices: [2]int{runeIndex(text, tok.Start), runeIndex(text, tok.End)}}
						switch tok.Kind {
						case TokenHashtag:
							m.Hashtag = string(text[tok.Name:tok.NameEnd])
						default:
							m.ScreenName = string(text[tok.Name:tok.NameEnd])
							m.ListSlug = string(text[tok.NameEnd:tok.End])
						}
						got = append(got, m)
					}
					if !slices.Equal(got, c.Expected) {
						t.Errorf("%s: %s\ntext %q\ngot  %+v\nwant %+v", group, c.Description, c.Text, got, c.Expected)
					}
				}
			}
			indexed("mentions_with_indices", s.Tests.MentionsWithIndices, TokenMention)
			indexed("mentions_or_lists_with_indices", s.Tests.MentionsOrLists, TokenMention, TokenList)
			indexed("hashtags_with_indices", s.Tests.HashtagsWithIndices, TokenHashtag)
		})
	}
	t.Run("replies", func(t *testing.T) {
		for _, c := range s.Tests.Replies {
			got, ok := ExtractReply([]byte(c.Text))
			switch {
			case c.Expected == nil && ok:
				t.Errorf("%s: text %q: got reply %q, want none", c.Description, c.Text, got)
			case c.Expected != nil && (!ok || got != *c.Expected):
				t.Errorf("%s: text %q: got %q (found %v), want %q", c.Description, c.Text, got, ok, *c.Expected)
			}
		}
	})
}

// runeIndex converts a byte offset into a code point offset, the unit of
// twitter-text's indices.
func runeIndex(text []byte, off int) int {
	return utf8.RuneCount(text[:off])
}
