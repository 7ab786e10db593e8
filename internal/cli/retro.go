package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"flagstream/config"
	"flagstream/internal/app"
	"flagstream/internal/report"
	"flagstream/internal/retro"
)

const retroDescription = `
Retro re-reads the retained input topic (input.topic) for demands that name
content posted before they arrived: from the offsets of --since (Kafka's
offsets-for-times) up to the end offsets it finds when it starts, or to the
offsets of --until. It matches only the demands named with --demand, or only
the entries that the lists in --only-new OLD_DIR lack (compared as lists diff
compares them), or both; without either, every demand of lists.dir. Review
tasks, case evidence and dead letters go where run writes them (same topics,
same task and case ids), each task with "retro": {"job", "since", "until"},
and a task reports only the selected entries' matches.

Retro never commits run's consumer group. It keeps its progress per job and
partition in retro.progress_topic (compacted, created when missing): the same
command run again after a crash or Ctrl-C resumes where it stopped, repeating
at most the batch that was being written, with the window and end offsets of
its first start. A job is named by the topic, the times as written ("72h"
stays the same job until it is done) and what it selects; a job that is done
does nothing when run again, unless --restart.

TIME is RFC 3339 (2021-02-04T10:00:00Z), a date (2021-02-04, midnight UTC) or
a duration back from now (72h). A --since before what the topic retains is
refused, saying how far back it goes.

A progress line with the time left is shown on a terminal; a summary (records
read, tasks, cases touched, elapsed) at the end. Settings come from --config,
FLAGSTREAM_… variables and the flags below, as for run.

Exit status: 0 when the job is done, 2 for bad usage, config or lists (an
unknown demand, an OLD_DIR that does not parse, --since after --until or
before retention), 1 for a runtime failure or an interruption.`

const retroExamples = `
  # A demand arrived today naming content of the last three days: hunt it
  flagstream retro --config deploy/examples/config.yaml --since 72h --demand IN-MEITY-2021-02-04

  # Only the entries a change of the lists adds, over a fixed window
  flagstream retro --config config.yaml --only-new lists-before --since 2021-02-01 --until 2021-02-04

  # Show the job's partitions and offsets without reading
  flagstream retro --config deploy/examples/config.yaml --since 72h --dry-run`

// retroOptions are retro's own flags.
type retroOptions struct {
	configPath, since, until, onlyNew, progress string
	demands                                     []string
	restart, dryRun                             bool
	rate                                        int
}

func newRetroCommand(env *Env) *cobra.Command {
	var o retroOptions
	cmd := &cobra.Command{
		Use:     "retro --config FILE --since TIME [--until TIME] [--demand ID]... [--only-new OLD_DIR]",
		Short:   "re-read retained input for demands that arrived late, then exit",
		Long:    retroDescription,
		Example: retroExamples,
		Args:    noArgs,
	}
	configFlag(cmd, &o.configPath)
	fs := cmd.Flags()
	fs.StringVar(&o.since, "since", "", "read records from `TIME` on (required)")
	fs.StringVar(&o.until, "until", "", "read records up to `TIME` (default: the end offsets when the job starts)")
	fs.StringArrayVar(&o.demands, "demand", nil, "match only the demand with this `ID` (repeatable)")
	fs.StringVar(&o.onlyNew, "only-new", "", "match only the entries that the lists in `OLD_DIR` lack")
	fs.BoolVar(&o.restart, "restart", false, "start the job over, ignoring its stored progress")
	fs.IntVar(&o.rate, "rate", 0, "read at most `N` records a second, to spare the cluster (0: as fast as it goes)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the job's partitions and offsets, read nothing")
	progressFlag(cmd, &o.progress)
	cmd.MarkFlagDirname("only-new")
	applyFlags := settingsFlags(cmd)
	cmd.RunE = runE(func(ctx context.Context, _ []string) error { return runRetro(ctx, env, &o, applyFlags) })
	return cmd
}

// timeArg parses a TIME flag; it returns the key that names it in the job
// id: the text for a duration back from now, which is relative, else the
// time itself.
func timeArg(flag, s string, now time.Time) (time.Time, string, error) {
	t, err := report.ParseTime(s, now)
	if err != nil {
		return t, "", usagef("retro: --%s: %v", flag, err)
	}
	if _, derr := time.ParseDuration(s); derr == nil {
		return t, "ago:" + s, nil
	}
	return t, t.UTC().Format(time.RFC3339Nano), nil
}

