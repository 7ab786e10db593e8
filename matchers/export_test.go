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

// Jaccard and Similar are the text matcher's similarity and threshold test.
var (
	Jaccard = jaccard
	Similar = similar
)
