package app

import (
	"strings"
	"testing"
	"time"

	"flagstream/internal/testkit"
)

// TestLoadSelectionKeepsExemptions checks that a selection matches with
// the exemptions of the demands it keeps, so that a retro-hunt escalates
// an exempt author's task as run would.
func TestLoadSelectionKeepsExemptions(t *testing.T) {
	dir := testkit.WriteLists(t, map[string]string{
		"test.yaml": testkit.Demand,
		"late.yaml": lateDemand,
		"press.yaml": `kind: exemption
id: EX-PRESS
category: journalist
reason: Accredited journalists
applies_to: [LATE, TEST-IN-1]
handles: ["@reporter_one"]
`,
		"other.yaml": `kind: exemption
id: EX-OTHER
category: other
reason: Only the test demand
applies_to: [TEST-IN-1]
handles: ["@someone_else"]
`,
	})
	sel, _, err := LoadSelection(dir, time.Now(), Selection{Demands: []string{"LATE"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range sel.Snapshot.Exemptions() {
		got = append(got, e.ID+":"+strings.Join(e.AppliesTo, ","))
	}
	if len(got) != 1 || got[0] != "EX-PRESS:LATE" {
		t.Errorf("the selection of LATE has exemptions %q, want EX-PRESS for LATE alone", got)
	}
	if n := len(sel.All.Exemptions()); n != 2 {
		t.Errorf("the whole lists have %d exemptions, want 2", n)
	}
}
