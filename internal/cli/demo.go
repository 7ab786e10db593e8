package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"flagstream/internal/dev/demo"
)

const demoDescription = `
Demo runs flagstream end to end with nothing installed: an embedded
Kafka-protocol broker, the example demands of deploy/examples/lists, a
synthetic stream of tweets (API v1.1 and v2; about 1% name a listed account,
hashtag, phrase or domain, some in evasive spellings; a few malformed
records), the real pipeline, and its metrics on http://127.0.0.1:9464.
It prints a live summary and the first review tasks, and stops after
--duration or at Ctrl-C.`

func demoCommand(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "demo", "demo [--duration D] [--rate N]", demoDescription)
	duration := fs.Duration("duration", 20*time.Second, "how long to produce tweets")
	rate := fs.Int("rate", 20000, "tweets produced per second (0: as fast as possible)")
	listen := fs.String("http", "127.0.0.1:9464", "admin address for /metrics (a free port if taken)")
	listsDir := fs.String("lists", "", "demand lists to use instead of the embedded examples")
	show := fs.Int("show", 2, "review tasks to print in full")
	verbose := fs.Bool("v", false, "log the pipeline's messages")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *duration <= 0 || *rate < 0 {
		return usagef("demo: --duration must be positive and --rate not negative")
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	_, err := demo.Run(ctx, demo.Options{
		Duration:   *duration,
		Rate:       *rate,
		HTTPListen: *listen,
		ListsDir:   *listsDir,
		ShowTasks:  *show,
		Out:        env.Stdout,
		Logger:     slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}
