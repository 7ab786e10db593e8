package app

import (
	"maps"
	"slices"
	"testing"
	"time"

	"flagstream/internal/accounts"
	"flagstream/internal/lists"
	"flagstream/internal/testkit"
	"flagstream/matchers"
)

// TestPins checks the pins the bindings table gets from the lists: every
// active demand's pinned accounts by normalized handle; a handle two
// demands pin to different ids is left to each demand's own entries; an
// expired demand pins nothing. The table's view then binds the pinned ids.
func TestPins(t *testing.T) {
	dir := testkit.WriteLists(t, map[string]string{
		"a.yaml": "id: A\njurisdiction: IN\nauthority: x\nlegal_basis: y\nscope: user\naccounts:\n" +
			"  - {handle: \"@Kisan_One\", user_id: \"0111\"}\n  - {handle: both_pin, user_id: \"5\"}\n",
		"b.yaml": "id: B\njurisdiction: IN\nauthority: x\nlegal_basis: y\nscope: user\naccounts:\n" +
			"  - {handle: both_pin, user_id: \"6\"}\n  - {handle: same_pin, user_id: \"7\"}\n",
		"c.yaml": "id: C\njurisdiction: IN\nauthority: x\nlegal_basis: y\nscope: user\nexpires: 2020-01-01\naccounts:\n" +
			"  - {handle: expired_pin, user_id: \"8\"}\n",
	})
	snap, _, err := lists.Load(dir, time.Date(2021, 2, 4, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	got := Pins(snap)
	if want := map[string]string{"kisan_one": "111", "same_pin": "7"}; !maps.Equal(got, want) {
		t.Errorf("Pins = %v, want %v", got, want)
	}
	c := &caseSystem{Table: accounts.NewTable()}
	b := c.bindings(func() *matchers.Snapshot { return snap })()
	var handles []string
	b.BoundHandles([]byte("111"), func(h []byte) { handles = append(handles, string(h)) })
	if !slices.Equal(handles, []string{"kisan_one"}) {
		t.Errorf("the table binds %v to 111, want the pinned kisan_one", handles)
	}
}
