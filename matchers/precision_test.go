package matchers_test

import (
	"slices"
	"testing"

	. "flagstream/matchers"
)

// textHit is a hit as the tables of checkTextHits write it: the text
// matched, the entry as listed, the tier.
type textHit struct{ value, entry, tier string }

// textCase is a text and the hits it must make.
type textCase struct {
	name string
	text string
	want []textHit
}

// checkTextHits matches each case's text, as a post's, against s.
func checkTextHits(t *testing.T, s *Snapshot, tests []textCase) {
	var m Matcher
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []textHit
			for _, h := range m.Match(s, textPost(tt.text), nil) {
				got = append(got, textHit{string(h.Value), string(s.EntryValue(h.Entry)), h.Tier.String()})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Match(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// precisionLists name phrases whose words, run together, spell other
// words, in several scripts written with spaces.
var precisionLists = map[string]string{
	"p.yaml": `id: P-1
jurisdiction: IN
phrases: ["the rapist", "ass", "farmer genocide", "therapist", "на род", "ال كتاب", "किसान विरोधी",
  "ה ספר", "κατα στροφή", "农民", "ชาวนา", "のうみん", "e-mail scam"]
`,
	"l.yaml": `id: L-2
jurisdiction: DE
tiers: [exact, lookalike]
phrases: ["stolen election"]
`,
}

func TestPhrasesMatchWholeWords(t *testing.T) {
	s := compileAt(t, feb2021, precisionLists)
	type want = textHit
	tests := []textCase{
		{"part of a word", "my therapist said hi", []want{{"therapist", "therapist", "exact"}}},
		{"ass in class", "a class act, grass, assassin, sassy", nil},
		{"ass as a word", "what an ass.", []want{{"ass", "ass", "exact"}}},
		{"words run together", "farmergenocide is a lie", nil},
		{"words run together in a longer word", "antifarmergenocides", nil},
		{"a phrase word split by a space", "the rapist and the rap ist", []want{{"the rapist", "the rapist", "exact"}}},
		{"therapist is not the rapist", "the rapist", []want{{"the rapist", "the rapist", "exact"}}},
		{"phrase across punctuation", "Farmer-Genocide!", []want{{"Farmer-Genocide", "farmer genocide", "exact"}}},
		{"separators inside a word are loose", "f.a.r.m.e.r genocide", []want{{"f.a.r.m.e.r genocide", "farmer genocide", "loose"}}},
		{"hyphen in the phrase is loose", "an email scam", []want{{"email scam", "e-mail scam", "loose"}}},
		{"hashtag runs words together", "#FarmerGenocide", []want{{"FarmerGenocide", "farmer genocide", "loose"}}},
		{"hashtag with underscore", "#Farmer_Genocide", []want{{"Farmer_Genocide", "farmer genocide", "exact"}}},
		{"fullwidth hashtag", "＃ＦａｒｍｅｒＧｅｎｏｃｉｄｅ", []want{{"ＦａｒｍｅｒＧｅｎｏｃｉｄｅ", "farmer genocide", "loose"}}},
		{"part of a hashtag", "#StopFarmerGenocide #FarmerGenocides #ClassAct", nil},
		{"hashtag run together across a space is two words", "#Farmer Genocide", []want{{"Farmer Genocide", "farmer genocide", "exact"}}},
		{"Cyrillic", "народ протестует", nil},
		{"Cyrillic as words", "на род", []want{{"на род", "на род", "exact"}}},
		{"Arabic", "الكتاب جميل", nil},
		{"Devanagari run together", "यह किसानविरोधी है", nil},
		{"Devanagari hashtag", "#किसानविरोधी", []want{{"किसानविरोधी", "किसान विरोधी", "loose"}}},
		{"Hebrew", "הספר", nil},
		{"Greek", "η καταστροφή", nil},
		{"Han matches character sequences", "农民抗议", []want{{"农民", "农民", "exact"}}},
		{"Thai matches character sequences", "ชาวนาประท้วง", []want{{"ชาวนา", "ชาวนา", "exact"}}},
		{"kana matches character sequences", "のうみんです", []want{{"のうみん", "のうみん", "exact"}}},
		{"lookalike phrase", "a stоlen electiоn", []want{{"stоlen electiоn", "stolen election", "lookalike"}}},
		{"lookalike never runs words together", "stоlenelection", nil},
		{"lookalike hashtag", "#StоlenElection", []want{{"StоlenElection", "stolen election", "lookalike"}}},
	}
	checkTextHits(t, s, tests)
}
