package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"flagstream/internal/dev/bench"
)

const benchDescription = `
Bench measures flagstream run's throughput on this machine against a
baseline, the way the independent measurement does: it starts
'flagstream broker' in a process of its own, produces synthetic API v1.1
tweets to it (1% naming #FarmerGenocide or one of the listed handles, key =
tweet id), then runs in alternating rounds, each contender in its own
process with a fresh consumer group: the bare kafka-go consumer group (a
kafka.Reader that only fetches and commits) and 'flagstream run' itself
with a generated config, each round with state topics of its own
(bindings, case state and evidence, retro progress), as a fresh
deployment. Before the rounds the baseline reads the topic once, not
counted: the first read after producing is the slow one.

The baseline's rate is taken from its second record on; flagstream run's
from flagstream_tweets_processed_total between its first non-zero reading
and the last record. Each round prints both rates, the CPU time per record
of each contender's process alone (/proc/PID/stat), flagstream's review
tasks and peak memory; then the medians, their ranges, the ratio of the
medians and the rounds' ratios, and a note when the spread is too wide to
trust the ratio. A busy machine moves wall-clock rates more than CPU time
per record: compare both.

--features turns on what the final measurement must include: cases
(scope: user and cases.topic), exemptions (an exemption file), breaker
(limits.demand_tasks_per_minute) and texts (a demand of --texts known
texts). For development, not for production.`

const benchExamples = `
  flagstream bench
  flagstream bench --records 1000000 --runs 5 --features all --json bench.json
  flagstream bench --records 200000 --runs 3 --partitions 8 --handles 10000`

func newBenchCommand(env *Env) *cobra.Command {
	var (
		opts              bench.Options
		features, binary  string
		jsonPath          string
		records, runs     int
		partitions, texts int
		handles           int
	)
	cmd := &cobra.Command{
		Use:     "bench [--records N] [--runs N] [--features LIST] [flags]",
		Short:   "measure run's throughput against a bare kafka-go consumer, each in its own process",
		Long:    benchDescription,
		Example: benchExamples,
		Args:    noArgs,
	}
	fs := cmd.Flags()
	fs.IntVar(&records, "records", 1_000_000, "tweets in the topic")
	fs.IntVar(&runs, "runs", 5, "rounds: each contender runs once per round, in alternating order")
	fs.IntVar(&partitions, "partitions", 4, "partitions of the topics")
	fs.IntVar(&handles, "handles", 1000, "handles in the benchmark demand, beside its hashtag")
	fs.StringVar(&features, "features", "none", "turn on `LIST`: cases, exemptions, breaker, texts, all or none")
	fs.IntVar(&texts, "texts", 1000, "known texts of the texts feature")
	fs.StringVar(&jsonPath, "json", "", "also write the results as JSON to `FILE`")
	fs.StringVar(&binary, "binary", "", "run the broker, baseline and run of the flagstream binary `FILE` (default: this one)")
	cmd.MarkFlagFilename("json", "json")
	cmd.RunE = runE(func(ctx context.Context, _ []string) error {
		if records < 100 || runs < 1 || partitions < 1 || handles < 1 || texts < 1 {
			return usagef("bench: every count must be positive, and --records at least 100")
		}
		f, err := bench.ParseFeatures(features)
		if err != nil {
			return usagef("bench: --features: %v", err)
		}
		if binary == "" {
			if binary, err = os.Executable(); err != nil {
				return fmt.Errorf("bench: %w", err)
			}
		}
		opts = bench.Options{Records: records, Runs: runs, Partitions: partitions, Handles: handles,
			Features: f, Texts: texts, Binary: binary, Out: env.Stdout}
		res, err := bench.Run(ctx, opts)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		if jsonPath != "" {
			data, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(jsonPath, append(data, '\n'), 0o644); err != nil {
				return fmt.Errorf("bench: %w", err)
			}
		}
		return nil
	})
	return cmd
}

// newBenchConsumerCommand is the hidden command that bench runs as its
// baseline: the bare kafka-go consumer group, in a process of its own.
func newBenchConsumerCommand(env *Env) *cobra.Command {
	var cfg bench.ConsumerConfig
	var brokers string
	cmd := &cobra.Command{
		Use:    "bench-consumer --brokers ADDR --topic TOPIC --group GROUP --records N",
		Short:  "the bare kafka-go consumer group that bench measures run against",
		Hidden: true,
		Args:   noArgs,
	}
	fs := cmd.Flags()
	fs.StringVar(&brokers, "brokers", "127.0.0.1:9092", "the brokers, `ADDR,...`")
	fs.StringVar(&cfg.Topic, "topic", "tweets", "read `TOPIC`")
	fs.StringVar(&cfg.Group, "group", "bench-consumer", "in the consumer group `GROUP`")
	fs.IntVar(&cfg.Records, "records", 1_000_000, "read `N` records, then print the result as JSON")
	cmd.RunE = runE(func(ctx context.Context, _ []string) error {
		cfg.Brokers = strings.Split(brokers, ",")
		if cfg.Records < 2 {
			return usagef("bench-consumer: --records must be at least 2")
		}
		res, err := bench.Consume(ctx, cfg)
		if err != nil {
			return err
		}
		return json.NewEncoder(env.Stdout).Encode(res)
	})
	return cmd
}
