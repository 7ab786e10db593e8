package cli

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X flagstream/internal/cli.Version=…";
// otherwise it comes from the module's build information.
var Version = ""

// version returns the program's version and the VCS revision it was built
// from, when known.
func version() (v, revision string) {
	v = Version
	info, ok := debug.ReadBuildInfo()
	if ok {
		if v == "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v, revision
}

// versionLine is the version and revision, as version prints them.
func versionLine() string {
	v, rev := version()
	return strings.TrimSpace(v + " " + rev)
}

func newVersionCommand(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "print the version",
		Long:    "Version prints the program's version and source revision (also: flagstream --version).",
		Example: "  flagstream version",
		Args:    noArgs,
		RunE: runE(func(context.Context, []string) error {
			_, err := fmt.Fprintf(env.Stdout, "flagstream %s\n", versionLine())
			return err
		}),
	}
}
