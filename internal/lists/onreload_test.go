package lists

import (
	"os"
	"path/filepath"
	"testing"

	"flagstream/matchers"
)

func TestCoordinatorOnReload(t *testing.T) {
	dir := t.TempDir()
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "d.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("id: D\njurisdiction: IN\nhandles: [one]\n")
	c := NewCoordinator(dir, nil, nil)
	type call struct{ prev, cur, added int }
	var calls []call
	c.OnReload(func(prevLists, curLists matchers.Lists, first bool, s *matchers.Snapshot) {
		prev, cur := prevLists.Demands, curLists.Demands
		if first != (prev == nil) {
			t.Errorf("first %v with %d demands before", first, len(prev))
		}
		if s != c.Snapshot() {
			t.Error("OnReload called before the snapshot was swapped in")
		}
		n, before := 0, 0
		for _, d := range matchers.AddedEntries(prev, cur) {
			n += d.Entries.Len()
		}
		if prev != nil {
			before = prev[0].Entries.Len()
		}
		calls = append(calls, call{before, cur[0].Entries.Len(), n})
	})
	if _, err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0] != (call{0, 1, 1}) {
		t.Fatalf("the first load called OnReload %v, want once without demands before", calls)
	}
	write("id: D\njurisdiction: IN\nhandles: [one, two, three]\n")
	if _, err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	write("id: D\njurisdiction: IN\nhandles: [\"not a handle\"]\n")
	if _, err := c.Reload(); err == nil {
		t.Fatal("a broken file loaded")
	}
	c.Advance()
	write("id: D\njurisdiction: IN\nhandles: [one, two, three, four]\n")
	if _, err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	// The failed load and Advance call nothing; each call compares with
	// the last good load.
	if want := []call{{0, 1, 1}, {1, 3, 2}, {3, 4, 1}}; len(calls) != 3 || calls[1] != want[1] || calls[2] != want[2] {
		t.Errorf("OnReload calls %v, want %v", calls, want)
	}
}
