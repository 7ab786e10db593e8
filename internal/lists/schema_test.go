package lists_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"flagstream/internal/lists"
)

// compile compiles a published schema.
func compile(t *testing.T, name string, data []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(name, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(name)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return s
}

func demandSchema(t *testing.T) *jsonschema.Schema {
	return compile(t, "demand.schema.json", lists.DemandSchema())
}

func TestSchemaFilesAreEmbedded(t *testing.T) {
	for _, tc := range []struct {
		file string
		got  []byte
	}{
		{"demand.schema.json", lists.DemandSchema()},
		{"exemption.schema.json", lists.ExemptionSchema()},
	} {
		want, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(tc.got, want) {
			t.Errorf("the embedded %s differs from the file", tc.file)
		}
		compile(t, tc.file, tc.got)
	}
}

// yamlInstance reads a YAML file into the JSON value an editor's
// yaml-language-server validates: YAML 1.2, where an unquoted date is a
// string.
func yamlInstance(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	v, err := jsonValue(&doc, 0)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func jsonValue(n *yaml.Node, depth int) (any, error) {
	if depth > 100 {
		return nil, fmt.Errorf("nested too deep")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return jsonValue(n.Content[0], depth+1)
	case yaml.AliasNode:
		return jsonValue(n.Alias, depth+1)
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := jsonValue(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			v, err := jsonValue(c, depth+1)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	}
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		return strconv.ParseBool(n.Value)
	case "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return json.Number(fmt.Sprint(v)), nil
	}
	return n.Value, nil // !!str, and !!timestamp, a string in YAML 1.2
}

// parse parses the demand files of dir with the real parser.
func parse(dir string) error {
	_, _, err := lists.Parse(dir)
	return err
}

// alone copies the demand file path into a directory of its own.
func alone(t *testing.T, path string) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(path)), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// withDemands copies the exemption file path, and the entry files (*.txt)
// beside it, into a directory of their own with a demand for each id its
// applies_to names (and one more, so that the directory has a demand).
func withDemands(t *testing.T, path string) string {
	t.Helper()
	dir := alone(t, path)
	txts, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.txt"))
	for _, f := range txts {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ids := []string{"XX-ANY"}
	if m, ok := yamlInstance(t, path).(map[string]any); ok {
		switch a := m["applies_to"].(type) {
		case string:
			ids = append(ids, a)
		case []any:
			for _, v := range a {
				if s, ok := v.(string); ok {
					ids = append(ids, s)
				}
			}
		}
	}
	for i, id := range ids {
		if id == "*" || !regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`).MatchString(id) {
			continue
		}
		demand := fmt.Sprintf("id: %s\njurisdiction: IN\nhandles: [\"@fict_demanded\"]\n", id)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("demand-%d.yaml", i)), []byte(demand), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s: %v", pattern, err)
	}
	return files
}

func TestExampleListsValidate(t *testing.T) {
	schemas := map[string]*jsonschema.Schema{
		"demand":    demandSchema(t),
		"exemption": compile(t, "exemption.schema.json", lists.ExemptionSchema()),
	}
	published := map[string][]byte{"demand": lists.DemandSchema(), "exemption": lists.ExemptionSchema()}
	modeline := regexp.MustCompile(`^# yaml-language-server: \$schema=(\S+)\n`)
	kinds := map[string]int{}
	for _, path := range glob(t, "../../deploy/examples/lists/*.yaml") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			inst := yamlInstance(t, path)
			kind := "demand"
			if m, ok := inst.(map[string]any); ok && m["kind"] == "exemption" {
				kind = "exemption"
			}
			kinds[kind]++
			if err := schemas[kind].Validate(inst); err != nil {
				t.Errorf("the %s schema rejects an example: %v", kind, err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m := modeline.FindSubmatch(data)
			if m == nil {
				t.Fatalf("the first line is not the yaml-language-server modeline")
			}
			named, err := os.ReadFile(filepath.Join(filepath.Dir(path), string(m[1])))
			if err != nil {
				t.Fatalf("the modeline names no file: %v", err)
			}
			if !bytes.Equal(named, published[kind]) {
				t.Errorf("the modeline names %s, not the %s schema", m[1], kind)
			}
		})
	}
	if kinds["demand"] == 0 || kinds["exemption"] == 0 {
		t.Errorf("examples: %v; want demands and an exemption", kinds)
	}
	if err := parse("../../deploy/examples/lists"); err != nil {
		t.Errorf("the parser rejects the examples: %v", err)
	}
}

// TestSchemaAgreesWithParser checks the fixtures: valid ones pass the
// schema and the parser, invalid ones fail both.
func TestSchemaAgreesWithParser(t *testing.T) {
	s := demandSchema(t)
	for _, path := range glob(t, "testdata/schema/demand/valid/*.yaml") {
		if err := s.Validate(yamlInstance(t, path)); err != nil {
			t.Errorf("%s: the schema rejects a valid file: %v", path, err)
		}
	}
	if err := parse("testdata/schema/demand/valid"); err != nil {
		t.Errorf("the parser rejects a valid file: %v", err)
	}
	for _, path := range glob(t, "testdata/schema/demand/invalid/*.yaml") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if s.Validate(yamlInstance(t, path)) == nil {
				t.Error("the schema accepts it")
			}
			if parse(alone(t, path)) == nil {
				t.Error("the parser accepts it")
			}
		})
	}
	// Keys of DESIGN.md that the parser does not read yet.
	for _, path := range glob(t, "testdata/schema/demand/planned/*.yaml") {
		if err := s.Validate(yamlInstance(t, path)); err != nil {
			t.Errorf("%s: the schema rejects it: %v", path, err)
		}
	}
}

