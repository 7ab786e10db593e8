package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedPath returns the path of rel inside the project's shared test
// material (the twitter-text conformance suite and real tweet corpora),
// which lives in ../shared beside the repository root and is never copied
// into it. It skips the test or benchmark when the material is absent.
func SharedPath(tb testing.TB, rel string) string {
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
