package matchers

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTextWords(t *testing.T) {
	var (
		sh shingler
		n  Normalizer
	)
	tests := []struct {
		text  string
		words int
	}{
		{"RT @someone: the farmers march today", 4},
		{"rt the farmers", 2},
		{"the rt farmers", 3}, // only a leading RT
		{"see https://t.co/abc and www.example.org/x now", 3},
		{"＠ｆｉｃｔ hello there", 2},
		{"don't stop", 3},
		{"किसान आंदोलन जारी है", 4},
		{"农民抗议", 4},
		{"Ｆａｒｍｅｒｓ ＭＡＲＣＨ", 2},
		{"🔥🔥 ‼️", 0},
		{"a\u180Eb c\u200Bd e\u3000f", 4}, // invisible characters join, ideographic space splits
		{"@x: किसान\u200Bआंदोलन https://t.co/x जारी", 2},
	}
	for _, tt := range tests {
		if got := sh.textWords(&n, []byte(tt.text)); got != tt.words {
			t.Errorf("textWords(%q) = %d, want %d", tt.text, got, tt.words)
		}
	}
	// Given the text already split, the words are the same.
	for _, tt := range tests {
		var w Words
		w.Split(&n, []byte(tt.text))
		a := slices.Clone(sh.shingle(&n, []byte(tt.text)))
		if b := sh.shingleSplit(&n, []byte(tt.text), &w); !slices.Equal(a, b) {
			t.Errorf("shingles of %q differ when given it split", tt.text)
		}
	}
	// The ASCII reading and the general one agree.
	for _, text := range []string{"RT @x: The FARMERS' march, https://t.co/a www.x.org/b and 2021's news!", "rt", "@", "a  b\tc\nd",
		"://x a", "a:// b", "x (https://t.co/y) z", "www. b", "WWW.X.Y b", "wwwx.y z", "rtx y", "Rt y", "y rt", "a:/ b c://", "@a@b c"} {
		sh.wordHashes(&n, []byte(text), nil)
		fast := slices.Clone(sh.hashes)
		sh.anyText(&n, []byte(text), nil)
		if !slices.Equal(fast, sh.hashes) {
			t.Errorf("words of %q: ASCII reading %x, general %x", text, fast, sh.hashes)
		}
	}
	// ASCII and general paths agree: the same words hash the same.
	a := slices.Clone(sh.shingle(&n, []byte("Farmers MARCH to the capital")))
	b := sh.shingle(&n, []byte("ｆａｒｍｅｒｓ march to the capital"))
	if !slices.Equal(a, b) {
		t.Errorf("shingles differ between ASCII and fullwidth spellings: %x, %x", a, b)
	}
}

// TestSignature checks signature against the definition of MinHash: for
// each function i, the least (h^a_i)*b_i over the shingles.
func TestSignature(t *testing.T) {
	for _, shingles := range [][]uint64{
		{1},
		{0, ^uint64(0)},
		{0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89, 0x452821E638D01377},
	} {
		var sig [textHashes]uint64
		signature(&sig, shingles)
		for i := range textHashes {
			want := ^uint64(0)
			for _, h := range shingles {
				if v := (h ^ textSeeds[i][0]) * textSeeds[i][1]; v < want {
					want = v
				}
			}
			if sig[i] != want {
				t.Fatalf("signature(%x)[%d] = %x, want %x", shingles, i, sig[i], want)
			}
		}
	}
	var sig [textHashes]uint64
	signature(&sig, nil)
	for i, v := range sig {
		if v != ^uint64(0) {
			t.Fatalf("signature of no shingles: [%d] = %x, want all ones", i, v)
		}
	}
}

// TestBandIndexSort checks that sortBand sorts every band, whatever the
// number of texts, and that appendTexts finds each text under its key.
func TestBandIndexSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 7, 100, 1000, 4097} {
		x := newBandIndex(n)
		keys := make([][textBands]uint64, n)
		for i := range n {
			for b := range textBands {
				k := r.Uint64()
				switch {
				case i%2 == 1 && b%3 == 0:
					k = keys[i-1][b] // two texts sharing a band
				case i < 50 && b == 1:
					k = 42 // many texts sharing a band: one bucket
				}
				keys[i][b] = k
				x.set(b, i, k)
			}
		}
		var scratch bandScratch
		for b := range textBands {
			x.sortBand(b, &scratch)
			if !slices.IsSorted(x.band(b)) {
				t.Fatalf("%d texts: band %d not sorted", n, b)
			}
		}
		for i := range n {
			for b := range textBands {
				if got := x.appendTexts(nil, b, keys[i][b]); !slices.Contains(got, uint32(i)) {
					t.Fatalf("%d texts: band %d: appendTexts(key of text %d) = %v", n, b, i, got)
				}
			}
		}
	}
}

// TestASCIIWordStarts checks asciiWordStarts against a byte-at-a-time
// count at every length and alignment up to 40 bytes.
func TestASCIIWordStarts(t *testing.T) {
	want := func(b []byte) int {
		n, prev := 0, false
		for _, c := range b {
			if c >= 0x80 {
				return -1
			}
			a := 'a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9'
			if a && !prev {
				n++
			}
			prev = a
		}
		return n
	}
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("ab9Z _-.,#@:/\x00\x7f`{[@")
	for length := 0; length <= 40; length++ {
		for range 200 {
			b := make([]byte, length)
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
			if length > 0 && r.IntN(8) == 0 {
				b[r.IntN(length)] = 0x80 | byte(r.IntN(128))
			}
			if got, w := asciiWordStarts(b), want(b); got != w {
				t.Fatalf("asciiWordStarts(%q) = %d, want %d", b, got, w)
			}
		}
	}
}
