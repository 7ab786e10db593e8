package promtest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"flagstream/internal/testkit"
)

// TestPrometheusBasicAuth secures the admin listener with a web config of
// basic auth (http.web_config_file): /metrics and the POST endpoints refuse
// a request without the password (401) and take one with it, and a real
// Prometheus scrapes it with basic_auth, while a job without credentials
// is refused.
func TestPrometheusBasicAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker, flagstream run and Prometheus")
	}
	if _, err := exec.LookPath("prometheus"); err != nil {
		t.Skip("prometheus is not installed (Debian package prometheus; .ci/run installs it)")
	}
	t.Parallel()
	dir := t.TempDir()
	const password = "scrape-s3cret"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(web, []byte("basic_auth_users:\n  prometheus: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := startFlagstreamWith(t, web, "prometheus", password)

	for _, ep := range []struct{ method, path string }{
		{"GET", "/metrics"}, {"POST", "/-/reload"}, {"POST", "/-/demands/" + testkit.DemandID + "/reset"},
	} {
		if code, _ := in.request(ep.method, ep.path, "", ""); code != http.StatusUnauthorized {
			t.Errorf("%s %s without the password: %d, want 401", ep.method, ep.path, code)
		}
		if code, _ := in.request(ep.method, ep.path, "prometheus", "wrong"); code != http.StatusUnauthorized {
			t.Errorf("%s %s with a wrong password: %d, want 401", ep.method, ep.path, code)
		}
		if code, body := in.request(ep.method, ep.path, "prometheus", password); code != http.StatusOK {
			t.Errorf("%s %s with the password: %d %s, want 200", ep.method, ep.path, code, body)
		}
	}

	prom := startPrometheusConfig(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: flagstream
    basic_auth:
      username: prometheus
      password_file: %q
    static_configs:
      - targets: [%q]
  - job_name: without-credentials
    static_configs:
      - targets: [%q]
`, pwFile, in.admin, in.admin))
	health := map[string]string{}
	testkit.WaitFor(t, 20*time.Second, "both targets to be scraped", func() bool {
		targets, err := prom.targets()
		if err != nil {
			return false
		}
		for _, tg := range targets {
			health[tg.Labels["job"]] = tg.Health + " " + tg.LastError
		}
		return strings.HasPrefix(health["flagstream"], "up") && strings.HasPrefix(health["without-credentials"], "down")
	})
	if h := health["without-credentials"]; !strings.Contains(h, "401") {
		t.Errorf("the job without credentials: %q, want refused with 401", h)
	}
	var res struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
		} `json:"result"`
	}
	testkit.WaitFor(t, 15*time.Second, "scraped flagstream metrics", func() bool {
		if err := prom.api("query", map[string][]string{"query": {`flagstream_tweets_processed_total{job="flagstream"}`}}, &res); err != nil {
			t.Fatal(err)
		}
		return len(res.Result) > 0
	})
}

// TestDemandTrippedAlert unit-tests the FlagstreamDemandTripped rule with
// promtool: it fires for the tripped demand of an instance, with its
// labels, and not for the others; and stops once the breaker is reset.
func TestDemandTrippedAlert(t *testing.T) {
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Skip("promtool is not installed (Debian package prometheus; .ci/run installs it)")
	}
	rulesFile, err := filepath.Abs(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	test := fmt.Sprintf(`rule_files:
  - %q
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'flagstream_demand_tripped{job="flagstream",instance="a:9464",demand="IN-1"}'
        values: '0 1 1 1 0 0'
      - series: 'flagstream_demand_tripped{job="flagstream",instance="a:9464",demand="DE-2"}'
        values: '0 0 0 0 0 0'
      - series: 'flagstream_demand_tripped{job="flagstream",instance="b:9464",demand="IN-1"}'
        values: '0 0 0 0 0 0'
    alert_rule_test:
      - eval_time: 0m
        alertname: FlagstreamDemandTripped
        exp_alerts: []
      - eval_time: 2m
        alertname: FlagstreamDemandTripped
        exp_alerts:
          - exp_labels:
              severity: warning
              job: flagstream
              instance: a:9464
              demand: IN-1
            exp_annotations:
              summary: "demand IN-1 has tripped its circuit breaker on a:9464"
              description: "a:9464 emitted more review tasks and case events for demand IN-1 within a minute than its max_tasks_per_minute (or limits.demand_tasks_per_minute) allows. Its further tasks and case events go to the shadow topic, marked tripped: nothing is lost, but reviewers no longer see them until the demand's file changes or POST /-/demands/IN-1/reset."
              runbook_url: "docs/runbook.md#flagstreamdemandtripped"
      - eval_time: 5m
        alertname: FlagstreamDemandTripped
        exp_alerts: []
`, rulesFile)
	path := filepath.Join(t.TempDir(), "tripped_test.yml")
	if err := os.WriteFile(path, []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	promtool(t, nil, "test", "rules", path)
}
