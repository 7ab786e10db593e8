package decode

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the byte-level pieces of the on-demand reader
// (ondemand.go): where a JSON string, number or whole value ends, checked
// as it is passed over, and the unescaping of strings.
//
// They accept a subset of what fastjson's parser accepts, never more: a
// value they pass over is one that fastjson parses the same way, and
// anything else makes the on-demand reader give up on the record (the full
// parse then decides). In particular:
//   - whitespace is space, tab, newline and carriage return, as fastjson's;
//   - a string ends at the first quote preceded by an even number of
//     backslashes, as fastjson's; its bytes are not checked further
//     (fastjson does not check them either; the record is valid UTF-8);
//   - a number is a run of the bytes 0-9 . + - e E, as fastjson reads one;
//     fastjson's other forms (inf, nan, a lone sign) are given up on;
//   - containers nest at most maxScanLevel deep, well below fastjson's
//     MaxDepth of 300.

// maxScanLevel bounds how deep the on-demand reader follows containers:
// a record nesting deeper is left to the full parse, which enforces
// fastjson's limit of 300.
const maxScanLevel = 256

// isSpace reports whether c is JSON whitespace as fastjson skips it.
// Most bytes it is asked about follow a colon or a comma in compact JSON,
// and the first comparison, against a space, settles them.
func isSpace(c byte) bool { return c <= ' ' && uint64(1)<<c&spaces != 0 }

// spaces has the bits of the JSON whitespace bytes.
const spaces = 1<<' ' | 1<<'\n' | 1<<'\t' | 1<<'\r'

// skipSpace returns the index of the first byte at or after i that is not
// whitespace, or len(b).
func skipSpace(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && isSpace(b[i]) {
		i++
	}
	return i
}

// isNumberByte reports whether c may be part of a number as fastjson reads
// one.
func isNumberByte(c byte) bool { return numberBytes[c] }

// numberBytes holds isNumberByte for every byte: one load instead of six
// comparisons per digit.
var numberBytes = [256]bool{
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true,
	'-': true, '+': true, '.': true, 'e': true, 'E': true,
}

// quoteOrBackslash returns the index of the first '"' or '\\' at or after
// i, or len(b). It looks at eight bytes at a time (SWAR): most strings of
// a tweet are short, and for them this beats IndexByte's call.
func quoteOrBackslash(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	if uint(i) > uint(len(b)) {
		return len(b)
	}
	s := b[i:]
	for len(s) >= 8 {
		x := binary.LittleEndian.Uint64(s)
		q, t := x^(ones*'"'), x^(ones*'\\')
		// The lowest byte flagged is the first zero byte of q or t.
		if m := ((q-ones)&^q | (t-ones)&^t) & highs; m != 0 {
			return len(b) - len(s) + bits.TrailingZeros64(m)/8
		}
		s = s[8:]
	}
	for j, c := range s {
		if c == '"' || c == '\\' {
			return len(b) - len(s) + j
		}
	}
	return len(b)
}

// quoteOrBackslash8 is quoteOrBackslash over the eight bytes at i alone,
// small enough to be inlined where most strings are short: it returns -1
// when none of them is a quote or a backslash, and -2 when fewer than
// eight are left.
func quoteOrBackslash8(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	if i < 0 || i+8 > len(b) {
		return -2
	}
	x := binary.LittleEndian.Uint64(b[i:])
	q, t := x^(ones*'"'), x^(ones*'\\')
	if m := ((q-ones)&^q | (t-ones)&^t) & highs; m != 0 {
		return i + bits.TrailingZeros64(m)/8
	}
	return -1
}

// stringEnd returns the index of the quote that closes the string whose
// contents start at i, or -1 when it is not closed. A backslash escapes the
// byte after it, so a quote closes the string when an even number of
// backslashes precede it, as fastjson reads strings. It looks for quotes
// alone (bytes.IndexByte's vector loop), then counts the run of
// backslashes before each: in a maximal run, pairs are escaped
// backslashes, and an odd one escapes the quote.
func stringEnd(b []byte, i int) int {
	if uint(i) > uint(len(b)) {
		return -1
	}
	start := i
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return -1
		}
		q := i + j
		k := q
		for k > start && b[k-1] == '\\' {
			k--
		}
		if (q-k)%2 == 0 {
			return q
		}
		i = q + 1
	}
}

// readString returns the index of the quote that closes the string whose
// contents start at i, or -1 when it is not closed, and whether the
// contents hold a backslash.
func readString(b []byte, i int) (end int, escaped bool) {
	if i = quoteOrBackslash(b, i); i >= len(b) {
		return -1, false
	}
	if b[i] == '"' {
		return i, false
	}
	return stringEnd(b, i), true
}

// numberEnd returns the index after the number starting at i (b[i] is a
// number byte), or -1 for the forms given up on: a lone sign, which
// fastjson reads as the start of inf or nan.
func numberEnd(b []byte, i int) int {
	j := i + 1
	for j < len(b) && isNumberByte(b[j]) {
		j++
	}
	if j == i+1 && (b[i] == '-' || b[i] == '+') {
		return -1
	}
	return j
}

