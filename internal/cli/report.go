package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"flagstream/internal/app"
	"flagstream/internal/lists"
	"flagstream/internal/report"
)

const reportDescription = `
Report answers "what did we do about demand X?" in the columns of platforms'
transparency reports: per demand, the accounts it named, the accounts seen
(cases opened), withheld (and where), no action, terms of service, escalated,
pending, handles reassigned and exempted; the tweet tasks emitted, withheld,
no action and pending; and the matches by kind. Live, shadow and tripped items
(see the demands' mode and circuit breaker) are counted apart, never summed.

It reads either the topics of a run configuration (--config: cases.topic,
output.topic, output.shadow_topic, output.escalation_topic and
input.decisions_topic, each from its beginning to the end it finds when it
starts, and the lists directory lists.dir), or NDJSON files of case events
(--cases), review tasks (--tasks) and decisions (--decisions); each of these
flags may be given more than once, and a file may hold both case events and
tasks (scan --shadow writes such a file): a record counts by its schema.

--since and --until select the cases opened and the tasks emitted in that
period (since <= t < until); decisions and case events dated at or after
--until (or --as-of) are left out, so a past period's report says what was
known at its end and reads the same whenever it is run. TIME is RFC 3339
(2021-02-04T10:00:00Z), a date (2021-02-04, midnight UTC) or a duration back
from now (72h).

Records that cannot be read are counted, and the first 100 listed with their
file and line (or topic, partition and offset) in the report; they never
stop it. docs/report.md defines every column.

Exit status: 0 when the report was written, 2 for bad usage, config or lists,
1 for an I/O failure (an input that cannot be read, a Kafka error).`

const reportExamples = `
  # From the topics of a running deployment, as a table on the terminal
  flagstream report --config deploy/examples/config.yaml

  # From files (scan --cases and --shadow write them), one demand, one month
  flagstream report --cases cases.ndjson --tasks tasks.ndjson --tasks shadow.ndjson --decisions decisions.ndjson --demand IN-MEITY-2021-02-04 --since 2021-02-01 --until 2021-03-01

  # A self-contained HTML page to mail or archive, and CSV for a spreadsheet
  flagstream report --config deploy/examples/config.yaml --since 720h --format html --out report.html
  flagstream report --cases cases.ndjson --tasks tasks.ndjson --lists deploy/examples/lists --format csv > report.csv`

// reportOptions are report's flags.
type reportOptions struct {
	config, lists, since, until, asOf, format, out string
	cases, tasks, decisions, demands               []string
}

