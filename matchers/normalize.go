package matchers

import (
	"bytes"
	"encoding/binary"
	"slices"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Tier is how much of a token's spelling a match ignored. Lower tiers are
// stronger evidence: an exact match is reported as exact even when the loose
// key matches too.
type Tier uint8

// The tiers, strongest first.
const (
	// TierExact ignores compatibility forms (NFKC: fullwidth, styled
	// letters, ligatures), letter case (full case folding) and invisible
	// default-ignorable characters.
	TierExact Tier = iota
	// TierLoose also ignores separators: punctuation such as _ · - . and
	// spaces.
	TierLoose
	// TierLookalike also maps confusable characters (Cyrillic а for Latin a,
	// 0 for o, rn for m) to one skeleton, after Unicode TS #39.
	TierLookalike

	numTiers = 3
)

var tierNames = [numTiers]string{"exact", "loose", "lookalike"}

// String returns the tier's name as it appears in review tasks.
func (t Tier) String() string {
	if int(t) < len(tierNames) {
		return tierNames[t]
	}
	return "unknown"
}

// ParseTier returns the tier named s.
func ParseTier(s string) (Tier, bool) {
	for i, n := range tierNames {
		if n == s {
			return Tier(i), true
		}
	}
	return 0, false
}

// Normalizer turns text into lookup keys. List entries and tweet tokens go
// through the same Normalizer methods, so a key computed from either side is
// comparable byte for byte.
//
// A Normalizer keeps scratch buffers and is not safe for concurrent use: each
// worker owns one. The zero value is ready to use.
type Normalizer struct {
	a, b   []byte
	c, d   []byte // scratch of appendSkeleton
	folder cases.Caser
	// hosts and labels cache IDNA conversions of hosts and A-labels.
	hosts  map[string]hostEntry
	labels map[string][]byte
	// texts is the scratch of validating listed texts.
	texts *shingler
	iter  norm.Iter // holds the reorder buffer that norm.Form.Append would allocate
	init  bool
}

// Exact appends the exact-tier key of src to dst: default-ignorable code
// points removed, NFKC, full case folding, NFKC again. Combining marks are
// kept, so Devanagari and Gurmukhi vowel signs survive and a composed nukta
// letter (U+0958) equals its decomposed spelling (U+0915 U+093C).
//
// Exact is idempotent: Exact(Exact(s)) == Exact(s).
func (n *Normalizer) Exact(dst, src []byte) []byte {
	if isASCII(src) {
		return appendLowerASCII(dst, src)
	}
	if !utf8.Valid(src) {
		// Invalid bytes become U+FFFD first: removing an invisible
		// character between stray bytes must not join them into a new
		// character (Exact would not be idempotent).
		src = bytes.ToValidUTF8(src, []byte("\uFFFD"))
	}
	n.a = appendWithoutIgnorables(n.a[:0], src)
	n.b = n.nfkc(n.b[:0], n.a)
	n.a = appendWithoutIgnorables(n.a[:0], n.b)
	n.b = n.fold(n.b[:0], n.a)
	return n.nfkc(dst, n.b)
}

// Loose appends the loose-tier key of an exact key to dst: the exact key with
// separators (punctuation and spaces) removed and renormalized.
func (n *Normalizer) Loose(dst, exact []byte) []byte {
	if isASCII(exact) {
		// Written into dst's grown tail: no append per byte.
		start := len(dst)
		dst = slices.Grow(dst, len(exact))[:start+len(exact)]
		out, n := dst[start:], 0
		for _, c := range exact {
			out[n] = c
			n += int(asciiKept[c])
		}
		return dst[:start+n]
	}
	n.a = n.a[:0]
	for i := 0; i < len(exact); {
		r, size := utf8.DecodeRune(exact[i:])
		if !isSeparator(r) {
			n.a = append(n.a, exact[i:i+size]...)
		}
		i += size
	}
	return n.nfkc(dst, n.a)
}

// Lookalike appends the lookalike-tier key of a loose key to dst: the
// confusable skeleton of the key, case folded and renormalized, so that
// "fаrmer" with a Cyrillic а, "farrner" and "farmer" share one key.
func (n *Normalizer) Lookalike(dst, loose []byte) []byte {
	n.a = n.appendSkeleton(n.a[:0], loose)
	if isASCII(n.a) {
		return appendLowerASCII(dst, n.a)
	}
	n.b = n.fold(n.b[:0], n.a)
	return n.nfkc(dst, n.b)
}

// Key appends the key of src for tier t to dst, computing the weaker tiers
// on the way.
func (n *Normalizer) Key(dst, src []byte, t Tier) []byte {
	start := len(dst)
	dst = n.Exact(dst, src)
	if t == TierExact {
		return dst
	}
	exact := append([]byte(nil), dst[start:]...)
	dst = n.Loose(dst[:start], exact)
	if t == TierLoose {
		return dst
	}
	loose := append([]byte(nil), dst[start:]...)
	return n.Lookalike(dst[:start], loose)
}

// nfkc appends the NFKC form of src to dst. Unlike norm.NFKC.Append it
// allocates nothing, as its reorder buffer is n's, and it normalizes src
// apart from dst, so a leading mark of src never composes with dst's last
// character.
func (n *Normalizer) nfkc(dst, src []byte) []byte { return n.normalize(norm.NFKC, dst, src) }

// normalize appends src in normalization form f to dst, as nfkc does.
func (n *Normalizer) normalize(f norm.Form, dst, src []byte) []byte {
	// As norm's Append does: copy the prefix that is already normalized
	// and ends at a segment boundary, and normalize only the rest.
	p := f.QuickSpan(src)
	dst = append(dst, src[:p]...)
	if p == len(src) {
		return dst
	}
	n.iter.Init(f, src[p:])
	for !n.iter.Done() {
		dst = append(dst, n.iter.Next()...)
	}
	return dst
}

// fold appends the full case folding of src to dst.
func (n *Normalizer) fold(dst, src []byte) []byte {
	if !n.init {
		n.folder = cases.Fold()
		n.init = true
	}
	n.folder.Reset()
	start := len(dst)
	for {
		if cap(dst)-len(dst) < 2*len(src)+8 {
			grown := make([]byte, len(dst), 2*cap(dst)+2*len(src)+8)
			copy(grown, dst)
			dst = grown
		}
		nDst, nSrc, err := n.folder.Transform(dst[len(dst):cap(dst)], src, true)
		dst = dst[:len(dst)+nDst]
		src = src[nSrc:]
		if err != transform.ErrShortDst {
			foldCherokee(dst[start:])
			return dst
		}
	}
}

// foldCherokee rewrites the Cherokee small letters in b, in place, as the
// capitals that Unicode case folding maps them to (CaseFolding.txt folds
// Cherokee to upper case). x/text's Fold swaps the two cases of Cherokee
// instead, so without this folding would not be idempotent and the two
// cases would never match each other.
func foldCherokee(b []byte) {
	for i := 0; i < len(b); {
		if b[i] != 0xE1 && b[i] != 0xEA { // lead bytes of U+1000-U+1FFF and U+A000-U+AFFF
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case 0xAB70 <= r && r <= 0xABBF:
			utf8.EncodeRune(b[i:], r-0xAB70+0x13A0)
		case 0x13F8 <= r && r <= 0x13FD:
			utf8.EncodeRune(b[i:], r-8)
		}
		i += n
	}
}

// isASCII reports whether b is all ASCII. From 8 bytes on, it ORs b
// together 8 bytes at a time, the last 8 overlapping the ones before, and
// tests the high bits once.
func isASCII(b []byte) bool {
	if len(b) < 8 {
		for _, c := range b {
			if c >= utf8.RuneSelf {
				return false
			}
		}
		return true
	}
	acc := binary.LittleEndian.Uint64(b[len(b)-8:])
	for ; len(b) >= 8; b = b[8:] {
		acc |= binary.LittleEndian.Uint64(b)
	}
	return acc&0x8080808080808080 == 0
}

// appendLowerASCII appends the ASCII src to dst in lower case.
func appendLowerASCII(dst, src []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(src))[:n+len(src)]
	out := dst[n:]
	out = out[:len(src)] // no bounds check in the loop
	for i, c := range src {
		out[i] = c + asciiLowerDelta[c]
	}
	return dst
}

