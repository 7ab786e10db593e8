package matchers

// Internals that the external tests (package matchers_test: match_test.go,
// snapshot_test.go) check.
const (
	NumEntryKinds = numEntryKinds
	NumHitKinds   = numHitKinds
)

// SharesCompilation reports whether a and b are views of one compilation.
func SharesCompilation(a, b *Snapshot) bool { return a.compiled == b.compiled }
