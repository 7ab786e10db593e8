package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"flagstream/matchers"
)

const listsDiffDescription = `
lists diff compares two directories of demand lists, the ones live now
(OLD_DIR) and a proposed change (NEW_DIR), so that the change can be
reviewed before it goes live. It prints the demands added and removed, the
demands whose metadata changed (each field, old -> new), and per demand the
entries added and removed. Entries are compared as matching compares them
(case folded, '@' and '#' optional, a domain in IDNA form), so an entry whose
spelling changed but that matches the same things is not an add and a
remove: it is shown as respelled, old -> new.

Lines start with + (added), - (removed) or ~ (changed), as in a diff, so
the output reads in a terminal and in a code review. With --json it prints
one JSON object instead (schema flagstream.lists_diff/v1, see docs/writing-lists.md).

Exit status: 0 whether or not the lists differ, unless --exit-code is given:
then 0 when they are the same and 1 when they differ, as with diff(1) and
git diff --exit-code. 2 for bad usage or broken lists on either side (each
problem as FILE:LINE: what is wrong).`

const listsDiffExamples = `
  flagstream lists diff lists-live lists-proposed

  # In CI: fail when a change would alter the live lists, and keep the JSON
  flagstream lists diff --exit-code --json lists-live lists-proposed > lists-diff.json`

func newListsDiffCommand(env *Env) *cobra.Command {
	var (
		at               string
		asJSON, exitCode bool
	)
	cmd := &cobra.Command{
		Use:               "diff OLD_DIR NEW_DIR [--json] [--exit-code]",
		Short:             "entries and demands added, removed and changed between two list directories",
		Long:              listsDiffDescription,
		Example:           listsDiffExamples,
		Args:              exactArgs(2, "two directories: OLD_DIR NEW_DIR"),
		ValidArgsFunction: dirCompletion(2),
	}
	cmd.Flags().StringVar(&at, "at", "", "evaluate demands' states at `TIME` (YYYY-MM-DD or RFC 3339) instead of now")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object (flagstream.lists_diff/v1) instead of text")
	cmd.Flags().BoolVar(&exitCode, "exit-code", false, "exit 1 when the lists differ, 0 when they do not")
	cmd.RunE = runE(func(_ context.Context, args []string) error {
		t, err := atTime("lists diff", at)
		if err != nil {
			return err
		}
		d, err := diffLists(args[0], args[1], t)
		if err != nil {
			return err
		}
		if asJSON {
			err = writeJSON(env.Stdout, d)
		} else {
			err = writeDiffText(env.Stdout, d)
		}
		if err != nil {
			return err
		}
		if exitCode && !d.Identical {
			return &exitError{code: ExitIO, err: fmt.Errorf("lists diff: %s", d.Summary), quiet: true}
		}
		return nil
	})
	return cmd
}

// listsDiff is the output of `lists diff --json`.
type listsDiff struct {
	Schema string   `json:"schema"` // flagstream.lists_diff/v1
	Old    diffSide `json:"old"`
	New    diffSide `json:"new"`
	// At is the instant the demands' states and the versions are
	// evaluated at.
	At string `json:"at"`
	// Identical is true when no demand was added, removed or changed.
	Identical bool `json:"identical"`
	// Demands are the demands added, removed or changed, by id; the
	// unchanged ones are left out.
	Demands []demandDiff `json:"demands"`
	// Exemptions are the exemptions added, removed or changed, by id:
	// their fields (category, reason, applies_to) and their accounts, as
	// a demandDiff says of a demand.
	Exemptions []demandDiff `json:"exemptions"`
	Summary    diffSummary  `json:"summary"`
}

// diffSide is one of the two directories compared.
type diffSide struct {
	Dir          string `json:"dir"`
	ListsVersion string `json:"lists_version"`
	Demands      int    `json:"demands"`
}

