package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"flagstream/internal/lists"
	"flagstream/matchers"
)

const listsDescription = `
The lists tools are for the people who write demand files: check that a
directory of lists loads and what it holds, review what a change does before
it goes live, and see what a text or a tweet would match.`

const listsExamples = `
  flagstream lists check deploy/examples/lists
  flagstream lists diff lists-live lists-proposed
  flagstream lists test --lists deploy/examples/lists 'they plan a #FarmerGenocide'`

func newListsCommand(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "lists COMMAND [flags] [ARGS]",
		Short:   "check, diff and test demand lists",
		Long:    listsDescription,
		Example: listsExamples,
		// For SuggestionsFor, which does not default it.
		SuggestionsMinimumDistance: 2,
		// Runs only when no subcommand matched.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("lists: name a command: check, diff or test")
			}
			hint := ""
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				hint = fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
			}
			return usagef("lists: unknown command %q%s; the commands are check, diff and test", args[0], hint)
		},
	}
	cmd.AddCommand(newListsCheckCommand(env), newListsDiffCommand(env), newListsTestCommand(env))
	return cmd
}

const listsCheckDescription = `
lists check validates every demand file (*.yaml) in DIR, every exemption file
(kind: exemption) and the entry files they name, and prints, per demand, its
state, jurisdictions, mode (live or shadow), circuit breaker and the number of
entries of each kind; then, per exemption, its category, the demands it
applies to and the accounts it names; then the lists version: a stable hash of
the active demands, their entries and the exemptions, which every review task
carries.

Every problem is reported as FILE:LINE: what is wrong, and the exit status is
2 when there is any; warnings (repeated entries, a demand without authority or
legal_basis) do not fail the check.

With --json it prints one JSON object (schema flagstream.lists_check/v1, see
docs/writing-lists.md) instead: the demands with their state and entry counts, the lists
version, the exemptions, the warnings, and the problems, each with file, line
and message.
It is printed for broken lists too, and the exit status is the same.`

const listsCheckExamples = `
  flagstream lists check deploy/examples/lists

  # As the lists stand on a date; as JSON, for scripts
  flagstream lists check deploy/examples/lists --at 2031-03-01 --json`

func newListsCheckCommand(env *Env) *cobra.Command {
	var (
		at     string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:               "check DIR [--at TIME] [--json]",
		Short:             "validate demand lists, print entries per demand and the lists version",
		Long:              listsCheckDescription,
		Example:           listsCheckExamples,
		Args:              exactArgs(1, "one directory"),
		ValidArgsFunction: dirCompletion(1),
	}
	cmd.Flags().StringVar(&at, "at", "", "evaluate demands' dates at `TIME` (YYYY-MM-DD or RFC 3339) instead of now")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object (flagstream.lists_check/v1) instead of a table")
	cmd.RunE = runE(func(_ context.Context, args []string) error {
		t, err := atTime("lists check", at)
		if err != nil {
			return err
		}
		return listsCheck(env, args[0], t, asJSON)
	})
	return cmd
}

// checkReport is the output of `lists check --json`.
type checkReport struct {
	Schema string `json:"schema"` // flagstream.lists_check/v1
	Dir    string `json:"dir"`
	// At is the instant the demands' states are evaluated at.
	At string `json:"at"`
	// OK is false when the lists do not load; Problems say why.
	OK bool `json:"ok"`
	// ListsVersion is the version review tasks would carry; empty when
	// the lists do not load.
	ListsVersion string        `json:"lists_version"`
	Demands      []checkDemand `json:"demands"`
	// Entries counts the entries of every demand that is not rescinded,
	// ActiveEntries those of the active demands, repeats once.
	Entries       int              `json:"entries"`
	ActiveEntries int              `json:"active_entries"`
	Exemptions    []checkExemption `json:"exemptions"`
	Warnings      []listIssue      `json:"warnings"`
	Problems      []listIssue      `json:"problems"`
}

// checkDemand is one demand in a checkReport.
type checkDemand struct {
	ID            string   `json:"id"`
	File          string   `json:"file"`
	Line          int      `json:"line"`
	State         string   `json:"state"` // active | pending | expired | rescinded
	Jurisdictions []string `json:"jurisdictions"`
	Authority     string   `json:"authority"`
	LegalBasis    string   `json:"legal_basis"`
	Reference     string   `json:"reference"`
	Received      string   `json:"received"` // YYYY-MM-DD or RFC 3339; "" when not set
	Expires       string   `json:"expires"`
	Action        string   `json:"action"`
	Scope         string   `json:"scope"`
	Priority      string   `json:"priority"`
	Tiers         []string `json:"tiers"`
	Mode          string   `json:"mode"` // live | shadow
	// MaxTasksPerMinute is the demand's own circuit breaker: null when
	// the demand leaves it to limits.demand_tasks_per_minute, 0 when it
	// has none.
	MaxTasksPerMinute *int           `json:"max_tasks_per_minute"`
	Entries           map[string]int `json:"entries"` // per kind, repeats once
	EntryFiles        []string       `json:"entry_files"`
}

