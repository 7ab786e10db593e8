package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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

Each setting below comes from a flag, an environment variable, the config
file or its default. The SASL password has no flag: it comes only from
kafka.sasl.password_file or FLAGSTREAM_KAFKA_SASL_PASSWORD.

SIGTERM or SIGINT stops fetching, finishes and writes the batches in flight,
commits, leaves the group and exits 0; a second signal exits at once. SIGHUP
reloads the lists.

Exit status: 0 after a clean stop, 2 for bad flags, config or lists, 1 for a
runtime failure.`

const runExamples = `
  # The example config, with settings given as flags
  flagstream run --config deploy/examples/config.yaml --log.level debug --http.listen :9464

  # Settings from the environment only (FLAGSTREAM_<KEY>), printed, not run
  FLAGSTREAM_KAFKA_BROKERS=kafka-1:9092,kafka-2:9092 flagstream run --print-config`

const runSettingsTitle = `Settings: every one is also the config file's key and the variable
FLAGSTREAM_<KEY> (--kafka.brokers: kafka.brokers, FLAGSTREAM_KAFKA_BROKERS);
a flag wins over the variable, the variable over the file, the file over
the default.`

// configFlag adds --config FILE, the settings' file, to cmd (run, retro).
func configFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "config", "", "read settings from the YAML config `FILE` [$FLAGSTREAM_CONFIG]")
	cmd.MarkFlagFilename("config", "yaml", "yml")
}

// loadConfig loads the settings of a command with configFlag: the file
// path, else $FLAGSTREAM_CONFIG, then the environment and applyFlags. A
// failure is an input error.
func loadConfig(env *Env, path string, applyFlags func(*config.Config) error) (config.Config, error) {
	if path == "" {
		path = env.Getenv("FLAGSTREAM_CONFIG")
	}
	cfg, err := config.Load(path, env.Getenv, applyFlags)
	if err != nil {
		return cfg, inputError(err)
	}
	return cfg, nil
}

// settingsFlags adds a flag for each setting (--KEY VALUE) to cmd, grouped
// by config section in its help, and returns what applies them.
func settingsFlags(cmd *cobra.Command) (applyFlags func(*config.Config) error) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[sectionAnnotation] = runSettingsTitle
	cmd.Annotations[sectionOrderAnnotation] = strings.Join(config.Sections(), " ")
	settings := pflag.NewFlagSet("settings", pflag.ContinueOnError)
	applyFlags = config.Flags(settings)
	settings.VisitAll(func(f *pflag.Flag) {
		section, _, _ := strings.Cut(f.Name, ".")
		settings.SetAnnotation(f.Name, sectionAnnotation, []string{section})
	})
	cmd.Flags().AddFlagSet(settings)
	return applyFlags
}

func newRunCommand(env *Env) *cobra.Command {
	var (
		configPath  string
		printConfig bool
	)
	cmd := &cobra.Command{
		Use:     "run [--config FILE] [--print-config] [--KEY VALUE]...",
		Short:   "consume tweets from Kafka, produce review tasks, serve metrics",
		Long:    runDescription,
		Example: runExamples,
		Args:    noArgs,
	}
	configFlag(cmd, &configPath)
	cmd.Flags().BoolVar(&printConfig, "print-config", false, "print the effective configuration (secrets redacted) and exit")
	applyFlags := settingsFlags(cmd)
	cmd.RunE = runE(func(ctx context.Context, _ []string) error {
		cfg, err := loadConfig(env, configPath, applyFlags)
		if err != nil {
			return err
		}
		if printConfig {
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
			return inputError(err)
		}
		if err != nil {
			return fmt.Errorf("run: %w", err)
		}
		return nil
	})
	return cmd
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
