package matchers

import "slices"

// Internals that the external tests (package matchers_test: match_test.go,
// snapshot_test.go) check.
const (
	NumEntryKinds = numEntryKinds
	NumHitKinds   = numHitKinds
)

// SharesCompilation reports whether a and b are views of one compilation.
func SharesCompilation(a, b *Snapshot) bool { return a.compiled == b.compiled }

// SortedShingles returns the shingle hashes of text, sorted, as the text
// matcher computes them.
func SortedShingles(text string) []uint64 {
	var (
		sh shingler
		n  Normalizer
	)
	return slices.Sorted(slices.Values(sh.shingle(&n, []byte(text))))
}

// shingle returns the distinct shingle hashes of text, in text order, as
// Compile reads a listed text (wordHashes, then distinct); the slice is
// valid until the next call. A text of fewer words than a shingle has one
// shingle of all its words.
func (sh *shingler) shingle(n *Normalizer, text []byte) []uint64 {
	return sh.shingleSplit(n, text, nil)
}

// shingleSplit is shingle with text already split, when split is not nil.
func (sh *shingler) shingleSplit(n *Normalizer, text []byte, split *Words) []uint64 {
	sh.wordHashes(n, text, split)
	return sh.distinct()
}

// Jaccard and Similar are the text matcher's similarity and threshold test.
var (
	Jaccard = jaccard
	Similar = similar
)
