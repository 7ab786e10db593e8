// Package liststest builds lists for tests: list files held in memory,
// parsed and compiled as the lists package and matchers do.
package liststest

import (
	"testing"
	"testing/fstest"
	"time"

	"flagstream/internal/lists"
	"flagstream/matchers"
)

// Parse parses list files (demands and exemptions), name -> YAML, with
// lists.ParseFS; an error fails tb.
func Parse(tb testing.TB, files map[string]string) matchers.Lists {
	tb.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	l, _, err := lists.ParseFS(fsys, "")
	if err != nil {
		tb.Fatalf("ParseFS: %v", err)
	}
	return l
}

// Snapshot parses list files as Parse does and compiles them as active at
// at; an error fails tb.
func Snapshot(tb testing.TB, at time.Time, files map[string]string) *matchers.Snapshot {
	tb.Helper()
	s, _, err := matchers.CompileLists(Parse(tb, files), at)
	if err != nil {
		tb.Fatalf("CompileLists: %v", err)
	}
	return s
}
