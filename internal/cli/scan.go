package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"flagstream/config"
	"flagstream/internal/app"
	"flagstream/matchers"
	"flagstream/pipeline"
	"flagstream/pipeline/cases"
	"flagstream/pipeline/decode"
)

const scanDescription = `
Scan reads tweets as NDJSON (one JSON value a line: an API v1.1 tweet, a v1.1
search response, or an API v2 response) from the files named, or from
standard input when none or "-" is named, matches them against the demand
lists in --lists, and writes one review task per flagged tweet to standard
output as NDJSON, in input order. With --demand (repeatable) it matches only
the demands named, as a retro-hunt does; their tasks then report only their
matches, and lists_version is the version of the demands selected.

A line that cannot be processed (broken JSON, invalid UTF-8, not a tweet,
too large) never stops the scan: it is counted, reported on standard error
with its file and line, and copied as it was to --rejects when given.
Demands of scope: user name accounts: a match of one of their account
entries (handles, user_ids, accounts) is evidence for that entry's case, one
case per demand and entry, not part of a review task; a tweet whose matches
are all such evidence makes no task. Scan runs the case processor of
flagstream run in memory, over the lines in input order, and writes its case
events (flagstream.review_case/v1: opened, updated, reassigned), with the
case ids run gives, to --cases FILE; without --cases the cases are only
counted in the summary. A listed handle first seen with a user id binds the
handle to that account: later lines by that account match the entry under
any handle (a rename), and a later post under the listed handle by another
account counts nothing and gives a reassigned event. Updates are due by the
posts' time (--update-interval), and those still pending are written at the
end, so the events depend on the input alone. --no-cases makes account
matches review tasks instead, as flagstream run does with cases.topic "".

Scan governs the demands as flagstream run does. The tasks (and case
events) of a demand in shadow mode are marked "shadow": true; those of an
author (or case account) exempt from a demand are escalated: "exemption",
action escalate, priority critical. A demand that passes its
max_tasks_per_minute (or --demand-tasks-per-minute), counted on the scan's
own clock, trips: its further tasks and case events are marked "shadow" and
"tripped" (so a scan of a backlog trips at once where run would spread the
same tasks over time; with several workers, which tasks pass before the trip
follows processing order, not input order). All of them go to standard
output (and --cases) with the others unless --shadow FILE takes the shadow
and tripped ones, as run's output.shadow_topic does, and --escalation FILE
the escalated ones, as output.escalation_topic does.

A summary goes to standard error at the end, with a progress line while
scanning when standard error is a terminal: percent done and time left when
every input is a regular file, bytes read and rate otherwise.

Exit status: 0 when the scan completed (rejected lines included), 2 for bad
usage or broken lists, 1 for an I/O failure.`

const scanExamples = `
  # Scan a file; flags may come before or after the files
  flagstream scan tweets.ndjson --lists deploy/examples/lists > tasks.ndjson

  # Several files and standard input, keeping the lines that were rejected
  cat more.ndjson | flagstream scan --lists deploy/examples/lists --rejects rejects.ndjson tweets.ndjson - > tasks.ndjson

  # Replay old tweets with the demands as they stood on a date
  flagstream scan --lists deploy/examples/lists --at 2021-03-01 tweets.ndjson

  # Write the cases of listed accounts beside the tasks
  flagstream scan --lists deploy/examples/lists --cases cases.ndjson tweets.ndjson > tasks.ndjson

  # Shadow-mode and tripped demands' tasks apart, every demand tripping past 500 tasks a minute
  flagstream scan --lists deploy/examples/lists --shadow shadow.ndjson --demand-tasks-per-minute 500 tweets.ndjson > tasks.ndjson

  # Only what one demand names (an unknown id is an error, exit 2)
  flagstream scan --lists deploy/examples/lists --demand IN-MEITY-2021-02-04 tweets.ndjson`

// maxReportedRejects bounds the rejection messages on standard error.
const maxReportedRejects = 100

// scanOptions are scan's flags.
type scanOptions struct {
	lists, rejects, at, progress string
	cpuProfile                   string
	demands                      []string
	cases, shadow, escalation    string
	noCases                      bool
	demandTasksPerMinute         int
	updateInterval               time.Duration
	workers, maxRecord           int
	maxTweets, maxText           int
}

