package liststest_test

import (
	"testing"
	"time"

	"flagstream/internal/lists/liststest"
)

func TestSnapshot(t *testing.T) {
	s := liststest.Snapshot(t, time.Time{}, map[string]string{
		"a.yaml": "id: A\njurisdiction: IN\nhashtags: [India]\n",
		"e.yaml": "kind: exemption\nid: EX\ncategory: journalist\nreason: Press\napplies_to: [A]\nhandles: [reporter_one]\n",
	})
	if n := len(s.Demands()); n != 1 {
		t.Errorf("%d demands, want 1", n)
	}
	if n := len(s.Exemptions()); n != 1 {
		t.Errorf("%d exemptions, want 1", n)
	}
}
