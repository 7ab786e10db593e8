// Package cli is the flagstream command line, built on spf13/cobra and
// pflag: it parses arguments and runs a subcommand. Main takes its context
// and standard streams as arguments and builds a fresh command tree on
// every call (no global flag sets or commands), so the whole program runs
// inside tests.
//
// Flags may come before or after positional arguments; help shows them as
// --long with a placeholder for their value (--lists DIR) and ends with
// examples; a mistyped command or flag gets a suggestion.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"flagstream/internal/lists"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitIO    = 1 // I/O or runtime failure
	ExitUsage = 2 // bad usage, config or lists
)

// Env is what a subcommand may use of its surroundings.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads environment variables; default os.Getenv.
	Getenv func(string) string
	// Reload is signalled (SIGHUP) to reload lists; may be nil.
	Reload <-chan struct{}
}

// exitError carries an exit code with an error. usage marks a mistake in
// the command line itself, after which Main points to the command's help;
// quiet an outcome that the exit code alone reports (lists diff
// --exit-code), which Main does not print.
type exitError struct {
	code  int
	err   error
	usage bool
	quiet bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a mistake in the command line: a flag, an
// argument (exit 2, with a pointer to the command's help).
func usageError(err error) error { return &exitError{code: ExitUsage, err: err, usage: true} }

func usagef(format string, args ...any) error { return usageError(fmt.Errorf(format, args...)) }

// inputError marks err as a problem with the config, lists or another
// input named on the command line (exit 2).
func inputError(err error) error { return &exitError{code: ExitUsage, err: err} }

// Main runs the command line args (without the program name) and returns
// the exit code: 0 on success, 1 for an I/O or runtime failure, 2 for bad
// usage, config or lists. Errors go to env.Stderr as "flagstream: …".
func Main(ctx context.Context, args []string, env *Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	root := newRoot(env, args)
	// A nil slice would make cobra read os.Args.
	root.SetArgs(append([]string{}, args...))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	// Errors of cobra itself (an unknown command, a bad argument count)
	// are usage errors; every error of a command's own is an *exitError.
	var ee *exitError
	if !errors.As(err, &ee) {
		ee = &exitError{code: ExitUsage, err: err, usage: true}
	}
	if ee.quiet {
		return ee.code
	}
	fmt.Fprintf(env.Stderr, "flagstream: %v\n", strings.TrimRight(err.Error(), "\n"))
	if ee.usage && cmd != nil {
		what := "its flags and examples"
		if cmd.HasAvailableSubCommands() {
			what = "the commands"
		}
		fmt.Fprintf(env.Stderr, "Usage: %s\nRun '%s --help' for %s.\n", cmd.UseLine(), cmd.CommandPath(), what)
	}
	return ee.code
}

// The groups of commands in the root help, production ones first.
const (
	groupProduction = "production"
	groupLists      = "lists"
	groupDev        = "dev"
	groupOther      = "other"
)

const rootDescription = `
flagstream matches tweets against the accounts, hashtags, phrases and domains
named in legal demands, and emits one review task per flagged tweet: what
matched, which demand asked for it, under which law and jurisdiction.

Exit status of every command: 0 on success, 2 for bad usage, config or lists
(the message names the file, line and problem), 1 for an I/O or runtime
failure.`

const rootExamples = `
  # Validate the demand lists, then scan a file of tweets with them
  flagstream lists check deploy/examples/lists
  flagstream scan tweets.ndjson --lists deploy/examples/lists > tasks.ndjson

  # Explain what a text matches
  flagstream lists test --lists deploy/examples/lists 'they plan a #FarmerGenocide'

  # Everything end to end, nothing installed
  flagstream demo --duration 10s

  # Production: Kafka in, review tasks out, metrics on :9464
  flagstream run --config deploy/examples/config.yaml`

// newRoot builds the command tree. args are the arguments Main runs, for
// hints on mistyped flags.
func newRoot(env *Env, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:                   "flagstream COMMAND [flags] [ARGS]",
		Short:                 "match tweets against legal demands and emit review tasks",
		Long:                  rootDescription,
		Example:               rootExamples,
		Version:               versionLine(),
		SilenceErrors:         true,
		SilenceUsage:          true,
		DisableFlagsInUseLine: true,
		CompletionOptions:     cobra.CompletionOptions{DisableDefaultCmd: true},
		// Runs only without arguments: cobra answers an unknown command
		// with a suggestion before it gets here.
		RunE: func(cmd *cobra.Command, _ []string) error {
			writeHelp(env.Stderr, cmd)
			return &exitError{code: ExitUsage, err: errors.New("no command given")}
		},
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetVersionTemplate("flagstream {{.Version}}\n")
	root.SetHelpFunc(func(c *cobra.Command, _ []string) { writeHelp(c.OutOrStdout(), c) })
	root.SetUsageFunc(func(c *cobra.Command) error { writeHelp(c.ErrOrStderr(), c); return nil })
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError(explainFlagError(c, err, args)) })
	root.AddGroup(
		&cobra.Group{ID: groupProduction, Title: "Production:"},
		&cobra.Group{ID: groupLists, Title: "Demand lists and formats:"},
		&cobra.Group{ID: groupDev, Title: "Development and testing (not for production):"},
		&cobra.Group{ID: groupOther, Title: "Other:"},
	)
	root.Flags().BoolP("version", "v", false, "print the version and exit")
	n := 0
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			setOrder(c, n)
			n++
			root.AddCommand(c)
		}
	}
	add(groupProduction, newRunCommand(env), newScanCommand(env), newRetroCommand(env), newReportCommand(env), newHealthcheckCommand(env))
	add(groupLists, newListsCommand(env), newSchemaCommand(env))
	add(groupDev, newDemoCommand(env), newBrokerCommand(env), newGenerateCommand(env), newBenchCommand(env), newBenchConsumerCommand(env))
	help := newHelpCommand(root)
	root.SetHelpCommand(help)
	add(groupOther, newCompletionCommand(root), newVersionCommand(env), help)
	forEachCommand(root, func(c *cobra.Command) { c.DisableFlagsInUseLine = true })
	return root
}

