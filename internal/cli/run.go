package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"flagstream/config"
	"flagstream/internal/app"
)

const runDescription = `
Run consumes tweets from a Kafka topic in a consumer group, matches them
against the demand lists, and produces one review task per flagged tweet to
the output topic (key = tweet id) and every record it cannot process to the
dead-letter topic. Offsets are committed only once the tasks and dead letters
of a record, and of every record before it, are acknowledged (acks=all).
Metrics, health and a lists reload endpoint are served on http.listen.

Every setting comes from, in order of precedence: a flag (--kafka.brokers),
an environment variable (FLAGSTREAM_KAFKA_BROKERS), the config file, the
default. The SASL password comes only from kafka.sasl.password_file or
FLAGSTREAM_KAFKA_SASL_PASSWORD.

SIGTERM or SIGINT stops fetching, finishes and writes the batches in flight,
commits, leaves the group and exits 0; a second signal exits at once. SIGHUP
reloads the lists.

Exit status: 0 after a clean stop, 2 for bad flags, config or lists, 1 for a
runtime failure.`

func runCommand(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "run", "run [--config FILE] [--print-config] [--KEY VALUE]...", runDescription)
	configPath := fs.String("config", "", "YAML config file [$FLAGSTREAM_CONFIG]")
	printConfig := fs.Bool("print-config", false, "print the effective configuration (secrets redacted) and exit")
	applyFlags := config.Flags(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run: unexpected argument %q", fs.Arg(0))
	}
	path := *configPath
	if path == "" {
		path = env.Getenv("FLAGSTREAM_CONFIG")
	}
	cfg, err := config.Load(path, env.Getenv, applyFlags)
	if err != nil {
		return usageError(err)
	}
	if *printConfig {
		out, err := config.Marshal(&cfg)
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(out)
		return err
	}
	if cpus := app.ReserveProcs(env.Getenv); cfg.Pipeline.Workers == 0 {
		cfg.Pipeline.Workers = cpus
	}
	v, rev := version()
	err = app.Run(ctx, cfg, app.Options{
		Logger:   newLogger(cfg.Log, env.Stderr),
		Reload:   env.Reload,
		Version:  v,
		Revision: rev,
	})
	if app.IsUsage(err) {
		return usageError(err)
	}
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	return nil
}

// newLogger returns a slog logger writing JSON, or text on a terminal.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch c.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" || (c.Format == "auto" && isTerminal(w)) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
