package matchers

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TokenKind says what an extracted token is.
type TokenKind uint8

// The token kinds.
const (
	TokenHashtag TokenKind = iota + 1
	TokenMention
	// TokenList is a mention of a list, @owner/slug; its name is the owner.
	TokenList
)

// Token is a hashtag or mention found in a text. Offsets are byte offsets
// into that text: Start is where the sigil (# or @) begins, Name where the
// name after it begins, NameEnd where the name ends, and End where the whole
// token ends (after a list slug, else NameEnd). The name can contain
// invisible characters that the extractor stepped over; the normalizer
// removes them.
type Token struct {
	Kind                      TokenKind
	Start, Name, NameEnd, End int
}

// Extract appends to dst the hashtags, mentions and lists in text, by the
// union of two readings:
//
//   - twitter-text's rules as the platform applies them (ExtractStandard);
//   - an evasion-resistant reading that steps over invisible characters as
//     if they were absent (so a zero-width space can neither hide a tag nor
//     split it) and classifies characters by their compatibility form (so
//     fullwidth ＠ｈａｎｄｌｅ, styled 𝐡𝐚𝐧𝐝𝐥𝐞 and the small ﹟ and ﹫
//     count as their plain forms).
//
// For ASCII text the readings agree and Extract costs one pass. Tokens come
// in text order; a token both readings find appears once.
func Extract(dst []Token, text []byte) []Token {
	start := len(dst)
	ascii := isASCII(text)
	dst = extractText(dst, text, false, ascii)
	if ascii {
		return dst
	}
	standard := len(dst)
	dst = extractText(dst, text, true, false)
	// Drop evasive tokens that the standard reading found too, then merge
	// the two sorted runs in place by insertion (tokens are few).
	out := standard
	for i := standard; i < len(dst); i++ {
		if !containsToken(dst[start:standard], dst[i]) {
			dst[out] = dst[i]
			out++
		}
	}
	dst = dst[:out]
	for i := standard; i < len(dst); i++ {
		for j := i; j > start && dst[j].Start < dst[j-1].Start; j-- {
			dst[j], dst[j-1] = dst[j-1], dst[j]
		}
	}
	return dst
}

// ExtractStandard appends to dst the hashtags, mentions and lists that
// twitter-text's extractor finds in text (hashtags inside URLs excluded).
func ExtractStandard(dst []Token, text []byte) []Token {
	return extractText(dst, text, false, isASCII(text))
}

func containsToken(ts []Token, t Token) bool {
	for _, u := range ts {
		if u.Kind == t.Kind && u.Start == t.Start && u.NameEnd == t.NameEnd {
			return true
		}
	}
	return false
}

