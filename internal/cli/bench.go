package cli

import (
	"context"
	"fmt"

	"flagstream/internal/dev/bench"
)

const benchDescription = `
Bench measures flagstream run's throughput on this machine against a
baseline on the same broker and data: a bare kafka-go consumer group that
only fetches and commits. It starts an in-process broker, produces synthetic
API v1.1 tweets (about 780 bytes, 1% naming one of the listed handles),
then runs the contenders in alternating order, each with a fresh consumer
group: the baseline and flagstream run. It prints every run with its
throughput and the process's CPU time per record, then the medians and the
ratio to the baseline.

The broker runs in the same process and takes a share of the CPU in every
contender's runs alike.`

func benchCommand(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench", "bench [--records N] [--runs N]", benchDescription)
	records := fs.Int("records", 500000, "tweets in the topic")
	runs := fs.Int("runs", 5, "runs of each contender")
	partitions := fs.Int("partitions", 4, "partitions of the topic")
	handles := fs.Int("handles", 1000, "handles in the benchmark demand")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *records < 1 || *runs < 1 || *partitions < 1 || *handles < 1 {
		return usagef("bench: every count must be positive")
	}
	_, err := bench.Run(ctx, bench.Options{Records: *records, Runs: *runs, Partitions: *partitions, Handles: *handles, Out: env.Stdout})
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
