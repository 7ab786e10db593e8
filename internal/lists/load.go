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

// Load parses every demand file in dir and compiles the demands active at
// time at. An error names each broken file and line.
func Load(dir string, at time.Time) (*matchers.Snapshot, []matchers.Warning, error) {
	s, w, _, err := Loader{Dir: dir}.Load(at)
	return s, w, err
}

// Parse parses every demand file in dir.
func Parse(dir string) ([]matchers.Demand, []matchers.Warning, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("lists directory: %w", err)
	}
	if !info.IsDir() {
		return nil, nil, fmt.Errorf("lists directory: %s is not a directory", dir)
	}
	demands, warnings, err := ParseLists(os.DirFS(dir), dir)
	if err == nil && len(demands) == 0 {
		warnings = append(warnings, matchers.Warning{File: dir, Msg: "no demand files (*.yaml): nothing can match"})
	}
	return demands, warnings, err
}

// Loader loads a lists directory.
type Loader struct {
	Dir string
}

// Load parses and compiles the lists as active at time at, and returns
// the entry files the demands read beside the demand files (for a watcher
// to look at). An error names each broken file and line.
func (l Loader) Load(at time.Time) (s *matchers.Snapshot, warnings []matchers.Warning, entryFiles []string, err error) {
	s, _, warnings, entryFiles, err = l.LoadDemands(at)
	return s, warnings, entryFiles, err
}

// LoadDemands is Load that also returns the parsed demands.
func (l Loader) LoadDemands(at time.Time) (s *matchers.Snapshot, demands []matchers.Demand, warnings []matchers.Warning, entryFiles []string, err error) {
	demands, warnings, err = Parse(l.Dir)
	if err != nil {
		return nil, nil, warnings, nil, err
	}
	s, more, err := matchers.Compile(demands, at)
	warnings = append(warnings, more...)
	if err != nil {
		return nil, nil, warnings, nil, err
	}
	for _, d := range demands {
		for _, f := range d.Entries.Files() {
			if f != d.File && !slices.Contains(entryFiles, f) {
				entryFiles = append(entryFiles, f)
			}
		}
	}
	return s, demands, warnings, entryFiles, nil
}
