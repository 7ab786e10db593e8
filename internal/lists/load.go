// Package lists turns a directory of demand list files into the matcher
// snapshots the pipeline uses, and keeps the current one up to date. It is
// split the way alertmanager's config/coordinator.go is:
//   - parse.go reads the files (ParseLists, ParseDemand);
//   - Load and Loader compile them into a snapshot, and say which files
//     they read;
//   - Coordinator holds the current snapshot: it swaps in what loads,
//     keeps the last good one when a load fails, and sets the metrics;
//   - Watcher decides when to reload: on a signal, when the files change,
//     and when a demand starts or expires.
package lists

import (
	"fmt"
	"os"
	"slices"
	"time"

	"flagstream/matchers"
)

// Load parses every list file in dir and compiles the demands (active at
// time at) and exemptions. An error names each broken file and line.
func Load(dir string, at time.Time) (*matchers.Snapshot, []matchers.Warning, error) {
	s, w, _, err := Loader{Dir: dir}.Load(at)
	return s, w, err
}

// Parse parses every list file in dir and returns the demands (ParseDir
// returns the exemptions too).
func Parse(dir string) ([]matchers.Demand, []matchers.Warning, error) {
	l, warnings, err := ParseDir(dir)
	return l.Demands, warnings, err
}

// ParseDir parses every list file in dir: demands and exemptions.
func ParseDir(dir string) (matchers.Lists, []matchers.Warning, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return matchers.Lists{}, nil, fmt.Errorf("lists directory: %w", err)
	}
	if !info.IsDir() {
		return matchers.Lists{}, nil, fmt.Errorf("lists directory: %s is not a directory", dir)
	}
	l, warnings, err := ParseFS(os.DirFS(dir), dir)
	if err == nil && len(l.Demands) == 0 {
		warnings = append(warnings, matchers.Warning{File: dir, Msg: "no demand files (*.yaml): nothing can match"})
	}
	return l, warnings, err
}

// Loader loads a lists directory.
type Loader struct {
	Dir string
}

// Load parses and compiles the lists as active at time at, and returns
// the entry files the demands read beside the demand files (for a watcher
// to look at). An error names each broken file and line.
func (l Loader) Load(at time.Time) (s *matchers.Snapshot, warnings []matchers.Warning, entryFiles []string, err error) {
	s, _, warnings, entryFiles, err = l.LoadLists(at)
	return s, warnings, entryFiles, err
}

// LoadLists is Load that also returns the parsed lists.
func (l Loader) LoadLists(at time.Time) (s *matchers.Snapshot, lists matchers.Lists, warnings []matchers.Warning, entryFiles []string, err error) {
	lists, warnings, err = ParseDir(l.Dir)
	if err != nil {
		return nil, lists, warnings, nil, err
	}
	s, more, err := matchers.CompileLists(lists, at)
	warnings = append(warnings, more...)
	if err != nil {
		return nil, lists, warnings, nil, err
	}
	note := func(file string, list *matchers.EntryList) {
		for _, f := range list.Files() {
			if f != file && !slices.Contains(entryFiles, f) {
				entryFiles = append(entryFiles, f)
			}
		}
	}
	for i := range lists.Demands {
		note(lists.Demands[i].File, &lists.Demands[i].Entries)
	}
	for i := range lists.Exemptions {
		note(lists.Exemptions[i].File, &lists.Exemptions[i].Entries)
	}
	return s, lists, warnings, entryFiles, nil
}
