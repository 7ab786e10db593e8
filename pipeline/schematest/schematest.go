// Package schematest checks, in tests, that a JSON schema describes a Go
// type: the schemas of the review tasks and of the case events.
package schematest

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

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
