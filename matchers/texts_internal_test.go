package matchers

import (
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
