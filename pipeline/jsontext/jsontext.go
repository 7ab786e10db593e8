// Package jsontext writes JSON values exactly as encoding/json writes them
// with HTML escaping off (Encoder.SetEscapeHTML(false)), without
// reflection and without allocating beyond the destination's growth. The
// review tasks, cases and decisions are contracts whose bytes predate
// their hand-written encoders; the tests compare these writers with
// encoding/json byte for byte.
package jsontext

import (
	"math"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped as encoding/json's
// appendString escapes it with escapeHTML false: '"' and '\\' with a
// backslash; \b, \f, \n, \r and \t by those short escapes; every other
// byte below 0x20 as \u00xx (lowercase hex); each byte of invalid UTF-8
// as \ufffd; U+2028 and U+2029 as \u2028 and \u2029 (JavaScript reads them
// as line ends); everything else, '<', '>', '&' and 0x7f included, as it is.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendStrings appends ss as a JSON array of strings; a nil ss as null, as
// encoding/json writes a nil slice, and an empty one as [].
func AppendStrings(dst []byte, ss []string) []byte {
	if ss == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, s)
	}
	return append(dst, ']')
}

// AppendFloat appends f, which must be finite (encoding/json refuses NaN
// and infinities), as encoding/json's float64 encoder writes it: the
// shortest decimal that reads back as f, in strconv's 'f' format, or in
// its 'e' format when f is nonzero and |f| < 1e-6 or |f| >= 1e21, with a
// one-digit negative exponent unpadded (1e-7, not 1e-07), as ES6 writes
// numbers.
func AppendFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9. An 'e' number has at least 4 bytes
		// (1e-7), so the bytes looked at are all f's.
		n := len(dst)
		if dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
