// Package strictyaml reads YAML strictly, for the parsers of flagstream's
// config file and demand list files: a file holds at most one document,
// every problem is reported with its line (all of them, not only the
// first), a repeated key or a key that is not a plain name is refused,
// and aliases and merge keys (<<) are followed within bounds, so that a
// small file can neither expand into a huge one nor loop.
//
// It walks yaml.Node trees and leaves the meaning of keys to its callers:
// they say which keys exist and what their values must be.
//
// strictyaml imports no flagstream package, so that config stays a leaf.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Bounds on what a document may make a reader do.
const (
	// MaxAliases is the most alias uses a reader follows in a document.
	MaxAliases = 10000
	// MaxMergeDepth is how deeply merged mappings may merge others.
	MaxMergeDepth = 16
	// MaxMerges is the most mappings a document may merge in all.
	MaxMerges = 1000
)

// Reader reads one YAML document. Its zero value is not usable: Report
// must be set.
type Reader struct {
	// Report is called with every problem found: its line (0 when it
	// concerns the whole file) and what is wrong.
	Report func(line int, msg string)

	aliases, merges int
	tooMany         bool // the alias or merge bound was passed, and said so
}

// Parse parses data, which must be valid UTF-8 and hold at most one YAML
// document, and returns the document's root node. It returns nil for an
// empty document and, having reported why, for a broken one.
func (r *Reader) Parse(data []byte) *yaml.Node {
	if !utf8.Valid(data) {
		r.Report(0, "file is not valid UTF-8")
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			r.syntaxError(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		r.Report(extra.Line, "a file holds one YAML document; this is a second one")
		return nil
	case !errors.Is(err, io.EOF):
		r.syntaxError(err)
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	return r.Resolve(root)
}

func (r *Reader) syntaxError(err error) {
	line, msg := SplitLine(err.Error())
	r.Report(line, "invalid YAML: "+msg)
}

// linePrefix matches the "yaml: line N: " that go-yaml puts before a
// message.
var linePrefix = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// SplitLine returns the line number that a go-yaml message starts with (0
// when it names none) and the rest of the message.
func SplitLine(msg string) (line int, rest string) {
	m := linePrefix.FindStringSubmatch(msg)
	if m == nil {
		return 0, strings.TrimPrefix(msg, "yaml: ")
	}
	n, _ := strconv.Atoi(m[1])
	return n, msg[len(m[0]):]
}

// null is what a node that may not be followed reads as.
var null = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}

// Resolve returns the node that n names when it is an alias, else n.
// Past MaxAliases uses in the document it reports so, once, and returns a
// null node.
func (r *Reader) Resolve(n *yaml.Node) *yaml.Node {
	if n.Kind != yaml.AliasNode {
		return n
	}
	r.aliases++
	if r.aliases > MaxAliases {
		r.bound(n.Line, fmt.Sprintf("more than %d aliases in one document", MaxAliases))
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line}
	}
	// An anchor never names an alias, so one step reaches the node; the
	// loop only guards against a tree built by hand.
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	if n.Kind == yaml.AliasNode {
		return null
	}
	return n
}

// bound reports, once per document, that a bound was passed.
func (r *Reader) bound(line int, msg string) {
	if !r.tooMany {
		r.tooMany = true
		r.Report(line, msg)
	}
}

// Each calls fn for every key of mapping n and its value, both with
// aliases resolved: first the mapping's own keys in order, then the keys
// that its merge keys (<<) bring in and that it does not set itself; of
// several merged mappings, the earlier one wins, as YAML's merge says.
// A repeated key and a key that is not a plain name are reported and not
// passed to fn. path, when not empty, is the dotted name of the mapping
// (kafka.tls), put before the key in messages.
//
// n must be a mapping node.
func (r *Reader) Each(n *yaml.Node, path string, fn func(key, value *yaml.Node)) {
	seen := map[string]bool{}
	r.each(n, path, seen, 0, fn)
}

func (r *Reader) each(n *yaml.Node, path string, seen map[string]bool, depth int, fn func(key, value *yaml.Node)) {
	own := map[string]int{} // key → line, in this mapping
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := r.Resolve(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
			r.Report(k.Line, prefix(path, "")+"a key must be a plain name, not "+Describe(k))
			continue
		}
		if first, ok := own[k.Value]; ok {
			r.Report(k.Line, prefix(path, k.Value)+fmt.Sprintf("key %q repeats the one on line %d", k.Value, first))
			continue
		}
		own[k.Value] = k.Line
		if seen[k.Value] {
			continue // set by a mapping that merges this one
		}
		seen[k.Value] = true
		fn(k, r.Resolve(v))
	}
	for _, m := range merges {
		m = r.Resolve(m)
		var maps []*yaml.Node
		switch m.Kind {
		case yaml.MappingNode:
			maps = []*yaml.Node{m}
		case yaml.SequenceNode:
			for _, e := range m.Content {
				maps = append(maps, r.Resolve(e))
			}
		default:
			r.Report(m.Line, prefix(path, "")+"a merge key (<<) wants a mapping or a list of mappings, not "+Describe(m))
			continue
		}
		for _, mm := range maps {
			if mm.Kind != yaml.MappingNode {
				r.Report(mm.Line, prefix(path, "")+"a merge key (<<) wants a mapping or a list of mappings, not "+Describe(mm))
				continue
			}
			r.merges++
			switch {
			case depth >= MaxMergeDepth:
				r.bound(mm.Line, fmt.Sprintf("merge keys (<<) nested more than %d deep (does a mapping merge itself?)", MaxMergeDepth))
				return
			case r.merges > MaxMerges:
				r.bound(mm.Line, fmt.Sprintf("more than %d mappings merged (<<) in one document", MaxMerges))
				return
			}
			r.each(mm, path, seen, depth+1, fn)
		}
	}
}

// prefix returns what a message about key of the mapping at path starts
// with: "path.key: ", "path: " without a key, nothing without a path.
func prefix(path, key string) string {
	switch {
	case path == "":
		return ""
	case key == "":
		return path + ": "
	}
	return path + "." + key + ": "
}

// Describe names what a node is, for messages: a mapping, a list, nothing
// or the quoted value.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}
