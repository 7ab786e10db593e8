// Package schematest checks, in tests, that a JSON schema describes a Go
// type: the schemas of the review tasks and of the case events.
package schematest

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Parse decodes a JSON schema; an error fails t.
func Parse(t testing.TB, schema []byte) map[string]any {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(schema, &root); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	return root
}

// Object is an object of a schema and the Go type it describes.
type Object struct {
	Name   string
	Type   reflect.Type
	Schema map[string]any
	// AnyRequired leaves out the check of what the schema requires.
	AnyRequired bool
}

// CheckObjects runs CheckFields on each object, as a subtest named after
// it.
func CheckObjects(t *testing.T, objects []Object) {
	for _, o := range objects {
		t.Run(o.Name, func(t *testing.T) { CheckFields(t, o.Type, o.Schema, !o.AnyRequired) })
	}
}

// CheckFields checks that the object schema names exactly the JSON fields
// of typ as its properties and, with required, that it requires those typ
// always writes (the fields without omitempty).
func CheckFields(t testing.TB, typ reflect.Type, schema map[string]any, required bool) {
	t.Helper()
	var fields, always []string
	for f := range typ.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		fields = append(fields, name)
		if opts != "omitempty" {
			always = append(always, name)
		}
	}
	var props []string
	for p := range schema["properties"].(map[string]any) {
		props = append(props, p)
	}
	slices.Sort(fields)
	slices.Sort(props)
	if !slices.Equal(props, fields) {
		t.Errorf("schema properties %q, want the JSON fields of %s: %q", props, typ, fields)
	}
	if !required {
		return
	}
	var req []string
	if r, ok := schema["required"].([]any); ok {
		for _, name := range r {
			req = append(req, name.(string))
		}
	}
	slices.Sort(always)
	slices.Sort(req)
	if !slices.Equal(req, always) {
		t.Errorf("schema requires %q, want the fields %s always writes: %q", req, typ, always)
	}
}
