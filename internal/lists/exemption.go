package lists

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"flagstream/matchers"
)

// exemptionFields maps each key of an exemption file (kind: exemption) to
// the code that reads it. Its accounts are read by the demand parser's
// code into the parser's entry list, so that handles and user ids are
// judged exactly as a demand's are.
var exemptionFields = map[string]func(p *demandParser, v *yaml.Node){
	"kind": kindField("exemption"),
	"id": func(p *demandParser, v *yaml.Node) {
		if id, ok := p.id(v); ok {
			p.ex.ID, p.ex.Line = id, v.Line
		}
	},
	"category": func(p *demandParser, v *yaml.Node) {
		if c, ok := parseScalar(p, v, "category", "category: ", matchers.ParseExemptionCategory); ok {
			p.ex.Category = c
		}
	},
	"reason": func(p *demandParser, v *yaml.Node) {
		s, ok := p.scalar(v, "reason")
		if !ok {
			return
		}
		s = strings.TrimSpace(s)
		switch {
		case len(s) > maxTextField:
			p.errorf(v.Line, "reason longer than %d bytes", maxTextField)
		case s == "":
			p.errorf(v.Line, "reason is empty: say what reviewers must know (e.g. \"Accredited journalists; any action needs legal review\")")
		default:
			p.ex.Reason = s
		}
	},
	"applies_to": func(p *demandParser, v *yaml.Node) {
		items := p.stringList(v, "applies_to")
		if len(items) == 0 {
			p.errorf(v.Line, "applies_to names no demand: write demand ids, or \"*\" for every demand")
			return
		}
		seen := map[string]int{}
		for _, n := range items {
			id := n.Value
			if first, ok := seen[id]; ok {
				p.warnf(n.Line, "applies_to: %q repeats line %d", id, first)
				continue
			}
			seen[id] = n.Line
			if id == "*" {
				p.ex.AllDemands = true
				continue
			}
			if len(id) > maxIDLen || !demandIDPattern.MatchString(id) {
				p.errorf(n.Line, "applies_to: %q is not a demand id (1-%d characters of A-Z a-z 0-9 . _ : -) or \"*\"", id, maxIDLen)
				continue
			}
			p.ex.AppliesTo = append(p.ex.AppliesTo, id)
			p.applies = append(p.applies, appliesRef{id: id, line: n.Line})
		}
		if p.ex.AllDemands && len(p.ex.AppliesTo) > 0 {
			p.warnf(v.Line, "applies_to: \"*\" already names every demand; the ids beside it add nothing")
			p.ex.AppliesTo, p.applies = nil, nil
		}
	},
	"handles":       entriesField(matchers.EntryHandle),
	"handles_file":  entryFileField(matchers.EntryHandle),
	"user_ids":      entriesField(matchers.EntryUserID),
	"user_ids_file": entryFileField(matchers.EntryUserID),
}

// checkExemption checks what an exemption file must have once its keys are
// read (present maps each key to its line), and moves the accounts read
// into the exemption.
func (p *demandParser) checkExemption(root *yaml.Node, present map[string]int) {
	for _, key := range []string{"id", "category", "reason", "applies_to"} {
		if _, ok := present[key]; !ok {
			p.errorf(root.Line, "missing required key %q", key)
		}
	}
	if len(p.errs) == 0 && p.d.Entries.Len() == 0 {
		p.errorf(root.Line, "exemption names no accounts (handles, handles_file, user_ids or user_ids_file)")
	}
	p.ex.File = p.file
	p.ex.Entries, p.d.Entries = p.d.Entries, matchers.EntryList{}
	slices.Sort(p.ex.AppliesTo)
}
