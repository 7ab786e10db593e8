package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"flagstream/internal/lists"
	"flagstream/matchers"
)

const listsDescription = `
lists check validates every demand file (*.yaml) in DIR and the entry files
they name, and prints, per demand, its state, jurisdictions and the number of
entries of each kind, then the lists version: a stable hash of the active
demands and entries, which every review task carries.

Every problem is reported as FILE:LINE: what is wrong, and the exit status is
2 when there is any; warnings (repeated entries, a demand without authority or
legal_basis) do not fail the check.`

func listsCommand(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "lists check [--at TIME] DIR", "lists check [--at TIME] DIR", listsDescription)
	atFlag := fs.String("at", "", "evaluate demands' dates at this time (YYYY-MM-DD or RFC 3339) instead of now")
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return parseFlags(fs, env, args)
		}
		fs.Usage()
		return usagef("lists: the only subcommand is check")
	}
	if err := parseFlags(fs, env, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usagef("lists check: name one directory")
	}
	at, err := atTime("lists check", *atFlag)
	if err != nil {
		return err
	}
	dir := fs.Arg(0)
	snap, warnings, err := lists.Load(dir, at)
	for _, w := range warnings {
		fmt.Fprintf(env.Stderr, "warning: %v\n", &w)
	}
	if err != nil {
		return usageError(fmt.Errorf("lists check %s:\n%w", dir, err))
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "DEMAND\tSTATE\tJURISDICTION\tACTION\tPRIORITY")
	for _, k := range matchers.EntryKinds() {
		fmt.Fprintf(tw, "\t%sS", strings.ToUpper(k.String()))
	}
	fmt.Fprint(tw, "\tFILE\n")
	for i, d := range snap.Demands() {
		counts := snap.Counts(i)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s", d.ID, snap.State(i), d.JurisdictionList(), d.Action, d.Priority)
		for _, k := range matchers.EntryKinds() {
			fmt.Fprintf(tw, "\t%d", counts[k])
		}
		fmt.Fprintf(tw, "\t%s\n", d.File)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "%s\n", snap.Summary())
	return err
}