func newScanCommand(env *Env) *cobra.Command {
	var o scanOptions
	cmd := &cobra.Command{
		Use:     "scan --lists DIR [--rejects FILE] [--cases FILE] [flags] [FILE|-]...",
		Short:   "offline: NDJSON tweets in, NDJSON review tasks out",
		Long:    scanDescription,
		Example: scanExamples,
		RunE:    runE(func(ctx context.Context, args []string) error { return scan(ctx, env, &o, args) }),
	}
	fs := cmd.Flags()
	fs.StringVar(&o.lists, "lists", "", "match against the demand lists (*.yaml) in `DIR` (required)")
	fs.StringVar(&o.rejects, "rejects", "", "copy rejected lines, as they were, to `FILE`")
	fs.StringVar(&o.cases, "cases", "", "write the case events of scope: user demands' accounts, as NDJSON, to `FILE`")
	fs.StringVar(&o.shadow, "shadow", "", "write the tasks and case events of shadow-mode and tripped demands to `FILE` instead of with the others")
	fs.StringVar(&o.escalation, "escalation", "", "write the escalated tasks and case events of exempt accounts to `FILE` instead of with the others")
	fs.IntVar(&o.demandTasksPerMinute, "demand-tasks-per-minute", 0, "trip a demand past `N` tasks and case events a minute unless its max_tasks_per_minute says otherwise (0: none)")
	fs.BoolVar(&o.noCases, "no-cases", false, "make account matches of scope: user demands review tasks, as run with cases.topic \"\"")
	fs.DurationVar(&o.updateInterval, "update-interval", config.Default().Cases.UpdateInterval, "at most one updated event per case per `INTERVAL` of the posts' time")
	fs.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "matching goroutines")
	fs.StringArrayVar(&o.demands, "demand", nil, "match only the demand with this `ID` (repeatable; default every demand)")
	fs.StringVar(&o.at, "at", "", "evaluate demands' received/expires dates at `TIME` (YYYY-MM-DD or RFC 3339) instead of now")
	fs.IntVar(&o.maxRecord, "max-record-bytes", 4<<20, "longest line accepted; longer lines are rejected without being held in memory")
	fs.IntVar(&o.maxTweets, "max-tweets-per-record", decode.DefaultLimits.MaxTweets, "most tweets one line (search response or v2 page) may carry")
	fs.IntVar(&o.maxText, "max-text-bytes", decode.DefaultLimits.MaxTextBytes, "longest tweet text accepted")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the scan to `FILE`, for go tool pprof")
	progressFlag(cmd, &o.progress)
	cmd.MarkFlagDirname("lists")
	cmd.MarkFlagFilename("rejects")
	cmd.MarkFlagFilename("cases")
	cmd.MarkFlagFilename("shadow")
	cmd.MarkFlagFilename("escalation")
	cmd.MarkFlagFilename("cpuprofile")
	cmd.MarkFlagsMutuallyExclusive("cases", "no-cases")
	return cmd
}

