package decode

import (
	"bytes"
	"unicode/utf8"
)

// AppendUnescapedHTML appends s to dst with the HTML character references
// that tweet texts carry decoded: &amp; &lt; &gt; &quot; &apos; and numeric
// references (&#64; &#x40;). Anything else, including a malformed or
// unknown reference, is kept as written. A numeric reference to an invalid
// code point decodes to U+FFFD, as in HTML.
func AppendUnescapedHTML(dst, s []byte) []byte {
	for {
		i := bytes.IndexByte(s, '&')
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		s = s[i:]
		r, n := htmlReference(s)
		if n == 0 {
			dst = append(dst, '&')
			s = s[1:]
			continue
		}
		dst = utf8.AppendRune(dst, r)
		s = s[n:]
	}
}

// htmlReference decodes the reference at the start of s (which begins with
// '&') and returns it and its length, or n == 0 when there is none.
func htmlReference(s []byte) (r rune, n int) {
	semi := bytes.IndexByte(s[:min(len(s), 12)], ';')
	if semi < 0 {
		return 0, 0
	}
	name := s[1:semi]
	switch string(name) {
	case "amp":
		return '&', semi + 1
	case "lt":
		return '<', semi + 1
	case "gt":
		return '>', semi + 1
	case "quot":
		return '"', semi + 1
	case "apos":
		return '\'', semi + 1
	}
	if len(name) < 2 || name[0] != '#' {
		return 0, 0
	}
	digits, base := name[1:], rune(10)
	if digits[0] == 'x' || digits[0] == 'X' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 || len(digits) > 7 {
		return 0, 0
	}
	for _, c := range digits {
		var d rune
		switch {
		case '0' <= c && c <= '9':
			d = rune(c - '0')
		case base == 16 && 'a' <= c && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && 'A' <= c && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return 0, 0
		}
		r = r*base + d
	}
	if r == 0 || r > utf8.MaxRune || (0xD800 <= r && r <= 0xDFFF) {
		r = utf8.RuneError
	}
	return r, semi + 1
}
