package matchers

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

//go:generate go run ./internal/confusablesgen -o confusables_table.go

// asciiSkeleton holds the confusable skeleton of every ASCII byte, so that
// the common all-ASCII key needs no table lookup beyond this array.
var asciiSkeleton = func() (t [utf8.RuneSelf]string) {
	for c := range t {
		if p, ok := confusablePrototype(rune(c)); ok {
			t[c] = p
		} else {
			t[c] = string(rune(c))
		}
	}
	return t
}()

// confusablePrototype returns the prototype that Unicode's confusables data
// maps r to, and whether it maps r at all. It allocates nothing: the
// prototype is a slice of the table's text.
func confusablePrototype(r rune) (string, bool) {
	lo, hi := 0, len(confusableFrom)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if confusableFrom[m] < uint32(r) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(confusableFrom) || confusableFrom[lo] != uint32(r) {
		return "", false
	}
	to := confusableTo[lo]
	off, n := to>>8, to&0xFF
	return confusableText[off : off+n], true
}

// appendSkeleton appends the Unicode TS #39 confusable skeleton of src to
// dst: src in NFD, each code point replaced by its prototype, the result in
// NFD again. It uses n's scratch buffers c and d.
func (n *Normalizer) appendSkeleton(dst, src []byte) []byte {
	if isASCII(src) {
		for _, c := range src {
			dst = append(dst, asciiSkeleton[c]...)
		}
		return dst
	}
	n.c = n.normalize(norm.NFD, n.c[:0], src)
	n.d = n.d[:0]
	for i := 0; i < len(n.c); {
		r, size := utf8.DecodeRune(n.c[i:])
		if p, ok := confusablePrototype(r); ok {
			n.d = append(n.d, p...)
		} else {
			n.d = append(n.d, n.c[i:i+size]...)
		}
		i += size
	}
	return n.normalize(norm.NFD, dst, n.d)
}
