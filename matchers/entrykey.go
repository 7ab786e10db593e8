package matchers

import "bytes"

// EntryKey returns the exact-tier lookup key of an entry of kind written
// value (NFKC, case folded, invisible characters removed; a handle without
// its @, a hashtag without its #, a domain in IDNA form), or why value is
// not a valid entry of that kind. Two entries of a kind with the same key
// match the same things: "@Example" and "example", "#FarmerGenocide" and
// "#farmergenocide".
func EntryKey(kind EntryKind, value string) (string, error) {
	var n Normalizer
	key, err := appendEntryKey(nil, &n, kind, bytes.TrimSpace([]byte(value)))
	return string(key), err
}
