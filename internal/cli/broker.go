package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"flagstream/config"
	"flagstream/internal/dev/devbroker"
)

const brokerDescription = `
Broker runs a single-node Kafka-protocol broker (franz-go's kfake) for local
development and tests. Any Kafka client can use it: flagstream run, kcat,
kafka-go, franz-go. It is NOT a production broker: one node, no replication,
and everything is lost when it stops unless --data-dir is given.

It prints its address on standard output and runs until interrupted.`

const brokerExamples = `
  flagstream broker --listen 127.0.0.1:9092 --partitions 4
  flagstream broker --listen 127.0.0.1:0 --topics tweets,review-tasks,tweets-dlq --data-dir /tmp/flagstream-broker

  # With SASL/SCRAM and TLS, as a production cluster would ask
  flagstream broker --sasl-user SCRAM-SHA-256:reviewer:s3cret --tls-cert broker.pem --tls-key broker-key.pem`

func newBrokerCommand(env *Env) *cobra.Command {
	var (
		listen, topics, dataDir string
		certFile, keyFile       string
		partitions              int
		users                   []string
	)
	cmd := &cobra.Command{
		Use:     "broker --listen ADDR [--partitions N] [--topics TOPIC,...] [flags]",
		Short:   "single-node Kafka-protocol broker for development and tests (not durable)",
		Long:    brokerDescription,
		Example: brokerExamples,
		Args:    noArgs,
	}
	fs := cmd.Flags()
	defaults := config.Default()
	fs.StringVar(&listen, "listen", "127.0.0.1:9092", "listen on `ADDR`, host:port (port 0 picks one)")
	fs.IntVar(&partitions, "partitions", 4, "partitions of each topic created")
	// By default the topics that flagstream run reads and writes with its
	// default settings (the shadow and cases topics among them), so that a
	// run against the broker never writes to a topic that does not exist;
	// run creates the topics it owns itself.
	fs.StringVar(&topics, "topics", strings.Join(defaults.Topics(), ","), "create the topics `TOPIC,...`")
	fs.StringVar(&dataDir, "data-dir", "", "keep data in `DIR` so a restart resumes it")
	fs.StringArrayVar(&users, "sasl-user", nil, "require SASL with this user: `MECHANISM:USER:PASSWORD` (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); repeatable")
	fs.StringVar(&certFile, "tls-cert", "", "serve TLS with the PEM certificate in `FILE`")
	fs.StringVar(&keyFile, "tls-key", "", "PEM key of --tls-cert in `FILE`")
	cmd.MarkFlagDirname("data-dir")
	cmd.MarkFlagFilename("tls-cert")
	cmd.MarkFlagFilename("tls-key")
	cmd.RunE = runE(func(ctx context.Context, _ []string) error {
		if partitions < 1 {
			return usagef("broker: --partitions must be at least 1")
		}
		cfg := devbroker.Config{Listen: listen, Partitions: partitions, DataDir: dataDir}
		for _, t := range strings.Split(topics, ",") {
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
		if (certFile == "") != (keyFile == "") {
			return usagef("broker: --tls-cert and --tls-key go together")
		}
		if certFile != "" {
			cert, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return inputError(fmt.Errorf("broker: %w", err))
			}
			cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
		b, err := devbroker.Start(cfg)
		if err != nil {
			return err
		}
		defer b.Close()
		durable := "in memory: data is lost when it stops"
		if dataDir != "" {
			durable = "data in " + dataDir
		}
		fmt.Fprintf(env.Stderr, "flagstream broker: listening on %s (development only: single node, %s); topics %s with %d partitions\n",
			b.Addr(), durable, strings.Join(cfg.Topics, ","), partitions)
		fmt.Fprintf(env.Stdout, "%s\n", b.Addr())
		<-ctx.Done()
		fmt.Fprintln(env.Stderr, "flagstream broker: stopping")
		return nil
	})
	return cmd
}
