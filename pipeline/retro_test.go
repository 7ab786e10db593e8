package pipeline

import (
	"encoding/json"
	"testing"
	"time"

	"flagstream/matchers"
	"flagstream/pipeline/cases"
)

// TestRetroMarksOutputs checks that Config.Retro marks a retro-hunt's
// tasks and case evidence, and changes neither their ids nor their keys.
func TestRetroMarksOutputs(t *testing.T) {
	s := compileDemands(t, caseDemands)
	values := []string{
		tweetJSON("1", "#ListedTag", "100", "listed_user", ""),
		tweetJSON("2", "hello", "6", "tweet_scope_one", ""),
	}
	since := time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC)
	until := time.Date(2021, 2, 4, 10, 0, 0, 0, time.FixedZone("IST", 19800))
	live := runOutputs(t, Config{Lists: func() *matchers.Snapshot { return s }, Cases: true}, values...)
	retro := runOutputs(t, Config{Lists: func() *matchers.Snapshot { return s }, Cases: true,
		Retro: &cases.Retro{Job: "retro-0123456789abcdef", Since: since, Until: until}}, values...)
	if len(live) != 3 || len(retro) != len(live) {
		t.Fatalf("%d live outputs and %d retro ones, want 3 each", len(live), len(retro))
	}
	for i := range retro {
		l, r := live[i], retro[i]
		if r.dest != l.dest || r.key != l.key {
			t.Errorf("output %d: retro %v %q, live %v %q", i, r.dest, r.key, l.dest, l.key)
		}
		// A task and a case input (flat) both say retro at the top.
		var v struct {
			TaskID string `json:"task_id"`
			CaseID string `json:"case_id"`
			Retro  *struct {
				Job, Since, Until string
			} `json:"retro"`
		}
		var lv struct {
			TaskID string `json:"task_id"`
			CaseID string `json:"case_id"`
		}
		if err := json.Unmarshal([]byte(r.value), &v); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(l.value), &lv); err != nil {
			t.Fatal(err)
		}
		mark := v.Retro
		if mark == nil || mark.Job != "retro-0123456789abcdef" || mark.Since != "2021-02-01T00:00:00Z" || mark.Until != "2021-02-04T04:30:00Z" {
			t.Errorf("output %d (%v) marked %+v:\n%s", i, r.dest, mark, r.value)
		}
		if v.TaskID != lv.TaskID || v.CaseID != lv.CaseID {
			t.Errorf("output %d: task and case ids %s %s, live %s %s", i, v.TaskID, v.CaseID, lv.TaskID, lv.CaseID)
		}
	}
}
