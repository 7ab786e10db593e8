package matchers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits on list files, so that a broken file cannot exhaust memory.
const (
	MaxListFileBytes = 1 << 30 // one demand or entry file
	maxIDLen         = 128
	maxTextField     = 4096
	maxPhraseWords   = 16
	maxPhraseBytes   = 1024
	maxHashtagBytes  = 1024
	maxDomainBytes   = 253
	maxUserIDDigits  = 20
	maxHandleRunes   = 15
	maxJurisdictions = 300
)

// Warning is something odd in a list that does not stop it from loading.
type Warning = ListError

// ParseLists reads every demand file (*.yaml, *.yml; names starting with a
// dot are skipped) in the top directory of fsys and the entry files they
// name. Messages name files as prefix joined with their path in fsys.
//
// A broken file fails the whole call: the error joins every problem found,
// each as a *ListError naming the file and line. Demand ids must be unique
// across files.
func ParseLists(fsys fs.FS, prefix string) ([]Demand, []Warning, error) {
	names, err := DemandFiles(fsys)
	if err != nil {
		return nil, nil, &ListError{File: displayName(prefix, "."), Msg: err.Error()}
	}
	var (
		demands  []Demand
		warnings []Warning
		errs     []error
		seen     = map[string]*Demand{}
	)
	for _, name := range names {
		data, err := readLimited(fsys, name)
		if err != nil {
			errs = append(errs, &ListError{File: displayName(prefix, name), Msg: err.Error()})
			continue
		}
		d, w, err := ParseDemand(displayName(prefix, name), data, func(rel string) ([]byte, string, error) {
			p := path.Join(path.Dir(name), rel)
			if !fs.ValidPath(p) || strings.HasPrefix(rel, "/") {
				return nil, "", fmt.Errorf("%q is outside the lists directory", rel)
			}
			data, err := readLimited(fsys, p)
			return data, displayName(prefix, p), err
		})
		warnings = append(warnings, w...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, ok := seen[d.ID]; ok {
			errs = append(errs, &ListError{File: d.File, Line: d.Line,
				Msg: fmt.Sprintf("demand id %q is already used by %s:%d", d.ID, prev.File, prev.Line)})
			continue
		}
		demands = append(demands, d)
		seen[d.ID] = &demands[len(demands)-1]
	}
	if len(errs) > 0 {
		return nil, warnings, errors.Join(errs...)
	}
	return demands, warnings, nil
}

// DemandFiles lists the demand files in the top directory of fsys, sorted.
func DemandFiles(fsys fs.FS) ([]string, error) {
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") {
			continue
		}
		if strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") {
			names = append(names, n)
		}
	}
	return names, nil
}

func displayName(prefix, name string) string {
	if prefix == "" {
		return name
	}
	if name == "." {
		return prefix
	}
	return strings.TrimSuffix(prefix, "/") + "/" + name
}

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	if info, err := fs.Stat(fsys, name); err == nil && info.Size() > MaxListFileBytes {
		return nil, fmt.Errorf("file of %d bytes is larger than %d", info.Size(), MaxListFileBytes)
	}
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("read: %w", err)
	}
	return data, nil
}

// ReadEntryFile returns the contents of an entry file named, relative to
// the demand file, by a *_file key, and the name to use in messages.
type ReadEntryFile func(rel string) (data []byte, display string, err error)

// demandParser holds the state of parsing one demand file.
type demandParser struct {
	file     string
	read     ReadEntryFile
	d        Demand
	errs     []error
	warnings []Warning
	norm     Normalizer
	key      []byte // scratch for validating entries
}

var demandIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]+$`)

// ParseDemand parses one demand file. file names it in messages; read
// fetches the entry files its *_file keys name. Unknown keys, wrong types
// and invalid values are errors with the line they are on; every problem in
// the file is reported, joined.
func ParseDemand(file string, data []byte, read ReadEntryFile) (Demand, []Warning, error) {
	p := &demandParser{file: file, read: read}
	p.d.File = file
	p.d.Tiers = DefaultTiers
	p.d.Priority = PriorityNormal
	p.parse(data)
	if len(p.errs) > 0 {
		return Demand{}, p.warnings, errors.Join(p.errs...)
	}
	return p.d, p.warnings, nil
}

func (p *demandParser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, &ListError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *demandParser) warnf(line int, format string, args ...any) {
	p.warnings = append(p.warnings, ListError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

var yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (p *demandParser) parse(data []byte) {
	if !utf8.Valid(data) {
		p.errorf(0, "file is not valid UTF-8")
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		p.yamlError(err)
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.errorf(extra.Line, "a demand file holds one YAML document; this is a second one")
		return
	} else if err != io.EOF {
		p.yamlError(err)
		return
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "a demand file must be a mapping of keys (id, jurisdiction, handles, …)")
		return
	}
	present := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], resolve(root.Content[i+1])
		if prev, ok := present[k.Value]; ok {
			p.errorf(k.Line, "key %q repeats the one on line %d", k.Value, prev)
			continue
		}
		present[k.Value] = k.Line
		field, ok := demandFields[k.Value]
		if !ok {
			p.errorf(k.Line, "unknown key %q (known: %s)", k.Value, strings.Join(demandFieldNames(), ", "))
			continue
		}
		field(p, v)
	}
	if _, ok := present["id"]; !ok {
		p.errorf(root.Line, "missing required key \"id\"")
	}
	if _, ok := present["jurisdiction"]; !ok {
		p.errorf(root.Line, "missing required key \"jurisdiction\"")
	}
	if !p.d.Received.IsZero() && !p.d.Expires.IsZero() && !p.d.Expires.After(p.d.Received) {
		p.errorf(present["expires"], "expires (%s) is not after received (%s)",
			p.d.Expires.Format(time.RFC3339), p.d.Received.Format(time.RFC3339))
	}
	if len(p.errs) == 0 && p.d.Entries.Len() == 0 {
		p.errorf(root.Line, "demand names no entries (handles, user_ids, hashtags, phrases, domains or texts)")
	}
	if p.d.Authority == "" {
		p.warnf(root.Line, "no authority: review tasks will not say who made the demand")
	}
	if p.d.LegalBasis == "" {
		p.warnf(root.Line, "no legal_basis: review tasks will not say under which law")
	}
}

// yamlError records a YAML syntax error, at its line when the message
// gives one.
func (p *demandParser) yamlError(err error) {
	if m := yamlLineError.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.errorf(line, "invalid YAML: %s", m[2])
		return
	}
	p.errorf(0, "invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// demandFields maps each key of a demand file to the code that reads it.
var demandFields = map[string]func(p *demandParser, v *yaml.Node){
	"id": func(p *demandParser, v *yaml.Node) {
		s, ok := p.scalar(v, "id")
		if !ok {
			return
		}
		if len(s) > maxIDLen || !demandIDPattern.MatchString(s) {
			p.errorf(v.Line, "id %q must be 1-%d characters of A-Z a-z 0-9 . _ : -", s, maxIDLen)
			return
		}
		p.d.ID, p.d.Line = s, v.Line
	},
	"authority":   textField(func(d *Demand) *string { return &d.Authority }),
	"legal_basis": textField(func(d *Demand) *string { return &d.LegalBasis }),
	"reference":   textField(func(d *Demand) *string { return &d.Reference }),
	"jurisdiction": func(p *demandParser, v *yaml.Node) {
		for _, n := range p.stringList(v, "jurisdiction") {
			code := n.Value
			if !isJurisdiction(code) {
				hint := ""
				if up := strings.ToUpper(code); up != code && isJurisdiction(up) {
					hint = fmt.Sprintf(" (write %q)", up)
				}
				p.errorf(n.Line, "jurisdiction %q is not an ISO 3166-1 alpha-2 country code%s", code, hint)
				continue
			}
			if slices.Contains(p.d.Jurisdictions, code) {
				p.errorf(n.Line, "jurisdiction %q is listed twice", code)
				continue
			}
			p.d.Jurisdictions = append(p.d.Jurisdictions, code)
		}
		if len(p.d.Jurisdictions) > maxJurisdictions {
			p.errorf(v.Line, "more than %d jurisdictions", maxJurisdictions)
		}
	},
	"received": dateField(func(d *Demand) *time.Time { return &d.Received }),
	"expires":  dateField(func(d *Demand) *time.Time { return &d.Expires }),
	"action":   enumField(actionNames, func(d *Demand, i uint8) { d.Action = Action(i) }),
	"scope":    enumField(scopeNames, func(d *Demand, i uint8) { d.Scope = Scope(i) }),
	"priority": enumField(priorityNames, func(d *Demand, i uint8) { d.Priority = Priority(i) }),
	"status":   enumField(statusNames, func(d *Demand, i uint8) { d.Status = Status(i) }),
	"tiers": func(p *demandParser, v *yaml.Node) {
		var set TierSet
		for _, n := range p.stringList(v, "tiers") {
			t, ok := ParseTier(n.Value)
			if !ok {
				p.errorf(n.Line, "unknown tier %q (known: exact, loose, lookalike)", n.Value)
				continue
			}
			set |= 1 << t
		}
		if set != 0 && !set.Has(TierExact) {
			p.errorf(v.Line, "tiers must include exact")
		}
		if set != 0 {
			p.d.Tiers = set
		}
	},
	"handles":       entriesField(EntryHandle),
	"handles_file":  entryFileField(EntryHandle),
	"user_ids":      entriesField(EntryUserID),
	"user_ids_file": entryFileField(EntryUserID),
	"hashtags":      entriesField(EntryHashtag),
	"hashtags_file": entryFileField(EntryHashtag),
	"phrases":       entriesField(EntryPhrase),
	"phrases_file":  entryFileField(EntryPhrase),
	"domains":       entriesField(EntryDomain),
	"domains_file":  entryFileField(EntryDomain),
	"texts":         entriesField(EntryText),
	"texts_file":    entryFileField(EntryText),
	"text_similarity": func(p *demandParser, v *yaml.Node) {
		s, ok := p.scalar(v, "text_similarity")
		if !ok {
			return
		}
		t, err := ParseTextSimilarity(s)
		if err != nil {
			p.errorf(v.Line, "%v", err)
			return
		}
		p.d.TextSimilarity = t
	},
}

func demandFieldNames() []string {
	names := make([]string, 0, len(demandFields))
	for n := range demandFields {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// scalar returns the text of a scalar node (string, number, date).
func (p *demandParser) scalar(v *yaml.Node, key string) (string, bool) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		p.errorf(v.Line, "%s must be a single value", key)
		return "", false
	}
	return v.Value, true
}

// stringList returns the scalars of a sequence, or the scalar itself.
func (p *demandParser) stringList(v *yaml.Node, key string) []*yaml.Node {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil
		}
		return []*yaml.Node{v}
	case yaml.SequenceNode:
		out := make([]*yaml.Node, 0, len(v.Content))
		for _, n := range v.Content {
			n = resolve(n)
			if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
				p.errorf(n.Line, "%s: each item must be a single value", key)
				continue
			}
			out = append(out, n)
		}
		return out
	}
	p.errorf(v.Line, "%s must be a value or a list of values", key)
	return nil
}

func textField(dst func(*Demand) *string) func(*demandParser, *yaml.Node) {
	return func(p *demandParser, v *yaml.Node) {
		s, ok := p.scalar(v, "value")
		if !ok {
			return
		}
		if len(s) > maxTextField {
			p.errorf(v.Line, "text longer than %d bytes", maxTextField)
			return
		}
		*dst(&p.d) = strings.TrimSpace(s)
	}
}

func dateField(dst func(*Demand) *time.Time) func(*demandParser, *yaml.Node) {
	return func(p *demandParser, v *yaml.Node) {
		s, ok := p.scalar(v, "date")
		if !ok {
			return
		}
		t, err := ParseDate(s)
		if err != nil {
			p.errorf(v.Line, "%v", err)
			return
		}
		*dst(&p.d) = t
	}
}

// ParseDate parses a list date: YYYY-MM-DD (midnight UTC) or RFC 3339.
func ParseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("date %q is neither YYYY-MM-DD nor RFC 3339 (2021-02-04T00:00:00Z)", s)
}

func enumField(names enum, set func(*Demand, uint8)) func(*demandParser, *yaml.Node) {
	return func(p *demandParser, v *yaml.Node) {
		s, ok := p.scalar(v, "value")
		if !ok {
			return
		}
		i, ok := names.parse(s)
		if !ok {
			p.errorf(v.Line, "%q is not one of %s", s, names)
			return
		}
		set(&p.d, i)
	}
}

func entriesField(kind EntryKind) func(*demandParser, *yaml.Node) {
	return func(p *demandParser, v *yaml.Node) {
		for _, n := range p.stringList(v, kind.String()+"s") {
			p.addEntry(kind, []byte(n.Value), p.file, n.Line)
		}
	}
}

func entryFileField(kind EntryKind) func(*demandParser, *yaml.Node) {
	return func(p *demandParser, v *yaml.Node) {
		for _, n := range p.stringList(v, kind.String()+"s_file") {
			if p.read == nil {
				p.errorf(n.Line, "entry files cannot be read here")
				continue
			}
			data, display, err := p.read(n.Value)
			if err != nil {
				p.errorf(n.Line, "%s file %q: %v", kind, n.Value, err)
				continue
			}
			p.readEntryFile(kind, display, data, n.Line)
		}
	}
}

// readEntryFile adds the entries of an entry file: one per line; blank
// lines and lines whose first non-space character is a # followed by a
// space (or nothing) are comments, and so is the text after " # " on a
// line. A hashtag entry may start with # as long as a letter follows it.
func (p *demandParser) readEntryFile(kind EntryKind, display string, data []byte, namedAt int) {
	if !utf8.Valid(data) {
		p.errs = append(p.errs, &ListError{File: display, Msg: fmt.Sprintf("not valid UTF-8 (named by %s:%d)", p.file, namedAt)})
		return
	}
	p.d.Entries.grow(bytes.Count(data, []byte{'\n'})+1, len(data))
	if kind == EntryText {
		EachTextLine(data, func(line int, text []byte) { p.addEntry(kind, text, display, line) })
		return
	}
	for lineNo := 1; len(data) > 0; lineNo++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' && (len(line) == 1 || line[1] == ' ' || line[1] == '\t') {
			continue
		}
		if j := bytes.Index(line, []byte(" #")); j >= 0 {
			if rest := line[j+2:]; len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' {
				line = bytes.TrimSpace(line[:j])
			}
		}
		p.addEntry(kind, line, display, lineNo)
	}
}

// addEntry validates one entry and adds it, or records why not.
func (p *demandParser) addEntry(kind EntryKind, value []byte, file string, line int) {
	value = bytes.TrimSpace(value)
	var err error
	if p.key, err = appendEntryKey(p.key[:0], &p.norm, kind, value); err != nil {
		p.errs = append(p.errs, &ListError{File: file, Line: line, Msg: err.Error()})
		return
	}
	if kind == EntryDomain {
		if w := DomainWarning(p.key); w != "" {
			p.warnings = append(p.warnings, ListError{File: file, Line: line, Msg: w})
		}
	}
	p.d.Entries.add(kind, value, file, line)
}

// appendEntryKey validates an entry of a kind and appends its exact-tier
// key to dst.
func appendEntryKey(dst []byte, n *Normalizer, kind EntryKind, value []byte) ([]byte, error) {
	if len(value) == 0 {
		return dst, fmt.Errorf("empty %s", kind)
	}
	switch kind {
	case EntryHandle:
		h := bytes.TrimPrefix(value, []byte("@"))
		if !isHandle(h) {
			if len(h) > maxHandleRunes && isHandle(h[:maxHandleRunes]) && isHandle(h[maxHandleRunes:]) {
				return dst, fmt.Errorf("handle %q is longer than a Twitter handle can be (%d characters)", value, maxHandleRunes)
			}
			return dst, fmt.Errorf("handle %q is not a Twitter handle (1-%d letters, digits or _, '@' optional)", value, maxHandleRunes)
		}
		return appendLowerASCII(dst, h), nil
	case EntryUserID:
		if len(value) > maxUserIDDigits || len(bytes.Trim(value, "0123456789")) > 0 {
			return dst, fmt.Errorf("user id %q is not a numeric account id", value)
		}
		if _, err := strconv.ParseUint(string(value), 10, 64); err != nil || len(bytes.Trim(value, "0")) == 0 {
			return dst, fmt.Errorf("user id %q is not a numeric account id", value)
		}
		return append(dst, bytes.TrimLeft(value, "0")...), nil
	case EntryHashtag:
		tag := string(value)
		if !strings.HasPrefix(tag, "#") && !strings.HasPrefix(tag, "＃") {
			tag = "#" + tag
		}
		if len(tag) > maxHashtagBytes {
			return dst, fmt.Errorf("hashtag longer than %d bytes", maxHashtagBytes)
		}
		toks := Extract(nil, []byte(tag))
		if len(toks) != 1 || toks[0].Kind != TokenHashtag || toks[0].Start != 0 || toks[0].End != len(tag) {
			return dst, fmt.Errorf("hashtag %q is not a hashtag: it needs a letter and only letters, digits, marks or _ after the #", value)
		}
		return n.Exact(dst, []byte(tag[toks[0].Name:])), nil
	case EntryPhrase:
		if len(value) > maxPhraseBytes {
			return dst, fmt.Errorf("phrase longer than %d bytes", maxPhraseBytes)
		}
		var w Words
		w.Split(n, value)
		switch {
		case w.Len() == 0:
			return dst, fmt.Errorf("phrase %q has no words", value)
		case w.Len() > maxPhraseWords:
			return dst, fmt.Errorf("phrase %q has %d words; at most %d", value, w.Len(), maxPhraseWords)
		}
		return append(dst, w.Exact(0, w.Len())...), nil
	case EntryDomain:
		return appendDomainKey(dst, n, value)
	case EntryText:
		return appendTextKey(dst, n, value)
	}
	return dst, fmt.Errorf("unknown entry kind %d", kind)
}

// isHandle reports whether h is a Twitter screen name.
func isHandle(h []byte) bool {
	if len(h) == 0 || len(h) > maxHandleRunes {
		return false
	}
	for _, c := range h {
		if !handleByte[c] {
			return false
		}
	}
	return true
}

// handleByte marks the bytes a handle is made of: A-Z a-z 0-9 _.
var handleByte = func() (t [256]bool) {
	for c := range t {
		t[c] = isMentionChar(rune(c))
	}
	return t
}()
