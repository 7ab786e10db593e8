package matchers

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"
)

// extractByteByByte is extract without the 8-byte skip: the reference
// that TestExtractSkip and FuzzExtractSkip hold it to.
func extractByteByByte(dst []Token, text []byte, evasive bool) []Token {
	for i := 0; i < len(text); {
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

func checkExtractSkip(t *testing.T, text []byte) {
	t.Helper()
	for _, evasive := range []bool{false, true} {
		if got, want := extractText(nil, text, evasive, isASCII(text)), extractByteByByte(nil, text, evasive); !slices.Equal(got, want) {
			t.Fatalf("extractText(%q, evasive %t) = %+v, want %+v", text, evasive, got, want)
		}
	}
}

// TestExtractSkip compares extract with the byte-at-a-time reading on
// texts of sigils, signs and letters at every alignment.
func TestExtractSkip(t *testing.T) {
	pieces := []string{"a", "b1", " ", "#", "@", "#tag", "@user", "＃ｔａｇ", "＠ｕ", "é", "\u200b", "#\ufe0f\u20e3",
		"https://x.org/#a", "&#", "@u/list", "##x", "#1", ":", "_"}
	r := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		checkExtractSkip(t, randomText(r, pieces, 24))
	}
}

// FuzzExtractSkip is TestExtractSkip on any input.
func FuzzExtractSkip(f *testing.F) {
	f.Add("see #FarmerGenocide and @fict_farmer_01 today")
	f.Add("abcdefgh#ijklmnop@qrstuvwx＃yz")
	f.Fuzz(func(t *testing.T, s string) { checkExtractSkip(t, []byte(s)) })
}
