package matchers

import (
	"unicode"
	"unicode/utf8"
)

// Words is a text split into normalized words, for phrase matching. A word
// is a run of letters, marks and digits (invisible characters inside are
// stepped over); in scripts written without spaces (Han, kana, Thai, Lao,
// Khmer, Myanmar) every character with its marks is a word of its own, so
// phrases there match character sequences.
//
// The exact keys of consecutive words are kept joined by single spaces, and
// also concatenated without them, so the key of any run of words i..j is
// one slice: Exact(i, j) for the exact tier and Loose(i, j) for the loose
// tier. A Words is reused across texts; it is not safe for concurrent use.
type Words struct {
	exact, loose []byte
	spans        []wordSpan
}

type wordSpan struct {
	start, end           int // in the original text
	exactStart, exactEnd int
	looseStart, looseEnd int
}

// Len returns the number of words.
func (w *Words) Len() int { return len(w.spans) }

// Exact returns the exact-tier key of words i to j-1: their exact keys
// joined by single spaces.
func (w *Words) Exact(i, j int) []byte {
	return w.exact[w.spans[i].exactStart:w.spans[j-1].exactEnd]
}

// Loose returns the loose-tier key of words i to j-1: their exact keys
// concatenated.
func (w *Words) Loose(i, j int) []byte {
	return w.loose[w.spans[i].looseStart:w.spans[j-1].looseEnd]
}

// Span returns where words i to j-1 stand in the original text.
func (w *Words) Span(i, j int) (start, end int) {
	return w.spans[i].start, w.spans[j-1].end
}

// Split replaces w's contents with the words of text.
func (w *Words) Split(n *Normalizer, text []byte) {
	w.exact, w.loose, w.spans = w.exact[:0], w.loose[:0], w.spans[:0]
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
				j = len(text) // end of word
				continue
			}
			j += size
			end = j
		}
		w.add(n, text, start, end)
		i = end
	}
}

func (w *Words) add(n *Normalizer, text []byte, start, end int) {
	if len(w.exact) > 0 {
		w.exact = append(w.exact, ' ')
	}
	es := len(w.exact)
	w.exact = n.Exact(w.exact, text[start:end])
	if len(w.exact) == es { // normalized to nothing
		if es > 0 {
			w.exact = w.exact[:es-1]
		}
		return
	}
	ls := len(w.loose)
	w.loose = append(w.loose, w.exact[es:]...)
	w.spans = append(w.spans, wordSpan{start: start, end: end,
		exactStart: es, exactEnd: len(w.exact), looseStart: ls, looseEnd: len(w.loose)})
}

// isWordChar reports whether r, or its compatibility form, is a letter,
// mark or digit.
func isWordChar(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIILetter(r) || ('0' <= r && r <= '9')
	}
	if unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) {
		return true
	}
	f := fold(r, true)
	return f != r && (unicode.IsLetter(f) || unicode.IsDigit(f))
}

// isUnspacedScript reports whether r belongs to a script written without
// spaces between words.
func isUnspacedScript(r rune) bool {
	if r < 0x0E00 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai,
		unicode.Lao, unicode.Khmer, unicode.Myanmar)
}
