package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// imports returns, for every package directory of the module, the
// flagstream packages that its non-test files import, and for every
// non-test file the same.
func imports(t *testing.T) (byPkg map[string][]string, byFile map[string][]string) {
	t.Helper()
	root := filepath.Join("..", "..")
	byPkg, byFile = map[string][]string{}, map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		pkg := path.Join("flagstream", filepath.ToSlash(filepath.Dir(rel)))
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			if imp == "flagstream" || strings.HasPrefix(imp, "flagstream/") {
				byFile[filepath.ToSlash(rel)] = append(byFile[filepath.ToSlash(rel)], imp)
				if !slices.Contains(byPkg[pkg], imp) {
					byPkg[pkg] = append(byPkg[pkg], imp)
				}
			} else if _, ok := byPkg[pkg]; !ok {
				byPkg[pkg] = nil
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return byPkg, byFile
}

func under(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }

// TestImportRules checks the rules of docs/architecture.md on the
// production code (tests may import anything): imports go one way, cmd →
// internal → pipeline → matchers, config is a leaf, nothing imports the
// test kit, and only the dev tools, the test kit and the command-line
// files of the dev commands import the dev tools.
func TestImportRules(t *testing.T) {
	byPkg, byFile := imports(t)
	if len(byPkg) < 15 {
		t.Fatalf("found %d packages; is the walk at the repository root?", len(byPkg))
	}
	devCommands := []string{"internal/cli/demo.go", "internal/cli/bench.go", "internal/cli/generate.go", "internal/cli/broker.go"}
	for pkg, imps := range byPkg {
		for _, imp := range imps {
			var why string
			switch {
			case under(imp, "flagstream/internal/testkit"):
				why = "production code never imports the test kit"
			case under(pkg, "flagstream/matchers"):
				why = "matchers imports no other flagstream package"
			case under(pkg, "flagstream/config") && imp != "flagstream/config/strictyaml":
				why = "config is a leaf (config/strictyaml aside)"
			case under(pkg, "flagstream/pipeline") && !under(imp, "flagstream/pipeline") && imp != "flagstream/matchers":
				why = "pipeline imports only pipeline and matchers"
			case under(pkg, "flagstream/internal") && under(imp, "flagstream/cmd"):
				why = "internal never imports cmd"
			}
			if why != "" {
				t.Errorf("%s imports %s: %s", pkg, imp, why)
			}
		}
	}
	for file, imps := range byFile {
		for _, imp := range imps {
			tools := strings.HasPrefix(file, "internal/dev/") || strings.HasPrefix(file, "internal/testkit/")
			if under(imp, "flagstream/internal/dev") && !tools && !slices.Contains(devCommands, file) {
				t.Errorf("%s imports %s: only the dev tools and the dev commands (%s) may", file, imp, strings.Join(devCommands, ", "))
			}
		}
	}
	// The test kit and what it imports stay clear of matchers, so that
	// matchers' own tests can use it.
	seen := map[string]bool{}
	var walk func(pkg string, via []string)
	walk = func(pkg string, via []string) {
		if seen[pkg] {
			return
		}
		seen[pkg] = true
		for _, imp := range byPkg[pkg] {
			if imp == "flagstream/matchers" {
				t.Errorf("the test kit reaches matchers through %s", strings.Join(append(via, pkg), " → "))
			}
			walk(imp, append(via, pkg))
		}
	}
	walk("flagstream/internal/testkit", nil)
}
