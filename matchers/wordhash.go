package matchers

import (
	"encoding/binary"
	"math/bits"
)

// wordHash returns the hash of a word of a text (texts.go): its bytes as
// they are. asciiWordHash(w) is wordHash of w lower-cased, for a word of
// ASCII letters and digits, without the copy: wordHash(lowerASCII(w)) ==
// asciiWordHash(w) for every such w (TestWordHashLowerCase), so a word
// hashes the same whether it was lower-cased before or while hashing.
//
// The hash reads a word of up to 8 bytes as one 64-bit value, zero-padded
// (shortWord), which with the length determines the word, so words of up
// to 8 bytes never collide; longer words take one multiply per 8 bytes. It is
// not a keyed hash: a listed text's shingles are public anyway, and a
// collision only makes a candidate that the exact comparison then checks.
//
// Why not xxhash64, as the sets use: a post's words are short, and for
// them xxhash64's per-byte rounds cost more than the rest of text
// matching's word splitting. Computed the same way on a register, exactly
// equal to xxhash.Sum64, it made scan's text matching cost 14.0% more
// instructions per tweet instead of this hash's 10.7% (callgrind, 10,000
// listed texts, 2026-12-02).
func wordHash(w []byte) uint64 { return hashWord(w, false) }

// asciiWordHash is wordHash of w lower-cased; w is ASCII letters and digits.
func asciiWordHash(w []byte) uint64 { return hashWord(w, true) }

const (
	wordK0 = 0x9E3779B97F4A7C15
	wordK1 = 0xBF58476D1CE4E5B9
	wordK2 = 0x94D049BB133111EB
	ones8  = 0x0101010101010101
	highs8 = 0x8080808080808080
)

// hashWord hashes w, lower-casing its ASCII capitals first when lower is
// set (then every byte of w must be ASCII).
func hashWord(w []byte, lower bool) uint64 {
	n := len(w)
	if n <= 8 {
		x := shortWord(w)
		if lower {
			x = lowerASCII8(x)
		}
		return hashShort(x, n)
	}
	h := uint64(n) * wordK0
	for rest := w; len(rest) > 8; rest = rest[8:] {
		x := binary.LittleEndian.Uint64(rest)
		if lower {
			x = lowerASCII8(x)
		}
		h = (h ^ x) * wordK1
		h ^= h >> 29
	}
	x := binary.LittleEndian.Uint64(w[n-8:])
	if lower {
		x = lowerASCII8(x)
	}
	return mixWord(h ^ x)
}

// hashShort is the hash of a word of n <= 8 bytes whose bytes, in order
// and zero-padded, are the little-endian x (shortWord).
func hashShort(x uint64, n int) uint64 { return mixWord(uint64(n)*wordK0 ^ x) }

// mixWord is the final mix of a word's hash.
func mixWord(h uint64) uint64 {
	h *= wordK1
	h ^= h >> 32
	h *= wordK2
	return h ^ h>>29
}

// shortWord returns the bytes of w (at most 8) as a little-endian value,
// zero-padded, from at most two loads.
func shortWord(w []byte) uint64 {
	switch n := len(w); {
	case n == 8:
		return binary.LittleEndian.Uint64(w)
	case n >= 4:
		lo, hi := binary.LittleEndian.Uint32(w), binary.LittleEndian.Uint32(w[n-4:])
		return uint64(lo) | uint64(hi>>(8*(8-n)))<<32
	case n > 0:
		return uint64(w[0]) | uint64(w[n/2])<<(8*(n/2)) | uint64(w[n-1])<<(8*(n-1))
	}
	return 0
}

// lowerASCII8 lower-cases the ASCII capitals among the 8 bytes of x, all
// of which must be below 0x80 (no sum below carries into the next byte).
func lowerASCII8(x uint64) uint64 {
	atLeastA := x + ones8*(0x80-'A')
	aboveZ := x + ones8*(0x80-'Z'-1)
	return x | (atLeastA&^aboveZ&highs8)>>2
}

// asciiWordEnd returns the index of the first byte at or after i of b that
// is not an ASCII letter or digit (len(b) when there is none), 8 bytes at a
// time.
func asciiWordEnd(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if m := notAlnum8(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(b) && byteClass[b[i]]&asciiWord != 0 {
		i++
	}
	return i
}

// notAlnum8 returns the high bit of each of the 8 bytes of x that is not
// an ASCII letter or digit.
func notAlnum8(x uint64) uint64 {
	high := x & highs8 // bytes of 0x80 and above
	return ^(alnum7(x&^highs8) &^ high) & highs8
}