func scan(ctx context.Context, env *Env, o *scanOptions, inputs []string) error {
	if o.lists == "" {
		return usagef("scan: --lists is required")
	}
	if o.updateInterval < 0 {
		return usagef("scan: --update-interval must not be negative")
	}
	if o.demandTasksPerMinute < 0 {
		return usagef("scan: --demand-tasks-per-minute must not be negative")
	}
	if o.workers < 1 || o.maxRecord < 1 || o.maxTweets < 1 || o.maxText < 1 {
		return usagef("scan: --workers, --max-record-bytes, --max-tweets-per-record and --max-text-bytes must be positive")
	}
	at, err := atTime("scan", o.at)
	if err != nil {
		return err
	}
	stderr, status, err := progressOutput("scan", o.progress, env.Stderr)
	if err != nil {
		return err
	}

	for _, d := range o.demands {
		if d == "" {
			return usagef("scan: --demand needs a demand id")
		}
	}
	snap, warnings, err := scanLists(o, at)
	for _, w := range warnings {
		fmt.Fprintf(env.Stderr, "flagstream: warning: %v\n", &w)
	}
	if err != nil {
		return inputError(err)
	}
	fmt.Fprintf(env.Stderr, "scan: lists %s: %s\n", o.lists, snap.Summary())

	var casesOut, shadowOut, escalationOut, profileOut io.Writer
	for _, out := range []struct {
		flag, path string
		w          *io.Writer
	}{{"cases", o.cases, &casesOut}, {"shadow", o.shadow, &shadowOut}, {"escalation", o.escalation, &escalationOut},
		{"cpuprofile", o.cpuProfile, &profileOut}} {
		if out.path == "" {
			continue
		}
		f, err := os.Create(out.path)
		if err != nil {
			return fmt.Errorf("scan: %s: %w", out.flag, err)
		}
		defer f.Close()
		*out.w = f
	}
	reported := 0
	report := func(file string, line int64, what, msg string) {
		reported++
		switch {
		case reported <= maxReportedRejects:
			fmt.Fprintf(stderr, "scan: %s:%d: %s: %s\n", file, line, what, msg)
		case reported == maxReportedRejects+1:
			fmt.Fprintf(stderr, "scan: further rejections are counted but not shown\n")
		}
	}
	scan := app.NewScan(app.ScanOptions{
		Lists:       snap,
		Inputs:      inputs,
		Stdin:       env.Stdin,
		Tasks:       env.Stdout,
		RejectsPath: o.rejects,
		OnReject: func(r *pipeline.Record, rej pipeline.Rejection) {
			// The error names its reason first, which the line has said.
			report(r.File, r.Line, "rejected ("+string(rej.Reason)+")", strings.TrimPrefix(rej.Err, string(rej.Reason)+": "))
		},
		OnCaseRefused: func(r *pipeline.Record, err error) {
			report(r.File, r.Line, "case evidence refused", err.Error())
		},
		Cases:                casesOut,
		Shadow:               shadowOut,
		Escalation:           escalationOut,
		DemandTasksPerMinute: o.demandTasksPerMinute,
		NoCases:              o.noCases,
		UpdateInterval:       o.updateInterval,
		MaxRecordBytes:       o.maxRecord,
		Engine: app.Engine{
			Workers: o.workers,
			Limits:  decode.Limits{MaxTweets: o.maxTweets, MaxEmbedDepth: decode.DefaultLimits.MaxEmbedDepth, MaxTextBytes: o.maxText},
		},
	})
	if profileOut != nil {
		if err := pprof.StartCPUProfile(profileOut); err != nil {
			return fmt.Errorf("scan: cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile() // before the file is closed
	}
	total, sized := inputSize(inputs, env.Stdin)
	start := time.Now()
	stopProgress := startProgress(status, func(elapsed time.Duration) string {
		return progressLine(scan.BytesRead(), total, sized, elapsed)
	})
	c, err := scan.Run(ctx)
	stopProgress()
	elapsed := time.Since(start)
	fmt.Fprintf(stderr, "scan: read %d records (%d tweets, %s) in %s: %s tweets/s; flagged %d%s; rejected %d\n",
		c.Records, c.Tweets, byteSize(c.BytesRead), elapsed.Round(time.Millisecond),
		rate(c.Tweets, elapsed), c.Tasks, governedSummary(c.ByDestination), c.Rejected)
	if !o.noCases {
		fmt.Fprintf(stderr, "scan: cases: %s\n", caseSummary(c.Cases, o.cases))
	}
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	return nil
}

// scanLists loads the lists scan matches with: every demand, or those
// --demand names.
func scanLists(o *scanOptions, at time.Time) (*matchers.Snapshot, []matchers.Warning, error) {
	if len(o.demands) == 0 {
		return app.LoadLists(o.lists, at)
	}
	sel, warnings, err := app.LoadSelection(o.lists, at, app.Selection{Demands: o.demands})
	if err != nil {
		return nil, warnings, err
	}
	return sel.Snapshot, warnings, nil
}

// governedSummary says how many of the tasks went to the shadow and were
// escalated, when any did.
func governedSummary(byDest [4]int64) string {
	shadow, escalated := byDest[pipeline.ToShadow], byDest[pipeline.ToEscalation]
	if shadow == 0 && escalated == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d shadow or tripped, %d escalated)", shadow, escalated)
}

// caseSummary describes what scan's case processor did, and where its
// events went.
func caseSummary(c app.CaseCounts, file string) string {
	var events []string
	for _, k := range []cases.EventKind{cases.EventOpened, cases.EventUpdated, cases.EventReassigned} {
		if n := c.Events[k]; n > 0 {
			events = append(events, fmt.Sprintf("%d %s", n, k))
		}
	}
	s := fmt.Sprintf("%d evidence records, %d cases", c.Evidence, c.Cases)
	if len(events) > 0 {
		s += " (" + strings.Join(events, ", ") + ")"
	}
	if c.Refused > 0 {
		s += fmt.Sprintf("; %d evidence records refused", c.Refused)
	}
	switch {
	case file != "":
		s += "; events written to " + file
	case c.Evidence > 0:
		s += "; events not written: give --cases FILE"
	}
	return s
}

// inputSize returns the total size of the inputs scan reads, and whether
// it is known: every input a regular file (standard input included).
func inputSize(names []string, stdin io.Reader) (int64, bool) {
	if len(names) == 0 {
		names = []string{"-"}
	}
	var total int64
	for _, n := range names {
		var info os.FileInfo
		var err error
		if n == "-" {
			f, ok := stdin.(*os.File)
			if !ok {
				return 0, false
			}
			info, err = f.Stat()
		} else {
			info, err = os.Stat(n)
		}
		if err != nil || !info.Mode().IsRegular() {
			return 0, false
		}
		total += info.Size()
	}
	return total, true
}
