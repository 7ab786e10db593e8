// Package sharedfiles locates the project's shared test material (the
// twitter-text conformance suite and real tweet corpora), which lives in
// ../shared beside the repository and is never copied into it.
package sharedfiles

import (
	"os"
	"path/filepath"
	"testing"
)

// Path returns the path of rel inside the shared directory beside the
// repository root, or skips the test or benchmark when it is absent.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("repository root (go.mod) not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared test material absent: %v", err)
	}
	return p
}