// appendExactASCII appends the exact key of src to dst, as Exact does,
// when src is all ASCII, and reports whether src has separators: whether
// its loose key differs. When src is not all ASCII it returns dst at its
// length as it was (with room for src grown) and ascii false.
func appendExactASCII(dst, src []byte) (key []byte, separators, ascii bool) {
	n := len(dst)
	dst = slices.Grow(dst, len(src))[:n+len(src)]
	out := dst[n:]
	out = out[:len(src)] // no bounds check in the loop
	var flags uint16
	for i, c := range src {
		k := asciiKeyClass[c]
		out[i] = c + byte(k)
		flags |= k
	}
	if flags&keyNonASCII != 0 {
		return dst[:n], false, false
	}
	return dst, flags&keySeparator != 0, true
}

// asciiKeyClass[c] is, for the byte c, asciiLowerDelta[c] in the low byte,
// and above it keyNonASCII for a byte of a non-ASCII character and
// keySeparator for a separator the loose tier drops.
var asciiKeyClass = func() (t [256]uint16) {
	for c := range 256 {
		t[c] = uint16(asciiLowerDelta[c])
		switch {
		case c >= utf8.RuneSelf:
			t[c] |= keyNonASCII
		case asciiKept[c] == 0:
			t[c] |= keySeparator
		}
	}
	return t
}()