// checkExemption is one exemption in a checkReport.
type checkExemption struct {
	ID       string `json:"id"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Category string `json:"category"`
	Reason   string `json:"reason"`
	// AppliesTo is ["*"] for every demand, else the demand ids.
	AppliesTo  []string `json:"applies_to"`
	Handles    int      `json:"handles"` // repeats once
	UserIDs    int      `json:"user_ids"`
	EntryFiles []string `json:"entry_files"`
}

// listIssue is a problem or warning in a list file; Line is 0 when it
// concerns the whole file.
type listIssue struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

func listsCheck(env *Env, dir string, at time.Time, asJSON bool) error {
	snap, parsed, warnings, err := loadLists(dir, at)
	if !asJSON {
		for _, w := range warnings {
			fmt.Fprintf(env.Stderr, "warning: %v\n", &w)
		}
		if err != nil {
			return inputError(fmt.Errorf("lists check %s:\n%w", dir, err))
		}
		return writeCheckTable(env.Stdout, snap, at)
	}
	report := checkReport{
		Schema:     "flagstream.lists_check/v1",
		Dir:        dir,
		At:         at.UTC().Format(time.RFC3339),
		OK:         err == nil,
		Demands:    []checkDemand{},
		Exemptions: []checkExemption{},
		Warnings:   issues(warnings),
		Problems:   []listIssue{},
	}
	if err != nil {
		report.Problems = problems(dir, err)
	} else {
		report.ListsVersion = snap.Version()
		report.Entries, report.ActiveEntries = snap.Entries(), snap.ActiveEntries()
		files := map[string][]string{}
		for i := range parsed.Demands {
			files[parsed.Demands[i].ID] = entryFiles(parsed.Demands[i].File, &parsed.Demands[i].Entries)
		}
		for i := range snap.Demands() {
			report.Demands = append(report.Demands, checkDemandOf(snap, i, files, at))
		}
		exemptFiles := map[string][]string{}
		for i := range parsed.Exemptions {
			exemptFiles[parsed.Exemptions[i].ID] = entryFiles(parsed.Exemptions[i].File, &parsed.Exemptions[i].Entries)
		}
		for i := range snap.Exemptions() {
			report.Exemptions = append(report.Exemptions, checkExemptionOf(snap, i, exemptFiles))
		}
	}
	if werr := writeJSON(env.Stdout, report); werr != nil {
		return werr
	}
	if err != nil {
		return inputError(fmt.Errorf("lists check %s: %d %s", dir, len(report.Problems), plural(len(report.Problems), "problem", "problems")))
	}
	return nil
}

// loadLists parses and compiles the lists in dir as at time at, keeping
// the parsed demands and exemptions (with their entries) beside the
// snapshot.
func loadLists(dir string, at time.Time) (*matchers.Snapshot, matchers.Lists, []matchers.Warning, error) {
	snap, parsed, warnings, _, err := lists.Loader{Dir: dir}.LoadLists(at)
	return snap, parsed, warnings, err
}

func writeCheckTable(w io.Writer, snap *matchers.Snapshot, at time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "DEMAND\tSTATE\tJURISDICTION\tACTION\tPRIORITY\tMODE\tBREAKER")
	for _, k := range matchers.EntryKinds() {
		fmt.Fprintf(tw, "\t%sS", strings.ToUpper(k.String()))
	}
	fmt.Fprint(tw, "\tFILE\n")
	for i, d := range snap.Demands() {
		counts := snap.Counts(i)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s", d.ID, snap.State(i), d.JurisdictionList(), d.Action, d.Priority, d.Mode, breakerText(&d))
		for _, k := range matchers.EntryKinds() {
			fmt.Fprintf(tw, "\t%d", counts[k])
		}
		fmt.Fprintf(tw, "\t%s\n", d.File)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if ex := snap.Exemptions(); len(ex) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprint(tw, "EXEMPTION\tCATEGORY\tAPPLIES TO\tHANDLES\tUSER_IDS\tFILE\n")
		for i := range ex {
			handles, ids := snap.ExemptionCounts(i)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", ex[i].ID, ex[i].Category, strings.Join(appliesTo(&ex[i]), ","), handles, ids, ex[i].File)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintf(w, "%s\n", snap.Summary())
	return err
}

// breakerText describes a demand's own circuit breaker for the table:
// "default" (limits.demand_tasks_per_minute), "off", or tasks a minute.
func breakerText(d *matchers.Demand) string {
	switch {
	case d.MaxTasksPerMinute == matchers.NoTaskLimit:
		return "off"
	case d.MaxTasksPerMinute > 0:
		return fmt.Sprintf("%d/min", d.MaxTasksPerMinute)
	}
	return "default"
}

// appliesTo returns an exemption's demands as written: ["*"] for every one.
func appliesTo(e *matchers.Exemption) []string {
	if e.AllDemands {
		return []string{"*"}
	}
	return nonNil(e.AppliesTo)
}

// checkExemptionOf describes exemption i of snap; files are the entry files
// of each exemption, by id.
func checkExemptionOf(snap *matchers.Snapshot, i int, files map[string][]string) checkExemption {
	e := &snap.Exemptions()[i]
	handles, ids := snap.ExemptionCounts(i)
	return checkExemption{
		ID: e.ID, File: e.File, Line: e.Line, Category: e.Category.String(), Reason: e.Reason,
		AppliesTo: appliesTo(e), Handles: handles, UserIDs: ids, EntryFiles: nonNil(files[e.ID]),
	}
}

// checkDemandOf describes demand i of snap; files are the entry files of
// each demand, by id.
func checkDemandOf(snap *matchers.Snapshot, i int, files map[string][]string, at time.Time) checkDemand {
	d := &snap.Demands()[i]
	counts := snap.Counts(i)
	c := checkDemand{
		ID:            d.ID,
		File:          d.File,
		Line:          d.Line,
		State:         d.StateAt(at).String(),
		Jurisdictions: nonNil(d.Jurisdictions),
		Authority:     d.Authority,
		LegalBasis:    d.LegalBasis,
		Reference:     d.Reference,
		Received:      formatDate(d.Received),
		Expires:       formatDate(d.Expires),
		Action:        d.Action.String(),
		Scope:         d.Scope.String(),
		Priority:      d.Priority.String(),
		Tiers:         strings.Split(d.Tiers.String(), ","),
		Mode:          d.Mode.String(),
		Entries:       map[string]int{},
		EntryFiles:    nonNil(files[d.ID]),
	}
	switch {
	case d.MaxTasksPerMinute == matchers.NoTaskLimit:
		c.MaxTasksPerMinute = new(int)
	case d.MaxTasksPerMinute > 0:
		c.MaxTasksPerMinute = &d.MaxTasksPerMinute
	}
	for _, k := range matchers.EntryKinds() {
		c.Entries[k.String()] = counts[k]
	}
	return c
}

// entryFiles returns the entry files that entries read from file (a demand
// or exemption file) came from, without file itself.
func entryFiles(file string, entries *matchers.EntryList) []string {
	var out []string
	for _, f := range entries.Files() {
		if f != file {
			out = append(out, f)
		}
	}
	return out
}

// formatDate writes a demand date as it is usually written: YYYY-MM-DD at
// midnight UTC, RFC 3339 otherwise; "" for none.
func formatDate(t time.Time) string {
	switch {
	case t.IsZero():
		return ""
	case t.Equal(t.Truncate(24 * time.Hour)):
		return t.UTC().Format(time.DateOnly)
	}
	return t.UTC().Format(time.RFC3339)
}

func issues(ws []matchers.Warning) []listIssue {
	out := make([]listIssue, 0, len(ws))
	for _, w := range ws {
		out = append(out, listIssue{File: w.File, Line: w.Line, Message: w.Msg})
	}
	return out
}

// problems lists the problems of a failed load, each with the file and
// line that *matchers.ListError gives; other errors concern dir.
func problems(dir string, err error) []listIssue {
	var out []listIssue
	var walk func(error)
	walk = func(e error) {
		var le *matchers.ListError
		switch x := e.(type) {
		case *matchers.ListError:
			out = append(out, listIssue{File: x.File, Line: x.Line, Message: x.Msg})
		case interface{ Unwrap() []error }:
			for _, inner := range x.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			if errors.As(e, &le) {
				walk(x.Unwrap())
				return
			}
			out = append(out, listIssue{File: dir, Message: e.Error()})
		default:
			out = append(out, listIssue{File: dir, Message: e.Error()})
		}
	}
	walk(err)
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// dirCompletion completes the first n positional arguments as directories.
func dirCompletion(n int) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) >= n {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
}
