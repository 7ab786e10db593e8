// Package lists loads demand lists from a directory into matcher
// snapshots, and keeps a current snapshot up to date as the files change
// and as demands start and expire.
package lists

import (
	"fmt"
	"os"
	"time"

	"flagstream/matchers"
)

// Load parses every demand file in dir and compiles the demands active at
// time at. An error names each broken file and line.
func Load(dir string, at time.Time) (*matchers.Snapshot, []matchers.Warning, error) {
	demands, warnings, err := Parse(dir)
	if err != nil {
		return nil, warnings, err
	}
	s, more, err := matchers.Compile(demands, at)
	return s, append(warnings, more...), err
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
