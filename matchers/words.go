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
// The key of any run of words i..j is one slice, for each tier:
//
//   - Exact(i, j): the words' exact keys joined by single spaces;
//   - Loose(i, j): the same, but words that only punctuation or symbols
//     separate (no space) are joined without one, so "f.a.r.m.e.r genocide"
//     has the loose key "farmer genocide". Words are never run together
//     across a space: "the rapist" is not "therapist".
//
// Words inside one hashtag (MarkHashtags) may also match a phrase written as
// separate words ("#FarmerGenocide" for "farmer genocide"); InHashtag says
// whether a run lies inside one. A Words is reused across texts; it is not
// safe for concurrent use.
type Words struct {
	exact, loose []byte
	spans        []wordSpan
}

type wordSpan struct {
	start, end           int // in the original text
	exactStart, exactEnd int
	looseStart, looseEnd int
	// tag is 1 + the index of the hashtag the word is inside (in the
	// order MarkHashtags was given them), 0 outside hashtags.
	tag int32
}

// Len returns the number of words.
func (w *Words) Len() int { return len(w.spans) }

// Exact returns the exact-tier key of words i to j-1: their exact keys
// joined by single spaces.
func (w *Words) Exact(i, j int) []byte {
	return w.exact[w.spans[i].exactStart:w.spans[j-1].exactEnd]
}

// Loose returns the loose-tier key of words i to j-1: their exact keys,
// joined by a space where a space separates them in the text and without
// one where only other characters do.
func (w *Words) Loose(i, j int) []byte {
	return w.loose[w.spans[i].looseStart:w.spans[j-1].looseEnd]
}

// AppendJoined appends the exact keys of words i to j-1 to dst, run
// together: the key under which a phrase matches words inside a hashtag.
func (w *Words) AppendJoined(dst []byte, i, j int) []byte {
	for k := i; k < j; k++ {
		dst = append(dst, w.exact[w.spans[k].exactStart:w.spans[k].exactEnd]...)
	}
	return dst
}

// joinedLen returns the length of the joined key of words i to j-1.
func (w *Words) joinedLen(i, j int) int {
	return w.spans[j-1].exactEnd - w.spans[i].exactStart - (j - 1 - i)
}

// prefix16 returns the first two bytes of the joined key of the words from
// i on, as prefix16 of that key would.
func (w *Words) prefix16(i int) uint32 {
	sp := w.spans[i]
	b := uint32(w.exact[sp.exactStart]) << 8
	switch {
	case sp.exactEnd-sp.exactStart > 1:
		b |= uint32(w.exact[sp.exactStart+1])
	case i+1 < len(w.spans):
		b |= uint32(w.exact[w.spans[i+1].exactStart])
	}
	return b
}

// MarkHashtags records which words lie inside the names of the hashtag
// tokens among toks (from Extract on the same text, so in text order).
func (w *Words) MarkHashtags(toks []Token) {
	k, tag := 0, int32(0)
	for _, t := range toks {
		if t.Kind != TokenHashtag {
			continue
		}
		tag++
		for k < len(w.spans) && w.spans[k].start < t.Name {
			k++
		}
		for ; k < len(w.spans) && w.spans[k].end <= t.NameEnd; k++ {
			w.spans[k].tag = tag
		}
	}
}

// InHashtag reports whether words i to j-1 all lie inside one hashtag.
func (w *Words) InHashtag(i, j int) bool {
	return w.spans[i].tag != 0 && w.spans[i].tag == w.spans[j-1].tag
}

// Span returns where words i to j-1 stand in the original text.
func (w *Words) Span(i, j int) (start, end int) {
	return w.spans[i].start, w.spans[j-1].end
}

// Split replaces w's contents with the words of text. ASCII bytes take a
// path of their own, without decoding a rune or looking in Unicode's
// tables: none of them is a mark, invisible or of an unspaced script, and
// they are word characters when letters or digits.
func (w *Words) Split(n *Normalizer, text []byte) {
	w.exact, w.loose, w.spans = w.exact[:0], w.loose[:0], w.spans[:0]
	last := 0 // end of the last word added
	for i := 0; i < len(text); {
		start, end, single := i, i+1, false
		if c := text[i]; c < utf8.RuneSelf {
			if !isASCIIWordByte(c) {
				i++
				continue
			}
		} else {
			r, size := utf8.DecodeRune(text[i:])
			if !isWordChar(r) || unicode.IsMark(r) {
				i += size
				continue
			}
			end, single = i+size, isUnspacedScript(r)
		}
		for j := end; j < len(text); {
			if c := text[j]; c < utf8.RuneSelf {
				if single || !isASCIIWordByte(c) {
					break // end of word
				}
				j++
				end = j
				continue
			}
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
		if w.add(n, text, start, end, hasSpace(text[last:start])) {
			last = end
		}
		i = end
	}
}

// isASCIIWordByte is isWordChar of an ASCII byte: a letter or a digit.
func isASCIIWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// add appends the word text[start:end], which a space separates from the
// previous word when spaced, and reports whether it was added (a word that
// normalizes to nothing is not).
func (w *Words) add(n *Normalizer, text []byte, start, end int, spaced bool) bool {
	if len(w.exact) > 0 {
		w.exact = append(w.exact, ' ')
	}
	es := len(w.exact)
	w.exact = n.Exact(w.exact, text[start:end])
	if len(w.exact) == es { // normalized to nothing
		if es > 0 {
			w.exact = w.exact[:es-1]
		}
		return false
	}
	if spaced && len(w.loose) > 0 {
		w.loose = append(w.loose, ' ')
	}
	ls := len(w.loose)
	w.loose = append(w.loose, w.exact[es:]...)
	w.spans = append(w.spans, wordSpan{start: start, end: end,
		exactStart: es, exactEnd: len(w.exact), looseStart: ls, looseEnd: len(w.loose)})
	return true
}

// hasSpace reports whether b holds a white space character.
func hasSpace(b []byte) bool {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			if isUnicodeSpace(rune(b[i])) {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if isUnicodeSpace(r) {
			return true
		}
		i += size
	}
	return false
}

// isWordChar reports whether r, or its compatibility form, is a letter,
// mark or digit.
func isWordChar(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIWordByte(byte(r))
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
