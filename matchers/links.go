package matchers

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// Link is a link found in a text: Start and End bound it as written, Host
// and HostEnd its host name. Offsets are bytes.
type Link struct {
	Start, End, Host, HostEnd int
}

// ExtractLinks appends to dst the links in text: URLs with a scheme
// (https://example.org/…) and bare host names with a path or not
// (example.org, news.example.org/story), whose last label is two or more
// letters. Dots may be written as fullwidth or ideographic full stops, and
// invisible characters inside a host are stepped over. Hosts preceded by @
// (mentions, e-mail addresses) are not links, nor is the user part of an
// e-mail address; in a URL with user info (https://user@host/) the host is
// the part after the @.
func ExtractLinks(dst []Link, text []byte) []Link {
	// After a URL's user info (https://user@host), the host starts at
	// hostAfterUser and the link at userLinkStart.
	hostAfterUser, userLinkStart := -1, 0
	for i := 0; i < len(text); {
		size := 1
		if c := text[i]; c < utf8.RuneSelf {
			if !asciiHostBytes[c] {
				i++
				continue
			}
		} else {
			var r rune
			if r, size = utf8.DecodeRune(text[i:]); !isHostChar(r) || isDot(r) {
				i += size
				continue
			}
		}
		start := i
		end, dots, lastDot := hostRun(text, i)
		i = end
		if end <= start {
			i = start + size
			continue
		}
		linkStart := start
		scheme := false
		if start >= 3 && string(text[start-3:start]) == "://" {
			s := start - 3
			for s > 0 && isASCIILetter(rune(text[s-1])) {
				s--
			}
			if s < start-3 && (s == 0 || !isHostChar(lastRune(text[:s]))) {
				scheme, linkStart = true, s
			}
		} else if start == hostAfterUser {
			scheme, linkStart = true, userLinkStart
		}
		if r, at := nextRune(text, end, true); r == '@' || r == '＠' {
			// The run is the user of an e-mail address or of a URL's
			// user info, not a host; a URL's host follows the @.
			_, n := utf8.DecodeRune(text[at:])
			i = at + n
			if scheme {
				hostAfterUser, userLinkStart = i, linkStart
			}
			continue
		}
		if !scheme {
			if p := lastRune(text[:start]); p == '@' || p == '＠' || p == '/' || p == '.' {
				continue
			}
			if dots == 0 || !isTLD(text[lastDot:end]) {
				continue
			}
		}
		dst = append(dst, Link{Start: linkStart, End: linkEnd(text, end), Host: start, HostEnd: end})
		i = linkEnd(text, end)
	}
	return dst
}

// hostRun scans host characters from i and returns the end of the run
// (trailing dots excluded), the number of dots inside it and the offset
// just after the last of them.
func hostRun(text []byte, i int) (end, dots, lastDot int) {
	end = i
	pendingDot := -1
	for j := i; j < len(text); {
		if c := text[j]; c < utf8.RuneSelf {
			// No ASCII byte is invisible; '.' is its one dot.
			switch {
			case c == '.':
				if pendingDot >= 0 {
					return end, dots, lastDot
				}
				pendingDot = j + 1
			case asciiHostBytes[c]:
				if pendingDot >= 0 {
					dots++
					lastDot = pendingDot
					pendingDot = -1
				}
				// The rest of the label's ASCII run at once.
				for j++; j < len(text) && asciiHostBytes[text[j]]; j++ {
				}
				end = j
				continue
			default:
				return end, dots, lastDot
			}
			j++
			continue
		}
		r, size := utf8.DecodeRune(text[j:])
		switch {
		case IsInvisible(r):
		case isDot(r):
			if pendingDot >= 0 {
				return end, dots, lastDot // two dots in a row end the host
			}
			pendingDot = j + size
		case isHostChar(r):
			if pendingDot >= 0 {
				dots++
				lastDot = pendingDot
				pendingDot = -1
			}
			end = j + size
		default:
			return end, dots, lastDot
		}
		j += size
	}
	return end, dots, lastDot
}

// linkEnd extends a link from the end of its host over the rest of its
// non-space run, leaving out trailing punctuation.
func linkEnd(text []byte, i int) int {
	end := i
	for j := i; j < len(text); {
		r, size := utf8.DecodeRune(text[j:])
		if isUnicodeSpace(r) || r == '<' || r == '>' || r == '"' {
			break
		}
		j += size
		if !isASCIIIn(r, ".,;:!?)]}'") && r != '’' && r != '”' && r != '。' {
			end = j
		}
	}
	return end
}

func lastRune(b []byte) rune {
	r, _ := utf8.DecodeLastRune(b)
	return r
}

// isTLD reports whether a last label is plausible: two or more letters.
func isTLD(label []byte) bool {
	n := 0
	for _, r := range string(label) {
		if IsInvisible(r) {
			continue
		}
		if !unicode.IsLetter(fold(r, true)) && !unicode.IsMark(r) {
			return false
		}
		n++
	}
	return n >= 2
}

// isHostChar reports whether r can be part of a host name: letters, marks,
// digits, hyphens and dots, in plain or compatibility forms.
func isHostChar(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIHostByte(byte(r)) || r == '.'
	}
	if isDot(r) {
		return true
	}
	if unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) {
		return true
	}
	f := fold(r, true)
	return f != r && f < utf8.RuneSelf && isASCIIHostByte(byte(f))
}

// isASCIIHostByte is isHostChar of an ASCII byte other than '.': a
// letter, a digit or '-'.
func isASCIIHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-'
}

// asciiHostBytes holds isASCIIHostByte for every byte (false from 0x80):
// one load a byte where ExtractLinks and hostRun read ASCII.
var asciiHostBytes = func() (t [256]bool) {
	for c := range 128 {
		t[c] = isASCIIHostByte(byte(c))
	}
	return t
}()

// isDot reports whether r separates host labels: . and the full stops that
// IDNA maps to it (U+3002, U+FF0E, U+FF61).
func isDot(r rune) bool {
	return r == '.' || r == '。' || r == '．' || r == '｡'
}

// HostOfURL returns the host of an absolute URL (scheme://[user@]host[:port]/…),
// or of a scheme-less one (host/…), as written.
func HostOfURL(url []byte) []byte {
	if i := bytes.Index(url, []byte("://")); i >= 0 {
		url = url[i+3:]
	}
	if i := bytes.IndexAny(url, "/?#"); i >= 0 {
		url = url[:i]
	}
	if i := bytes.LastIndexByte(url, '@'); i >= 0 {
		url = url[i+1:]
	}
	if len(url) > 0 && url[0] == '[' { // IPv6 literal
		if i := bytes.IndexByte(url, ']'); i >= 0 {
			return url[:i+1]
		}
	}
	if i := bytes.LastIndexByte(url, ':'); i >= 0 {
		url = url[:i]
	}
	return url
}

// ParentDomains calls fn with host and each parent domain of it that still
// has two labels or more: a.b.example.org, b.example.org, example.org.
// It stops when fn returns false.
func ParentDomains(host []byte, fn func(domain []byte) bool) {
	for {
		if !fn(host) {
			return
		}
		i := bytes.IndexByte(host, '.')
		if i < 0 || bytes.IndexByte(host[i+1:], '.') < 0 {
			return
		}
		host = host[i+1:]
	}
}
