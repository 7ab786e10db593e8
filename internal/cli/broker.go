package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"

	"flagstream/internal/dev/devbroker"
)

const brokerDescription = `
Broker runs a single-node Kafka-protocol broker (franz-go's kfake) for local
development and tests. Any Kafka client can use it: flagstream run, kcat,
kafka-go, franz-go. It is NOT a production broker: one node, no replication,
and everything is lost when it stops unless --data-dir is given.

It runs until interrupted.`

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func brokerCommand(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "broker", "broker --listen ADDR [--partitions N] [--topics a,b]", brokerDescription)
	listen := fs.String("listen", "127.0.0.1:9092", "host:port to listen on (port 0 picks one)")
	partitions := fs.Int("partitions", 4, "partitions of each topic created")
	topics := fs.String("topics", "tweets,review-tasks,tweets-dlq", "topics to create, comma-separated")
	dataDir := fs.String("data-dir", "", "keep data in this directory so a restart resumes it")
	var users stringList
	fs.Var(&users, "sasl-user", "require SASL with this user: MECHANISM:USER:PASSWORD (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); repeatable")
	certFile := fs.String("tls-cert", "", "serve TLS with this PEM certificate")
	keyFile := fs.String("tls-key", "", "PEM key of --tls-cert")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *partitions < 1 {
		return usagef("broker: --partitions must be at least 1")
	}
	cfg := devbroker.Config{Listen: *listen, Partitions: *partitions, DataDir: *dataDir}
	for _, t := range strings.Split(*topics, ",") {
		if t = strings.TrimSpace(t); t != "" {
			cfg.Topics = append(cfg.Topics, t)
		}
	}
	for _, u := range users {
		parts := strings.SplitN(u, ":", 3)
		if len(parts) != 3 {
			return usagef("broker: --sasl-user %q is not MECHANISM:USER:PASSWORD", u)
		}
		mech := strings.ToUpper(parts[0])
		switch mech {
		case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		default:
			return usagef("broker: --sasl-user mechanism %q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", parts[0])
		}
		cfg.Users = append(cfg.Users, devbroker.User{Mechanism: mech, Name: parts[1], Password: parts[2]})
	}
	if (*certFile == "") != (*keyFile == "") {
		return usagef("broker: --tls-cert and --tls-key go together")
	}
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return usagef("broker: %v", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	b, err := devbroker.Start(cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	durable := "in memory: data is lost when it stops"
	if *dataDir != "" {
		durable = "data in " + *dataDir
	}
	fmt.Fprintf(env.Stderr, "flagstream broker: listening on %s (development only: single node, %s); topics %s with %d partitions\n",
		b.Addr(), durable, strings.Join(cfg.Topics, ","), *partitions)
	fmt.Fprintf(env.Stdout, "%s\n", b.Addr())
	<-ctx.Done()
	fmt.Fprintln(env.Stderr, "flagstream broker: stopping")
	return nil
}