// TestSchemaJurisdictions checks that the schema and the parser accept the
// same two-letter codes.
func TestSchemaJurisdictions(t *testing.T) {
	s := demandSchema(t)
	var file strings.Builder
	file.WriteString("id: XX-CODES\nhandles: [\"@one\"]\njurisdiction:\n")
	var codes []string
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			codes = append(codes, code)
			fmt.Fprintf(&file, "  - %s\n", code)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "codes.yaml"), []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// The parser names each code it refuses, on the code's line.
	err := parse(dir)
	if err == nil {
		t.Fatal("the parser accepts every two-letter code")
	}
	refused := map[string]bool{}
	for _, m := range regexp.MustCompile(`jurisdiction "([A-Z]{2})" is not`).FindAllStringSubmatch(err.Error(), -1) {
		refused[m[1]] = true
	}
	accepted := 0
	for _, code := range codes {
		inst := map[string]any{"id": "XX-1", "jurisdiction": code, "handles": "@one"}
		schemaOK := s.Validate(inst) == nil
		if schemaOK != !refused[code] {
			t.Errorf("%s: schema accepts %v, parser accepts %v", code, schemaOK, !refused[code])
		}
		if schemaOK {
			accepted++
		}
	}
	if accepted < 240 || accepted > 260 {
		t.Errorf("%d codes accepted; ISO 3166-1 has 249", accepted)
	}
}

func TestExemptionSchema(t *testing.T) {
	s := compile(t, "exemption.schema.json", lists.ExemptionSchema())
	for _, path := range glob(t, "testdata/schema/exemption/valid/*.yaml") {
		if err := s.Validate(yamlInstance(t, path)); err != nil {
			t.Errorf("%s: the schema rejects a valid exemption: %v", path, err)
		}
	}
	for _, path := range glob(t, "testdata/schema/exemption/invalid/*.yaml") {
		if s.Validate(yamlInstance(t, path)) == nil {
			t.Errorf("%s: the schema accepts an invalid exemption", path)
		}
	}
	// The parser agrees: each valid exemption loads beside the demands it
	// applies to (and the entry files of the fixtures), each invalid one
	// is refused.
	for _, path := range glob(t, "testdata/schema/exemption/valid/*.yaml") {
		if err := parse(withDemands(t, path)); err != nil {
			t.Errorf("%s: the parser rejects a valid exemption: %v", path, err)
		}
	}
	for _, path := range glob(t, "testdata/schema/exemption/invalid/*.yaml") {
		if parse(withDemands(t, path)) == nil {
			t.Errorf("%s: the parser accepts an invalid exemption", path)
		}
	}
	// A demand is not an exemption, nor an exemption a demand.
	d := demandSchema(t)
	for _, path := range glob(t, "testdata/schema/exemption/valid/*.yaml") {
		if d.Validate(yamlInstance(t, path)) == nil {
			t.Errorf("%s: the demand schema accepts an exemption", path)
		}
	}
	for _, path := range glob(t, "testdata/schema/demand/valid/*.yaml") {
		if s.Validate(yamlInstance(t, path)) == nil {
			t.Errorf("%s: the exemption schema accepts a demand", path)
		}
	}
}
