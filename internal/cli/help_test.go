package cli

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"flagstream/config"
)

// allCommands returns every command of a fresh tree, the root first,
// without cobra's hidden ones.
func allCommands(t *testing.T) []*cobra.Command {
	t.Helper()
	root := newRoot(&Env{Stdout: io.Discard, Stderr: io.Discard, Stdin: strings.NewReader("")}, nil)
	var out []*cobra.Command
	forEachCommand(root, func(c *cobra.Command) {
		if !c.Hidden {
			out = append(out, c)
		}
	})
	if len(out) < 15 {
		t.Fatalf("only %d commands", len(out))
	}
	return out
}

func TestEveryCommandHelp(t *testing.T) {
	for _, c := range allCommands(t) {
		path := strings.Fields(c.CommandPath())[1:]
		for _, help := range []string{"--help", "-h"} {
			t.Run(strings.Join(append(path, help), " "), func(t *testing.T) {
				r := runMain(t, nil, append(path, help)...)
				if r.code != ExitOK {
					t.Errorf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
				}
				if r.stderr != "" {
					t.Errorf("stderr = %q, want nothing", r.stderr)
				}
				if want := "Usage: " + c.CommandPath(); !strings.HasPrefix(r.stdout, want) {
					t.Errorf("stdout does not start with %q:\n%s", want, r.stdout)
				}
				if !strings.Contains(r.stdout, "\nExamples:\n  ") {
					t.Errorf("help has no Examples section:\n%s", r.stdout)
				}
				c.LocalFlags().VisitAll(func(f *pflag.Flag) {
					if !strings.Contains(r.stdout, "--"+f.Name) {
						t.Errorf("help does not show --%s", f.Name)
					}
				})
				if m := regexp.MustCompile(`--[a-z0-9._-]+ (value|string|strings|stringArray|int|uint64|float|duration|bool)\b`).FindString(r.stdout); m != "" {
					t.Errorf("help shows a flag with a type for a placeholder: %q", m)
				}
				if regexp.MustCompile(`(?m)^\s+-[a-z][a-z]`).MatchString(r.stdout) {
					t.Errorf("help shows a long flag with one dash:\n%s", r.stdout)
				}
			})
		}
	}
}

// TestFlagPlaceholders checks that every flag that takes a value names it
// with a placeholder in capitals (DIR, FILE, N…) or its choices.
func TestFlagPlaceholders(t *testing.T) {
	placeholder := regexp.MustCompile(`^([A-Z][A-Z_:]*(,\.\.\.)?|[a-z]+(\|[a-z]+)+)$`)
	for _, c := range allCommands(t) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			arg := flagArg(f)
			if f.Value.Type() == "bool" {
				if arg != "" {
					t.Errorf("%s --%s: a true-or-false flag shows a value %q", c.CommandPath(), f.Name, arg)
				}
				return
			}
			if !placeholder.MatchString(arg) {
				t.Errorf("%s --%s: placeholder %q is not a name in capitals or a|b choices", c.CommandPath(), f.Name, arg)
			}
		})
	}
}

func TestRootHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		t.Run(args[0], func(t *testing.T) {
			r := runMain(t, nil, args...)
			if r.code != ExitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
			}
			root := newRoot(&Env{}, nil)
			for _, c := range root.Commands() {
				if !c.Hidden && !strings.Contains(r.stdout, "\n  "+c.Name()+" ") {
					t.Errorf("root help lacks command %s:\n%s", c.Name(), r.stdout)
				}
			}
			// Production commands come first, the development ones after.
			prod, dev := strings.Index(r.stdout, "\nProduction:\n"), strings.Index(r.stdout, "\nDevelopment and testing (not for production):\n")
			if prod < 0 || dev < prod {
				t.Errorf("production commands do not come before development ones:\n%s", r.stdout)
			}
			for _, name := range []string{"demo", "broker", "generate", "bench"} {
				if i := strings.Index(r.stdout, "\n  "+name+" "); i < dev {
					t.Errorf("%s is not under the development heading", name)
				}
			}
		})
	}
	r := runMain(t, nil, "help", "lists", "diff")
	if r.code != ExitOK || !strings.HasPrefix(r.stdout, "Usage: flagstream lists diff OLD_DIR NEW_DIR") {
		t.Errorf("help lists diff: exit %d:\n%s", r.code, r.stdout)
	}
}

