package matchers

import (
	"bytes"
	"math/bits"
	"testing"
)

// TestWordHashLowerCase checks the invariant of asciiWordHash for words of
// every length around the loads' sizes.
func TestWordHashLowerCase(t *testing.T) {
	for _, w := range []string{"a", "Z", "ab", "Ab", "abc", "ABC", "Farm", "FARMER", "Farmers", "FarmersX",
		"Farmers4J", "GovernmentPlans", "SavingsAccountsOverTenThousand", "x1Y2z3", "0123456789"} {
		if got, want := asciiWordHash([]byte(w)), wordHash(bytes.ToLower([]byte(w))); got != want {
			t.Errorf("asciiWordHash(%q) = %#x, want wordHash(lower) = %#x", w, got, want)
		}
	}
	seen := map[uint64]string{}
	for _, w := range []string{"a", "b", "ab", "ba", "aa", "abc", "acb", "abcd", "abdc", "abcde", "abcdefgh", "abcdefghi", "bcdefghi"} {
		h := wordHash([]byte(w))
		if o, ok := seen[h]; ok {
			t.Errorf("wordHash(%q) == wordHash(%q)", w, o)
		}
		seen[h] = w
	}
}

// FuzzWordHash checks asciiWordHash against wordHash of the lower-cased
// word, and asciiWordEnd against a byte-by-byte scan.
func FuzzWordHash(f *testing.F) {
	f.Add([]byte("Farmers protest, DELHI 2021!"), 3)
	f.Add([]byte("ÄbcDEFghiJKL\x80xyz"), 1)
	f.Fuzz(func(t *testing.T, b []byte, at int) {
		if len(b) == 0 {
			return
		}
		at = int(uint(at) % uint(len(b)))
		want := at
		for want < len(b) && byteClass[b[want]]&asciiWord != 0 {
			want++
		}
		if got := asciiWordEnd(b, at); got != want {
			t.Fatalf("asciiWordEnd(%q, %d) = %d, want %d", b, at, got, want)
		}
		word := b[at:want]
		if len(word) == 0 {
			return
		}
		if got, lw := asciiWordHash(word), wordHash(bytes.ToLower(word)); got != lw {
			t.Fatalf("asciiWordHash(%q) = %#x, want %#x", word, got, lw)
		}
	})
}

// TestNotAlnum8 checks notAlnum8 on every byte value in every position.
func TestNotAlnum8(t *testing.T) {
	for c := range 256 {
		alnum := byteClass[c]&asciiWord != 0
		for pos := range 8 {
			x := uint64(0x6161616161616161) &^ (0xFF << (8 * pos)) // 'a' elsewhere
			x |= uint64(c) << (8 * pos)
			m := notAlnum8(x)
			if got := m != 0; got == alnum {
				t.Fatalf("notAlnum8 with %#x at byte %d = %#x, alnum %t", c, pos, m, alnum)
			}
			if m != 0 && bits.TrailingZeros64(m)/8 != pos {
				t.Fatalf("notAlnum8 with %#x at byte %d marks byte %d", c, pos, bits.TrailingZeros64(m)/8)
			}
		}
	}
}

func BenchmarkWordHash(b *testing.B) {
	words := [][]byte{[]byte("the"), []byte("Farmers"), []byte("government"), []byte("FarmerGenocide2021")}
	var sink uint64
	for b.Loop() {
		for _, w := range words {
			sink += asciiWordHash(w)
		}
	}
	_ = sink
}
