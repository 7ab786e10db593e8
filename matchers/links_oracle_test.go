package matchers

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"
)

// extractLinksOracle is ExtractLinks as it was before its ASCII path:
// every byte read as a rune. The tests compare the two.
func extractLinksOracle(dst []Link, text []byte) []Link {
	// After a URL's user info (https://user@host), the host starts at
	// hostAfterUser and the link at userLinkStart.
	hostAfterUser, userLinkStart := -1, 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		if !isHostChar(r) || isDot(r) {
			i += size
			continue
		}
		start := i
		end, dots, lastDot := hostRunOracle(text, i)
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

// hostRunOracle is hostRun before its ASCII path; it scans host characters from i and returns the end of the run
// (trailing dots excluded), the number of dots inside it and the offset
// just after the last of them.
func hostRunOracle(text []byte, i int) (end, dots, lastDot int) {
	end = i
	pendingDot := -1
	for j := i; j < len(text); {
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

// checkLinks fails t when ExtractLinks and extractLinksOracle find
// different links in text.
func checkLinks(t *testing.T, text []byte) {
	t.Helper()
	if got, want := ExtractLinks(nil, text), extractLinksOracle(nil, text); !slices.Equal(got, want) {
		t.Fatalf("ExtractLinks(%+q) = %+v, the oracle %+v", text, got, want)
	}
}

func TestExtractLinksMatchesOracle(t *testing.T) {
	alphabet := []string{"a", "Z", "0", "-", ".", "..", "/", ":", "://", "@", "＠", " ", "\u200b", "。", "ｅ", "é", "org", "com", "http", "\xff", "?"}
	for _, a := range alphabet {
		for _, b := range alphabet {
			for _, c := range alphabet {
				checkLinks(t, []byte(a+b+c))
				checkLinks(t, []byte("x"+a+"y"+b+"z"+c))
			}
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		checkLinks(t, randomText(rng, alphabet, 16))
	}
	for _, line := range sharedLines(t) {
		checkLinks(t, line)
	}
}

func FuzzExtractLinksOracle(f *testing.F) {
	for _, s := range []string{"see https://news.example.org/story?id=1", "jane.doe@example.org", "ｅｘａｍｐｌｅ。ｏｒｇ a..b.c"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) { checkLinks(t, text) })
}

func BenchmarkExtractLinks(b *testing.B) {
	text := []byte("families winter music market reform support morning #india see https://news.example.org/story?id=1 now")
	var links []Link
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		links = ExtractLinks(links[:0], text)
	}
}
