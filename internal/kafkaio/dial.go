// Package kafkaio adapts segmentio/kafka-go to the pipeline: GroupSource,
// flagstream's one consumer, which consumes tweets in a consumer group and
// commits offsets only when the pipeline says a batch is written, and Sink,
// which produces review tasks and dead letters with acks=all, retrying
// until the broker takes them. Both push their Metrics as events happen.
// Records are fetched over connections of the package's own, whose fetch
// responses it reads in place (wireClient, appendRecordBatches).
package kafkaio

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"flagstream/config"
)

// Connection is how to reach and authenticate to the cluster, shared by
// the consumer and the producer.
type Connection struct {
	Brokers     []string
	ClientID    string
	TLS         *tls.Config // nil: plaintext
	SASL        sasl.Mechanism
	DialTimeout time.Duration
}

// NewConnection builds a Connection from the configuration, reading the
// TLS files it names.
func NewConnection(c config.Kafka) (Connection, error) {
	conn := Connection{Brokers: c.Brokers, ClientID: c.ClientID, DialTimeout: c.DialTimeout}
	if c.TLS.Enabled {
		t, err := tlsConfig(c.TLS)
		if err != nil {
			return conn, fmt.Errorf("kafka.tls: %w", err)
		}
		conn.TLS = t
	}
	if c.SASL.Mechanism != "" {
		m, err := saslMechanism(c.SASL)
		if err != nil {
			return conn, fmt.Errorf("kafka.sasl: %w", err)
		}
		conn.SASL = m
	}
	return conn, nil
}

func tlsConfig(c config.TLS) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify} // #nosec G402 -- opt-in, documented as testing only
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate found", c.CAFile)
		}
		t.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("cert_file/key_file: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

func saslMechanism(c config.SASL) (sasl.Mechanism, error) {
	password := c.Password.Value()
	switch c.Mechanism {
	case "plain":
		return plain.Mechanism{Username: c.Username, Password: password}, nil
	case "scram-sha-256":
		return scram.Mechanism(scram.SHA256, c.Username, password)
	case "scram-sha-512":
		return scram.Mechanism(scram.SHA512, c.Username, password)
	}
	return nil, fmt.Errorf("unknown mechanism %q", c.Mechanism)
}

// dialer returns the consumer's dialer.
func (c Connection) dialer() *kafka.Dialer {
	return &kafka.Dialer{
		ClientID:      c.ClientID,
		Timeout:       c.DialTimeout,
		DualStack:     true,
		TLS:           c.TLS,
		SASLMechanism: c.SASL,
		KeepAlive:     30 * time.Second,
	}
}

// transport returns the producer's transport.
func (c Connection) transport() *kafka.Transport {
	return &kafka.Transport{
		ClientID:    c.ClientID,
		DialTimeout: c.DialTimeout,
		TLS:         c.TLS,
		SASL:        c.SASL,
		Dial:        (&net.Dialer{Timeout: c.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
	}
}
