package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"flagstream/internal/dev/demo"
)

const demoDescription = `
Demo runs flagstream end to end with nothing installed: an embedded
Kafka-protocol broker, the example demands of deploy/examples/lists, a
synthetic stream of tweets (API v1.1 and v2; about 1% name a listed account,
hashtag, phrase or domain, some in evasive spellings; a few malformed
records), the real pipeline, and its metrics on http://127.0.0.1:9464.
It prints a live summary and the first review tasks, and stops after
--duration or at Ctrl-C. For development and trying flagstream out, not
for production.`

const demoExamples = `
  flagstream demo
  flagstream demo --duration 1m --rate 50000
  flagstream demo --lists deploy/examples/lists --show 5 --verbose`

func newDemoCommand(env *Env) *cobra.Command {
	var (
		duration   time.Duration
		rate, show int
		listen     string
		listsDir   string
		verbose    bool
	)
	cmd := &cobra.Command{
		Use:     "demo [--duration DURATION] [--rate N] [flags]",
		Short:   "self-contained demo: embedded broker, sample lists, synthetic traffic",
		Long:    demoDescription,
		Example: demoExamples,
		Args:    noArgs,
	}
	fs := cmd.Flags()
	fs.DurationVar(&duration, "duration", 20*time.Second, "how long to produce tweets")
	fs.IntVar(&rate, "rate", 20000, "tweets produced per second (0: as fast as possible)")
	fs.StringVar(&listen, "http", "127.0.0.1:9464", "serve /metrics on `ADDR` (a free port if taken)")
	fs.StringVar(&listsDir, "lists", "", "use the demand lists in `DIR` instead of the embedded examples")
	fs.IntVar(&show, "show", 2, "review tasks to print in full")
	fs.BoolVarP(&verbose, "verbose", "v", false, "log the pipeline's messages")
	cmd.MarkFlagDirname("lists")
	cmd.RunE = runE(func(ctx context.Context, _ []string) error {
		if duration <= 0 || rate < 0 {
			return usagef("demo: --duration must be positive and --rate not negative")
		}
		level := slog.LevelWarn
		if verbose {
			level = slog.LevelInfo
		}
		_, err := demo.Run(ctx, demo.Options{
			Duration:   duration,
			Rate:       rate,
			HTTPListen: listen,
			ListsDir:   listsDir,
			ShowTasks:  show,
			Out:        env.Stdout,
			Logger:     slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level})),
		})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		return nil
	})
	return cmd
}
