package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// helpWidth is the width help text is wrapped to.
const helpWidth = 100

// sectionAnnotation, on a flag, names the group the flag is shown under
// in help (run's settings: kafka, input, …) instead of "Flags"; on a
// command, it is the heading of those groups. sectionOrderAnnotation, on a
// command, orders its groups (names separated by spaces).
const (
	sectionAnnotation      = "flagstream_section"
	sectionOrderAnnotation = "flagstream_section_order"
)

// writeHelp writes a command's help: usage line, description, commands
// (grouped), flags with their value placeholders and defaults, examples.
func writeHelp(w io.Writer, c *cobra.Command) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n", c.UseLine())
	desc := strings.TrimSpace(c.Long)
	if desc == "" {
		desc = c.Short
	}
	fmt.Fprintf(&b, "\n%s\n", desc)
	if c.HasAvailableSubCommands() {
		writeCommands(&b, c)
	}
	if ex := strings.Trim(c.Example, "\n"); ex != "" {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", ex)
	}
	var plain []*pflag.Flag
	sections := map[string][]*pflag.Flag{}
	c.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if s := f.Annotations[sectionAnnotation]; len(s) > 0 {
			sections[s[0]] = append(sections[s[0]], f)
			return
		}
		plain = append(plain, f)
	})
	if len(plain) > 0 {
		b.WriteString("\nFlags:\n")
		writeFlags(&b, plain, "", true)
	}
	if len(sections) > 0 {
		order := strings.Fields(c.Annotations[sectionOrderAnnotation])
		for s := range sections {
			if !slices.Contains(order, s) {
				order = append(order, s)
			}
		}
		fmt.Fprintf(&b, "\n%s\n", c.Annotations[sectionAnnotation])
		for _, s := range order {
			if len(sections[s]) > 0 {
				fmt.Fprintf(&b, "\n  %s:\n", s)
				writeFlags(&b, sections[s], "    ", false)
			}
		}
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nRun '%s COMMAND --help' for a command's flags and examples.\n", c.CommandPath())
	}
	io.WriteString(w, b.String())
}

// writeCommands lists the subcommands of c, by group in the order the
// groups were added, each group in the order its commands were added.
func writeCommands(b *strings.Builder, c *cobra.Command) {
	cmds := slices.DeleteFunc(slices.Clone(c.Commands()), func(s *cobra.Command) bool { return !s.IsAvailableCommand() && s.Name() != "help" })
	slices.SortStableFunc(cmds, func(a, b *cobra.Command) int {
		return strings.Compare(a.Annotations[orderAnnotation]+"~"+a.Name(), b.Annotations[orderAnnotation]+"~"+b.Name())
	})
	width := 0
	for _, s := range cmds {
		width = max(width, len(s.Name()))
	}
	line := func(s *cobra.Command) { fmt.Fprintf(b, "  %-*s  %s\n", width, s.Name(), s.Short) }
	if len(c.Groups()) == 0 {
		b.WriteString("\nCommands:\n")
		for _, s := range cmds {
			line(s)
		}
		return
	}
	for _, g := range c.Groups() {
		fmt.Fprintf(b, "\n%s\n", g.Title)
		for _, s := range cmds {
			if s.GroupID == g.ID {
				line(s)
			}
		}
	}
}

// writeFlags writes one flag a line, "--name ARG   usage (default X)",
// the usage column aligned and wrapped to helpWidth.
// alignShort leaves room for a shorthand (-h, ) before every long flag.
func writeFlags(b *strings.Builder, flags []*pflag.Flag, indent string, alignShort bool) {
	lefts := make([]string, len(flags))
	width := 0
	for i, f := range flags {
		lefts[i] = indent + flagSynopsis(f, alignShort)
		width = max(width, len(lefts[i]))
	}
	width = min(width, 44)
	for i, f := range flags {
		_, usage := pflag.UnquoteUsage(f)
		if def := flagDefault(f); def != "" {
			usage += " (default " + def + ")"
		}
		left := lefts[i]
		if len(left) > width {
			fmt.Fprintf(b, "%s\n", left)
			left = ""
		}
		for j, l := range wrap(usage, helpWidth-width-2) {
			if j > 0 {
				left = ""
			}
			fmt.Fprintf(b, "%-*s  %s\n", width, left, l)
		}
	}
}

// flagSynopsis writes a flag as help shows it: "  -h, --help",
// "      --lists DIR" (or "--lists DIR" without alignShort).
func flagSynopsis(f *pflag.Flag, alignShort bool) string {
	s := "--" + f.Name
	if alignShort {
		s = "      " + s
	}
	if f.Shorthand != "" {
		s = "  -" + f.Shorthand + ", --" + f.Name
	}
	if arg := flagArg(f); arg != "" {
		s += " " + arg
	}
	return s
}

// flagArg returns the placeholder of a flag's value: the back-quoted word
// of its usage (`DIR`), else a name for its type; empty for a flag that
// takes no value.
func flagArg(f *pflag.Flag) string {
	if f.NoOptDefVal != "" {
		return ""
	}
	name, _ := pflag.UnquoteUsage(f)
	switch name {
	case "int", "uint", "int64", "uint64", "int32", "uint32":
		return "N"
	case "duration":
		return "DURATION"
	case "float", "float32":
		return "NUMBER"
	}
	return name
}

// flagDefault returns the default worth showing: none for an empty,
// zero or false one.
func flagDefault(f *pflag.Flag) string {
	switch f.DefValue {
	case "", "0", "false", "[]", "0s":
		return ""
	}
	return f.DefValue
}

// wrap splits s into lines of at most width bytes at spaces.
func wrap(s string, width int) []string {
	width = max(width, 30)
	var lines []string
	for len(s) > width {
		i := strings.LastIndexByte(s[:width+1], ' ')
		if i <= 0 {
			if i = strings.IndexByte(s, ' '); i < 0 {
				break
			}
		}
		lines = append(lines, s[:i])
		s = strings.TrimLeft(s[i:], " ")
	}
	return append(lines, s)
}

// newHelpCommand returns `flagstream help [COMMAND]`.
func newHelpCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]...",
		Short: "show the help of flagstream or of a command",
		Long: `
Help shows the help of flagstream, or of the command named: its usage,
description, flags and examples. 'flagstream COMMAND --help' shows the same.`,
		Example: `
  flagstream help
  flagstream help lists diff`,
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := root.Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, s := range cmd.Commands() {
				if s.IsAvailableCommand() && strings.HasPrefix(s.Name(), toComplete) {
					names = append(names, cobra.CompletionWithDesc(s.Name(), s.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil {
				return usageError(err)
			}
			if len(rest) > 0 {
				return usagef("help: no command %q under %q", rest[0], cmd.CommandPath())
			}
			writeHelp(c.OutOrStdout(), cmd)
			return nil
		},
	}
}