func TestScanHelpShowsLongFlags(t *testing.T) {
	r := runMain(t, nil, "scan", "--help")
	for _, want := range []string{"--lists DIR", "--rejects FILE", "--workers N", "--at TIME", "--progress WHEN", "\nExamples:\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("scan --help lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestRunHelpGroupsSettings(t *testing.T) {
	r := runMain(t, nil, "run", "--help")
	for _, want := range []string{"--kafka.brokers HOST:PORT,...", "FLAGSTREAM_KAFKA_BROKERS", "--kafka.tls.ca_file FILE",
		"--kafka.tls.enabled  ", "--input.max_wait DURATION", "--input.fetch_max_bytes SIZE", "(default 8MiB)",
		"--input.start earliest|latest", "--config FILE", "--print-config"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("run --help lacks %q:\n%s", want, r.stdout)
		}
	}
	last := -1
	for _, s := range config.Sections() {
		i := strings.Index(r.stdout, "\n  "+s+":\n")
		if i < 0 || i < last {
			t.Errorf("section %s: at %d, after %d; want the sections in config order", s, i, last)
		}
		last = i
	}
	// Every setting has its flag.
	defaults := config.Default()
	for _, s := range config.Settings(&defaults) {
		if s.Key != "" && !strings.Contains(r.stdout, "--"+s.Key+" ") && !strings.Contains(r.stdout, "--"+s.Key+"\n") {
			t.Errorf("run --help lacks --%s", s.Key)
		}
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if len(line) > helpWidth {
			t.Errorf("line longer than %d: %q", helpWidth, line)
		}
	}
}

// TestExamplesParse checks every example in every command's help: the
// command exists and takes the flags the example gives.
func TestExamplesParse(t *testing.T) {
	n := 0
	for _, c := range allCommands(t) {
		for _, line := range strings.Split(c.Example, "\n") {
			args, ok := exampleArgs(line)
			if !ok {
				continue
			}
			n++
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				root := newRoot(&Env{Stdout: io.Discard, Stderr: io.Discard}, args)
				cmd, rest, err := root.Find(args)
				if err != nil {
					t.Fatalf("%v", err)
				}
				if err := cmd.ParseFlags(rest); err != nil {
					t.Fatalf("%s: %v", cmd.CommandPath(), err)
				}
				if cmd.Args != nil {
					if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
						t.Errorf("%s: %v", cmd.CommandPath(), err)
					}
				}
			})
		}
	}
	if n < 30 {
		t.Errorf("only %d examples found", n)
	}
}

// exampleArgs returns the arguments of the flagstream command on an
// example line: after any environment assignments or a pipe, up to a
// redirection or the next pipe, with shell quotes removed.
func exampleArgs(line string) ([]string, bool) {
	words := shellWords(line)
	start := -1
	for i, w := range words {
		if w == "flagstream" && (i == 0 || words[i-1] == "|" || strings.Contains(words[i-1], "=")) {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil, false
	}
	var args []string
	for _, w := range words[start:] {
		if w == "|" || w == ">" || w == "<" || strings.HasPrefix(w, ">") {
			break
		}
		args = append(args, w)
	}
	return args, true
}

// shellWords splits a line as a POSIX shell would, for the simple quoting
// examples use ('…', "…"); an unquoted # starts a comment.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '#' && !inWord:
			return words
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func TestShellWords(t *testing.T) {
	got := strings.Join(shellWords(`FOO=1 flagstream lists test --lists d 'a #b' "c d" > out # comment`), "|")
	if want := "FOO=1|flagstream|lists|test|--lists|d|a #b|c d|>|out"; got != want {
		t.Errorf("shellWords = %q, want %q", got, want)
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []struct{ name, want string }{
		{"bash", "__start_flagstream"},
		{"zsh", "#compdef flagstream"},
		{"fish", "complete -c flagstream"},
	} {
		t.Run(shell.name, func(t *testing.T) {
			r := runMain(t, nil, "completion", shell.name)
			if r.code != ExitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, shell.want) || !strings.Contains(r.stdout, "__complete") {
				t.Errorf("the %s script lacks %q or the __complete call:\n%.400s", shell.name, shell.want, r.stdout)
			}
		})
	}
	// The scripts ask the program itself; check that it answers.
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "sc"}, []string{"scan", "schema"}},
		{[]string{"__complete", "lists", ""}, []string{"check", "diff", "test"}},
		{[]string{"__complete", "scan", "--li"}, []string{"--lists"}},
		{[]string{"__complete", "scan", "--progress", ""}, []string{"auto", "always", "never"}},
		{[]string{"__complete", "schema", ""}, []string{"task", "demand", "exemption"}},
		{[]string{"__complete", "completion", ""}, []string{"bash", "zsh", "fish"}},
	}
	for _, tc := range tests {
		r := runMain(t, nil, tc.args...)
		for _, want := range tc.want {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + `(\t|$)`).MatchString(r.stdout) {
				t.Errorf("%v: completions lack %q:\n%s", tc.args, want, r.stdout)
			}
		}
	}
}

