package matchers

import (
	"slices"
	"strings"
	"testing"
)

// split returns the words of text: each word's exact key and its text as
// written (by Span).
func split(w *Words, n *Normalizer, text string) (keys, spans []string) {
	w.Split(n, []byte(text))
	for i := range w.Len() {
		keys = append(keys, string(w.Exact(i, i+1)))
		a, b := w.Span(i, i+1)
		spans = append(spans, text[a:b])
	}
	return keys, spans
}

func TestWordsSplit(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		keys  []string
		spans []string // nil: same as keys
	}{
		{"empty", "", nil, nil},
		{"punctuation only", "!!! ... ---", nil, nil},
		{"spaces", "Farmer  genocide", []string{"farmer", "genocide"}, []string{"Farmer", "genocide"}},
		{"punctuation", "Farmer-Genocide!!", []string{"farmer", "genocide"}, []string{"Farmer", "Genocide"}},
		{"hashtag and mention", "#FarmerGenocide @bad_user", []string{"farmergenocide", "bad", "user"}, []string{"FarmerGenocide", "bad", "user"}},
		{"digits", "covid19 in 2021", []string{"covid19", "in", "2021"}, nil},
		{"zero width space inside word", "far\u200bmer genocide", []string{"farmer", "genocide"}, []string{"far\u200bmer", "genocide"}},
		{"soft hyphen inside word", "geno\u00adcide", []string{"genocide"}, []string{"geno\u00adcide"}},
		{"invisible at word end is outside the span", "farmer\u200b genocide", []string{"farmer", "genocide"}, []string{"farmer", "genocide"}},
		{"fullwidth", "ＦＡＲＭＥＲ　ｇｅｎｏｃｉｄｅ", []string{"farmer", "genocide"}, []string{"ＦＡＲＭＥＲ", "ｇｅｎｏｃｉｄｅ"}},
		{"circled letters", "Ⓕⓐⓡⓜⓔⓡ!", []string{"farmer"}, []string{"Ⓕⓐⓡⓜⓔⓡ"}},
		{"Devanagari marks attach", "किसान आंदोलन।", []string{"किसान", "आंदोलन"}, nil},
		{"Gurmukhi marks attach", "ਕਿਸਾਨ ਮੋਰਚਾ", []string{"ਕਿਸਾਨ", "ਮੋਰਚਾ"}, nil},
		{"Tamil", "விவசாயிகள் போராட்டம்", []string{"விவசாயிகள்", "போராட்டம்"}, nil},
		{"leading mark is skipped", "\u093Fकिसान", []string{"किसान"}, nil},
		{"Latin combining accent", "Cafe\u0301 noir", []string{"café", "noir"}, []string{"Cafe\u0301", "noir"}},
		{"Han characters are words", "农民抗议", []string{"农", "民", "抗", "议"}, nil},
		{"Han next to Latin", "abc农民def", []string{"abc", "农", "民", "def"}, nil},
		{"Japanese kana", "のうみん", []string{"の", "う", "み", "ん"}, nil},
		{"Thai characters are words", "ชาวนา", []string{"ช", "า", "ว", "น", "า"}, nil},
		{"Thai mark attaches", "กัน", []string{"กั", "น"}, nil},
		{"invisible only", "\u200b\u2060", nil, nil},
		{"apostrophe splits", "farmer's", []string{"farmer", "s"}, nil},
	}
	var (
		w Words
		n Normalizer
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, spans := split(&w, &n, tt.text)
			if !slices.Equal(keys, tt.keys) {
				t.Errorf("Split(%+q) words = %+q, want %+q", tt.text, keys, tt.keys)
			}
			wantSpans := tt.spans
			if wantSpans == nil {
				wantSpans = tt.keys
			}
			if !slices.Equal(spans, wantSpans) {
				t.Errorf("Split(%+q) spans = %+q, want %+q", tt.text, spans, wantSpans)
			}
		})
	}
}

func TestWordsRuns(t *testing.T) {
	var (
		w Words
		n Normalizer
	)
	text := "Stop the ＦＡＲＭＥＲ-Geno\u200bcide, now!"
	w.Split(&n, []byte(text))
	words := []string{"stop", "the", "farmer", "genocide", "now"}
	spaced := []bool{false, true, true, false, true} // a space before word i
	looseKey := func(i, j int) string {
		var b strings.Builder
		for k := i; k < j; k++ {
			if k > i && spaced[k] {
				b.WriteByte(' ')
			}
			b.WriteString(words[k])
		}
		return b.String()
	}
	if w.Len() != len(words) {
		t.Fatalf("Split(%+q): %d words, want %d", text, w.Len(), len(words))
	}
	for i := range words {
		for j := i + 1; j <= len(words); j++ {
			if got, want := string(w.Exact(i, j)), strings.Join(words[i:j], " "); got != want {
				t.Errorf("Exact(%d, %d) = %q, want %q", i, j, got, want)
			}
			if got, want := string(w.Loose(i, j)), looseKey(i, j); got != want {
				t.Errorf("Loose(%d, %d) = %q, want %q", i, j, got, want)
			}
			if got, want := string(w.AppendJoined(nil, i, j)), strings.Join(words[i:j], ""); got != want {
				t.Errorf("AppendJoined(%d, %d) = %q, want %q", i, j, got, want)
			}
			if got, want := w.joinedLen(i, j), len(strings.Join(words[i:j], "")); got != want {
				t.Errorf("joinedLen(%d, %d) = %d, want %d", i, j, got, want)
			}
		}
	}
	a, b := w.Span(2, 4)
	if got, want := text[a:b], "ＦＡＲＭＥＲ-Geno\u200bcide"; got != want {
		t.Errorf("Span(2, 4) = %+q, want %+q", got, want)
	}
	// Words that punctuation alone joins have the loose key of their exact
	// key.
	if got, want := string(w.Loose(2, 4)), loose(string(w.Exact(2, 4))); got != want {
		t.Errorf("Loose(2, 4) = %q, want Loose(Exact(2, 4)) = %q", got, want)
	}
}

func TestWordsHashtags(t *testing.T) {
	var (
		w Words
		n Normalizer
	)
	text := []byte("stop #Farmer_Genocide now #TheRapist! ＃ｆｕｌｌ ｗｉｄｔｈ")
	w.Split(&n, text)
	w.MarkHashtags(Extract(nil, text))
	// words: stop farmer genocide now therapist full width
	tests := []struct {
		i, j int
		want bool
	}{
		{0, 1, false}, {1, 2, true}, {1, 3, true}, {2, 3, true}, {0, 2, false}, {2, 4, false},
		{3, 4, false}, {4, 5, true}, {3, 5, false}, {5, 6, true}, {6, 7, false}, {5, 7, false},
	}
	if w.Len() != 7 {
		t.Fatalf("%d words, want 7", w.Len())
	}
	for _, tt := range tests {
		if got := w.InHashtag(tt.i, tt.j); got != tt.want {
			a, b := w.Span(tt.i, tt.j)
			t.Errorf("InHashtag(%d, %d) (%q) = %v, want %v", tt.i, tt.j, text[a:b], got, tt.want)
		}
	}
}

func TestWordsReuse(t *testing.T) {
	var (
		w Words
		n Normalizer
	)
	split(&w, &n, "a long text with many words in it to grow the buffers")
	keys, _ := split(&w, &n, "short one")
	if want := []string{"short", "one"}; !slices.Equal(keys, want) {
		t.Errorf("second Split = %q, want %q", keys, want)
	}
	if got, want := string(w.Exact(0, 2)), "short one"; got != want {
		t.Errorf("Exact(0, 2) = %q, want %q", got, want)
	}
}