// extractText scans text, all ASCII when ascii is set, once for sigils
// and tries a token at each. Every ASCII byte but # and @ starts no token: in ASCII text it finds
// the next of each with bytes.IndexByte, elsewhere it passes over ASCII
// bytes 8 at a time (sigil8).
func extractText(dst []Token, text []byte, evasive, ascii bool) []Token {
	nextHash, nextAt := -1, -1 // in ASCII text, the next # and @ from i, or len(text)
	for i := 0; i < len(text); {
		if ascii {
			if nextHash < i {
				nextHash = indexByteFrom(text, i, '#')
			}
			if nextAt < i {
				nextAt = indexByteFrom(text, i, '@')
			}
			i = min(nextHash, nextAt)
		} else {
			for i+8 <= len(text) {
				if m := sigil8(binary.LittleEndian.Uint64(text[i:])); m != 0 {
					i += bits.TrailingZeros64(m) / 8
					break
				}
				i += 8
			}
		}
		if i >= len(text) {
			break
		}
		c := text[i]
		if c < utf8.RuneSelf {
			switch c {
			case '#':
				if t, ok := hashtagAt(text, i, 1, evasive); ok {
					dst = append(dst, t)
					i = t.End
					continue
				}
			case '@':
				if t, ok := mentionAt(text, i, evasive); ok {
					dst = append(dst, t)
					i = t.End
					continue
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(text[i:])
		switch {
		case isHashSign(r, evasive):
			if t, ok := hashtagAt(text, i, size, evasive); ok {
				dst = append(dst, t)
				i = t.End
				continue
			}
		case isAtSign(r, evasive):
			if t, ok := mentionAt(text, i, evasive); ok {
				dst = append(dst, t)
				i = t.End
				continue
			}
		}
		i += size
	}
	return dst
}

// indexByteFrom returns the index of the first c in text at or after i,
// or len(text) when there is none.
func indexByteFrom(text []byte, i int, c byte) int {
	if k := bytes.IndexByte(text[i:], c); k >= 0 {
		return i + k
	}
	return len(text)
}

// sigil8 returns a mask whose lowest set bit is the high bit of the first
// of the 8 bytes of x (little-endian) that may start a token: a # or an @,
// or a byte of a non-ASCII character (the other signs). Bits above the
// lowest may be set for bytes that are neither.
func sigil8(x uint64) uint64 {
	hash, at := x^(ones8*'#'), x^(ones8*'@')
	return (x | (hash-ones8)&^hash | (at-ones8)&^at) & highs8
}

// hashtagAt tries a hashtag whose sign of size bytes starts at i:
//
//	(^|\uFE0E|\uFE0F|[^&letters_numerals])[#＃](?!\uFE0F|\u20E3)(letters_numerals* letter letters_numerals*)
//
// not followed by [#＃] or "://", and not inside a URL.
//
// An ASCII byte is a whole character, never invisible, and its own fold,
// so both readings take it as it is, by tokenClass.
func hashtagAt(text []byte, i, size int, evasive bool) (Token, bool) {
	if i > 0 && text[i-1] < utf8.RuneSelf {
		if c := text[i-1]; c == '&' || tokenClass[c]&classWord != 0 {
			return Token{}, false
		}
	} else if p, ok := prevRune(text, i, evasive); ok {
		if !evasive && (p == 0xFE0E || p == 0xFE0F) {
			// allowed: emoji presentation selectors end a preceding emoji
		} else if f := fold(p, evasive); f == '&' || isHashtagChar(p) || isHashtagChar(f) {
			return Token{}, false
		}
	}
	name := i + size
	// The keycap sequence #️⃣ is an emoji, not a hashtag.
	if name >= len(text) || text[name] < utf8.RuneSelf {
		// neither U+20E3 nor U+FE0F
	} else if r, n := utf8.DecodeRune(text[name:]); r == 0x20E3 {
		return Token{}, false
	} else if r == 0xFE0F {
		if !evasive {
			return Token{}, false
		}
		if r2, _ := utf8.DecodeRune(text[name+n:]); r2 == 0x20E3 {
			return Token{}, false
		}
	}
	end, hasLetter := name, false
	for j := name; j < len(text); {
		if c := text[j]; c < utf8.RuneSelf {
			class := tokenClass[c]
			if class&classWord == 0 {
				break
			}
			hasLetter = hasLetter || class&classLetter != 0
			j++
			end = j
			continue
		}
		r, n := utf8.DecodeRune(text[j:])
		if evasive && IsInvisible(r) {
			j += n
			continue
		}
		// A character counts if it or its compatibility form does: ～ is a
		// hashtag character though its form ~ is not.
		f := fold(r, evasive)
		if !isHashtagChar(r) && !isHashtagChar(f) {
			break
		}
		hasLetter = hasLetter || isHashtagLetter(r) || isHashtagLetter(f)
		j += n
		end = j
	}
	if !hasLetter {
		return Token{}, false
	}
	if r, _ := nextRune(text, end, evasive); isHashSign(r, evasive) || hasPrefix(text[end:], "://") {
		return Token{}, false
	}
	if insideURL(text, i) {
		return Token{}, false
	}
	return Token{Kind: TokenHashtag, Start: i, Name: name, NameEnd: end, End: end}, true
}

// mentionAt tries a mention or list whose first at sign starts at i:
//
//	([^a-z0-9_!#$%&*@＠]|^|(^|[^a-z0-9_+~.-])RT:?)[@＠]+([a-z0-9_]{1,20})(/[a-z][a-z0-9_-]{0,24})?
//
// not followed by an at sign, a Latin accented letter or "://".
func mentionAt(text []byte, i int, evasive bool) (Token, bool) {
	if !mentionMayFollow(text, i, evasive) {
		return Token{}, false
	}
	// Consume the run of at signs; the token starts at the last one.
	last, j := i, i
	for j < len(text) {
		r, n := utf8.DecodeRune(text[j:])
		if evasive && IsInvisible(r) {
			j += n
			continue
		}
		if !isAtSign(r, evasive) {
			break
		}
		last = j
		j += n
	}
	name := j
	end, count := name, 0
	for k := name; k < len(text) && count < 20; {
		if c := text[k]; c < utf8.RuneSelf {
			// As in hashtagAt, an ASCII byte is taken as it is.
			if tokenClass[c]&classWord == 0 {
				break
			}
			count++
			k++
			end = k
			continue
		}
		r, n := utf8.DecodeRune(text[k:])
		if evasive && IsInvisible(r) {
			k += n
			continue
		}
		if !isMentionChar(fold(r, evasive)) {
			break
		}
		count++
		k += n
		end = k
	}
	if count == 0 {
		return Token{}, false
	}
	t := Token{Kind: TokenMention, Start: last, Name: name, NameEnd: end, End: end}
	if slugEnd, ok := listSlugAt(text, end, evasive); ok {
		t.Kind, t.End = TokenList, slugEnd
	}
	if r, _ := nextRune(text, t.End, evasive); isAtSign(r, evasive) || isLatinAccent(r) || hasPrefix(text[t.End:], "://") {
		return Token{}, false
	}
	return t, true
}

// mentionMayFollow reports whether the character before the at sign at i
// lets a mention start there.
func mentionMayFollow(text []byte, i int, evasive bool) bool {
	p, ok := prevRuneAt(text, i, evasive)
	if !ok {
		return true
	}
	if f := fold(p.r, evasive); !isMentionChar(f) && !isAtSign(p.r, evasive) && !isASCIIIn(f, "!#$%&*") {
		return true
	}
	// (^|[^a-z0-9_+~.-])RT:?@
	j := i
	if p.r == ':' {
		j = p.at
	}
	t, okT := prevRuneAt(text, j, evasive)
	if !okT || (fold(t.r, evasive)|0x20) != 't' {
		return false
	}
	r, okR := prevRuneAt(text, t.at, evasive)
	if !okR || (fold(r.r, evasive)|0x20) != 'r' {
		return false
	}
	b, okB := prevRuneAt(text, r.at, evasive)
	if !okB {
		return true
	}
	f := fold(b.r, evasive)
	return !isMentionChar(f) && !isASCIIIn(f, "+~.-")
}

// listSlugAt matches /[a-z][a-z0-9_-]{0,24} at i and returns its end.
func listSlugAt(text []byte, i int, evasive bool) (int, bool) {
	if i >= len(text) || text[i] != '/' {
		return 0, false
	}
	end, count := i+1, 0
	for k := i + 1; k < len(text) && count < 25; {
		r, n := utf8.DecodeRune(text[k:])
		if evasive && IsInvisible(r) {
			k += n
			continue
		}
		f := fold(r, evasive)
		ok := isASCIILetter(f) || (count > 0 && (isMentionChar(f) || f == '-'))
		if !ok {
			break
		}
		count++
		k += n
		end = k
	}
	return end, count > 0
}

// ExtractReply returns the screen name that text replies to, by
// twitter-text's rule: the text starts (after spaces and directional marks)
// with one at sign and a name not followed by an at sign, a Latin accent or
// "://".
func ExtractReply(text []byte) (string, bool) {
	i := 0
	for i < len(text) {
		r, n := utf8.DecodeRune(text[i:])
		if !isUnicodeSpace(r) && !isDirectional(r) {
			break
		}
		i += n
	}
	r, n := utf8.DecodeRune(text[i:])
	if !isAtSign(r, false) {
		return "", false
	}
	name := i + n
	end := name
	for end < len(text) && end-name < 20 && isMentionChar(rune(text[end])) {
		end++
	}
	if end == name {
		return "", false
	}
	if r, _ := utf8.DecodeRune(text[end:]); isAtSign(r, false) || isLatinAccent(r) || hasPrefix(text[end:], "://") {
		return "", false
	}
	return string(text[name:end]), true
}

type runeAt struct {
	r  rune
	at int
}

// prevRune returns the rune before i; in an evasive reading invisible
// characters are stepped over.
func prevRune(text []byte, i int, evasive bool) (rune, bool) {
	p, ok := prevRuneAt(text, i, evasive)
	return p.r, ok
}

func prevRuneAt(text []byte, i int, evasive bool) (runeAt, bool) {
	if i > 0 && text[i-1] < utf8.RuneSelf {
		return runeAt{rune(text[i-1]), i - 1}, true
	}
	for i > 0 {
		r, n := utf8.DecodeLastRune(text[:i])
		i -= n
		if evasive && IsInvisible(r) {
			continue
		}
		return runeAt{r, i}, true
	}
	return runeAt{}, false
}

// nextRune returns the rune at i; in an evasive reading invisible characters
// are stepped over. At the end of text it returns utf8.RuneError.
func nextRune(text []byte, i int, evasive bool) (rune, int) {
	if i < len(text) && text[i] < utf8.RuneSelf {
		return rune(text[i]), i
	}
	for i < len(text) {
		r, n := utf8.DecodeRune(text[i:])
		if evasive && IsInvisible(r) {
			i += n
			continue
		}
		return r, i
	}
	return utf8.RuneError, i
}

// fold returns the character that r stands for when classifying it. The
// standard reading takes characters as they are; the evasive reading takes
// the first character of r's NFKC form, so ｈ and 𝐡 count as h.
//
// The NFKC form is read from r's full compatibility decomposition, whose
// first character it is unless canonical composition joins that character
// with the marks after it (é, ẛ, ㉮). A composed character has the class of
// the one it starts from (letter, mark, symbol) and is never ASCII, so fold
// then returns the decomposition's first character, or r itself when that
// is an ASCII letter. TestFoldClassifiesAsNFKC checks, for every code
// point, that every classifier that uses fold answers as it would for the
// true first character. Normalizing instead would allocate per character:
// norm's buffers escape to the heap.
func fold(r rune, evasive bool) rune {
	if !evasive || r < utf8.RuneSelf {
		return r
	}
	return foldNonASCII(r)
}

// foldNonASCII is fold of a non-ASCII r in the evasive reading.
func foldNonASCII(r rune) rune {
	if 0xFF01 <= r && r <= 0xFF5E { // fullwidth ASCII
		return r - 0xFEE0
	}
	var enc [utf8.UTFMax]byte
	n := utf8.EncodeRune(enc[:], r)
	d := norm.NFKC.Properties(enc[:n]).Decomposition()
	if d == nil {
		return r
	}
	first, size := utf8.DecodeRune(d)
	if size < len(d) && !norm.NFKC.Properties(d[size:]).BoundaryBefore() && isASCIILetter(first) {
		return r
	}
	return first
}

func isHashSign(r rune, evasive bool) bool {
	return r == '#' || r == '＃' || (evasive && r == '﹟')
}

func isAtSign(r rune, evasive bool) bool {
	return r == '@' || r == '＠' || (evasive && r == '﹫')
}

func isHashtagLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIILetter(r)
	}
	return unicode.IsLetter(r) || unicode.IsMark(r)
}

// isHashtagChar is twitter-text's hashtag_letters_numerals class:
// \p{L}\p{M}\p{Nd} and _ ZWNJ ZWJ ꙾ ־ ׳ ״ ～ 〜 ゛ ゜ ゠ ・ 〃 ་ ༌ ·.
func isHashtagChar(r rune) bool {
	if r < utf8.RuneSelf {
		return tokenClass[r]&classWord != 0
	}
	return isHashtagCharNonASCII(r)
}

// isHashtagCharNonASCII is isHashtagChar of a non-ASCII r.
func isHashtagCharNonASCII(r rune) bool {
	switch r {
	case 0x200C, 0x200D, 0xA67E, 0x05BE, 0x05F3, 0x05F4, 0xFF5E, 0x301C,
		0x309B, 0x309C, 0x30A0, 0x30FB, 0x3003, 0x0F0B, 0x0F0C, 0x00B7:
		return true
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r)
}

func isMentionChar(r rune) bool {
	return isASCIILetter(r) || ('0' <= r && r <= '9') || r == '_'
}

// tokenClass classifies the bytes of ASCII characters for the extractor:
// classLetter for isASCIILetter, classWord for isMentionChar, which for
// ASCII is isHashtagChar too. Bytes from 0x80 have no class.
var tokenClass = func() (t [256]uint8) {
	for c := range rune(utf8.RuneSelf) {
		if isASCIILetter(c) {
			t[c] |= classLetter
		}
		if isMentionChar(c) {
			t[c] |= classWord
		}
	}
	return t
}()

// The bits of tokenClass.
const (
	classLetter = 1 << iota
	classWord
)

func isASCIILetter(r rune) bool {
	return ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
}

func isASCIIIn(r rune, set string) bool {
	for i := 0; i < len(set); i++ {
		if r == rune(set[i]) {
			return true
		}
	}
	return false
}

// isLatinAccent is twitter-text's latin_accents class.
func isLatinAccent(r rune) bool {
	switch {
	case 0x00C0 <= r && r <= 0x00D6, 0x00D8 <= r && r <= 0x00F6, 0x00F8 <= r && r <= 0x00FF,
		0x0100 <= r && r <= 0x024F, 0x0300 <= r && r <= 0x036F, 0x1E00 <= r && r <= 0x1EFF:
		return true
	}
	switch r {
	case 0x0253, 0x0254, 0x0256, 0x0257, 0x0259, 0x025B, 0x0263, 0x0268, 0x026F,
		0x0272, 0x0289, 0x028B, 0x02BB:
		return true
	}
	return false
}

// isUnicodeSpace is twitter-text's UNICODE_SPACES class.
func isUnicodeSpace(r rune) bool {
	switch {
	case 0x09 <= r && r <= 0x0D, 0x2000 <= r && r <= 0x200A:
		return true
	}
	switch r {
	case 0x20, 0x85, 0xA0, 0x1680, 0x180E, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return false
}

// isDirectional is twitter-text's DIRECTIONAL_CHARACTERS class.
func isDirectional(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (0x202A <= r && r <= 0x202E) || (0x2066 <= r && r <= 0x2069)
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// insideURL reports whether the sign at i continues a URL: the run of
// non-space text before it has a scheme ("://") or starts with a domain
// followed by a path (example.com/).
func insideURL(text []byte, i int) bool {
	start := i
	for start > 0 {
		if c := text[start-1]; c < utf8.RuneSelf {
			if isUnicodeSpace(rune(c)) {
				break
			}
			start--
			continue
		}
		r, n := utf8.DecodeLastRune(text[:start])
		if isUnicodeSpace(r) {
			break
		}
		start -= n
	}
	run := text[start:i]
	if len(run) == 0 {
		return false
	}
	for k := 0; k+3 <= len(run); k++ {
		if run[k] == ':' && run[k+1] == '/' && run[k+2] == '/' {
			return true
		}
	}
	// domain.tld/…: letters after the last dot before the first slash.
	slash := -1
	for k, c := range run {
		if c == '/' {
			slash = k
			break
		}
	}
	if slash < 0 {
		return false
	}
	host := run[:slash]
	dot := -1
	for k := len(host) - 1; k >= 0; k-- {
		if host[k] == '.' {
			dot = k
			break
		}
	}
	if dot <= 0 || len(host)-dot-1 < 2 {
		return false
	}
	for _, c := range host[dot+1:] {
		if !isASCIILetter(rune(c)) {
			return false
		}
	}
	return true
}
