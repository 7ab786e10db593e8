package matchers

import (
	"bytes"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"

	"flagstream/internal/testkit"
)

// splitOracle is Split as it was before its ASCII path: every byte read as
// a rune and looked up in Unicode's tables. The tests compare the two.
func (w *Words) splitOracle(n *Normalizer, text []byte) {
	w.exact, w.loose, w.spans = w.exact[:0], w.loose[:0], w.spans[:0]
	last := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		if !isWordChar(r) || unicode.IsMark(r) {
			i += size
			continue
		}
		start, end := i, i+size
		single := isUnspacedScript(r)
		for j := end; j < len(text); {
			r, size := utf8.DecodeRune(text[j:])
			switch {
			case IsInvisible(r):
				j += size
				continue
			case unicode.IsMark(r):
			case !isWordChar(r), single, isUnspacedScript(r):
				j = len(text)
				continue
			}
			j += size
			end = j
		}
		if w.add(n, text, start, end, hasSpace(text[last:start])) {
			last = end
		}
		i = end
	}
}

// checkSplit fails t when Split and splitOracle read text differently.
func checkSplit(t *testing.T, text []byte) {
	t.Helper()
	var got, want Words
	var n Normalizer
	got.Split(&n, text)
	want.splitOracle(&n, text)
	if !bytes.Equal(got.exact, want.exact) || !bytes.Equal(got.loose, want.loose) || !slices.Equal(got.spans, want.spans) {
		t.Fatalf("Split(%+q):\n exact %q loose %q spans %v\nthe oracle:\n exact %q loose %q spans %v",
			text, got.exact, got.loose, got.spans, want.exact, want.loose, want.spans)
	}
}

func TestSplitMatchesOracle(t *testing.T) {
	for _, s := range []string{
		"", "a", "!", "stop the farmer genocide, now!", "Ｆａｒｍｅｒ Genocide", "geno\u200bcide", "ge\u0301no",
		"किसान आंदोलन", "農民ジェノサイド", "ไทยภาษา abc", "abc農民def", "a\u00adb", "x\u0301\u0301y", "1,000 2.5",
		"#FarmerGenocide @kisan", "e\u0301", "\u0301a", "a\xffb", "\xe2\x82", "ab\u200b\u200bcd ef",
	} {
		checkSplit(t, []byte(s))
	}
	// Every pair of a few ASCII bytes and runs around them.
	alphabet := []string{"a", "Z", "0", " ", "-", "_", "#", "\u0301", "\u200b", "農", "ก", "ａ", "\u00ad", "é", "\xff"}
	for _, a := range alphabet {
		for _, b := range alphabet {
			for _, c := range alphabet {
				checkSplit(t, []byte(a+b+c))
				checkSplit(t, []byte("x"+a+b+"y"+c))
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		checkSplit(t, randomText(rng, alphabet, 24))
	}
}

func TestSplitMatchesOracleOnCorpora(t *testing.T) {
	for _, line := range sharedLines(t) {
		checkSplit(t, line)
	}
}

// sharedLines returns every line of the texts of twitter-text's
// conformance suite, in many scripts, and of the real tweets' files, JSON
// and all: inputs for comparing a function with its oracle.
func sharedLines(t *testing.T) [][]byte {
	var lines [][]byte
	for _, name := range []string{"conformance/twitter-text/extract.yml", "conformance/twitter-text/validate.yml",
		"corpora/twarc-csv_withheld_v2.jsonl", "corpora/simdjson_twitter_v1.1_search.json"} {
		data, err := os.ReadFile(testkit.SharedPath(t, name))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, bytes.Split(data, []byte("\n"))...)
	}
	if len(lines) < 1000 {
		t.Fatalf("only %d lines in the conformance suite and corpora", len(lines))
	}
	return lines
}

// randomText joins up to max pieces drawn at random from pieces.
func randomText(r *rand.Rand, pieces []string, max int) []byte {
	var b []byte
	for range r.IntN(max) {
		b = append(b, pieces[r.IntN(len(pieces))]...)
	}
	return b
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{"stop the farmer genocide", "Ｆａｒｍｅｒ geno\u200bcide", "农民 abc", "a\u0301b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) { checkSplit(t, text) })
}

func BenchmarkWordsSplit(b *testing.B) {
	text := []byte("families winter music market reform support morning #india village harvest city the capital")
	var w Words
	var n Normalizer
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		w.Split(&n, text)
	}
}
