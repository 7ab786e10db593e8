package cli

import (
	"context"

	"github.com/spf13/cobra"
)

const completionDescription = `
Completion writes the shell completion script of flagstream for bash, zsh or
fish to standard output: commands, flags, flag values (--progress auto) and
file and directory names complete with TAB.`

const completionExamples = `
  # bash (needs the bash-completion package), for this shell and for good
  source <(flagstream completion bash)
  flagstream completion bash > ~/.local/share/bash-completion/completions/flagstream

  # zsh: into a directory on $fpath
  flagstream completion zsh > "${fpath[1]}/_flagstream"

  # fish
  flagstream completion fish > ~/.config/fish/completions/flagstream.fish`

func newCompletionCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:       "completion bash|zsh|fish",
		Short:     "write the shell completion script for bash, zsh or fish",
		Long:      completionDescription,
		Example:   completionExamples,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("completion: name one shell: bash, zsh or fish")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runE(func(context.Context, []string) error {
				w := cmd.OutOrStdout()
				switch args[0] {
				case "bash":
					return root.GenBashCompletionV2(w, true)
				case "zsh":
					return root.GenZshCompletion(w)
				case "fish":
					return root.GenFishCompletion(w, true)
				}
				return usagef("completion: %q is not bash, zsh or fish", args[0])
			})(cmd, args)
		},
	}
}
