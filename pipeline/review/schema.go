package review

import (
	_ "embed"
	"slices"
)

//go:embed review_task.schema.json
var schema []byte

// Schema returns the JSON Schema (draft 2020-12) of a review task, the
// published contract of the format SchemaID names. It is a copy of
// review_task.schema.json, which lies beside this package's source.
func Schema() []byte { return slices.Clone(schema) }
