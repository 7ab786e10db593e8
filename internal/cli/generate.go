package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"

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
must get a review task from a scan at the same --at time. Only the demands
active at that time (not rescinded, pending or expired) are named.`

func generateCommand(_ context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "generate", "generate --lists DIR [--count N] [--expect FILE]", generateDescription)
	listsDir := fs.String("lists", "", "demand lists whose entries flagged tweets name (required)")
	count := fs.Int("count", 10000, "records to write")
	seed := fs.Uint64("seed", 1, "random seed")
	flagRate := fs.Float64("flag-rate", 0.01, "share of tweets naming a listed entry plainly")
	evasiveRate := fs.Float64("evasive-rate", 0.005, "share naming one in an evasive spelling")
	malformedRate := fs.Float64("malformed-rate", 0.005, "share of malformed records")
	v2Rate := fs.Float64("v2-rate", 0.2, "share of well-formed records written as API v2 responses")
	expect := fs.String("expect", "", "write the expected outcome here as JSON")
	atFlag := fs.String("at", "", "name only the demands active at this time (YYYY-MM-DD or RFC 3339) instead of now")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *listsDir == "" {
		fs.Usage()
		return usagef("generate: --lists is required")
	}
	at, err := atTime("generate", *atFlag)
	if err != nil {
		return err
	}
	demands, _, err := lists.Parse(*listsDir)
	if err != nil {
		return usageError(fmt.Errorf("lists: %w", err))
	}
	cfg := synth.Config{Seed: *seed, FlagRate: *flagRate, EvasiveRate: *evasiveRate, MalformedRate: *malformedRate, V2Rate: *v2Rate}
	demo.NameEntries(&cfg, demands, at)
	gen := synth.New(cfg)
	w := bufio.NewWriterSize(env.Stdout, 256<<10)
	var outcome synth.Expectation
	var buf []byte
	for range *count {
		var kind synth.Kind
		buf, kind = gen.Next(buf[:0])
		if err := outcome.Note(buf, kind); err != nil {
			return err
		}
		w.Write(buf)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if *expect != "" {
		data, err := json.MarshalIndent(outcome, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*expect, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
