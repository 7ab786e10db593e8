package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"flagstream/config"
	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
	"flagstream/internal/testkit"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and returns
// the broker's TLS config and the path of the certificate, which clients
// trust as their CA.
func selfSigned(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "flagstream test broker"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, caFile
}

// TestRunTLSAndSASL runs the pipeline against a broker that requires TLS
// and SASL, with each SASL mechanism, the password read from a file.
func TestRunTLSAndSASL(t *testing.T) {
	for _, tc := range []struct{ mechanism, kfake string }{
		{"plain", "PLAIN"},
		{"scram-sha-256", "SCRAM-SHA-256"},
		{"scram-sha-512", "SCRAM-SHA-512"},
	} {
		t.Run(tc.mechanism, func(t *testing.T) {
			serverTLS, caFile := selfSigned(t)
			h := testkit.New(t, devbroker.Config{
				TLS:   serverTLS,
				Users: []devbroker.User{{Mechanism: tc.kfake, Name: "flagstream", Password: "s3cret-" + tc.mechanism}},
			}, synth.Config{})
			pool := x509.NewCertPool()
			pem, _ := os.ReadFile(caFile)
			pool.AppendCertsFromPEM(pem)
			mech, err := testMechanism(tc.mechanism, "flagstream", "s3cret-"+tc.mechanism)
			if err != nil {
				t.Fatal(err)
			}
			w := &kafka.Writer{Addr: kafka.TCP(h.Broker.Addr()), Topic: "tweets", BatchTimeout: 2 * time.Millisecond,
				RequiredAcks: kafka.RequireAll,
				Transport:    &kafka.Transport{TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, SASL: mech}}
			var msgs []kafka.Message
			for _, v := range h.Records(300) {
				msgs = append(msgs, kafka.Message{Value: v})
			}
			if err := w.WriteMessages(context.Background(), msgs...); err != nil {
				t.Fatalf("produce over TLS+SASL: %v", err)
			}
			w.Close()

			passwordFile := filepath.Join(t.TempDir(), "password")
			if err := os.WriteFile(passwordFile, []byte("s3cret-"+tc.mechanism+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := h.Config("secure")
			cfg.Kafka.TLS = config.TLS{Enabled: true, CAFile: caFile}
			cfg.Kafka.SASL = config.SASL{Mechanism: tc.mechanism, Username: "flagstream", PasswordFile: passwordFile}
			cfg.Kafka.SASL.Password = config.NewSecret("s3cret-" + tc.mechanism)
			in := start(t, cfg)
			testkit.WaitFor(t, 60*time.Second, "all records committed", func() bool { return in.counter("flagstream_records_committed_total") >= 300 })
			if err := in.Stop(t); err != nil {
				t.Fatal(err)
			}
			// The test's own reads use plaintext, which this broker refuses,
			// so the tasks are counted from the metrics.
			if got, want := in.counter("flagstream_review_tasks_emitted_total"), float64(h.TasksExpected()); got != want {
				t.Errorf("review tasks: got %v, want %v", got, want)
			}
		})
	}
}

// TestRunWrongPasswordNeverReady checks that bad credentials keep the
// instance unready instead of consuming.
func TestRunWrongPasswordNeverReady(t *testing.T) {
	h := testkit.New(t, devbroker.Config{Users: []devbroker.User{{Mechanism: "SCRAM-SHA-256", Name: "flagstream", Password: "right"}}}, synth.Config{})
	cfg := h.Config("wrong")
	cfg.Kafka.SASL = config.SASL{Mechanism: "scram-sha-256", Username: "flagstream", Password: config.NewSecret("wrong")}
	in := start(t, cfg)
	testkit.WaitFor(t, 30*time.Second, "two consumer errors counted for a wrong password", func() bool {
		return in.counter("flagstream_kafka_consumer_errors_total") >= 2 // it tried again, and failed again
	})
	time.Sleep(time.Second) // time to join, were it going to
	if in.counter("flagstream_kafka_consumer_group_joined") != 0 {
		t.Error("joined the group with a wrong password")
	}
	in.Stop(t)
}

func testMechanism(name, user, pass string) (sasl.Mechanism, error) {
	switch name {
	case "plain":
		return plain.Mechanism{Username: user, Password: pass}, nil
	case "scram-sha-256":
		return scram.Mechanism(scram.SHA256, user, pass)
	}
	return scram.Mechanism(scram.SHA512, user, pass)
}
