package admin

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
)

// breakerStub stands for the circuit breakers: one demand, IN-1.
type breakerStub struct{ resets int }

func (b *breakerStub) config(cfg *Config) {
	cfg.Demands = func() any { return []map[string]any{{"demand": "IN-1", "tripped": b.resets == 0}} }
	cfg.ResetDemand = func(id string) (any, bool) {
		if id != "IN-1" {
			return nil, false
		}
		b.resets++
		return map[string]any{"demand": id, "tripped": false}, true
	}
}

func TestDemandEndpoints(t *testing.T) {
	var b breakerStub
	cfg := Config{}
	b.config(&cfg)
	base := start(t, cfg)

	code, typ, body := do(t, "GET", base+"/-/demands")
	if code != http.StatusOK || typ != "application/json" || !strings.Contains(body, `"tripped": true`) {
		t.Errorf("GET /-/demands: %d %s %s", code, typ, body)
	}
	code, _, body = do(t, "POST", base+"/-/demands/IN-1/reset")
	var state map[string]any
	if err := json.Unmarshal([]byte(body), &state); err != nil || code != http.StatusOK || state["demand"] != "IN-1" || state["tripped"] != false || b.resets != 1 {
		t.Errorf("POST /-/demands/IN-1/reset: %d %s (%v), resets %d; want 200 with the closed state", code, body, err, b.resets)
	}
	code, _, body = do(t, "POST", base+"/-/demands/XX-9/reset")
	if code != http.StatusNotFound || !strings.Contains(body, `no demand has the id \"XX-9\"`) {
		t.Errorf("POST /-/demands/XX-9/reset: %d %s, want 404 naming the id", code, body)
	}
	if code, _, _ := do(t, "GET", base+"/-/demands/IN-1/reset"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET of the reset endpoint: %d, want 405", code)
	}
	none := start(t, Config{})
	if code, _, _ := do(t, "POST", none+"/-/demands/IN-1/reset"); code != http.StatusNotImplemented {
		t.Errorf("reset without breakers: %d, want 501", code)
	}
}

// webConfig writes an exporter-toolkit web config of body and returns its
// path.
func webConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// basicAuthConfig returns a web config with user alice and password pw,
// bcrypt-hashed as exporter-toolkit wants it.
func basicAuthConfig(t *testing.T, pw string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return "basic_auth_users:\n  alice: " + string(hash) + "\n"
}

// request makes a request with optional basic auth through client and
// returns the status.
func request(t *testing.T, client *http.Client, method, url, user, pw string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pw)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestBasicAuth(t *testing.T) {
	var b breakerStub
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "flagstream_test_total", Help: "A test counter."}))
	cfg := Config{
		Gatherer:      reg,
		Reload:        func() (string, error) { return "v1", nil },
		WebConfigFile: webConfig(t, basicAuthConfig(t, "s3cret")),
	}
	b.config(&cfg)
	base := start(t, cfg)
	for _, ep := range []struct{ method, path string }{
		{"GET", "/metrics"}, {"POST", "/-/reload"}, {"POST", "/-/demands/IN-1/reset"}, {"GET", "/-/demands"}, {"GET", "/healthz"},
	} {
		url := base + ep.path
		if got := request(t, http.DefaultClient, ep.method, url, "", ""); got != http.StatusUnauthorized {
			t.Errorf("%s %s without a password: %d, want 401", ep.method, ep.path, got)
		}
		if got := request(t, http.DefaultClient, ep.method, url, "alice", "wrong"); got != http.StatusUnauthorized {
			t.Errorf("%s %s with a wrong password: %d, want 401", ep.method, ep.path, got)
		}
		if got := request(t, http.DefaultClient, ep.method, url, "mallory", "s3cret"); got != http.StatusUnauthorized {
			t.Errorf("%s %s as an unknown user: %d, want 401", ep.method, ep.path, got)
		}
		if got := request(t, http.DefaultClient, ep.method, url, "alice", "s3cret"); got != http.StatusOK {
			t.Errorf("%s %s with the password: %d, want 200", ep.method, ep.path, got)
		}
	}
	if b.resets != 1 {
		t.Errorf("%d resets went through, want only the authorized one", b.resets)
	}
}

