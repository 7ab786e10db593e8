package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"flagstream/internal/admin"
)

// TestHealthcheckBasicAuth asks an admin listener secured with basic auth:
// without the password it is refused (exit 1), with it it answers.
func TestHealthcheckBasicAuth(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("probe-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(dir, "web.yml")
	writeFile(t, web, "basic_auth_users:\n  probe: "+string(hash)+"\n")
	pw := filepath.Join(dir, "pw")
	writeFile(t, pw, "probe-pw\n")
	s, err := admin.Start(admin.Config{Listen: "127.0.0.1:0", Gatherer: prometheus.NewRegistry(), WebConfigFile: web})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	url := "http://" + s.Addr() + "/healthz"
	if r := runMain(t, nil, "healthcheck", "--url", url); r.code != ExitIO || !strings.Contains(r.stderr, "401") {
		t.Errorf("healthcheck without the password: exit %d, stderr %q; want 1 naming 401", r.code, r.stderr)
	}
	if r := runMain(t, nil, "healthcheck", "--url", url, "--user", "probe", "--password-file", pw); r.code != ExitOK || r.stdout != "ok\n" {
		t.Errorf("healthcheck with the password: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := runMain(t, nil, "healthcheck", "--url", url, "--user", "probe"); r.code != ExitUsage {
		t.Errorf("--user without --password-file: exit %d, want 2", r.code)
	}
	if r := runMain(t, nil, "healthcheck", "--url", url, "--ca-file", pw); r.code != ExitUsage || !strings.Contains(r.stderr, "no PEM certificate") {
		t.Errorf("--ca-file of no certificate: exit %d, stderr %q", r.code, r.stderr)
	}
}
