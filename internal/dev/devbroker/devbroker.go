// Package devbroker runs a single-node, in-process Kafka-protocol broker
// (franz-go's kfake) for development, the demo and tests. Any Kafka client
// (kafka-go, kcat, franz-go) can talk to it. It is not a production broker:
// one node, no replication, and data kept in memory unless a data directory
// is given.
package devbroker

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Config configures a broker.
type Config struct {
	// Listen is host:port; port 0 picks a free port.
	Listen     string
	Partitions int
	Topics     []string
	// DataDir, when set, keeps topics, records and committed offsets on
	// disk so that a restart on the same directory resumes them.
	DataDir string
	// TLS, when set, makes the broker accept only TLS connections.
	TLS *tls.Config
	// Users, when not empty, turns on SASL: each is a mechanism (PLAIN,
	// SCRAM-SHA-256 or SCRAM-SHA-512), a user name and a password.
	Users []User
}

// User is a SASL user of the broker.
type User struct {
	Mechanism, Name, Password string
}

// Broker is a running broker.
type Broker struct {
	c    *kfake.Cluster
	addr string
}

// Start starts a broker.
func Start(cfg Config) (*Broker, error) {
	host, portText, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("broker listen address %q: %w", cfg.Listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("broker listen address %q: bad port", cfg.Listen)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	partitions := cfg.Partitions
	if partitions <= 0 {
		partitions = 1
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
		kfake.DefaultNumPartitions(partitions),
		kfake.AllowAutoTopicCreation(),
		kfake.GroupMinSessionTimeout(1e9),
	}
	if len(cfg.Topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(partitions), cfg.Topics...))
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir), kfake.SyncWrites())
	}
	if cfg.TLS != nil {
		opts = append(opts, kfake.TLS(cfg.TLS))
	}
	if len(cfg.Users) > 0 {
		opts = append(opts, kfake.EnableSASL())
		for _, u := range cfg.Users {
			opts = append(opts, kfake.Superuser(u.Mechanism, u.Name, u.Password))
		}
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	return &Broker{c: c, addr: c.ListenAddrs()[0]}, nil
}

// Addr returns the host:port clients connect to.
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker; without a data directory its data is gone.
func (b *Broker) Close() { b.c.Close() }

// RefuseProduce makes the broker answer every produce request to topic
// with an error (NOT_ENOUGH_REPLICAS, a retriable one) until the returned
// function is called. Tests use it to check back-pressure.
func (b *Broker) RefuseProduce(topic string) (restore func()) {
	var stopped atomic.Bool
	b.c.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		if stopped.Load() {
			b.c.DropControl()
			return nil, nil, false
		}
		b.c.KeepControl()
		req := kreq.(*kmsg.ProduceRequest)
		refused := false
		for _, t := range req.Topics {
			if t.Topic == topic {
				refused = true
			}
		}
		if !refused {
			return nil, nil, false
		}
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, t := range req.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition = p.Partition
				rp.ErrorCode = kerr.NotEnoughReplicas.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
	return func() { stopped.Store(true) }
}
