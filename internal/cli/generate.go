package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"flagstream/internal/dev/demo"
	"flagstream/internal/dev/synth"
	"flagstream/internal/lists"
)

const generateDescription = `
Generate writes synthetic tweets as NDJSON to standard output, for load
tests and end-to-end checks: API v1.1 tweets of realistic size, some API v2
responses, a share naming the handles, hashtags, phrases and domains of the
demands in --lists (plainly or in evasive spellings), and a few malformed
records. The same seed gives the same output.

With --expect FILE it also writes, as JSON, how many records of each kind it
wrote and the ids of the tweets that name a listed entry: every one of them
must get a review task from a scan at the same --at time, except, with
cases on, those listed under "accounts" (they name a listed handle: for a
scope: user demand they are evidence for its case). Only the demands
active at that time (not rescinded, pending or expired) are named. Each
listed handle's posts come from one user id, so that flagstream can bind
the handle to it.`

const generateExamples = `
  flagstream generate --lists deploy/examples/lists --count 100000 > tweets.ndjson

  # A reproducible sample and what a scan of it must flag
  flagstream generate --lists deploy/examples/lists --seed 7 --flag-rate 0.05 --expect expect.json > tweets.ndjson`

func newGenerateCommand(env *Env) *cobra.Command {
	var (
		listsDir, expect, at                         string
		count                                        int
		seed                                         uint64
		flagRate, evasiveRate, malformedRate, v2Rate float64
	)
	cmd := &cobra.Command{
		Use:     "generate --lists DIR [--count N] [--expect FILE] [flags]",
		Short:   "write synthetic tweets as NDJSON for load tests and end-to-end checks",
		Long:    generateDescription,
		Example: generateExamples,
		Args:    noArgs,
	}
	fs := cmd.Flags()
	fs.StringVar(&listsDir, "lists", "", "name the entries of the demand lists in `DIR` (required)")
	fs.IntVar(&count, "count", 10000, "records to write")
	fs.Uint64Var(&seed, "seed", 1, "random seed")
	fs.Float64Var(&flagRate, "flag-rate", 0.01, "share of tweets naming a listed entry plainly, a `FRACTION`")
	fs.Float64Var(&evasiveRate, "evasive-rate", 0.005, "share naming one in an evasive spelling, a `FRACTION`")
	fs.Float64Var(&malformedRate, "malformed-rate", 0.005, "share of malformed records, a `FRACTION`")
	fs.Float64Var(&v2Rate, "v2-rate", 0.2, "share of well-formed records written as API v2 responses, a `FRACTION`")
	fs.StringVar(&expect, "expect", "", "write the expected outcome to `FILE` as JSON")
	fs.StringVar(&at, "at", "", "name only the demands active at `TIME` (YYYY-MM-DD or RFC 3339) instead of now")
	cmd.MarkFlagDirname("lists")
	cmd.MarkFlagFilename("expect")
	cmd.RunE = runE(func(_ context.Context, _ []string) error {
		if listsDir == "" {
			return usagef("generate: --lists is required")
		}
		at, err := atTime("generate", at)
		if err != nil {
			return err
		}
		demands, _, err := lists.Parse(listsDir)
		if err != nil {
			return inputError(fmt.Errorf("lists: %w", err))
		}
		cfg := synth.Config{Seed: seed, FlagRate: flagRate, EvasiveRate: evasiveRate, MalformedRate: malformedRate, V2Rate: v2Rate}
		demo.NameEntries(&cfg, demands, at)
		gen := synth.New(cfg)
		w := bufio.NewWriterSize(env.Stdout, 256<<10)
		var outcome synth.Expectation
		var buf []byte
		for range count {
			var kind synth.Kind
			buf, kind = gen.Next(buf[:0])
			if err := outcome.Note(buf, kind); err != nil {
				return err
			}
			if a, ok := gen.LastAccount(); ok {
				outcome.NoteAccount(a)
			}
			w.Write(buf)
			w.WriteByte('\n')
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if expect != "" {
			data, err := json.MarshalIndent(outcome, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(expect, data, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	return cmd
}