func newReportCommand(env *Env) *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:     "report (--config FILE | --cases FILE --tasks FILE --decisions FILE) [--lists DIR] [--demand ID]... [--since TIME] [--until TIME] [--format FORMAT] [--out FILE]",
		Short:   "per-demand compliance report: what was done about each demand",
		Long:    reportDescription,
		Example: reportExamples,
		Args:    noArgs,
		RunE:    runE(func(ctx context.Context, _ []string) error { return runReport(ctx, env, &o) }),
	}
	fs := cmd.Flags()
	fs.StringVar(&o.config, "config", "", "read the topics and lists directory of the run config `FILE`")
	fs.StringArrayVar(&o.cases, "cases", nil, "read case events from the NDJSON `FILE` (repeatable; - is standard input)")
	fs.StringArrayVar(&o.tasks, "tasks", nil, "read review tasks from the NDJSON `FILE` (repeatable; - is standard input)")
	fs.StringArrayVar(&o.decisions, "decisions", nil, "read decisions from the NDJSON `FILE` (repeatable; - is standard input)")
	fs.StringVar(&o.lists, "lists", "", "the demand lists in `DIR` give each demand's details and accounts specified (default with --config: lists.dir)")
	fs.StringArrayVar(&o.demands, "demand", nil, "report only the demand `ID` (repeatable)")
	fs.StringVar(&o.since, "since", "", "report the items of `TIME` and after")
	fs.StringVar(&o.until, "until", "", "report the items before `TIME`, and what was known then")
	fs.StringVar(&o.asOf, "as-of", "", "count decisions and case events dated before `TIME` (default: --until)")
	fs.StringVar(&o.format, "format", string(report.FormatTable), "write the report as `FORMAT`: table, md, csv, json or html")
	fs.StringVar(&o.out, "out", "", "write the report to `FILE` (replaced only once complete) instead of standard output")
	cmd.MarkFlagFilename("config", "yaml", "yml")
	cmd.MarkFlagFilename("cases", "ndjson", "jsonl", "json")
	cmd.MarkFlagFilename("tasks", "ndjson", "jsonl", "json")
	cmd.MarkFlagFilename("decisions", "ndjson", "jsonl", "json")
	cmd.MarkFlagDirname("lists")
	cmd.MarkFlagFilename("out")
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]cobra.Completion{"table", "md", "csv", "json", "html"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runReport(ctx context.Context, env *Env, o *reportOptions) error {
	files := len(o.cases)+len(o.tasks)+len(o.decisions) > 0
	switch {
	case o.config != "" && files:
		return usagef("report: give --config or --cases/--tasks/--decisions files, not both")
	case o.config == "" && !files:
		return usagef("report: give --config FILE (read the topics) or NDJSON files with --cases, --tasks and --decisions")
	}
	format, err := report.ParseFormat(o.format)
	if err != nil {
		return usagef("report: --format: %v", err)
	}
	now := time.Now()
	var opt report.Options
	for _, t := range []struct {
		flag, value string
		dst         *time.Time
	}{{"--since", o.since, &opt.Since}, {"--until", o.until, &opt.Until}, {"--as-of", o.asOf, &opt.AsOf}} {
		if t.value == "" {
			continue
		}
		if *t.dst, err = report.ParseTime(t.value, now); err != nil {
			return usagef("report: %s: %v", t.flag, err)
		}
	}
	if !opt.Since.IsZero() && !opt.Until.IsZero() && !opt.Until.After(opt.Since) {
		return usagef("report: --until (%s) is not after --since (%s)", opt.Until.Format(time.RFC3339), opt.Since.Format(time.RFC3339))
	}
	for _, id := range o.demands {
		if id == "" {
			return usagef("report: --demand: empty demand id")
		}
	}
	opt.Only = o.demands
	opt.Now = now

	var (
		in    report.Input
		close = func() {}
	)
	listsDir := o.lists
	if o.config != "" {
		cfg, err := loadConfig(env, o.config, nil)
		if err != nil {
			return err
		}
		if listsDir == "" {
			listsDir = cfg.Lists.Dir
		}
		in, err = app.ReportInput(ctx, cfg, func(topic string) {
			fmt.Fprintf(env.Stderr, "report: topic %s does not exist; read as empty\n", topic)
		})
		if err != nil {
			return inputError(err)
		}
	} else {
		if in, close, err = openReportFiles(env, o); err != nil {
			return err
		}
	}
	defer close()
	if listsDir != "" {
		// The parsed demands, with their entries: a snapshot's have none.
		// lists check shows the warnings; a report needs none.
		parsed, _, err := lists.ParseDir(listsDir)
		if err != nil {
			return inputError(fmt.Errorf("report: lists %s: %w", listsDir, err))
		}
		opt.Demands = report.ListedDemands(parsed.Demands)
	}

	r, err := report.Build(ctx, in, opt)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := writeReport(env, o.out, r, format); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	i := &r.Inputs
	bad := i.Cases.Bad + i.Tasks.Bad + i.Decisions.Bad
	fmt.Fprintf(env.Stderr, "report: read %d case events, %d tasks and %d decisions; %d demands reported; %d bad %s\n",
		i.Cases.Records, i.Tasks.Records, i.Decisions.Records, len(r.Demands), bad, plural(int(bad), "record", "records"))
	return nil
}

// openReportFiles opens the NDJSON inputs named by --cases, --tasks and
// --decisions; "-" is standard input, at most once.
func openReportFiles(env *Env, o *reportOptions) (report.Input, func(), error) {
	var (
		opened []*os.File
		stdin  bool
	)
	closeAll := func() {
		for _, f := range opened {
			f.Close()
		}
	}
	stream := func(flag string, names []string) (report.Records, error) {
		var rs []report.Records
		for _, name := range names {
			if name == "-" {
				if stdin {
					return nil, usagef("report: standard input (-) named twice")
				}
				stdin = true
				rs = append(rs, report.NDJSON("stdin", env.Stdin))
				continue
			}
			f, err := os.Open(name)
			if err != nil {
				return nil, inputError(fmt.Errorf("report: %s: %w", flag, err))
			}
			opened = append(opened, f)
			rs = append(rs, report.NDJSON(name, f))
		}
		if len(rs) == 0 {
			return nil, nil
		}
		return report.Concat(rs...), nil
	}
	var in report.Input
	var err error
	if in.Cases, err = stream("--cases", o.cases); err == nil {
		if in.Tasks, err = stream("--tasks", o.tasks); err == nil {
			in.Decisions, err = stream("--decisions", o.decisions)
		}
	}
	if err != nil {
		closeAll()
		return report.Input{}, nil, err
	}
	return in, closeAll, nil
}

// writeReport renders r to the file out, replacing it only once the
// report is complete, or to standard output when out is empty.
func writeReport(env *Env, out string, r *report.Report, f report.Format) error {
	if out == "" {
		return report.Render(env.Stdout, r, f)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, there is none
	if err := report.Render(tmp, r, f); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
