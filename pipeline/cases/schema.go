package cases

import (
	_ "embed"
	"slices"
)

var (
	//go:embed review_case.schema.json
	caseSchema []byte
	//go:embed review_decision.schema.json
	decisionSchema []byte
	//go:embed binding.schema.json
	bindingSchema []byte
)

// CaseSchema returns the JSON Schema (draft 2020-12) of a case event, the
// published contract of the format CaseSchemaID names. It is a copy of
// review_case.schema.json, which lies beside this package's source.
func CaseSchema() []byte { return slices.Clone(caseSchema) }

// DecisionSchema returns the JSON Schema (draft 2020-12) of a reviewer's
// decision (DecisionSchemaID), a copy of review_decision.schema.json.
func DecisionSchema() []byte { return slices.Clone(decisionSchema) }

// BindingSchema returns the JSON Schema (draft 2020-12) of a record of the
// bindings topic (BindingSchemaID), a copy of binding.schema.json.
func BindingSchema() []byte { return slices.Clone(bindingSchema) }
