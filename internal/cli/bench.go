package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

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
contender's runs alike. For development, not for production.`

const benchExamples = `
  flagstream bench
  flagstream bench --records 200000 --runs 3 --partitions 8`

func newBenchCommand(env *Env) *cobra.Command {
	var records, runs, partitions, handles int
	cmd := &cobra.Command{
		Use:     "bench [--records N] [--runs N] [flags]",
		Short:   "measure run's throughput against a bare kafka-go consumer on the same broker",
		Long:    benchDescription,
		Example: benchExamples,
		Args:    noArgs,
	}
	fs := cmd.Flags()
	fs.IntVar(&records, "records", 500000, "tweets in the topic")
	fs.IntVar(&runs, "runs", 5, "runs of each contender")
	fs.IntVar(&partitions, "partitions", 4, "partitions of the topic")
	fs.IntVar(&handles, "handles", 1000, "handles in the benchmark demand")
	cmd.RunE = runE(func(ctx context.Context, _ []string) error {
		if records < 1 || runs < 1 || partitions < 1 || handles < 1 {
			return usagef("bench: every count must be positive")
		}
		_, err := bench.Run(ctx, bench.Options{Records: records, Runs: runs, Partitions: partitions, Handles: handles, Out: env.Stdout})
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		return nil
	})
	return cmd
}
