package lists

import (
	_ "embed"
	"slices"
)

// The JSON Schemas (draft 2020-12) of the files in a lists directory, the
// published contract of their format, so that editors with
// yaml-language-server complete and check them. They lie beside this
// package's source as demand.schema.json and exemption.schema.json; the
// parser remains the authority, and rejects more (an expires date before
// received, a public suffix as a domain, a repeated demand id).
var (
	//go:embed demand.schema.json
	demandSchema []byte
	//go:embed exemption.schema.json
	exemptionSchema []byte
)

// DemandSchema returns the JSON Schema of a demand file.
func DemandSchema() []byte { return slices.Clone(demandSchema) }

// ExemptionSchema returns the JSON Schema of an exemption file (kind:
// exemption).
func ExemptionSchema() []byte { return slices.Clone(exemptionSchema) }
