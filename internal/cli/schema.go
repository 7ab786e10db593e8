package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"flagstream/internal/lists"
	"flagstream/pipeline/cases"
	"flagstream/pipeline/review"
)

// publishedSchema is a format whose JSON Schema `flagstream schema NAME`
// prints.
type publishedSchema struct {
	name, format string
	schema       func() []byte
}

// publishedSchemas is the one table of published schemas, in help order.
func publishedSchemas() []publishedSchema {
	return []publishedSchema{
		{"task", "review task (flagstream.review_task/v1), one per flagged tweet", review.Schema},
		{"case", "review case event (flagstream.review_case/v1), on the cases topic", cases.CaseSchema},
		{"decision", "review decision (flagstream.review_decision/v1), on the decisions topic", cases.DecisionSchema},
		{"binding", "handle binding (flagstream.binding/v1), on the bindings topic", cases.BindingSchema},
		{"demand", "demand list file (*.yaml in the lists directory)", lists.DemandSchema},
		{"exemption", "exemption file (*.yaml with kind: exemption)", lists.ExemptionSchema},
	}
}

const schemaExamples = `
  flagstream schema task > review_task.schema.json

  # Let an editor with yaml-language-server complete and check demand files:
  # write the schema beside them and start each file with the modeline
  #   # yaml-language-server: $schema=demand.schema.json
  flagstream schema demand > lists/demand.schema.json`

func newSchemaCommand(env *Env) *cobra.Command {
	var names []string
	var formats strings.Builder
	for _, s := range publishedSchemas() {
		names = append(names, s.name)
		fmt.Fprintf(&formats, "  %-10s %s\n", s.name, s.format)
	}
	return &cobra.Command{
		Use:   "schema " + strings.Join(names, "|"),
		Short: "print the JSON Schema of a published format",
		Long: `
Schema prints the JSON Schema (draft 2020-12) of one of flagstream's
published formats, the contract that consumers and editors can check
against:

` + formats.String(),
		Example:   schemaExamples,
		ValidArgs: names,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("schema: name one format: %s", strings.Join(names, ", "))
			}
			return nil
		},
		RunE: runE(func(_ context.Context, args []string) error {
			for _, s := range publishedSchemas() {
				if s.name != args[0] {
					continue
				}
				_, err := env.Stdout.Write(s.schema())
				return err
			}
			return usagef("schema: unknown format %q (known: %s)", args[0], strings.Join(names, ", "))
		}),
	}
}
