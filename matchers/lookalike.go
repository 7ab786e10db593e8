package matchers

import (
	"unicode/utf8"

	"github.com/mtibben/confusables"
)

// asciiSkeleton holds the confusable skeleton of every ASCII byte, so that
// the common all-ASCII key needs no table lookup beyond this array.
var asciiSkeleton = func() (t [utf8.RuneSelf]string) {
	for c := range t {
		t[c] = confusables.Skeleton(string(rune(c)))
	}
	return t
}()

// appendSkeleton appends the Unicode TS #39 confusable skeleton of src to dst.
func appendSkeleton(dst, src []byte) []byte {
	if isASCII(src) {
		for _, c := range src {
			dst = append(dst, asciiSkeleton[c]...)
		}
		return dst
	}
	return append(dst, confusables.Skeleton(string(src))...)
}