// The flags of asciiKeyClass.
const (
	keyNonASCII  = 1 << 8
	keySeparator = 1 << 9
)

// asciiLowerDelta[c] is what turns the ASCII byte c into lower case: 'a'-'A' for
// a capital, 0 otherwise. asciiKept[c] is 0 for the separators the loose
// tier drops (isASCIISeparator), 1 for every other byte.
var asciiLowerDelta, asciiKept = func() (upper, kept [256]byte) {
	for c := range 256 {
		if 'A' <= c && c <= 'Z' {
			upper[c] = 'a' - 'A'
		}
		if !isASCIISeparator(byte(c)) {
			kept[c] = 1
		}
	}
	return upper, kept
}()

// appendWithoutIgnorables appends src to dst without its default-ignorable
// code points. Invalid UTF-8 bytes are kept as they are.
func appendWithoutIgnorables(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		c := src[i]
		if c < 0xC2 { // ASCII, continuation or invalid: never ignorable
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if !IsInvisible(r) {
			dst = append(dst, src[i:i+size]...)
		}
		i += size
	}
	return dst
}

// IsInvisible reports whether r is a Unicode Default_Ignorable_Code_Point:
// a character that renders as nothing (zero-width space and joiners, soft
// hyphen, word joiner, bidi controls, variation selectors, tag characters,
// Hangul fillers). Such characters can hide or split a token without
// changing what a reader sees.
func IsInvisible(r rune) bool {
	if r < 0xAD {
		return false
	}
	return unicode.Is(defaultIgnorable, r)
}

// defaultIgnorable is DerivedCoreProperties.txt Default_Ignorable_Code_Point
// of the Unicode version of Go's unicode package (TestDefaultIgnorableMatchesUnicode
// derives it from that package's tables).
var defaultIgnorable = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x00AD, Hi: 0x00AD, Stride: 1},
		{Lo: 0x034F, Hi: 0x034F, Stride: 1},
		{Lo: 0x061C, Hi: 0x061C, Stride: 1},
		{Lo: 0x115F, Hi: 0x1160, Stride: 1},
		{Lo: 0x17B4, Hi: 0x17B5, Stride: 1},
		{Lo: 0x180B, Hi: 0x180F, Stride: 1},
		{Lo: 0x200B, Hi: 0x200F, Stride: 1},
		{Lo: 0x202A, Hi: 0x202E, Stride: 1},
		{Lo: 0x2060, Hi: 0x206F, Stride: 1},
		{Lo: 0x3164, Hi: 0x3164, Stride: 1},
		{Lo: 0xFE00, Hi: 0xFE0F, Stride: 1},
		{Lo: 0xFEFF, Hi: 0xFEFF, Stride: 1},
		{Lo: 0xFFA0, Hi: 0xFFA0, Stride: 1},
		{Lo: 0xFFF0, Hi: 0xFFF8, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x1BCA0, Hi: 0x1BCA3, Stride: 1},
		{Lo: 0x1D173, Hi: 0x1D17A, Stride: 1},
		{Lo: 0xE0000, Hi: 0xE0FFF, Stride: 1},
	},
}

// isSeparator reports whether the loose tier drops r: punctuation (which
// includes _ · ・ - . ' and their kin) and spaces.
func isSeparator(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIISeparator(byte(r))
	}
	return unicode.In(r, unicode.P, unicode.Z)
}

// isASCIISeparator is isSeparator for ASCII: punctuation and space, but not
// symbols such as $ + < = > ^ ` | ~, which are Unicode symbols, not
// punctuation.
func isASCIISeparator(c byte) bool {
	switch c {
	case ' ', '!', '"', '#', '%', '&', '\'', '(', ')', '*', ',', '-', '.', '/',
		':', ';', '?', '@', '[', '\\', ']', '_', '{', '}':
		return true
	}
	return false
}