func TestBadWebConfig(t *testing.T) {
	for name, body := range map[string]string{
		"plain password":   "basic_auth_users:\n  alice: s3cret\n",
		"missing key file": "tls_server_config:\n  cert_file: /nonexistent/server.crt\n  key_file: /nonexistent/server.key\n",
		"unknown key":      "basic_auth_user:\n  alice: x\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Start(Config{Listen: "127.0.0.1:0", Gatherer: prometheus.NewRegistry(), WebConfigFile: webConfig(t, body)})
			if err == nil || !strings.Contains(err.Error(), "http.web_config_file") {
				t.Errorf("Start with a bad web config: %v, want an error naming http.web_config_file", err)
			}
		})
	}
	if _, err := Start(Config{Listen: "127.0.0.1:0", Gatherer: prometheus.NewRegistry(), WebConfigFile: "/nonexistent/web.yml"}); err == nil {
		t.Error("Start with a missing web config succeeded")
	}
}

// TestTLSWithClientCertificates serves TLS that requires a client
// certificate signed by a CA: without one the handshake fails, with one
// the request goes through (and basic auth is still checked).
func TestTLSWithClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCA(t)
	caFile := writePEM(t, dir, "ca.crt", "CERTIFICATE", ca.Raw)
	serverCert, serverKey := leaf(t, ca, caKey, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	clientCert, clientKey := leaf(t, ca, caKey, "reviewer", x509.ExtKeyUsageClientAuth)
	cfg := Config{WebConfigFile: webConfig(t, "tls_server_config:\n"+
		"  cert_file: "+writePEM(t, dir, "server.crt", "CERTIFICATE", serverCert)+"\n"+
		"  key_file: "+writePEM(t, dir, "server.key", "EC PRIVATE KEY", serverKey)+"\n"+
		"  client_auth_type: RequireAndVerifyClientCert\n"+
		"  client_ca_file: "+caFile+"\n"+
		basicAuthConfig(t, "s3cret"))}
	base := strings.Replace(start(t, cfg), "http://", "https://", 1)

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	anonymous := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	if resp, err := anonymous.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("a client without a certificate got %s, want a failed handshake", resp.Status)
	}
	pair, err := tls.X509KeyPair(pemOf("CERTIFICATE", clientCert), pemOf("EC PRIVATE KEY", clientKey))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}}, Timeout: 10 * time.Second}
	if got := request(t, client, "GET", base+"/metrics", "", ""); got != http.StatusUnauthorized {
		t.Errorf("a client certificate without the password: %d, want 401", got)
	}
	if got := request(t, client, "GET", base+"/metrics", "alice", "s3cret"); got != http.StatusOK {
		t.Errorf("a client certificate and the password: %d, want 200", got)
	}
	// Plain HTTP to the TLS listener is refused.
	if got := request(t, http.DefaultClient, "GET", strings.Replace(base, "https://", "http://", 1)+"/healthz", "alice", "s3cret"); got != http.StatusBadRequest {
		t.Errorf("plain HTTP to the TLS listener: %d, want 400", got)
	}
}

func TestLoopbackWarning(t *testing.T) {
	for _, tc := range []struct {
		listen, web string
		warn        bool
	}{
		{"127.0.0.1:0", "", false},
		{"localhost:0", "", false},
		{"[::1]:0", "", false},
		{":0", "", true},
		{"0.0.0.0:0", "", true},
		{"0.0.0.0:0", basicAuthConfig(t, "x"), false},
	} {
		var logs bytes.Buffer
		cfg := Config{Listen: tc.listen, Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
		if tc.web != "" {
			cfg.WebConfigFile = webConfig(t, tc.web)
		}
		s, err := Start(cfg)
		if err != nil {
			if tc.listen == "[::1]:0" {
				continue // no IPv6 loopback here
			}
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.Shutdown(ctx)
		cancel()
		if got := strings.Contains(logs.String(), "not on loopback"); got != tc.warn {
			t.Errorf("listen %s, web config %v: warned %v, want %v\n%s", tc.listen, tc.web != "", got, tc.warn, logs.String())
		}
	}
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "flagstream test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// leaf returns a certificate for name signed by ca, and its key, both DER.
func leaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, usage x509.ExtKeyUsage) (cert, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	cert, err = x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err = x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pemOf(typ, der), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
