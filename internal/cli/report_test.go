package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/report"
	"flagstream/internal/testkit"
)

// The report's inputs are internal/report's hand-written fixtures (each
// record says in its "_comment" how it counts); testdata/report/lists holds
// their demands: IN-MEITY with 12 account entries, IN-MHA with none, PK-PTA
// with 2. The numbers below are the fixtures' hand counts.
const (
	reportCases     = "../report/testdata/cases.ndjson"
	reportTasks     = "../report/testdata/tasks.ndjson"
	reportDecisions = "../report/testdata/decisions.ndjson"
	reportLists     = "testdata/report/lists"
)

// reportJSON runs report with args and --format json and decodes the
// report.
func reportJSON(t *testing.T, args ...string) (*report.Report, result) {
	t.Helper()
	r := runMain(t, nil, append(append([]string{"report"}, args...), "--format", "json")...)
	if r.code != ExitOK {
		t.Fatalf("report %q: exit %d; stderr:\n%s", args, r.code, r.stderr)
	}
	var rep report.Report
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("report %q: output is not a report: %v\n%s", args, err, r.stdout)
	}
	return &rep, r
}

func demandOf(t *testing.T, r *report.Report, id string) *report.Demand {
	t.Helper()
	for i := range r.Demands {
		if r.Demands[i].ID == id {
			return &r.Demands[i]
		}
	}
	t.Fatalf("the report has no demand %s", id)
	return nil
}

