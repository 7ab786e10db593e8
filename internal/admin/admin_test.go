package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// start starts a server on a free loopback port with cfg and returns its
// base URL; the server is shut down when the test ends.
func start(t *testing.T, cfg Config) string {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	if cfg.Gatherer == nil {
		cfg.Gatherer = prometheus.NewRegistry()
	}
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return "http://" + s.Addr()
}

// do makes a request and returns the status, content type and body.
func do(t *testing.T, method, url string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

func TestHealthz(t *testing.T) {
	// Alive even while not ready.
	base := start(t, Config{Ready: func() error { return errors.New("lists not loaded") }})
	code, _, body := do(t, "GET", base+"/healthz")
	if code != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Errorf("GET /healthz: got %d %q, want 200 \"ok\"", code, body)
	}
}

func TestReadyz(t *testing.T) {
	var reason atomic.Pointer[string]
	notReady := "consumer group not joined yet"
	reason.Store(&notReady)
	base := start(t, Config{Ready: func() error {
		if r := reason.Load(); r != nil {
			return errors.New(*r)
		}
		return nil
	}})

	code, _, body := do(t, "GET", base+"/readyz")
	if code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz while not ready: status %d, want 503", code)
	}
	if !strings.Contains(body, notReady) {
		t.Errorf("GET /readyz while not ready: body %q does not give the reason %q", body, notReady)
	}

	reason.Store(nil)
	code, _, body = do(t, "GET", base+"/readyz")
	if code != http.StatusOK || strings.TrimSpace(body) != "ready" {
		t.Errorf("GET /readyz when ready: got %d %q, want 200 \"ready\"", code, body)
	}

	shutting := "shutting down"
	reason.Store(&shutting)
	if code, _, body = do(t, "GET", base+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, shutting) {
		t.Errorf("GET /readyz while shutting down: got %d %q, want 503 naming %q", code, body, shutting)
	}
}

func TestReadyzWithoutCheck(t *testing.T) {
	base := start(t, Config{})
	if code, _, _ := do(t, "GET", base+"/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz without a readiness check: status %d, want 200", code)
	}
}

func TestReload(t *testing.T) {
	var fail atomic.Bool
	var calls atomic.Int32
	base := start(t, Config{Reload: func() (string, error) {
		calls.Add(1)
		if fail.Load() {
			return "", errors.New("broken.yaml:2: invalid jurisdiction \"ZZ\"")
		}
		return "a04b35a6b8484379", nil
	}})

	code, ctype, body := do(t, "POST", base+"/-/reload")
	if code != http.StatusOK {
		t.Fatalf("POST /-/reload: status %d (%s), want 200", code, body)
	}
	if ctype != "application/json" {
		t.Errorf("POST /-/reload: content type %q, want application/json", ctype)
	}
	var ok struct {
		Version string `json:"lists_version"`
	}
	if err := json.Unmarshal([]byte(body), &ok); err != nil {
		t.Fatalf("POST /-/reload: body %q is not JSON: %v", body, err)
	}
	if ok.Version != "a04b35a6b8484379" {
		t.Errorf("POST /-/reload: lists_version %q, want a04b35a6b8484379", ok.Version)
	}

	fail.Store(true)
	code, _, body = do(t, "POST", base+"/-/reload")
	if code != http.StatusUnprocessableEntity {
		t.Errorf("POST /-/reload failing: status %d, want 422", code)
	}
	var bad struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &bad); err != nil {
		t.Fatalf("POST /-/reload failing: body %q is not JSON: %v", body, err)
	}
	if !strings.Contains(bad.Error, "broken.yaml:2:") {
		t.Errorf("POST /-/reload failing: error %q does not name broken.yaml:2", bad.Error)
	}

	before := calls.Load()
	code, _, _ = do(t, "GET", base+"/-/reload")
	if code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: status %d, want 405", code)
	}
	if calls.Load() != before {
		t.Error("GET /-/reload reloaded the lists")
	}
}

func TestReloadUnavailable(t *testing.T) {
	base := start(t, Config{})
	if code, _, body := do(t, "POST", base+"/-/reload"); code != http.StatusNotImplemented {
		t.Errorf("POST /-/reload without a reloader: got %d %q, want 501", code, body)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "flagstream_test_events_total", Help: "Test events."})
	reg.MustRegister(c)
	c.Add(3)
	base := start(t, Config{Gatherer: reg})

	code, ctype, body := do(t, "GET", base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", code)
	}
	if !strings.HasPrefix(ctype, "text/plain") {
		t.Errorf("GET /metrics: content type %q, want the Prometheus text format", ctype)
	}
	for _, want := range []string{
		"# HELP flagstream_test_events_total Test events.",
		"# TYPE flagstream_test_events_total counter",
		"flagstream_test_events_total 3",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics lacks %q:\n%s", want, body)
		}
	}

	// OpenMetrics when asked for.
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	om, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") || !strings.HasSuffix(string(om), "# EOF\n") {
		t.Errorf("GET /metrics with an OpenMetrics Accept header: content type %q, body %q", ct, om)
	}
}

func TestNotFound(t *testing.T) {
	base := start(t, Config{})
	for _, path := range []string{"/nope", "/metrics/extra", "/healthz/x", "/-/reloads"} {
		if code, _, _ := do(t, "GET", base+path); code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, code)
		}
	}
	if code, _, body := do(t, "GET", base+"/"); code != http.StatusOK || !strings.Contains(body, "/metrics") {
		t.Errorf("GET /: got %d %q, want 200 with an index", code, body)
	}
}

// TestPprof checks that the profiler is served only when asked for: its
// index, a named profile and a short CPU profile.
func TestPprof(t *testing.T) {
	off := start(t, Config{})
	if code, _, _ := do(t, "GET", off+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ without Pprof: status %d, want 404", code)
	}
	on := start(t, Config{Pprof: true})
	code, _, body := do(t, "GET", on+"/debug/pprof/")
	if code != http.StatusOK || !strings.Contains(body, "goroutine") || !strings.Contains(body, "heap") {
		t.Errorf("GET /debug/pprof/: %d, want 200 with the profiles listed:\n%.300s", code, body)
	}
	if code, _, body := do(t, "GET", on+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Errorf("GET /debug/pprof/goroutine?debug=1: %d %.200q", code, body)
	}
	if code, ctype, body := do(t, "GET", on+"/debug/pprof/profile?seconds=1"); code != http.StatusOK || ctype != "application/octet-stream" || len(body) == 0 {
		t.Errorf("GET /debug/pprof/profile?seconds=1: %d %q, %d bytes; want a CPU profile", code, ctype, len(body))
	}
	if _, _, body := do(t, "GET", on+"/"); !strings.Contains(body, "/debug/pprof/") {
		t.Errorf("GET / with Pprof does not list /debug/pprof/: %q", body)
	}
}

func TestStartBadAddress(t *testing.T) {
	if _, err := Start(Config{Listen: "127.0.0.1:notaport"}); err == nil {
		t.Error("Start on a bad address: no error")
	}
}