func TestVersionFlag(t *testing.T) {
	a, b := runMain(t, nil, "--version"), runMain(t, nil, "version")
	if a.code != ExitOK || a.stdout != b.stdout {
		t.Errorf("--version: exit %d, %q; want 0 and %q", a.code, a.stdout, b.stdout)
	}
}

func TestIsTerminal(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if isTerminal(null) {
		t.Errorf("%s is taken for a terminal", os.DevNull)
	}
	if isTerminal(&strings.Builder{}) {
		t.Error("a strings.Builder is taken for a terminal")
	}
}

func TestProgressLine(t *testing.T) {
	tests := []struct {
		n, total int64
		sized    bool
		elapsed  time.Duration
		want     string
	}{
		{512 << 20, 2 << 30, true, 4 * time.Second, "scan:  25% of 2.0 GiB, 128.0 MiB/s, ETA 12s"},
		{2 << 30, 2 << 30, true, 16 * time.Second, "scan: 100% of 2.0 GiB, 128.0 MiB/s, ETA 0s"},
		{3 << 30, 2 << 30, true, 16 * time.Second, "scan: 100% of 2.0 GiB, 192.0 MiB/s, ETA 0s"}, // the file grew
		{0, 1 << 20, true, time.Second, "scan:   0% of 1.0 MiB, 0 B/s, ETA -"},
		{300 << 20, 0, false, 3 * time.Second, "scan: 300.0 MiB read, 100.0 MiB/s"},
	}
	for _, tc := range tests {
		if got := progressLine(tc.n, tc.total, tc.sized, tc.elapsed); got != tc.want {
			t.Errorf("progressLine(%d, %d, %v, %v) = %q, want %q", tc.n, tc.total, tc.sized, tc.elapsed, got, tc.want)
		}
	}
}

func TestInputSize(t *testing.T) {
	total, sized := inputSize([]string{scanInput, scanInput}, nil)
	info, err := os.Stat(scanInput)
	if err != nil {
		t.Fatal(err)
	}
	if !sized || total != 2*info.Size() {
		t.Errorf("inputSize of two files = %d, %v; want %d, true", total, sized, 2*info.Size())
	}
	if _, sized := inputSize([]string{"-"}, strings.NewReader("x")); sized {
		t.Error("a pipe-like standard input has a known size")
	}
	f, err := os.Open(scanInput)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if total, sized := inputSize(nil, f); !sized || total != info.Size() {
		t.Errorf("standard input from a file: %d, %v; want %d, true", total, sized, info.Size())
	}
}

// TestReadmeCommandsParse checks the flagstream commands of the shell
// blocks (```sh, and lines starting with "$ " in other blocks) of README.md
// and docs/*.md: each names a command that exists with flags it takes.
func TestReadmeCommandsParse(t *testing.T) {
	docs, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, path := range append([]string{"../../README.md"}, docs...) {
		n := checkDocCommands(t, path)
		if path == "../../README.md" && n < 8 {
			t.Errorf("only %d commands found in README.md", n)
		}
		total += n
	}
	if total < 20 {
		t.Errorf("only %d commands found in README.md and docs/*.md", total)
	}
}

// checkDocCommands checks the flagstream commands of the markdown file at
// path and returns how many it found.
func checkDocCommands(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(path, "../../")
	n := 0
	inBlock, shell, continued := false, false, false
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "```") {
			inBlock, shell = !inBlock, line == "```sh"
			continue
		}
		if !inBlock {
			continue
		}
		prompt := strings.HasPrefix(line, "$ ")
		if !shell && !prompt && !continued {
			continue
		}
		line = strings.TrimPrefix(line, "$ ")
		continued = strings.HasSuffix(line, "\\")
		args, ok := exampleArgs(strings.TrimSuffix(line, "\\"))
		if !ok {
			continue
		}
		n++
		root := newRoot(&Env{Stdout: io.Discard, Stderr: io.Discard}, args)
		cmd, rest, err := root.Find(args)
		if err == nil {
			err = cmd.ParseFlags(rest)
		}
		if err == nil && cmd.Args != nil {
			err = cmd.Args(cmd, cmd.Flags().Args())
		}
		if err != nil {
			t.Errorf("%s:%d: %s: %v", name, i+1, line, err)
		}
	}
	return n
}

func TestStatusWriter(t *testing.T) {
	var b strings.Builder
	s := &statusWriter{w: &b}
	s.status("scan: 10%")
	s.Write([]byte("scan: x:1: rejected\n"))
	s.Write([]byte("scan: x:2: rejected\n"))
	s.status("scan: 20%")
	s.status("")
	want := "\r\033[Kscan: 10%\r\033[Kscan: x:1: rejected\nscan: x:2: rejected\n\r\033[Kscan: 20%\r\033[K"
	if b.String() != want {
		t.Errorf("wrote %q, want %q", b.String(), want)
	}
}