// checkFixtureCounts checks every column of the fixtures' report against
// their hand counts.
func checkFixtureCounts(t *testing.T, r *report.Report) {
	t.Helper()
	var ids []string
	for _, d := range r.Demands {
		ids = append(ids, d.ID)
	}
	if got, want := strings.Join(ids, " "), "DE-BKA-2021-05 IN-MEITY-2021-02-04 IN-MHA-2021-02 PK-PTA-2021-03"; got != want {
		t.Fatalf("demands %s, want %s (every listed demand, and DE-BKA from the records)", got, want)
	}
	meity := demandOf(t, r, "IN-MEITY-2021-02-04")
	if meity.AccountsSpecified == nil || *meity.AccountsSpecified != 12 || !meity.Listed {
		t.Errorf("IN-MEITY accounts specified %v, want 12 from the lists", meity.AccountsSpecified)
	}
	// Cases A-I: A, D, F withheld (F in IN and PK), B and H no action, C
	// terms of service, E escalated and exempt, G and I pending; D
	// reassigned.
	a := meity.Live.Accounts
	wantAccounts := report.Accounts{Seen: 9, Withheld: 3, WithheldCountries: map[string]int64{"IN": 3, "PK": 1}, NoAction: 2,
		TermsOfService: 1, Escalated: 1, Pending: 2, Reassigned: 1, Exempted: 1, EvidencePosts: 20, EvidenceMentions: 8}
	if !jsonEqual(a, wantAccounts) {
		t.Errorf("IN-MEITY live accounts %+v, want %+v", a, wantAccounts)
	}
	if tk := meity.Live.Tasks; tk != (report.Tasks{Emitted: 2, NoAction: 1, Pending: 1}) {
		t.Errorf("IN-MEITY live tasks %+v, want 2 emitted: 1 no action, 1 pending", tk)
	}
	if m := meity.Live.Matches; m["hashtag"] != 1 || m["phrase"] != 1 || m["author"] != 0 {
		t.Errorf("IN-MEITY live matches %v, want hashtag 1, phrase 1", m)
	}
	if ta := meity.Tripped.Accounts; ta.Seen != 1 || ta.NoAction != 1 {
		t.Errorf("IN-MEITY tripped accounts %+v, want case T1, no action", ta)
	}
	mha := demandOf(t, r, "IN-MHA-2021-02")
	if tk := mha.Live.Tasks; tk != (report.Tasks{Emitted: 7, Withheld: 2, NoAction: 1, TermsOfService: 1, Escalated: 1, Pending: 2, Exempted: 1}) {
		t.Errorf("IN-MHA live tasks %+v", tk)
	}
	if mha.AccountsSpecified == nil || *mha.AccountsSpecified != 0 {
		t.Errorf("IN-MHA accounts specified %v, want 0", mha.AccountsSpecified)
	}
	if tk := mha.Tripped.Tasks; tk.Emitted != 1 || tk.Pending != 1 {
		t.Errorf("IN-MHA tripped tasks %+v, want t8 pending", tk)
	}
	bka := demandOf(t, r, "DE-BKA-2021-05")
	if bka.Listed || bka.Shadow.Accounts.Seen != 1 || bka.Shadow.Tasks.Emitted != 1 || !bka.Live.Empty() {
		t.Errorf("DE-BKA: listed %v, shadow %+v, live empty %v; want unlisted, shadow only", bka.Listed, bka.Shadow, bka.Live.Empty())
	}
	if pta := demandOf(t, r, "PK-PTA-2021-03"); *pta.AccountsSpecified != 2 || !pta.Live.Empty() {
		t.Errorf("PK-PTA: %+v, want 2 accounts specified and nothing seen", pta)
	}
	if tt := r.Totals; *tt.AccountsSpecified != 14 || tt.Live.Tasks.Emitted != 8 || tt.Live.Accounts.Seen != 9 {
		t.Errorf("totals: specified %v, live tasks %d, live accounts %d; want 14, 8 (t2 once), 9",
			*tt.AccountsSpecified, tt.Live.Tasks.Emitted, tt.Live.Accounts.Seen)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestReportFiles(t *testing.T) {
	r, res := reportJSON(t, "--cases", reportCases, "--tasks", reportTasks, "--decisions", reportDecisions, "--lists", reportLists)
	checkFixtureCounts(t, r)
	if in := r.Inputs; in.Cases.Records != 23 || in.Cases.Bad != 3 || in.Tasks.Records != 14 || in.Tasks.Bad != 3 ||
		in.Tasks.Repeats != 1 || in.Decisions.Records != 20 || in.Decisions.Bad != 3 || len(in.Problems) != 9 {
		t.Errorf("inputs %+v", in)
	}
	if !strings.Contains(res.stderr, "read 23 case events, 14 tasks and 20 decisions; 4 demands reported; 9 bad records") {
		t.Errorf("stderr summary: %q", res.stderr)
	}
	if p := r.Inputs.Problems[0]; p.Stream != reportCases || p.Index != 5 {
		t.Errorf("first problem %+v, want %s line 5", p, reportCases)
	}

	// February only: case I and task t10 (March) are left out; D's
	// withhold of 03-03 comes after the end, so D is pending.
	feb, _ := reportJSON(t, "--cases", reportCases, "--tasks", reportTasks, "--decisions", reportDecisions, "--lists", reportLists,
		"--since", "2021-02-01", "--until", "2021-03-01")
	if a := demandOf(t, feb, "IN-MEITY-2021-02-04").Live.Accounts; a.Seen != 8 || a.Withheld != 2 || a.Pending != 2 {
		t.Errorf("February: IN-MEITY accounts %+v, want seen 8, withheld 2, pending 2", a)
	}
	if feb.Totals.Live.Tasks.Emitted != 7 || feb.Inputs.Decisions.Late != 1 {
		t.Errorf("February: %d live tasks, %d late decisions; want 7, 1", feb.Totals.Live.Tasks.Emitted, feb.Inputs.Decisions.Late)
	}
	asOf, _ := reportJSON(t, "--cases", reportCases, "--tasks", reportTasks, "--decisions", reportDecisions, "--lists", reportLists,
		"--since", "2021-02-01", "--until", "2021-03-01", "--as-of", "2021-03-10T09:00:00Z")
	if a := demandOf(t, asOf, "IN-MEITY-2021-02-04").Live.Accounts; a.Withheld != 3 || a.Pending != 1 {
		t.Errorf("as of 03-10: IN-MEITY accounts %+v, want withheld 3, pending 1", a)
	}

	// One demand, and one that nothing names.
	only, _ := reportJSON(t, "--cases", reportCases, "--tasks", reportTasks, "--decisions", reportDecisions,
		"--demand", "IN-MHA-2021-02", "--demand", "XX-NONE")
	if len(only.Demands) != 2 || only.Demands[0].ID != "IN-MHA-2021-02" || only.Demands[1].ID != "XX-NONE" || only.Totals.Live.Tasks.Emitted != 7 {
		t.Errorf("--demand: demands %+v, live tasks %d", only.Demands, only.Totals.Live.Tasks.Emitted)
	}

	// The shadow file of scan holds tasks and case events together, and a
	// stream may come in several files: the counts are the same.
	dir := t.TempDir()
	tasks, _ := os.ReadFile(reportTasks)
	cases, _ := os.ReadFile(reportCases)
	half := bytes.IndexByte(tasks[len(tasks)/2:], '\n') + len(tasks)/2 // a line boundary
	writeFile(t, filepath.Join(dir, "tasks-1.ndjson"), string(tasks[:half+1]))
	writeFile(t, filepath.Join(dir, "mixed.ndjson"), string(tasks[half+1:])+string(cases))
	mixed, _ := reportJSON(t, "--tasks", filepath.Join(dir, "tasks-1.ndjson"), "--tasks", filepath.Join(dir, "mixed.ndjson"),
		"--decisions", reportDecisions, "--lists", reportLists)
	// (An unlisted demand's details come from the first record naming
	// it, which the order changes; its counts do not.)
	for i := range r.Demands {
		a, b := &mixed.Demands[i], &r.Demands[i]
		if a.ID != b.ID || !jsonEqual(a.Live, b.Live) || !jsonEqual(a.Shadow, b.Shadow) || !jsonEqual(a.Tripped, b.Tripped) {
			t.Errorf("%s: case events read among the tasks count differently", b.ID)
		}
	}
	if !jsonEqual(mixed.Totals, r.Totals) {
		t.Errorf("case events read among the tasks make other totals")
	}
}

func TestReportFormats(t *testing.T) {
	args := []string{"report", "--cases", reportCases, "--tasks", reportTasks, "--decisions", reportDecisions, "--lists", reportLists}
	table := runMain(t, nil, args...)
	if table.code != ExitOK || !strings.Contains(table.stdout, "IN-MEITY-2021-02-04") || !strings.Contains(table.stdout, "tripped") {
		t.Errorf("table: exit %d\n%s%s", table.code, table.stdout, table.stderr)
	}
	md := runMain(t, nil, append(args, "--format", "md")...)
	if md.code != ExitOK || !strings.Contains(md.stdout, "| IN-MEITY-2021-02-04 |") {
		t.Errorf("md: exit %d\n%s", md.code, md.stdout)
	}
	c := runMain(t, nil, append(args, "--format", "csv")...)
	rows, err := csv.NewReader(strings.NewReader(c.stdout)).ReadAll()
	if c.code != ExitOK || err != nil || len(rows) != 1+4*3+3 || strings.Join(rows[0], ",") != strings.Join(report.CSVHeader, ",") {
		t.Errorf("csv: exit %d, %d rows, %v; want the header, 3 rows for each of 4 demands and 3 totals", c.code, len(rows), err)
	}
	out := filepath.Join(t.TempDir(), "report.html")
	h := runMain(t, nil, append(args, "--format", "html", "--out", out)...)
	page, err := os.ReadFile(out)
	if h.code != ExitOK || err != nil || !bytes.HasPrefix(page, []byte("<!DOCTYPE html>")) || h.stdout != "" {
		t.Errorf("html --out: exit %d, %v, stdout %q; page starts %q", h.code, err, h.stdout, page[:min(len(page), 40)])
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("--out left %d files, want the report alone", len(entries))
	}
	if !bytes.Contains(page, []byte("<svg")) || !bytes.Contains(page, []byte("IN-MEITY-2021-02-04")) {
		t.Error("the HTML page lacks its charts or the demand")
	}
}

func TestReportUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no input", []string{"report"}, ExitUsage, "give --config FILE"},
		{"both", []string{"report", "--config", "x.yaml", "--cases", reportCases}, ExitUsage, "not both"},
		{"bad format", []string{"report", "--cases", reportCases, "--format", "pdf"}, ExitUsage, `unknown report format "pdf"`},
		{"bad since", []string{"report", "--cases", reportCases, "--since", "last week"}, ExitUsage, `--since: "last week" is not a time`},
		{"until before since", []string{"report", "--cases", reportCases, "--since", "2021-03-01", "--until", "2021-02-01"}, ExitUsage, "is not after --since"},
		{"missing file", []string{"report", "--cases", "testdata/absent.ndjson"}, ExitUsage, "absent.ndjson"},
		{"stdin twice", []string{"report", "--cases", "-", "--tasks", "-"}, ExitUsage, "standard input (-) named twice"},
		{"broken lists", []string{"report", "--cases", reportCases, "--lists", "testdata/broken-lists"}, ExitUsage, "broken.yaml:"},
		{"missing config", []string{"report", "--config", "testdata/absent.yaml"}, ExitUsage, "absent.yaml"},
		{"argument", []string{"report", "--cases", reportCases, "extra"}, ExitUsage, `unexpected argument "extra"`},
		{"unwritable out", []string{"report", "--cases", reportCases, "--out", "testdata/absent/dir/r.txt"}, ExitIO, "absent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runMain(t, nil, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d containing %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
}

// TestReportConfig reads the same fixtures from the topics of a run
// config, on an in-process Kafka-protocol broker: the case events from
// the cases topic, the tasks from the review topic and (t8, t9 and the
// shadow case S1 among them) the shadow topic, the decisions from the
// decisions topic. The report must equal the files' report.
func TestReportConfig(t *testing.T) {
	broker := testkit.StartBroker(t, devbroker.Config{Partitions: 1})
	lines := func(path string, keep func(line string) bool) [][]byte {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]byte
		for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			if strings.TrimSpace(l) != "" && keep(l) {
				out = append(out, []byte(l))
			}
		}
		return out
	}
	all := func(string) bool { return true }
	isShadow := func(l string) bool {
		return strings.Contains(l, `"shadow":true`) || strings.Contains(l, `"tripped":true`)
	}
	cfg := testkit.RunConfig(broker.Addr(), reportLists, "report-test")
	testkit.Produce(t, broker.Addr(), cfg.Cases.Topic, lines(reportCases, func(l string) bool { return !isShadow(l) }))
	testkit.Produce(t, broker.Addr(), cfg.Output.ShadowTopic, append(
		lines(reportCases, isShadow), lines(reportTasks, isShadow)...))
	testkit.Produce(t, broker.Addr(), cfg.Output.Topic, lines(reportTasks, func(l string) bool { return !isShadow(l) }))
	testkit.Produce(t, broker.Addr(), cfg.Input.DecisionsTopic, lines(reportDecisions, all))

	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config.yaml")
	writeFile(t, cfgFile, "kafka:\n  brokers: [\""+broker.Addr()+"\"]\nlists:\n  dir: "+reportLists+"\noutput:\n  escalation_topic: review-escalated\n")
	r, res := reportJSON(t, "--config", cfgFile)
	checkFixtureCounts(t, r)
	files, _ := reportJSON(t, "--cases", reportCases, "--tasks", reportTasks, "--decisions", reportDecisions, "--lists", reportLists)
	if !jsonEqual(r.Demands, files.Demands) || !jsonEqual(r.Totals, files.Totals) || !jsonEqual(r.Days, files.Days) {
		t.Errorf("the report of the topics differs from the report of the files")
	}
	if in := r.Inputs; in.Cases.Bad+in.Tasks.Bad+in.Decisions.Bad != 9 || in.Decisions.Records != 20 || in.Tasks.Repeats != 1 {
		t.Errorf("inputs %+v", in)
	}
	for _, p := range r.Inputs.Problems {
		if !strings.HasSuffix(p.Stream, "/0") {
			t.Errorf("problem %+v: want its stream to be topic/partition", p)
		}
	}
	if !strings.Contains(res.stderr, "topic review-escalated does not exist; read as empty") {
		t.Errorf("stderr %q, want a note of the missing escalation topic", res.stderr)
	}
}