// orderAnnotation, on a command, is its place in its parent's help;
// commands without one come after, by name.
const orderAnnotation = "flagstream_order"

func setOrder(c *cobra.Command, n int) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[orderAnnotation] = fmt.Sprintf("%06d", n)
}

// forEachCommand calls f for c and every command below it.
func forEachCommand(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		forEachCommand(sub, f)
	}
}

// runE adapts a command's function to cobra: every error it returns that
// is not already classified is an I/O or runtime failure (exit 1).
func runE(f func(ctx context.Context, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := f(cmd.Context(), args)
		var ee *exitError
		if err == nil || errors.As(err, &ee) {
			return err
		}
		return &exitError{code: ExitIO, err: err}
	}
}

// noArgs refuses positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s: unexpected argument %q", cmd.Name(), args[0])
	}
	return nil
}

// exactArgs wants n positional arguments, described by what.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s: name %s", strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" "), what)
		}
		return nil
	}
}

// explainFlagError adds a hint to a flag error: the flag meant when a long
// flag was written with one dash (-lists), or names close to an unknown
// one (--lits).
func explainFlagError(c *cobra.Command, err error, args []string) error {
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) {
		return err
	}
	if ne.GetSpecifiedShortnames() != "" {
		for _, a := range args {
			if a == "--" {
				break
			}
			name, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
			if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(name) > 1 && c.Flags().Lookup(name) != nil {
				return fmt.Errorf("%w (a long flag takes two dashes: --%s)", err, name)
			}
		}
		return err
	}
	var close []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && (lists.EditDistance(f.Name, ne.GetSpecifiedName()) <= 2 || strings.HasPrefix(f.Name, ne.GetSpecifiedName())) {
			close = append(close, "--"+f.Name)
		}
	})
	if len(close) > 0 {
		return fmt.Errorf("%w (did you mean %s?)", err, strings.Join(close, " or "))
	}
	return err
}

// atTime returns the time an --at flag names (YYYY-MM-DD or RFC 3339), or
// now when it is empty; cmd names the command in the usage error.
func atTime(cmd, value string) (time.Time, error) {
	if value == "" {
		return time.Now(), nil
	}
	t, err := lists.ParseDate(value)
	if err != nil {
		return t, usagef("%s: --at: %v", cmd, err)
	}
	return t, nil
}