func runRetro(ctx context.Context, env *Env, o *retroOptions, applyFlags func(*config.Config) error) error {
	if o.since == "" {
		return usagef("retro: --since is required (RFC 3339, a date, or a duration back from now such as 72h)")
	}
	for _, d := range o.demands {
		if d == "" {
			return usagef("retro: --demand needs a demand id")
		}
	}
	if o.rate < 0 {
		return usagef("retro: --rate must not be negative")
	}
	stderr, status, err := progressOutput("retro", o.progress, env.Stderr)
	if err != nil {
		return err
	}
	now := time.Now()
	var w retro.Window
	if w.Since, w.SinceKey, err = timeArg("since", o.since, now); err != nil {
		return err
	}
	if o.until != "" {
		if w.Until, w.UntilKey, err = timeArg("until", o.until, now); err != nil {
			return err
		}
		if w.Since.After(w.Until) {
			return usagef("retro: --since %s is after --until %s", w.Since.Format(time.RFC3339), w.Until.Format(time.RFC3339))
		}
	}
	cfg, err := loadConfig(env, o.configPath, applyFlags)
	if err != nil {
		return err
	}
	if cpus := app.ReserveProcs(env.Getenv); cfg.Pipeline.Workers == 0 {
		cfg.Pipeline.Workers = cpus
	}
	// The summary lines say what info logs would; warnings and errors
	// (a broker away, records deleted while read) are logged.
	logCfg := cfg.Log
	if logCfg.Level == "info" {
		logCfg.Level = "warn"
	}
	job, err := app.NewRetro(ctx, cfg, app.RetroOptions{
		Logger:    newLogger(logCfg, stderr),
		Window:    w,
		Selection: app.Selection{Demands: o.demands, OnlyNew: o.onlyNew},
		Restart:   o.restart,
		Rate:      float64(o.rate),
		Now:       func() time.Time { return now },
	})
	if errors.Is(err, app.ErrNothingToHunt) {
		what := "the lists in " + cfg.Lists.Dir + " have no active entries"
		if o.onlyNew != "" {
			what = fmt.Sprintf("the lists in %s add no entries to %s", cfg.Lists.Dir, o.onlyNew)
			if len(o.demands) > 0 {
				what += " for " + strings.Join(o.demands, ", ")
			}
		}
		fmt.Fprintf(stderr, "retro: %s: nothing to hunt\n", what)
		return nil
	}
	if app.IsUsage(err) {
		return inputError(fmt.Errorf("retro: %w", err))
	}
	if err != nil {
		return fmt.Errorf("retro: %w", err)
	}
	defer job.Close()
	plan, sel := job.Plan(), job.Selected()
	printRetroPlan(stderr, plan, sel, o.dryRun)
	switch {
	case o.dryRun:
		return nil
	case plan.Done():
		fmt.Fprintf(stderr, "retro: job %s is already done; --restart hunts again\n", plan.Job.ID)
		return nil
	}
	start := time.Now()
	total := plan.Remaining()
	stopProgress := startProgress(status, func(elapsed time.Duration) string {
		return retroProgressLine(job.Read(), total-job.Remaining(), total, elapsed)
	})
	c, err := job.Run(ctx)
	stopProgress()
	elapsed := time.Since(start)
	fmt.Fprintf(stderr, "retro: job %s: read %d records (%d tweets) in %s: %s records/s; tasks %d; cases touched %d; rejected %d",
		plan.Job.ID, c.Records, c.Tweets, elapsed.Round(time.Millisecond), rate(c.Records, elapsed), c.Tasks, c.Evidence, c.Rejected)
	if c.Skipped > 0 {
		fmt.Fprintf(stderr, "; skipped %d deleted by retention before they were read", c.Skipped)
	}
	fmt.Fprintln(stderr)
	if app.IsUsage(err) {
		// An owned topic made otherwise than the job needs: the
		// operator's to fix, as when run refuses it.
		return inputError(fmt.Errorf("retro: %w", err))
	}
	if err != nil {
		return fmt.Errorf("retro: %w", err)
	}
	fmt.Fprintf(stderr, "retro: job %s done\n", plan.Job.ID)
	return nil
}

// printRetroPlan describes the job before it runs: per partition with
// details, else in one line.
func printRetroPlan(w io.Writer, plan *retro.Plan, sel *app.Selected, details bool) {
	job := plan.Job
	state := "new"
	if plan.Resumed {
		state = fmt.Sprintf("resumed, %d of %d records read", plan.Total()-plan.Remaining(), plan.Total())
	}
	fmt.Fprintf(w, "retro: job %s (%s): topic %s from %s to %s, %d records in %d partitions\n",
		job.ID, state, job.Topic, job.Since.Format(time.RFC3339), job.Until.Format(time.RFC3339), plan.Remaining(), len(plan.Partitions))
	fmt.Fprintf(w, "retro: matching %s\n", sel.Snapshot.Summary())
	if !details {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "partition\tstart\tnext\tend\tleft\t")
	for _, p := range plan.Partitions {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t\n", p.Partition, p.Start, p.Next, p.End, p.End-p.Next)
	}
	tw.Flush()
}

// retroProgressLine describes a job that has read records (covering
// offsets of its total) in elapsed.
func retroProgressLine(records, offsets, total int64, elapsed time.Duration) string {
	perSecond := 0.0
	if elapsed > 0 {
		perSecond = float64(offsets) / elapsed.Seconds()
	}
	done := 1.0
	if total > 0 {
		done = min(float64(offsets)/float64(total), 1)
	}
	left := "ETA -"
	if perSecond > 0 {
		eta := time.Duration(float64(max(total-offsets, 0)) / perSecond * float64(time.Second))
		left = "ETA " + eta.Round(time.Second).String()
	}
	return fmt.Sprintf("retro: %3.0f%% of %d records, %d read, %.0f records/s, %s", 100*done, total, records, perSecond, left)
}
