package strictyaml

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// read parses data and walks every mapping it holds, depth first, with
// Each; it returns the keys passed to fn (path.key=value for scalars) and
// the problems reported (LINE: message).
func read(data string) (keys, problems []string) {
	r := Reader{Report: func(line int, msg string) { problems = append(problems, fmt.Sprintf("%d: %s", line, msg)) }}
	root := r.Parse([]byte(data))
	walkList := func(n *yaml.Node) {
		if n.Kind == yaml.SequenceNode {
			for _, e := range n.Content {
				r.Resolve(e)
			}
		}
	}
	var walk func(n *yaml.Node, path string, depth int)
	walk = func(n *yaml.Node, path string, depth int) {
		if n.Kind != yaml.MappingNode || depth > 20 {
			return
		}
		r.Each(n, path, func(k, v *yaml.Node) {
			key := k.Value
			if path != "" {
				key = path + "." + key
			}
			if v.Kind == yaml.ScalarNode {
				keys = append(keys, key+"="+v.Value)
			}
			walkList(v)
			walk(v, key, depth+1)
		})
	}
	if root != nil {
		walk(root, "", 0)
	}
	return keys, problems
}

func TestReader(t *testing.T) {
	aliases := "a: &a x\nl: [" + strings.Repeat("*a, ", MaxAliases) + "*a]\nb: *a\n"
	tests := []struct {
		name, data     string
		keys, problems []string
	}{
		{"empty", "", nil, nil},
		{"mapping", "a: 1\nb: {c: 2}\n", []string{"a=1", "b.c=2"}, nil},
		{"alias", "a: &x 1\nb: *x\n", []string{"a=1", "b=1"}, nil},
		{"repeated key", "a: 1\nb: 2\na: 3\n", []string{"a=1", "b=2"}, []string{`3: key "a" repeats the one on line 1`}},
		{"repeated nested key", "s:\n  a: 1\n  a: 2\n", []string{"s.a=1"}, []string{`3: s.a: key "a" repeats the one on line 2`}},
		{"key not a name", "[a]: 1\nb: 2\n", []string{"b=2"}, []string{"1: a key must be a plain name, not a list"}},
		{"null key", "~: 1\n", nil, []string{"1: a key must be a plain name, not nothing"}},
		{"own key wins over merged", "a: {<<: {x: 1, y: 2}, x: 3}\n", []string{"a.x=3", "a.y=2"}, nil},
		{"earlier merge wins", "a: {<<: [{x: 1}, {x: 2, y: 2}]}\n", []string{"a.x=1", "a.y=2"}, nil},
		{"merge of an alias", "base: &b {x: 1}\na: {<<: *b}\n", []string{"base.x=1", "a.x=1"}, nil},
		{"nested merges", "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b}\n", []string{"a.x=1", "b.y=2", "b.x=1", "c.y=2", "c.x=1"}, nil},
		{"merge of a scalar", "a: {<<: 5}\n", nil, []string{`1: a: a merge key (<<) wants a mapping or a list of mappings, not "5"`}},
		{"merge of a list of scalars", "a: {<<: [5]}\n", nil, []string{`1: a: a merge key (<<) wants a mapping or a list of mappings, not "5"`}},
		{"self merge", "a: &a {<<: *a, x: 1}\n", []string{"a.x=1"}, []string{"1: merge keys (<<) nested more than 16 deep (does a mapping merge itself?)"}},
		{"too many aliases", aliases, []string{"a=x", "b="}, []string{fmt.Sprintf("2: more than %d aliases in one document", MaxAliases)}},
		{"second document", "a: 1\n---\nb: 2\n", nil, []string{"2: a file holds one YAML document; this is a second one"}},
		{"broken second document", "a: 1\n---\nb: c: d\n", nil, []string{"3: invalid YAML: mapping values are not allowed in this context"}},
		{"syntax", "a: 1\n\tb: 2\n", nil, []string{"2: invalid YAML: found a tab character that violates indentation"}},
		{"not UTF-8", "a: \xff\n", nil, []string{"0: file is not valid UTF-8"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, problems := read(tc.data)
			if !slices.Equal(keys, tc.keys) {
				t.Errorf("keys = %q, want %q", keys, tc.keys)
			}
			if !slices.Equal(problems, tc.problems) {
				t.Errorf("problems = %q, want %q", problems, tc.problems)
			}
		})
	}
}

func TestManyMerges(t *testing.T) {
	var b strings.Builder
	b.WriteString("m: &m {x: 1}\n")
	for i := range MaxMerges + 1 {
		fmt.Fprintf(&b, "k%d: {<<: *m}\n", i)
	}
	_, problems := read(b.String())
	if want := fmt.Sprintf("more than %d mappings merged (<<) in one document", MaxMerges); len(problems) != 1 || !strings.HasSuffix(problems[0], want) {
		t.Errorf("problems = %q, want one saying %q", problems, want)
	}
}

func TestSplitLine(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		line int
		rest string
	}{
		{"yaml: line 3: did not find expected key", 3, "did not find expected key"},
		{"line 12: cannot unmarshal", 12, "cannot unmarshal"},
		{"yaml: control characters are not allowed", 0, "control characters are not allowed"},
	} {
		if line, rest := SplitLine(tc.msg); line != tc.line || rest != tc.rest {
			t.Errorf("SplitLine(%q) = %d, %q; want %d, %q", tc.msg, line, rest, tc.line, tc.rest)
		}
	}
}

// FuzzReader checks that reading any input ends, never panics, and that a
// problem is reported whenever the input is not one document.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"a: 1\n", "a: &a {<<: *a}\n", "a: &a [*a]\n", "x: &x {<<: [*x, *x]}\ny: *x\n",
		"a: {<<: [{x: 1}, {x: 2}]}\n", "---\n---\n", "? [a]\n: b\n", "a: \xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var problems int
		r := Reader{Report: func(int, string) { problems++ }}
		root := r.Parse(data)
		if root == nil {
			return
		}
		var walk func(n *yaml.Node, depth int)
		walk = func(n *yaml.Node, depth int) {
			if depth > 50 {
				return
			}
			switch n.Kind {
			case yaml.MappingNode:
				r.Each(n, "k", func(_, v *yaml.Node) { walk(v, depth+1) })
			case yaml.SequenceNode:
				for _, e := range n.Content {
					walk(r.Resolve(e), depth+1)
				}
			}
		}
		walk(root, 0)
	})
}
