package schematest

import (
	"reflect"
	"testing"
)

type thing struct {
	A string `json:"a"`
	B string `json:"b,omitempty"`
}

// recorder counts the errors a check reports.
type recorder struct {
	testing.TB
	errors int
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.errors++ }

func TestCheckFields(t *testing.T) {
	for _, tc := range []struct {
		name   string
		schema map[string]any
		errors int
	}{
		{"matches", map[string]any{"properties": map[string]any{"a": nil, "b": nil}, "required": []any{"a"}}, 0},
		{"a property missing", map[string]any{"properties": map[string]any{"a": nil}, "required": []any{"a"}}, 1},
		{"b required", map[string]any{"properties": map[string]any{"a": nil, "b": nil}, "required": []any{"a", "b"}}, 1},
		{"none required", map[string]any{"properties": map[string]any{"a": nil, "b": nil}}, 1},
	} {
		r := &recorder{TB: t}
		CheckFields(r, reflect.TypeFor[thing](), tc.schema, true)
		if r.errors != tc.errors {
			t.Errorf("%s: %d errors, want %d", tc.name, r.errors, tc.errors)
		}
	}
	r := &recorder{TB: t}
	CheckFields(r, reflect.TypeFor[thing](), map[string]any{"properties": map[string]any{"a": nil, "b": nil}}, false)
	if r.errors != 0 {
		t.Errorf("required off: %d errors, want 0", r.errors)
	}
}
