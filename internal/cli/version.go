package cli

import (
	"context"
	"fmt"
	"runtime/debug"
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

func versionCommand(_ context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "version", "version", "Version prints the program's version and source revision.")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	v, rev := version()
	_, err := fmt.Fprintf(env.Stdout, "flagstream %s %s\n", v, rev)
	return err
}
