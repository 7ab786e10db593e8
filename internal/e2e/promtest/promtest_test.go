package promtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"go.yaml.in/yaml/v3"

	"flagstream/internal/app"
	"flagstream/internal/dev/devbroker"
	"flagstream/internal/testkit"
)

// httpClient talks to flagstream's admin server and to Prometheus.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// repoRoot is the repository root, where deploy/ and docs/ are.
const repoRoot = "../../.."

var (
	dashboardPath = filepath.Join(repoRoot, "deploy", "grafana", "flagstream.json")
	alertsPath    = filepath.Join(repoRoot, "deploy", "prometheus", "alerts.yml")
	// operatorGuidePath describes the dashboard's rows ("Dashboards and
	// alerts") and every metric ("Metrics").
	operatorGuidePath = filepath.Join(repoRoot, "docs", "operator-guide.md")
	// runbookPath has a section for every alert.
	runbookPath = filepath.Join(repoRoot, "docs", "runbook.md")
)

// wantRows are the dashboard's rows, in order (prefixes of their titles).
var wantRows = []string{"Overview", "Flagging", "Dead letters", "Kafka", "Latency", "Lists", "Governance", "Cases", "Retro-hunt"}

// wantAlerts are the alerts the rules must define.
var wantAlerts = []string{
	"FlagstreamInstanceDown", "FlagstreamConsumerLagGrowing", "FlagstreamNoTweetsProcessed",
	"FlagstreamDeadLetterSpike", "FlagstreamTaskWriteErrors", "FlagstreamTaskWritesBlocked",
	"FlagstreamListsReloadFailing", "FlagstreamListsStale", "FlagstreamListsVersionMismatch", "FlagstreamDemandTripped",
	"FlagstreamCaseStateRestoreStuck", "FlagstreamCaseEvidenceLagGrowing",
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`sum(rate(flagstream_tweets_processed_total{instance=~"$instance"}[$__rate_interval]))`, []string{"flagstream_tweets_processed_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(flagstream_end_to_end_lag_seconds_bucket[5m])))`, []string{"flagstream_end_to_end_lag_seconds_bucket"}},
		{`a_total / on(job) flagstream_x{job="flagstream_not_a_metric", kind='flagstream_nor_this'} + flagstream_x`, []string{"flagstream_x"}},
		{`time() - flagstream_lists_last_reload_success_timestamp_seconds > 6 * 3600 and flagstream_y:rate5m`, []string{"flagstream_lists_last_reload_success_timestamp_seconds", "flagstream_y:rate5m"}},
		{`up{job=~"flagstream.*"} == 0`, nil},
		{`${flagstream_var} + $flagstream_var2 + 1e3`, nil},
	} {
		if got := MetricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("MetricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
	types := map[string]string{"h": "histogram", "s": "summary", "c_total": "counter"}
	for name, want := range map[string]string{"h_bucket": "h", "h_sum": "h", "h_count": "h", "s_sum": "s", "s_bucket": "s_bucket", "c_total": "c_total", "x_count": "x_count"} {
		if got := Family(name, types); got != want {
			t.Errorf("Family(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestDashboard checks the dashboard's structure: the variables, the rows,
// every panel querying the ${datasource} variable and filtering on the
// instance variable, and each row described in the operator guide.
func TestDashboard(t *testing.T) {
	data := readFile(t, dashboardPath)
	var d struct {
		UID           string `json:"uid"`
		Title         string `json:"title"`
		SchemaVersion int    `json:"schemaVersion"`
		Templating    struct {
			List []struct {
				Name, Type string
				Query      any `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource struct {
				Type, UID string
			} `json:"datasource"`
			GridPos struct{ H, W, X, Y int } `json:"gridPos"`
			Targets []struct {
				Expr       string `json:"expr"`
				Datasource struct{ Type, UID string }
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 {
		t.Errorf("dashboard uid %q, title %q, schemaVersion %d: want a uid, a title and schemaVersion >= 36", d.UID, d.Title, d.SchemaVersion)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		if v.Name == "datasource" && v.Query != "prometheus" {
			t.Errorf("datasource variable: query %v, want prometheus", v.Query)
		}
	}
	if vars["datasource"] != "datasource" || vars["instance"] != "query" {
		t.Errorf("dashboard variables %v: want a datasource variable \"datasource\" and a query variable \"instance\"", vars)
	}

	var rows []string
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: bad gridPos %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			rows = append(rows, p.Title)
			continue
		}
		if p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
			t.Errorf("panel %q: datasource %+v, want the ${datasource} variable", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: a target's datasource is %q, want ${datasource}", p.Title, tg.Datasource.UID)
			}
			if !strings.Contains(tg.Expr, `instance=~"$instance"`) {
				t.Errorf("panel %q: query %q does not filter on the instance variable", p.Title, tg.Expr)
			}
			if len(MetricNames(tg.Expr)) == 0 && !strings.Contains(tg.Expr, "up{") {
				t.Errorf("panel %q: query %q names no flagstream metric", p.Title, tg.Expr)
			}
		}
	}
	if len(rows) != len(wantRows) {
		t.Errorf("dashboard rows %q, want %q", rows, wantRows)
	}
	guide := section(t, operatorGuidePath, "## Dashboards and alerts")
	for i, r := range rows {
		if i < len(wantRows) && !strings.HasPrefix(r, wantRows[i]) {
			t.Errorf("dashboard row %d is %q, want %q", i, r, wantRows[i])
		}
		if !strings.Contains(guide, r) {
			t.Errorf("dashboard row %q is not described in %s, \"Dashboards and alerts\"", r, operatorGuidePath)
		}
	}
}

// section returns the text of the markdown file's section that starts
// with heading, up to the next heading of the same or a higher level.
func section(t *testing.T, path, heading string) string {
	t.Helper()
	md := string(readFile(t, path))
	start := strings.Index(md, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("%s has no %q section", path, heading)
		return ""
	}
	rest := md[start+len(heading)+2:]
	level := strings.IndexByte(heading, ' ')
	fenced := false // inside a ``` block, where "# " starts a comment
	for i := 0; i < len(rest); {
		line, _, _ := strings.Cut(rest[i:], "\n")
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if n := len(line) - len(strings.TrimLeft(line, "#")); !fenced && n > 0 && n <= level && strings.HasPrefix(line[n:], " ") {
			return rest[:i]
		}
		i += len(line) + 1
	}
	return rest
}

// rule is an alerting rule of alerts.yml.
type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func readRules(t *testing.T) []rule {
	t.Helper()
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, alertsPath)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", alertsPath, err)
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// TestAlertRules checks that every alert is there, with a severity, a
// summary, a description and a runbook URL pointing to the alert's own
// section of docs/runbook.md (a "## ALERT" heading), and that the runbook
// has a section for no alert that does not exist.
func TestAlertRules(t *testing.T) {
	rules := readRules(t)
	sections := map[string]bool{} // anchor of each "## " heading of the runbook
	for line := range strings.Lines(string(readFile(t, runbookPath))) {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			sections[githubAnchor(strings.TrimSpace(h))] = true
		}
	}
	seen := map[string]bool{}
	for _, r := range rules {
		if r.Alert == "" {
			t.Errorf("rule %q is not an alert", r.Expr)
			continue
		}
		if seen[r.Alert] {
			t.Errorf("alert %s defined twice", r.Alert)
		}
		seen[r.Alert] = true
		if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
			t.Errorf("%s: severity %q, want critical, warning or info", r.Alert, s)
		}
		for _, k := range []string{"summary", "description", "runbook_url"} {
			if strings.TrimSpace(r.Annotations[k]) == "" {
				t.Errorf("%s: no %s annotation", r.Alert, k)
			}
		}
		if want := "docs/runbook.md#" + githubAnchor(r.Alert); r.Annotations["runbook_url"] != want {
			t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
		}
		if !sections[githubAnchor(r.Alert)] {
			t.Errorf("%s has no section (## %s) in %s", r.Alert, r.Alert, runbookPath)
		}
		if len(MetricNames(r.Expr)) == 0 && !strings.Contains(r.Expr, "up{") {
			t.Errorf("%s: expression names no flagstream metric: %s", r.Alert, r.Expr)
		}
	}
	for _, a := range wantAlerts {
		if !seen[a] {
			t.Errorf("no alert %s", a)
		}
	}
	for line := range strings.Lines(string(readFile(t, runbookPath))) {
		if h, ok := strings.CutPrefix(line, "## Flagstream"); ok && !seen["Flagstream"+strings.TrimSpace(h)] {
			t.Errorf("%s: section %q is about no alert of %s", runbookPath, strings.TrimSpace(line), alertsPath)
		}
	}
}

var notAnchor = regexp.MustCompile(`[^\p{L}\p{N}_ -]`)

// githubAnchor returns the anchor GitHub gives a markdown heading.
func githubAnchor(heading string) string {
	return strings.ReplaceAll(notAnchor.ReplaceAllString(strings.ToLower(heading), ""), " ", "-")
}

// instance is flagstream run, in-process, against a dev broker, after it
// has consumed a first load of synthetic tweets (flagged and malformed
// ones among them).
type instance struct {
	t     *testing.T
	kit   *testkit.Kit
	admin string // host:port of the admin server
	reg   *prometheus.Registry
	// user and password, when set, are the admin server's basic auth.
	user, password string
}

func startFlagstream(t *testing.T) *instance { return startFlagstreamWith(t, "", "", "") }

// startFlagstreamWith starts flagstream with webConfig as its
// http.web_config_file (none when empty), and authenticates as user with
// password.
func startFlagstreamWith(t *testing.T, webConfig, user, password string) *instance {
	t.Helper()
	in := &instance{t: t, kit: testkit.New(t, devbroker.Config{}, testkit.Traffic(11, 0.05, 0.01, 0.02)), reg: prometheus.NewRegistry(),
		user: user, password: password}
	in.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	in.produce(1500)

	cfg := in.kit.Config("promtest")
	cfg.Lists.Reload = "signal" // reloads only on POST /-/reload here
	cfg.HTTP.WebConfigFile = webConfig
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	in.admin = testkit.Start(t, func(ctx context.Context, started func(string)) error {
		return app.Run(ctx, cfg, app.Options{
			Registry: in.reg,
			Logger:   testkit.Logger(t),
			Started:  started,
			Version:  "promtest", Revision: "0000000",
		})
	}).Addr
	testkit.WaitFor(t, 30*time.Second, "flagstream to be ready", func() bool {
		code, _ := in.get("/readyz")
		return code == http.StatusOK
	})
	testkit.WaitFor(t, 30*time.Second, "every record to be committed", in.caughtUp)
	return in
}

// produce writes n synthetic records and two malformed ones.
func (in *instance) produce(n int) {
	recs := append([][]byte{[]byte("this is not JSON"), {0xff, 0xfe, '{', '}'}}, in.kit.Records(n)...)
	testkit.Produce(in.t, in.kit.Broker.Addr(), testkit.InputTopic, recs)
}

func (in *instance) caughtUp() bool { return in.kit.CaughtUp("promtest") }

// get returns the status and body of an admin endpoint.
func (in *instance) get(path string) (int, string) {
	return in.request("GET", path, in.user, in.password)
}

// post makes an empty POST to an admin endpoint and returns the status and
// body.
func (in *instance) post(path string) (int, string) {
	return in.request("POST", path, in.user, in.password)
}

// request makes a request of an admin endpoint, with basic auth when user
// is set, and returns the status and body.
func (in *instance) request(method, path, user, password string) (int, string) {
	req, err := http.NewRequest(method, "http://"+in.admin+path, nil)
	if err != nil {
		return 0, err.Error()
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// scrape returns /metrics in the Prometheus text format (what promtool
// check metrics reads).
func (in *instance) scrape() string {
	in.t.Helper()
	code, body := in.get("/metrics")
	if code != http.StatusOK {
		in.t.Fatalf("GET /metrics: %d %s", code, body)
	}
	return body
}

// queriedNames returns every flagstream metric name the dashboard and the
// alert rules query.
func queriedNames(t *testing.T) []string {
	t.Helper()
	var names []string
	targets, err := DashboardTargets(readFile(t, dashboardPath))
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		names = append(names, MetricNames(tg.Expr)...)
	}
	for _, r := range readRules(t) {
		names = append(names, MetricNames(r.Expr)...)
	}
	return names
}

// fullScrape returns a scrape once it has a sample of every metric the
// dashboard and the alerts query (some, like the consumer lag, appear only
// after the statistics poller's next round), or the last scrape after 10s.
func (in *instance) fullScrape() string {
	in.t.Helper()
	names := queriedNames(in.t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		text := in.scrape()
		s := ParseScrape(text)
		if !slices.ContainsFunc(names, func(n string) bool { return !s.Has(n) }) || time.Now().After(deadline) {
			return text
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkNames asserts that every flagstream metric the dashboard and the
// alert rules query has samples in the scrape.
func checkNames(t *testing.T, text string) {
	t.Helper()
	s := ParseScrape(text)
	targets, err := DashboardTargets(readFile(t, dashboardPath))
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) == 0 {
		t.Fatal("the dashboard has no queries")
	}
	used := map[string]bool{}
	for _, tg := range targets {
		for _, name := range MetricNames(tg.Expr) {
			used[name] = true
			if !s.Has(name) {
				t.Errorf("dashboard panel %q queries %s (family %s), which is not in the scrape", tg.Panel, name, Family(name, s.Types))
			}
		}
	}
	for _, r := range readRules(t) {
		for _, name := range MetricNames(r.Expr) {
			used[name] = true
			if !s.Has(name) {
				t.Errorf("alert %s queries %s, which is not in the scrape", r.Alert, name)
			}
		}
	}
	// Every flagstream family should be on the dashboard or in an alert.
	shown := map[string]bool{}
	for name := range used {
		shown[Family(name, s.Types)] = true
	}
	for fam := range s.Types {
		if strings.HasPrefix(fam, "flagstream_") && !shown[fam] && fam != "flagstream_build_info" {
			t.Logf("note: %s is neither on the dashboard nor in an alert", fam)
		}
	}
}

// TestLiveScrape runs flagstream against the dev broker and checks its
// scrape: promlint (what promtool check metrics runs) finds nothing, and
// every metric of the dashboard and the alerts has samples. It needs no
// Prometheus.
func TestLiveScrape(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker and flagstream run")
	}
	t.Parallel()
	in := startFlagstream(t)
	text := in.fullScrape()
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	checkNames(t, text)
	checkDocumented(t, ParseScrape(text))
	if code, body := in.get("/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz: %d %s", code, body)
	}

	// A failed reload shows in the metrics the reload alerts use, and a
	// good one clears it.
	broken := filepath.Join(in.kit.ListsDir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("id: BROKEN\njurisdiction: ZZ\nhandles: [\"@ok\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := in.post("/-/reload"); code != http.StatusUnprocessableEntity || !strings.Contains(body, "broken.yaml:2") {
		t.Errorf("POST /-/reload with a broken file: %d %s, want 422 naming broken.yaml:2", code, body)
	}
	s := ParseScrape(in.scrape())
	if got := sample(t, s, "flagstream_lists_last_reload_successful"); got != "0" {
		t.Errorf("after a failed reload flagstream_lists_last_reload_successful = %s, want 0", got)
	}
	if got := sample(t, s, `flagstream_lists_reloads_total{result="failure"}`); got != "1" {
		t.Errorf("after a failed reload flagstream_lists_reloads_total{result=\"failure\"} = %s, want 1", got)
	}
	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	if code, body := in.post("/-/reload"); code != http.StatusOK || !strings.Contains(body, "lists_version") {
		t.Errorf("POST /-/reload after the fix: %d %s, want 200 with the lists version", code, body)
	}
	if got := sample(t, ParseScrape(in.scrape()), "flagstream_lists_last_reload_successful"); got != "1" {
		t.Errorf("after a good reload flagstream_lists_last_reload_successful = %s, want 1", got)
	}
}

// documentedMetrics returns the metric families named in the first column
// of the metrics table of the operator guide ("## Metrics"): each
// `name{label,...}` in backquotes, with `prefix_{a,b}_suffix` standing for
// prefix_a_suffix and prefix_b_suffix.
func documentedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for line := range strings.Lines(section(t, operatorGuidePath, "## Metrics")) {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "|"), "|")
		for _, m := range metricCell.FindAllStringSubmatch(first, -1) {
			for _, name := range expandBraces(m[1]) {
				names[name] = true
			}
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s: the metrics table names no metric", operatorGuidePath)
	}
	return names
}

// metricCell is a metric name in backquotes, without its labels (braces at
// the end).
var metricCell = regexp.MustCompile("`([a-z0-9_:]+(?:\\{[a-z0-9_,]+\\}[a-z0-9_:]+)*)(?:\\{[^}`]*\\})?`")

// expandBraces expands each {a,b} in name.
func expandBraces(name string) []string {
	open := strings.IndexByte(name, '{')
	if open < 0 {
		return []string{name}
	}
	end := open + strings.IndexByte(name[open:], '}')
	var out []string
	for alt := range strings.SplitSeq(name[open+1:end], ",") {
		out = append(out, expandBraces(name[:open]+alt+name[end+1:])...)
	}
	return out
}

// checkDocumented asserts that every flagstream metric family of the
// scrape is in the operator guide's metrics table.
func checkDocumented(t *testing.T, s Scrape) {
	t.Helper()
	documented := documentedMetrics(t)
	for fam := range s.Types {
		if strings.HasPrefix(fam, "flagstream_") && !documented[fam] {
			t.Errorf("metric %s is not in the metrics table of %s", fam, operatorGuidePath)
		}
	}
}

// TestMetricsDocumented checks that the operator guide's metrics table
// names the metrics the contract requires (the live scrape checks the
// rest).
func TestMetricsDocumented(t *testing.T) {
	documented := documentedMetrics(t)
	for _, name := range []string{
		"flagstream_tweets_processed_total", "flagstream_records_rejected_total", "flagstream_review_tasks_emitted_total",
		"flagstream_matches_total", "flagstream_process_duration_seconds", "flagstream_lists_entries",
		"flagstream_lists_reloads_total", "flagstream_lists_last_reload_success_timestamp_seconds", "flagstream_build_info",
		"flagstream_end_to_end_lag_seconds", "flagstream_kafka_consumer_lag_records",
		"flagstream_exemptions_applied_total", "flagstream_shadow_total", "flagstream_demand_tripped",
		"flagstream_retro_records_total", "flagstream_retro_remaining_records",
		"flagstream_kafka_consumer_fetches_total", "flagstream_kafka_producer_errors_total", // from {…} in the table
	} {
		if !documented[name] {
			t.Errorf("%s is not in the metrics table of %s", name, operatorGuidePath)
		}
	}
	if got := expandBraces("a_{b,c}_d_{e,f}"); !slices.Equal(got, []string{"a_b_d_e", "a_b_d_f", "a_c_d_e", "a_c_d_f"}) {
		t.Errorf("expandBraces = %q", got)
	}
}

// sample returns the value of the series (name and labels as exposed) in
// the scrape.
func sample(t *testing.T, s Scrape, series string) string {
	t.Helper()
	v, ok := s.Values[series]
	if !ok {
		t.Errorf("the scrape has no series %s", series)
	}
	return v
}

// TestPrometheus runs flagstream and a real Prometheus scraping it every
// second with the alert rules loaded, and checks that the target is up,
// that promtool accepts the rules, the Prometheus config and a live scrape,
// that every rule evaluates without error, that the dashboard's and the
// alerts' metrics exist, and that queries of the dashboard return data.
func TestPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker, flagstream run and Prometheus")
	}
	for _, bin := range []string{"prometheus", "promtool"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed (Debian package prometheus; .ci/run installs it)", bin)
		}
	}
	t.Parallel()
	rulesFile, err := filepath.Abs(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	promtool(t, nil, "check", "rules", rulesFile)

	in := startFlagstream(t)
	text := in.fullScrape()
	promtool(t, strings.NewReader(text), "check", "metrics")
	checkNames(t, text)

	prom := startPrometheus(t, in.admin, rulesFile)
	testkit.WaitFor(t, 20*time.Second, "the flagstream target to be up", func() bool {
		targets, err := prom.targets()
		if err != nil {
			return false
		}
		for _, tg := range targets {
			if tg.Labels["job"] == "flagstream" && tg.Health == "up" {
				return true
			}
			if tg.LastError != "" {
				t.Logf("target %v: %s", tg.Labels, tg.LastError)
			}
		}
		return false
	})

	upAt := time.Now()

	// More tweets, so that rates over the scrapes are not zero.
	in.produce(1000)
	testkit.WaitFor(t, 30*time.Second, "the second load to be committed", in.caughtUp)

	wantRules := readRules(t)
	// Every rule has been evaluated on the scraped data without error.
	testkit.WaitFor(t, 20*time.Second, "every rule to be evaluated", func() bool {
		groups, err := prom.rules()
		if err != nil {
			t.Logf("rules: %v", err)
			return false
		}
		n, evaluated := 0, 0
		for _, g := range groups {
			for _, r := range g.Rules {
				n++
				switch r.Health {
				case "ok":
					if r.LastEvaluation.After(upAt) {
						evaluated++
					}
				case "err":
					t.Fatalf("rule %s of %s fails to evaluate: %s", r.Name, g.File, r.LastError)
				}
			}
		}
		if n != len(wantRules) {
			t.Fatalf("Prometheus loaded %d rules, alerts.yml has %d", n, len(wantRules))
		}
		return evaluated == n
	})

	// Queries of the dashboard return data through Prometheus.
	for _, q := range []struct{ expr, what string }{
		{`sum(flagstream_tweets_processed_total{job="flagstream"})`, "tweets processed"},
		{`sum by (reason) (flagstream_records_rejected_total{job="flagstream"}) > 0`, "rejected records by reason"},
		{`sum by (demand) (flagstream_matches_total{job="flagstream"})`, "matches by demand"},
		{`sum(rate(flagstream_tweets_processed_total{job="flagstream"}[30s])) > 0`, "tweets processed per second"},
		{`histogram_quantile(0.99, sum by (le) (rate(flagstream_end_to_end_lag_seconds_bucket{job="flagstream"}[30s]))) >= 0`, "end-to-end lag p99"},
		{`max by (partition) (flagstream_kafka_consumer_lag_records{job="flagstream"})`, "consumer lag by partition"},
	} {
		testkit.WaitFor(t, 15*time.Second, "data for "+q.what, func() bool {
			var res struct {
				ResultType string `json:"resultType"`
				Result     []struct {
					Metric map[string]string `json:"metric"`
					Value  []any             `json:"value"`
				} `json:"result"`
			}
			if err := prom.api("query", url.Values{"query": {q.expr}}, &res); err != nil {
				t.Fatalf("query %s: %v", q.expr, err)
			}
			return len(res.Result) > 0
		})
	}

	// Every query of the dashboard, with its variables filled in, is valid
	// PromQL that Prometheus evaluates without error.
	targets, err := DashboardTargets(readFile(t, dashboardPath))
	if err != nil {
		t.Fatal(err)
	}
	vars := strings.NewReplacer("$instance", ".*", "$__rate_interval", "30s")
	for _, tg := range targets {
		var res any
		if err := prom.api("query", url.Values{"query": {vars.Replace(tg.Expr)}}, &res); err != nil {
			t.Errorf("dashboard panel %q: query %s: %v", tg.Panel, tg.Expr, err)
		}
	}

	// A healthy flagstream raises no alert, once the rules have been
	// evaluated on the scrapes after the second load (before it, the
	// tweets-processed rate was briefly zero).
	var active []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		groups, err := prom.rules()
		if err != nil {
			t.Fatal(err)
		}
		active = active[:0]
		for _, g := range groups {
			for _, r := range g.Rules {
				if r.State != "inactive" {
					active = append(active, r.Name+" is "+r.State)
				}
			}
		}
		if len(active) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, a := range active {
		t.Errorf("alert %s on a healthy flagstream", a)
	}

	// The generated Prometheus config, rule files included, passes too.
	promtool(t, nil, "check", "config", prom.config)
}

// promtool runs promtool with args (and stdin) and fails the test with its
// output if it exits non-zero.
func promtool(t *testing.T, stdin io.Reader, args ...string) {
	t.Helper()
	cmd := exec.Command("promtool", args...)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// prometheusServer is a running Prometheus server.
type prometheusServer struct {
	t      *testing.T
	base   string // http://host:port
	config string // path of prometheus.yml
}

// startPrometheus starts Prometheus scraping target every second with the
// rules file loaded; it is stopped (SIGTERM) when the test ends, and its
// log is shown if the test failed.
func startPrometheus(t *testing.T, target, rulesFile string) *prometheusServer {
	t.Helper()
	return startPrometheusConfig(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
  - job_name: flagstream
    static_configs:
      - targets: [%q]
`, rulesFile, target))
}

// startPrometheusConfig starts Prometheus with the configuration cfg.
func startPrometheusConfig(t *testing.T, cfg string) *prometheusServer {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := testkit.FreeAddr(t)
	var log testkit.Buffer
	cmd := exec.Command("prometheus",
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--web.enable-lifecycle",
		"--log.level=info",
	)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	p := &prometheusServer{t: t, base: "http://" + addr, config: cfgPath}
	testkit.WaitFor(t, 20*time.Second, "Prometheus to be ready", func() bool {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("prometheus exited: %v\n%s", err, log.String())
		default:
		}
		resp, err := httpClient.Get(p.base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// scrapeTarget is what the tests read of one of Prometheus's active targets.
type scrapeTarget struct {
	Health    string            `json:"health"`
	LastError string            `json:"lastError"`
	Labels    map[string]string `json:"labels"`
}

// targets returns Prometheus's active targets.
func (p *prometheusServer) targets() ([]scrapeTarget, error) {
	var targets struct {
		ActiveTargets []scrapeTarget `json:"activeTargets"`
	}
	err := p.api("targets", nil, &targets)
	return targets.ActiveTargets, err
}

// ruleGroup is what the tests read of one of Prometheus's rule groups.
type ruleGroup struct {
	File  string `json:"file"`
	Rules []struct {
		Name           string    `json:"name"`
		State          string    `json:"state"`
		Health         string    `json:"health"`
		LastError      string    `json:"lastError"`
		LastEvaluation time.Time `json:"lastEvaluation"`
	} `json:"rules"`
}

// rules returns Prometheus's rule groups.
func (p *prometheusServer) rules() ([]ruleGroup, error) {
	var rules struct {
		Groups []ruleGroup `json:"groups"`
	}
	err := p.api("rules", nil, &rules)
	return rules.Groups, err
}

// api calls the Prometheus HTTP API endpoint /api/v1/<path> and decodes
// its data into out.
func (p *prometheusServer) api(path string, query url.Values, out any) error {
	u := p.base + "/api/v1/" + path
	if query != nil {
		u += "?" + query.Encode()
	}
	resp, err := httpClient.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("%s: %s: %w", u, resp.Status, err)
	}
	if env.Status != "success" {
		return fmt.Errorf("%s: %s: %s", u, resp.Status, env.Error)
	}
	return json.Unmarshal(env.Data, out)
}
