package app

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"flagstream/internal/lists"
	"flagstream/matchers"
)

// Selection chooses what a retro-hunt (or scan --demand) matches: some
// demands, and only the entries that an older lists directory lacks. The
// zero Selection is every demand and entry.
type Selection struct {
	// Demands are demand ids; empty selects every demand.
	Demands []string
	// OnlyNew, when set, is a lists directory: only the entries it lacks
	// are matched (compared by kind and key, as lists diff does).
	OnlyNew string
}

// Selected is a Selection loaded: the snapshot to match with and what it
// was made from.
type Selected struct {
	// Snapshot holds the selected demands and entries only; its version
	// is theirs.
	Snapshot *matchers.Snapshot
	// All is the snapshot of every demand of the lists.
	All *matchers.Snapshot
	// OnlyNewVersion is the lists version of the OnlyNew directory.
	OnlyNewVersion string
	// Demands are the ids of the demands selected, sorted.
	Demands []string
}

// LoadSelection loads the lists in dir as active at time at and returns
// the selection sel of them, with the lists' exemptions of the demands
// selected (matchers.Lists.Restrict), so that an exempt author's task is
// escalated as run would. A broken lists directory (either), an unknown
// demand id or a selected demand that is not active at at is an ErrLists
// error.
func LoadSelection(dir string, at time.Time, sel Selection) (*Selected, []matchers.Warning, error) {
	parsed, warnings, err := lists.ParseDir(dir)
	if err != nil {
		return nil, warnings, fmt.Errorf("%w: %w", ErrLists, err)
	}
	demands := parsed.Demands
	all, more, err := matchers.CompileLists(parsed, at)
	warnings = append(warnings, more...)
	if err != nil {
		return nil, warnings, fmt.Errorf("%w: %w", ErrLists, err)
	}
	out := &Selected{All: all}
	chosen := demands
	if len(sel.Demands) > 0 {
		if chosen, err = matchers.SelectDemands(demands, sel.Demands); err != nil {
			return nil, warnings, fmt.Errorf("%w: %s: %w", ErrLists, dir, err)
		}
		var inactive []string
		for i := range chosen {
			if st := chosen[i].StateAt(at); st != matchers.StateActive {
				inactive = append(inactive, fmt.Sprintf("%s is %s", chosen[i].ID, st))
			}
		}
		if len(inactive) > 0 {
			return nil, warnings, fmt.Errorf("%w: %s: %s at %s: only active demands match", ErrLists, dir,
				strings.Join(inactive, ", "), at.UTC().Format(time.RFC3339))
		}
	}
	if sel.OnlyNew != "" {
		old, _, err := lists.Parse(sel.OnlyNew)
		if err != nil {
			return nil, warnings, fmt.Errorf("%w: --only-new %s: %w", ErrLists, sel.OnlyNew, err)
		}
		oldSnap, _, err := matchers.Compile(old, at)
		if err != nil {
			return nil, warnings, fmt.Errorf("%w: --only-new %s: %w", ErrLists, sel.OnlyNew, err)
		}
		out.OnlyNewVersion = oldSnap.Version()
		chosen = matchers.AddedEntries(old, chosen)
	}
	// The selection matches with the exemptions of the whole lists; its
	// repeats were reported with them.
	if out.Snapshot, _, err = matchers.CompileLists(parsed.Restrict(chosen), at); err != nil {
		return nil, warnings, fmt.Errorf("%w: %w", ErrLists, err)
	}
	for i := range chosen {
		out.Demands = append(out.Demands, chosen[i].ID)
	}
	slices.Sort(out.Demands)
	return out, warnings, nil
}
