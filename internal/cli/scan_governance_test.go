package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scanGovernanceLists: FLOOD trips past 50 tasks a minute; SHADOW is in
// shadow mode; ACC names an account (cases), SHADOW-ACC one in shadow mode;
// EX-PRESS exempts @reporter_one (an author) and @listed_exempt (a listed
// account) from FLOOD and ACC.
var scanGovernanceLists = map[string]string{
	"flood.yaml":      "id: FLOOD\njurisdiction: IN\naction: withhold\nhashtags: [India]\nmax_tasks_per_minute: 50\n",
	"shadow.yaml":     "id: SHADOW\njurisdiction: DE\nmode: shadow\nhashtags: [Quiet]\n",
	"acc.yaml":        "id: ACC\njurisdiction: IN\naction: withhold\nscope: user\nhandles: [listed_one, listed_exempt]\n",
	"shadow-acc.yaml": "id: SHADOW-ACC\njurisdiction: IN\nscope: user\nmode: shadow\nhandles: [listed_quiet]\n",
	"press.yaml":      "kind: exemption\nid: EX-PRESS\ncategory: journalist\nreason: Press\napplies_to: [FLOOD, ACC]\nhandles: [reporter_one, listed_exempt]\n",
}

// scanLine is what the test reads of a task or case event.
type scanLine struct {
	Schema    string `json:"schema"`
	DemandID  string `json:"demand_id"` // case events
	Action    string `json:"action"`
	Priority  string `json:"priority"`
	Shadow    bool   `json:"shadow"`
	Tripped   bool   `json:"tripped"`
	Exemption *struct {
		ID string `json:"id"`
	} `json:"exemption"`
	Matches []struct {
		DemandID string `json:"demand_id"`
	} `json:"matches"`
}

func (l scanLine) demand() string {
	if len(l.Matches) > 0 {
		return l.Matches[0].DemandID
	}
	return l.DemandID
}

func readLines(t *testing.T, text string) []scanLine {
	t.Helper()
	var out []scanLine
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		var l scanLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("not JSON: %v: %s", err, line)
		}
		out = append(out, l)
	}
	return out
}

func readFileLines(t *testing.T, path string) []scanLine {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readLines(t, string(data))
}

// count counts lines by demand and marks: "FLOOD", "FLOOD tripped",
// "SHADOW shadow", "ACC escalated"...
func count(lines []scanLine) map[string]int {
	n := map[string]int{}
	for _, l := range lines {
		key := l.demand()
		switch {
		case l.Tripped:
			key += " tripped"
		case l.Shadow:
			key += " shadow"
		}
		if l.Exemption != nil {
			key += " escalated"
		}
		if strings.HasPrefix(l.Schema, "flagstream.review_case") {
			key += " case"
		}
		n[key]++
	}
	return n
}

func TestScanGovernance(t *testing.T) {
	dir := t.TempDir()
	lists := filepath.Join(dir, "lists")
	os.Mkdir(lists, 0o755)
	for name, data := range scanGovernanceLists {
		writeFile(t, filepath.Join(lists, name), data)
	}
	var in strings.Builder
	id := 1
	tweet := func(author, text string) {
		fmt.Fprintf(&in, `{"id_str":"%d","text":%q,"user":{"id_str":"%d","screen_name":%q}}`+"\n", id, text, 7000+id, author)
		id++
	}
	for i := range 600 {
		tweet(fmt.Sprintf("fict_user_%d", i), "#India trending")
	}
	for i := range 30 {
		tweet(fmt.Sprintf("fict_quiet_%d", i), "a #Quiet one")
	}
	for range 5 {
		tweet("reporter_one", "#India, reported")
	}
	tweet("listed_one", "hello")
	tweet("listed_exempt", "hello")
	tweet("listed_quiet", "hello")
	input := filepath.Join(dir, "in.ndjson")
	writeFile(t, input, in.String())

	shadowFile, escFile, casesFile := filepath.Join(dir, "shadow.ndjson"), filepath.Join(dir, "esc.ndjson"), filepath.Join(dir, "cases.ndjson")
	r := runMain(t, nil, "scan", "--lists", lists, "--shadow", shadowFile, "--escalation", escFile, "--cases", casesFile, input)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	out, sh, esc, cs := count(readLines(t, r.stdout)), count(readFileLines(t, shadowFile)), count(readFileLines(t, escFile)), count(readFileLines(t, casesFile))
	if out["FLOOD"] != 50 || sh["FLOOD tripped"] != 550 || len(out) != 1 {
		t.Errorf("standard output %v, shadow file %v; want 50 FLOOD tasks and 550 tripped, nothing else on standard output", out, sh)
	}
	if sh["SHADOW shadow"] != 30 || sh["SHADOW-ACC shadow case"] != 1 {
		t.Errorf("shadow file %v, want SHADOW's 30 tasks and SHADOW-ACC's case", sh)
	}
	if esc["FLOOD escalated"] != 5 || esc["ACC escalated case"] != 1 || len(esc) != 2 {
		t.Errorf("escalation file %v, want the exempt author's 5 tasks and the exempt account's case", esc)
	}
	if cs["ACC case"] != 1 || len(cs) != 1 {
		t.Errorf("cases file %v, want ACC's one case (not exempt, not shadow)", cs)
	}
	for _, l := range readFileLines(t, escFile) {
		if l.Action != "escalate" || l.Priority != "critical" || l.Exemption.ID != "EX-PRESS" {
			t.Errorf("escalated %+v, want action escalate, priority critical, EX-PRESS", l)
		}
	}
	if !strings.Contains(r.stderr, "flagged 635 (580 shadow or tripped, 5 escalated)") {
		t.Errorf("summary: %s", r.stderr)
	}

	// Without the files, everything goes to standard output (and the
	// cases file), marked.
	r = runMain(t, nil, "scan", "--lists", lists, "--cases", casesFile, "--workers", "1", input)
	all, cs := count(readLines(t, r.stdout)), count(readFileLines(t, casesFile))
	if all["FLOOD"] != 50 || all["FLOOD tripped"] != 550 || all["SHADOW shadow"] != 30 || all["FLOOD escalated"] != 5 {
		t.Errorf("standard output without --shadow and --escalation: %v", all)
	}
	if cs["ACC case"] != 1 || cs["ACC escalated case"] != 1 || cs["SHADOW-ACC shadow case"] != 1 {
		t.Errorf("cases file without --shadow and --escalation: %v", cs)
	}
	// With --workers 1 the breaker follows input order: the first 50.
	lines := readLines(t, r.stdout)
	for i, l := range lines[:50] {
		if l.demand() != "FLOOD" || l.Tripped {
			t.Fatalf("line %d: %+v, want one of the first 50 FLOOD tasks, live", i+1, l)
		}
	}

	// The default breaker applies to demands without their own.
	r = runMain(t, nil, "scan", "--lists", lists, "--no-cases", "--demand-tasks-per-minute", "10", input)
	if n := count(readLines(t, r.stdout)); n["SHADOW shadow"] != 30 || n["FLOOD"] != 50 {
		t.Errorf("--demand-tasks-per-minute 10: %v; want FLOOD at its own 50 and SHADOW (shadow mode) untripped", n)
	}
	if r := runMain(t, nil, "scan", "--lists", lists, "--demand-tasks-per-minute", "-1", input); r.code != ExitUsage {
		t.Errorf("--demand-tasks-per-minute -1: exit %d, want 2", r.code)
	}
}
