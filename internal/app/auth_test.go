package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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

// TestRunTLSAndSASL runs the pipeline against a broker that requires TLS
// and SASL, with each SASL mechanism, the password read from a file.
func TestRunTLSAndSASL(t *testing.T) {
	for _, tc := range []struct{ mechanism, kfake string }{
		{"plain", "PLAIN"},
		{"scram-sha-256", "SCRAM-SHA-256"},
		{"scram-sha-512", "SCRAM-SHA-512"},
	} {
		t.Run(tc.mechanism, func(t *testing.T) {
			serverTLS, caFile := testkit.SelfSigned(t)
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