// literalEnd returns the index after the literal lit at i, or -1.
func literalEnd(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// skipValue returns the index after the JSON value at i (which is not
// whitespace), checking its syntax, or -1 when it is malformed, or nests
// containers past maxScanLevel counting from level (the number of
// containers already open around it). It keeps its own stack: nothing in
// a record can make it recurse.
func skipValue(b []byte, i, level int) int {
	// stack holds a bit per open container: 1 for an object.
	var stack [maxScanLevel/64 + 1]uint64
	open := 0
value:
	for {
		// A value starts at i.
		if i >= len(b) {
			return -1
		}
		switch c := b[i]; c {
		case '{', '[':
			if level+open >= maxScanLevel {
				return -1
			}
			word, bit := open/64, uint64(1)<<(open%64)
			closer := byte(']')
			if c == '{' {
				stack[word] |= bit
				closer = '}'
			} else {
				stack[word] &^= bit
			}
			open++
			i = skipSpace(b, i+1)
			if i >= len(b) || b[i] != closer {
				if c == '{' {
					if i = skipKey(b, i); i < 0 {
						return -1
					}
				}
				continue value
			}
			open-- // an empty container: a value has ended
			i++
		case '"':
			if e := quoteOrBackslash8(b, i+1); e >= 0 && b[e] == '"' {
				i = e + 1
			} else if i = stringEnd(b, i+1); i < 0 {
				return -1
			} else {
				i++
			}
		case 't':
			i = literalEnd(b, i, "true")
		case 'f':
			i = literalEnd(b, i, "false")
		case 'n':
			i = literalEnd(b, i, "null")
		default:
			if !isNumberByte(c) {
				return -1
			}
			i = numberEnd(b, i)
		}
		// A value has ended before i: a separator follows, or the end of
		// the containers that end with it.
		for {
			if i < 0 {
				return -1
			}
			if open == 0 {
				return i
			}
			if i = skipSpace(b, i); i >= len(b) {
				return -1
			}
			object := stack[(open-1)/64]&(uint64(1)<<((open-1)%64)) != 0
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
				if object {
					if i = skipKey(b, i); i < 0 {
						return -1
					}
				}
				continue value
			case '}', ']':
				if (b[i] == '}') != object {
					return -1
				}
				open--
				i++
			default:
				return -1
			}
		}
	}
}

// skipNumbers returns the index after the array at i (b[i] is '['),
// checking its syntax as skipValue does, with level containers open
// around it. An array of numbers in compact JSON, as an entity's indices
// or an empty array, it reads itself; any other goes to skipValue.
func skipNumbers(b []byte, i, level int) int {
	if level >= maxScanLevel {
		return -1 // as skipValue: one level too deep
	}
	j := i + 1
	if j < len(b) && b[j] == ']' {
		return j + 1
	}
	for j < len(b) && '0' <= b[j] && b[j] <= '9' {
		if j = numberEnd(b, j); j >= len(b) {
			break
		}
		switch b[j] {
		case ']':
			return j + 1
		case ',':
			j++
			continue
		}
		break
	}
	return skipValue(b, i, level)
}

// skipKey passes over a member name at i and the colon after it, and
// returns the index of the value, or -1.
func skipKey(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if e := quoteOrBackslash8(b, i+1); e >= 0 && b[e] == '"' {
		i = e
	} else if i = stringEnd(b, i+1); i < 0 {
		return -1
	}
	if i++; i < len(b) && b[i] == ':' {
		i++
	} else if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
		return -1
	} else {
		i++
	}
	if i < len(b) && isSpace(b[i]) {
		i = skipSpace(b, i)
	}
	return i
}

// balancedEnd returns the index after the object or array at i, found by
// matching its brackets outside strings, without checking its syntax, or
// -1 when it does not end. It is for a value that is read in full later,
// which checks it: for a well-formed value, it finds where that reading
// ends.
func balancedEnd(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			if e := quoteOrBackslash8(b, i+1); e >= 0 && b[e] == '"' {
				i = e
			} else if i = stringEnd(b, i+1); i < 0 {
				return -1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return -1
}

// appendUnescapedJSON appends the contents of a JSON string, s (without
// its quotes), unescaped to dst. It gives up (ok false) on the escapes
// that fastjson keeps as written or pairs up in its own way: an unknown
// escape, a \u without four hex digits, and a surrogate that is not a high
// one followed by a low one. For every other string it writes what
// fastjson's unescaping does.
func appendUnescapedJSON(dst, s []byte) (_ []byte, ok bool) {
	for {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			return append(dst, s...), true
		}
		dst = append(dst, s[:i]...)
		if i+1 >= len(s) {
			return dst, false
		}
		c := s[i+1]
		s = s[i+2:]
		switch c {
		case '"', '\\', '/':
			dst = append(dst, c)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s)
			if !ok {
				return dst, false
			}
			s = s[4:]
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
					return dst, false
				}
				low, ok := hex4(s[2:])
				if !ok || low < 0xDC00 || low > 0xDFFF {
					return dst, false
				}
				r = utf16.DecodeRune(r, low)
				s = s[6:]
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, false
		}
	}
}

// hex4 reads four hex digits at the start of s.
func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}
