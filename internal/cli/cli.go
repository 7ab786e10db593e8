// Package cli is the flagstream command line: it parses arguments and runs
// a subcommand. Main takes its context and standard streams as arguments,
// so the whole program runs inside tests.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

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

// exitError carries an exit code with an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a problem with usage, config or lists (exit 2).
func usageError(err error) error { return &exitError{code: ExitUsage, err: err} }

func usagef(format string, args ...any) error { return usageError(fmt.Errorf(format, args...)) }

type command struct {
	name, summary string
	run           func(ctx context.Context, env *Env, args []string) error
}

func commands() []command {
	return []command{
		{"run", "production: consume tweets from Kafka, emit review tasks, serve metrics", runCommand},
		{"scan", "offline: NDJSON tweets in, NDJSON review tasks out", scanCommand},
		{"demo", "self-contained demo: embedded broker, sample lists, synthetic traffic", demoCommand},
		{"broker", "single-node Kafka-protocol broker for development and tests (not durable)", brokerCommand},
		{"lists", "lists check DIR: validate demand lists, print entries and version", listsCommand},
		{"generate", "write synthetic tweets as NDJSON for load tests and end-to-end checks", generateCommand},
		{"bench", "measure run's throughput against a bare kafka-go consumer on the same broker", benchCommand},
		{"healthcheck", "exit 0 if a running flagstream's /healthz answers (for container HEALTHCHECK)", healthcheckCommand},
		{"version", "print the version", versionCommand},
	}
}

// Main runs the command line args (without the program name) and returns
// the exit code.
func Main(ctx context.Context, args []string, env *Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	err := dispatch(ctx, args, env)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "flagstream: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitIO
}

func dispatch(ctx context.Context, args []string, env *Env) error {
	if len(args) == 0 {
		printUsage(env.Stderr)
		return usagef("no command given")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printUsage(env.Stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	printUsage(env.Stderr)
	return usagef("unknown command %q", args[0])
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `flagstream matches tweets against the accounts, hashtags, phrases and domains
named in legal demands, and emits one review task per flagged tweet.

Usage:
  flagstream run    --config FILE            consume from Kafka (production)
  flagstream scan   --lists DIR [--rejects FILE] [FILE|-]...
  flagstream demo   [--duration D]
  flagstream broker --listen ADDR [--partitions N] [--topics a,b]
  flagstream lists  check DIR
  flagstream generate --lists DIR [--count N] [--expect FILE]
  flagstream bench  [--records N] [--runs N]
  flagstream healthcheck [--url URL]
  flagstream version

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'flagstream COMMAND --help' for a command's flags.\n")
}

// newFlagSet returns a flag set whose usage prints synopsis, description
// and the flags to env.Stderr (or Stdout for --help).
func newFlagSet(env *Env, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: flagstream %s\n\n%s\n", synopsis, strings.TrimSpace(description))
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprint(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args, turning errors into usage errors; --help prints
// the usage to stdout.
func parseFlags(fs *flag.FlagSet, env *Env, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(env.Stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	return nil
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