// demandDiff is how one demand (or exemption) changed.
type demandDiff struct {
	ID     string `json:"id"`
	Change string `json:"change"` // added | removed | changed
	// OldFile and NewFile name the demand's file on each side; "" on
	// the side it is missing from.
	OldFile string `json:"old_file"`
	NewFile string `json:"new_file"`
	// Fields are the metadata that changed (for a changed demand), or
	// all of it (for an added or removed one, on its side). A demand that
	// moved to another file has the field "file", its name inside the
	// lists directory.
	Fields  []fieldChange `json:"fields"`
	Entries entryChanges  `json:"entries"`
}

// fieldChange is one metadata field of a demand, before and after; ""
// stands for not set.
type fieldChange struct {
	Name string `json:"name"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// entryChanges are a demand's entries added, removed and respelled,
// each list ordered by kind and then by the entry's key.
type entryChanges struct {
	Added     []diffEntry    `json:"added"`
	Removed   []diffEntry    `json:"removed"`
	Respelled []respellEntry `json:"respelled"`
}

// diffEntry is an entry as written, where it was written.
type diffEntry struct {
	Kind  string `json:"kind"`
	Entry string `json:"entry"`
	File  string `json:"file"`
	Line  int    `json:"line"`
}

// respellEntry is an entry written differently on the two sides that
// matches the same things; File and Line are the new side's.
type respellEntry struct {
	Kind string `json:"kind"`
	Old  string `json:"old"`
	New  string `json:"new"`
	File string `json:"file"`
	Line int    `json:"line"`
}

// diffSummary counts the changes.
type diffSummary struct {
	DemandsAdded     int `json:"demands_added"`
	DemandsRemoved   int `json:"demands_removed"`
	DemandsChanged   int `json:"demands_changed"`
	EntriesAdded     int `json:"entries_added"`
	EntriesRemoved   int `json:"entries_removed"`
	EntriesRespelled int `json:"entries_respelled"`
	// Exemptions and their accounts, counted apart from the demands.
	ExemptionsAdded   int `json:"exemptions_added"`
	ExemptionsRemoved int `json:"exemptions_removed"`
	ExemptionsChanged int `json:"exemptions_changed"`
	AccountsAdded     int `json:"exempt_accounts_added"`
	AccountsRemoved   int `json:"exempt_accounts_removed"`
}

func (s diffSummary) String() string {
	out := fmt.Sprintf("%d %s added, %d removed, %d changed; entries: %d added, %d removed, %d respelled",
		s.DemandsAdded, plural(s.DemandsAdded, "demand", "demands"), s.DemandsRemoved, s.DemandsChanged,
		s.EntriesAdded, s.EntriesRemoved, s.EntriesRespelled)
	if s.ExemptionsAdded+s.ExemptionsRemoved+s.ExemptionsChanged > 0 {
		out += fmt.Sprintf("; %d %s added, %d removed, %d changed (exempt accounts: %d added, %d removed)",
			s.ExemptionsAdded, plural(s.ExemptionsAdded, "exemption", "exemptions"), s.ExemptionsRemoved, s.ExemptionsChanged,
			s.AccountsAdded, s.AccountsRemoved)
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// diffListSide is one directory, parsed and compiled, its demands and
// exemptions by id.
type diffListSide struct {
	snap                *matchers.Snapshot
	demands, exemptions map[string]*diffItemSide
}

func loadDiffSide(dir string, at time.Time) (diffListSide, error) {
	snap, parsed, _, err := loadLists(dir, at)
	if err != nil {
		return diffListSide{}, inputError(fmt.Errorf("lists diff: %s:\n%w", dir, err))
	}
	s := diffListSide{snap: snap, demands: map[string]*diffItemSide{}, exemptions: map[string]*diffItemSide{}}
	for i := range parsed.Demands {
		d := &parsed.Demands[i]
		s.demands[d.ID] = &diffItemSide{dir: dir, file: d.File, fields: demandFields(d, at), entries: &d.Entries}
	}
	for i := range parsed.Exemptions {
		e := &parsed.Exemptions[i]
		s.exemptions[e.ID] = &diffItemSide{dir: dir, file: e.File, fields: exemptionFields(e), entries: &e.Entries}
	}
	return s, nil
}

// diffLists compares the lists in oldDir and newDir as at time at.
func diffLists(oldDir, newDir string, at time.Time) (*listsDiff, error) {
	old, err := loadDiffSide(oldDir, at)
	if err != nil {
		return nil, err
	}
	cur, err := loadDiffSide(newDir, at)
	if err != nil {
		return nil, err
	}
	d := &listsDiff{
		Schema: "flagstream.lists_diff/v1",
		Old:    diffSide{Dir: oldDir, ListsVersion: old.snap.Version(), Demands: len(old.demands)},
		New:    diffSide{Dir: newDir, ListsVersion: cur.snap.Version(), Demands: len(cur.demands)},
		At:     at.UTC().Format(time.RFC3339),
	}
	s := &d.Summary
	d.Demands = diffItems(old.demands, cur.demands, false, &s.DemandsAdded, &s.DemandsRemoved, &s.DemandsChanged)
	for _, dd := range d.Demands {
		s.EntriesAdded += len(dd.Entries.Added)
		s.EntriesRemoved += len(dd.Entries.Removed)
		s.EntriesRespelled += len(dd.Entries.Respelled)
	}
	d.Exemptions = diffItems(old.exemptions, cur.exemptions, true, &s.ExemptionsAdded, &s.ExemptionsRemoved, &s.ExemptionsChanged)
	for _, ed := range d.Exemptions {
		s.AccountsAdded += len(ed.Entries.Added)
		s.AccountsRemoved += len(ed.Entries.Removed)
	}
	d.Identical = len(d.Demands) == 0 && len(d.Exemptions) == 0
	return d, nil
}

// diffItems compares the demands or the exemptions of two sides, by id:
// it returns those added, removed or changed (diffItem's allFields), and
// counts each kind of change.
func diffItems(old, cur map[string]*diffItemSide, allFields bool, added, removed, changed *int) []demandDiff {
	out := []demandDiff{}
	for _, id := range unionIDs(old, cur) {
		dd, ok := diffItem(id, old[id], cur[id], allFields)
		if !ok {
			continue
		}
		switch dd.Change {
		case "added":
			*added++
		case "removed":
			*removed++
		default:
			*changed++
		}
		out = append(out, dd)
	}
	return out
}

// unionIDs returns the ids of both sides, sorted.
func unionIDs(old, cur map[string]*diffItemSide) []string {
	var ids []string
	for id := range old {
		ids = append(ids, id)
	}
	for id := range cur {
		if _, ok := old[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// diffItemSide is a demand or an exemption on one side of a diff.
type diffItemSide struct {
	dir, file string        // the lists directory, its file
	fields    []fieldChange // each as text in New
	entries   *matchers.EntryList
}

// diffItem compares a demand or an exemption between the two sides, o or
// n nil on the side it is missing from. An added or a removed one shows
// its fields of its side: those set, or all with allFields. It reports
// false for one on both sides that did not change.
func diffItem(id string, o, n *diffItemSide, allFields bool) (demandDiff, bool) {
	dd := demandDiff{ID: id, Fields: []fieldChange{}}
	var oldEntries, newEntries *matchers.EntryList
	if o != nil {
		dd.OldFile, oldEntries = o.file, o.entries
	}
	if n != nil {
		dd.NewFile, newEntries = n.file, n.entries
	}
	switch {
	case o == nil:
		dd.Change = "added"
		for _, f := range n.fields {
			if allFields || f.New != "" {
				dd.Fields = append(dd.Fields, f)
			}
		}
	case n == nil:
		dd.Change = "removed"
		for _, f := range o.fields {
			if allFields || f.New != "" {
				dd.Fields = append(dd.Fields, fieldChange{Name: f.Name, Old: f.New})
			}
		}
	default:
		dd.Change = "changed"
		if of, nf := relativeTo(o.dir, o.file), relativeTo(n.dir, n.file); of != nf {
			dd.Fields = append(dd.Fields, fieldChange{Name: "file", Old: of, New: nf})
		}
		for i := range n.fields {
			if o.fields[i].New != n.fields[i].New {
				dd.Fields = append(dd.Fields, fieldChange{Name: n.fields[i].Name, Old: o.fields[i].New, New: n.fields[i].New})
			}
		}
	}
	dd.Entries = diffEntries(oldEntries, newEntries)
	if dd.Change == "changed" && len(dd.Fields) == 0 && len(dd.Entries.Added)+len(dd.Entries.Removed)+len(dd.Entries.Respelled) == 0 {
		return dd, false
	}
	return dd, true
}

// exemptionFields returns an exemption's fields, each as text in New.
func exemptionFields(e *matchers.Exemption) []fieldChange {
	return []fieldChange{
		{Name: "category", New: e.Category.String()},
		{Name: "reason", New: e.Reason},
		{Name: "applies_to", New: strings.Join(appliesTo(e), ",")},
	}
}

// demandFields returns a demand's metadata, each field as text in New, in
// the order diffs show them. The state is the one at time at.
func demandFields(d *matchers.Demand, at time.Time) []fieldChange {
	f := func(name, value string) fieldChange { return fieldChange{Name: name, New: value} }
	return []fieldChange{
		f("state", d.StateAt(at).String()),
		f("status", d.Status.String()),
		f("authority", d.Authority),
		f("jurisdiction", d.JurisdictionList()),
		f("legal_basis", d.LegalBasis),
		f("reference", d.Reference),
		f("received", formatDate(d.Received)),
		f("expires", formatDate(d.Expires)),
		f("action", d.Action.String()),
		f("scope", d.Scope.String()),
		f("priority", d.Priority.String()),
		f("tiers", d.Tiers.String()),
		f("mode", d.Mode.String()),
		f("max_tasks_per_minute", breakerField(d)),
	}
}

// breakerField is a demand's own circuit breaker as a diff shows it: ""
// when it has none of its own (the configuration's default), "0" when it
// turns it off.
func breakerField(d *matchers.Demand) string {
	switch {
	case d.MaxTasksPerMinute == matchers.NoTaskLimit:
		return "0"
	case d.MaxTasksPerMinute > 0:
		return fmt.Sprint(d.MaxTasksPerMinute)
	}
	return ""
}

// keyedEntry is an entry with its lookup key.
type keyedEntry struct {
	kind matchers.EntryKind
	key  string
	e    matchers.Entry
}

// keyedEntries returns the entries by kind and key, the first of repeated
// ones; nil for none.
func keyedEntries(l *matchers.EntryList) map[[2]string]keyedEntry {
	if l == nil {
		return nil
	}
	out := map[[2]string]keyedEntry{}
	for i := 0; i < l.Len(); i++ {
		e := l.At(i)
		key, err := matchers.EntryKey(e.Kind, e.Value)
		if err != nil { // the parser accepted it, so this does not happen
			key = e.Value
		}
		k := [2]string{e.Kind.String(), key}
		if _, ok := out[k]; !ok {
			out[k] = keyedEntry{kind: e.Kind, key: key, e: e}
		}
	}
	return out
}

// diffEntries compares the entries o and n (either may be nil).
func diffEntries(o, n *matchers.EntryList) entryChanges {
	c := entryChanges{Added: []diffEntry{}, Removed: []diffEntry{}, Respelled: []respellEntry{}}
	oldEntries, newEntries := keyedEntries(o), keyedEntries(n)
	for _, ne := range sortedEntries(newEntries) {
		oe, ok := oldEntries[[2]string{ne.kind.String(), ne.key}]
		switch {
		case !ok:
			c.Added = append(c.Added, diffEntry{Kind: ne.kind.String(), Entry: ne.e.Value, File: ne.e.File, Line: ne.e.Line})
		case oe.e.Value != ne.e.Value:
			c.Respelled = append(c.Respelled, respellEntry{Kind: ne.kind.String(), Old: oe.e.Value, New: ne.e.Value, File: ne.e.File, Line: ne.e.Line})
		}
	}
	for _, oe := range sortedEntries(oldEntries) {
		if _, ok := newEntries[[2]string{oe.kind.String(), oe.key}]; !ok {
			c.Removed = append(c.Removed, diffEntry{Kind: oe.kind.String(), Entry: oe.e.Value, File: oe.e.File, Line: oe.e.Line})
		}
	}
	return c
}

// sortedEntries orders entries by kind, then key.
func sortedEntries(m map[[2]string]keyedEntry) []keyedEntry {
	out := make([]keyedEntry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b keyedEntry) int {
		if a.kind != b.kind {
			return int(a.kind) - int(b.kind)
		}
		return strings.Compare(a.key, b.key)
	})
	return out
}

// writeDiffText writes d for a terminal or a code review.
func writeDiffText(w io.Writer, d *listsDiff) error {
	fmt.Fprintf(w, "--- %s (lists version %s, %d %s)\n", d.Old.Dir, d.Old.ListsVersion, d.Old.Demands, plural(d.Old.Demands, "demand", "demands"))
	fmt.Fprintf(w, "+++ %s (lists version %s, %d %s)\n", d.New.Dir, d.New.ListsVersion, d.New.Demands, plural(d.New.Demands, "demand", "demands"))
	if d.Identical {
		_, err := fmt.Fprintln(w, "\nno differences")
		return err
	}
	for _, dd := range d.Demands {
		// A demand's entries are aligned apart from its fields.
		if err := writeItemDiff(w, "demand", &dd, true); err != nil {
			return err
		}
	}
	for _, ed := range d.Exemptions {
		if err := writeItemDiff(w, "exemption", &ed, false); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "\n%s\n", d.Summary)
	return err
}

// writeItemDiff writes one demand's or exemption's (what) changes: its
// fields, then its entries, in a table apart with ownTable.
func writeItemDiff(w io.Writer, what string, dd *demandDiff, ownTable bool) error {
	fmt.Fprintln(w)
	switch dd.Change {
	case "added":
		fmt.Fprintf(w, "+ %s %s (%s)\n", what, dd.ID, dd.NewFile)
	case "removed":
		fmt.Fprintf(w, "- %s %s (%s)\n", what, dd.ID, dd.OldFile)
	default:
		fmt.Fprintf(w, "~ %s %s (%s)\n", what, dd.ID, dd.NewFile)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range dd.Fields {
		switch dd.Change {
		case "added":
			fmt.Fprintf(tw, "    %s:\t%s\n", f.Name, f.New)
		case "removed":
			fmt.Fprintf(tw, "    %s:\t%s\n", f.Name, f.Old)
		default:
			fmt.Fprintf(tw, "    %s:\t%s -> %s\n", f.Name, orUnset(f.Old), orUnset(f.New))
		}
	}
	if ownTable {
		if err := tw.Flush(); err != nil {
			return err
		}
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	}
	for _, e := range dd.Entries.Added {
		fmt.Fprintf(tw, "  + %s\t%s\t%s:%d\n", e.Kind, e.Entry, e.File, e.Line)
	}
	for _, e := range dd.Entries.Removed {
		fmt.Fprintf(tw, "  - %s\t%s\t%s:%d\n", e.Kind, e.Entry, e.File, e.Line)
	}
	for _, e := range dd.Entries.Respelled {
		fmt.Fprintf(tw, "  ~ %s\t%s -> %s\t%s:%d (respelled: matches the same)\n", e.Kind, e.Old, e.New, e.File, e.Line)
	}
	return tw.Flush()
}

// relativeTo returns file's name inside the lists directory dir.
func relativeTo(dir, file string) string {
	if rel, err := filepath.Rel(dir, file); err == nil {
		return filepath.ToSlash(rel)
	}
	return file
}

func orUnset(s string) string {
	if s == "" {
		return "(not set)"
	}
	return s
}
