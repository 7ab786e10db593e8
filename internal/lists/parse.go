package lists

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"flagstream/config/strictyaml"
	"flagstream/matchers"
)

// Limits on list files, so that a broken file cannot exhaust memory.
const (
	MaxListFileBytes = 1 << 30 // one demand or entry file
	maxIDLen         = 128
	maxTextField     = 4096
	maxJurisdictions = 300
	// maxTasksPerMinute bounds a circuit breaker: past it, a breaker
	// would never trip.
	maxTasksPerMinute = 1_000_000_000
)

// ParseLists reads the demand files of fsys as ParseFS does and returns
// the demands only. A directory with exemption files needs ParseFS: this
// is for callers that match without exemptions (tests, tools).
func ParseLists(fsys fs.FS, prefix string) ([]matchers.Demand, []matchers.Warning, error) {
	l, warnings, err := ParseFS(fsys, prefix)
	return l.Demands, warnings, err
}

// ParseFS reads every list file (*.yaml, *.yml; names starting with a dot
// are skipped) in the top directory of fsys and the entry files they name:
// demand files, and exemption files (kind: exemption). Messages name files
// as prefix joined with their path in fsys.
//
// A broken file fails the whole call: the error joins every problem found,
// each as a *ListError naming the file and line. Demand ids must be unique
// across files, exemption ids among exemptions, and every demand id an
// exemption's applies_to names must be a demand's.
func ParseFS(fsys fs.FS, prefix string) (matchers.Lists, []matchers.Warning, error) {
	names, err := DemandFiles(fsys)
	if err != nil {
		return matchers.Lists{}, nil, &matchers.ListError{File: displayName(prefix, "."), Msg: err.Error()}
	}
	var (
		l        matchers.Lists
		applies  [][]appliesRef // of each exemption
		warnings []matchers.Warning
		errs     []error
	)
	for _, name := range names {
		data, err := readLimited(fsys, name)
		if err != nil {
			errs = append(errs, &matchers.ListError{File: displayName(prefix, name), Msg: err.Error()})
			continue
		}
		f, w, err := parseListFile(displayName(prefix, name), data, func(rel string) ([]byte, string, error) {
			p := path.Join(path.Dir(name), rel)
			if !fs.ValidPath(p) || strings.HasPrefix(rel, "/") {
				return nil, "", fmt.Errorf("%q is outside the lists directory", rel)
			}
			data, err := readLimited(fsys, p)
			return data, displayName(prefix, p), err
		})
		warnings = append(warnings, w...)
		switch {
		case err != nil:
			errs = append(errs, err)
		case f.exemption:
			l.Exemptions = append(l.Exemptions, f.ex)
			applies = append(applies, f.applies)
		default:
			l.Demands = append(l.Demands, f.d)
		}
	}
	if err := matchers.CheckIDs(l.Demands); err != nil {
		errs = append(errs, err)
	}
	if err := matchers.CheckExemptionIDs(l.Exemptions); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		errs = checkAppliesTo(l, applies)
	}
	if len(errs) > 0 {
		return matchers.Lists{}, warnings, errors.Join(errs...)
	}
	return l, warnings, nil
}

// checkAppliesTo reports every demand id an exemption applies to that no
// demand file defines, at its line. It is an error, not a warning: an
// exemption that names a demand by a mistyped id would protect nobody
// from that demand, silently.
func checkAppliesTo(l matchers.Lists, applies [][]appliesRef) []error {
	ids := make([]string, 0, len(l.Demands))
	for i := range l.Demands {
		ids = append(ids, l.Demands[i].ID)
	}
	slices.Sort(ids)
	var errs []error
	for i := range l.Exemptions {
		e := &l.Exemptions[i]
		for _, a := range applies[i] {
			if _, found := slices.BinarySearch(ids, a.id); found {
				continue
			}
			hint := ""
			if close := closestID(a.id, ids); close != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", close)
			}
			errs = append(errs, &matchers.ListError{File: e.File, Line: a.line,
				Msg: fmt.Sprintf("applies_to: no demand has the id %q%s; write an id of a demand file, or \"*\" for every demand", a.id, hint)})
		}
	}
	return errs
}

// closestID returns the id of ids nearest to id, when one differs by at
// most a quarter of its characters, else "".
func closestID(id string, ids []string) string {
	best, bestDist := "", len(id)/4+1
	for _, c := range ids {
		if d := EditDistance(strings.ToLower(id), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// EditDistance is the Levenshtein distance of a and b, in bytes. The
// command line uses it too, to suggest a flag for a misspelt one.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
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

// demandParser holds the state of parsing one list file: a demand or, with
// kind: exemption, an exemption (whose entries it collects in d.Entries
// with the same code).
type demandParser struct {
	file string
	read ReadEntryFile
	d    matchers.Demand
	// exemption is set for an exemption file, which fills ex and applies.
	exemption bool
	ex        matchers.Exemption
	applies   []appliesRef
	errs      []error
	warnings  []matchers.Warning
	norm      matchers.Normalizer
	key       []byte         // scratch for validating entries
	pinned    map[string]int // handle key → index in d.Pins
	yaml      strictyaml.Reader
}

var demandIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]+$`)

// appliesRef is a demand id of an exemption's applies_to, with its line.
type appliesRef struct {
	id   string
	line int
}

// ParseDemand parses one demand file. file names it in messages; read
// fetches the entry files its *_file keys name. Unknown keys, wrong types
// and invalid values are errors with the line they are on; every problem in
// the file is reported, joined. An exemption file is an error here (see
// ParseExemption).
func ParseDemand(file string, data []byte, read ReadEntryFile) (matchers.Demand, []matchers.Warning, error) {
	p, warnings, err := parseListFile(file, data, read)
	if err == nil && p.exemption {
		err = &matchers.ListError{File: file, Line: p.ex.Line, Msg: "this is an exemption file (kind: exemption), not a demand"}
	}
	if err != nil {
		return matchers.Demand{}, warnings, err
	}
	return p.d, warnings, nil
}

// ParseExemption parses one exemption file (kind: exemption) as strictly
// as ParseDemand parses a demand. It does not check that the demands its
// applies_to names exist: ParseFS does, knowing every demand.
func ParseExemption(file string, data []byte, read ReadEntryFile) (matchers.Exemption, []matchers.Warning, error) {
	p, warnings, err := parseListFile(file, data, read)
	if err == nil && !p.exemption {
		err = &matchers.ListError{File: file, Msg: "this is a demand file; an exemption file says kind: exemption"}
	}
	if err != nil {
		return matchers.Exemption{}, warnings, err
	}
	return p.ex, warnings, nil
}

// parseListFile parses a demand or exemption file; the result's exemption
// says which.
func parseListFile(file string, data []byte, read ReadEntryFile) (*demandParser, []matchers.Warning, error) {
	p := &demandParser{file: file, read: read}
	p.d.File = file
	p.d.Tiers = matchers.DefaultTiers
	p.d.Priority = matchers.PriorityNormal
	p.parse(data)
	if len(p.errs) > 0 {
		return p, p.warnings, errors.Join(p.errs...)
	}
	return p, p.warnings, nil
}

func (p *demandParser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, &matchers.ListError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *demandParser) warnf(line int, format string, args ...any) {
	p.warnings = append(p.warnings, matchers.ListError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *demandParser) parse(data []byte) {
	p.yaml.Report = func(line int, msg string) { p.errorf(line, "%s", msg) }
	root := p.yaml.Parse(data)
	if root == nil {
		if len(p.errs) == 0 {
			p.errorf(0, "file is empty: a demand file is a mapping of keys (id, jurisdiction, handles, …)")
		}
		return
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "a demand file must be a mapping of keys (id, jurisdiction, handles, …)")
		return
	}
	fields := demandFields
	switch kind := fileKind(root); kind {
	case "", "demand":
	case "exemption":
		p.exemption = true
		fields = exemptionFields
	default:
		// Which keys are wrong depends on the kind: say only this.
		p.errorf(kindLine(root), "kind %q is not demand or exemption", kind)
		return
	}
	present := map[string]int{}
	p.yaml.Each(root, "", func(k, v *yaml.Node) {
		present[k.Value] = k.Line
		field, ok := fields[k.Value]
		if !ok {
			p.errorf(k.Line, "unknown key %q (known: %s)", k.Value, strings.Join(fieldNames(fields), ", "))
			return
		}
		field(p, v)
	})
	if p.exemption {
		p.checkExemption(root, present)
		return
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
	p.addPinnedHandles()
	if len(p.errs) == 0 && p.d.Entries.Len() == 0 {
		p.errorf(root.Line, "demand names no entries (handles, user_ids, accounts, hashtags, phrases, domains or texts)")
	}
	if p.d.Authority == "" {
		p.warnf(root.Line, "no authority: review tasks will not say who made the demand")
	}
	if p.d.LegalBasis == "" {
		p.warnf(root.Line, "no legal_basis: review tasks will not say under which law")
	}
}

// demandFields maps each key of a demand file to the code that reads it.
var demandFields = map[string]func(p *demandParser, v *yaml.Node){
	"kind": kindField("demand"),
	"mode": parsedField(matchers.ParseMode, func(d *matchers.Demand, m matchers.Mode) { d.Mode = m }),
	"max_tasks_per_minute": func(p *demandParser, v *yaml.Node) {
		n, ok := p.count(v, "max_tasks_per_minute", maxTasksPerMinute)
		switch {
		case !ok:
		case n == 0:
			p.d.MaxTasksPerMinute = matchers.NoTaskLimit
		default:
			p.d.MaxTasksPerMinute = n
		}
	},
	"id": func(p *demandParser, v *yaml.Node) {
		if id, ok := p.id(v); ok {
			p.d.ID, p.d.Line = id, v.Line
		}
	},
	"authority":   textField(func(d *matchers.Demand) *string { return &d.Authority }),
	"legal_basis": textField(func(d *matchers.Demand) *string { return &d.LegalBasis }),
	"reference":   textField(func(d *matchers.Demand) *string { return &d.Reference }),
	"jurisdiction": func(p *demandParser, v *yaml.Node) {
		reported := len(p.errs)
		codes := p.stringList(v, "jurisdiction")
		if len(codes) == 0 && len(p.errs) == reported { // null or [], which stringList takes silently
			p.errorf(v.Line, "jurisdiction is empty: name the ISO 3166-1 alpha-2 code of at least one country (jurisdiction: IN)")
		}
		for _, n := range codes {
			code := n.Value
			if !matchers.IsJurisdiction(code) {
				hint := ""
				if up := strings.ToUpper(code); up != code && matchers.IsJurisdiction(up) {
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
	"received": parsedField(ParseDate, func(d *matchers.Demand, t time.Time) { d.Received = t }),
	"expires":  parsedField(ParseDate, func(d *matchers.Demand, t time.Time) { d.Expires = t }),
	"action":   parsedField(matchers.ParseAction, func(d *matchers.Demand, v matchers.Action) { d.Action = v }),
	"scope":    parsedField(matchers.ParseScope, func(d *matchers.Demand, v matchers.Scope) { d.Scope = v }),
	"priority": parsedField(matchers.ParsePriority, func(d *matchers.Demand, v matchers.Priority) { d.Priority = v }),
	"status":   parsedField(matchers.ParseStatus, func(d *matchers.Demand, v matchers.Status) { d.Status = v }),
	"tiers": func(p *demandParser, v *yaml.Node) {
		var set matchers.TierSet
		for _, n := range p.stringList(v, "tiers") {
			t, ok := matchers.ParseTier(n.Value)
			if !ok {
				p.errorf(n.Line, "unknown tier %q (known: exact, loose, lookalike)", n.Value)
				continue
			}
			set |= 1 << t
		}
		if set != 0 && !set.Has(matchers.TierExact) {
			p.errorf(v.Line, "tiers must include exact")
		}
		if set != 0 {
			p.d.Tiers = set
		}
	},
	"handles":       entriesField(matchers.EntryHandle),
	"handles_file":  entryFileField(matchers.EntryHandle),
	"user_ids":      entriesField(matchers.EntryUserID),
	"user_ids_file": entryFileField(matchers.EntryUserID),
	"hashtags":      entriesField(matchers.EntryHashtag),
	"hashtags_file": entryFileField(matchers.EntryHashtag),
	"phrases":       entriesField(matchers.EntryPhrase),
	"phrases_file":  entryFileField(matchers.EntryPhrase),
	"domains":       entriesField(matchers.EntryDomain),
	"domains_file":  entryFileField(matchers.EntryDomain),
	"texts":         entriesField(matchers.EntryText),
	"texts_file":    entryFileField(matchers.EntryText),
	"accounts":      accountsField,
	"text_similarity": func(p *demandParser, v *yaml.Node) {
		if t, ok := parseScalar(p, v, "text_similarity", "", matchers.ParseTextSimilarity); ok {
			p.d.TextSimilarity = t
		}
	},
}

// accountsField reads `accounts:`, the pinned accounts: a list of
// {handle, user_id}. A handle pinned twice to different ids is an error at
// the later item; the same pin twice is a warning.
func accountsField(p *demandParser, v *yaml.Node) {
	v = p.yaml.Resolve(v)
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		return
	case v.Kind != yaml.SequenceNode:
		p.errorf(v.Line, "accounts must be a list of {handle: …, user_id: …}")
		return
	}
	for _, item := range v.Content {
		item = p.yaml.Resolve(item)
		if item.Kind != yaml.MappingNode {
			p.errorf(item.Line, "accounts: each item must be a mapping {handle: …, user_id: …}, not %s", strictyaml.Describe(item))
			continue
		}
		var handle, id *yaml.Node
		p.yaml.Each(item, "accounts", func(k, val *yaml.Node) {
			switch k.Value {
			case "handle":
				handle = p.yaml.Resolve(val)
			case "user_id":
				id = p.yaml.Resolve(val)
			default:
				p.errorf(k.Line, "accounts: unknown key %q (known: handle, user_id)", k.Value)
			}
		})
		if handle == nil || id == nil {
			p.errorf(item.Line, "accounts: an item needs both handle and user_id (the account that holds the handle)")
			continue
		}
		h, okH := p.scalar(handle, "accounts: handle")
		u, okU := p.scalar(id, "accounts: user_id")
		if !okH || !okU {
			continue
		}
		h, u = strings.TrimSpace(h), strings.TrimSpace(u)
		hk, err := matchers.AppendEntryKey(nil, &p.norm, matchers.EntryHandle, []byte(h))
		if err != nil {
			p.errorf(handle.Line, "accounts: %v", err)
			continue
		}
		uid, err := matchers.AppendEntryKey(nil, &p.norm, matchers.EntryUserID, []byte(u))
		if err != nil {
			p.errorf(id.Line, "accounts: %v", err)
			continue
		}
		pin := matchers.Pin{Handle: h, UserID: string(uid), File: p.file, Line: item.Line}
		if i, ok := p.pinned[string(hk)]; ok {
			prev := &p.d.Pins[i]
			if prev.UserID != pin.UserID {
				p.errorf(item.Line, "accounts: handle %q is pinned to %s here and to %s on line %d", h, pin.UserID, prev.UserID, prev.Line)
			} else {
				p.warnf(item.Line, "accounts: handle %q is pinned to %s again (line %d); counted once", h, pin.UserID, prev.Line)
			}
			continue
		}
		if p.pinned == nil {
			p.pinned = map[string]int{}
		}
		p.pinned[string(hk)] = len(p.d.Pins)
		p.d.Pins = append(p.d.Pins, pin)
	}
}

// addPinnedHandles adds a handle entry, at its pin's line, for each pinned
// handle that the demand does not list among its handles already: a pin is
// about one of the demand's handle entries.
func (p *demandParser) addPinnedHandles() {
	if len(p.d.Pins) == 0 {
		return
	}
	listed := map[string]bool{}
	var k []byte
	for i := 0; i < p.d.Entries.Len(); i++ {
		if p.d.Entries.Kind(i) == matchers.EntryHandle {
			k, _ = matchers.AppendEntryKey(k[:0], &p.norm, matchers.EntryHandle, p.d.Entries.Value(i))
			listed[string(k)] = true
		}
	}
	for _, pin := range p.d.Pins {
		k, _ = matchers.AppendEntryKey(k[:0], &p.norm, matchers.EntryHandle, []byte(pin.Handle))
		if !listed[string(k)] {
			p.d.Entries.Append(matchers.EntryHandle, []byte(pin.Handle), pin.File, pin.Line)
		}
	}
}

func fieldNames[F any](fields map[string]F) []string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// fileKind returns the kind: a file's root mapping names, "" when it names
// none (a demand) or names it with something other than one value (the
// kind field reports that).
func fileKind(root *yaml.Node) string {
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "kind" && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
			return v.Value
		}
	}
	return ""
}

func kindLine(root *yaml.Node) int {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "kind" {
			return root.Content[i+1].Line
		}
	}
	return root.Line
}

// kindField checks the kind: of a file (fileKind has chosen the fields by
// it; this reports a kind that is not a single value).
func kindField(want string) func(p *demandParser, v *yaml.Node) {
	return func(p *demandParser, v *yaml.Node) {
		if s, ok := p.scalar(v, "kind"); ok && s != want {
			p.errorf(v.Line, "kind %q is not demand or exemption", s)
		}
	}
}

// count returns the value of a whole number of at most limit, not negative.
func (p *demandParser) count(v *yaml.Node, key string, limit int) (int, bool) {
	s, ok := p.scalar(v, key)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || v.Tag != "!!int" || n < 0 || n > limit {
		p.errorf(v.Line, "%s %q must be a whole number from 0 to %d", key, s, limit)
		return 0, false
	}
	return n, true
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
			n = p.yaml.Resolve(n)
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

func textField(dst func(*matchers.Demand) *string) func(*demandParser, *yaml.Node) {
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

// parsedField reads a single value with parse (a date, a name of an
// enumeration) and sets it.
func parsedField[T any](parse func(string) (T, error), set func(*matchers.Demand, T)) func(*demandParser, *yaml.Node) {
	return func(p *demandParser, v *yaml.Node) {
		if x, ok := parseScalar(p, v, "value", "", parse); ok {
			set(&p.d, x)
		}
	}
}

// parseScalar reads v, the single value of the key, with parse; a problem
// is an error at its line, parse's after prefix.
func parseScalar[T any](p *demandParser, v *yaml.Node, key, prefix string, parse func(string) (T, error)) (T, bool) {
	var x T
	s, ok := p.scalar(v, key)
	if !ok {
		return x, false
	}
	x, err := parse(s)
	if err != nil {
		p.errorf(v.Line, "%s%v", prefix, err)
		return x, false
	}
	return x, true
}

// id reads the single value v of an id key, a demand's or an exemption's.
func (p *demandParser) id(v *yaml.Node) (string, bool) {
	s, ok := p.scalar(v, "id")
	if !ok {
		return "", false
	}
	if len(s) > maxIDLen || !demandIDPattern.MatchString(s) {
		p.errorf(v.Line, "id %q must be 1-%d characters of A-Z a-z 0-9 . _ : -", s, maxIDLen)
		return "", false
	}
	return s, true
}

func entriesField(kind matchers.EntryKind) func(*demandParser, *yaml.Node) {
	return func(p *demandParser, v *yaml.Node) {
		for _, n := range p.stringList(v, kind.String()+"s") {
			p.addEntry(kind, []byte(n.Value), p.file, n.Line)
		}
	}
}

func entryFileField(kind matchers.EntryKind) func(*demandParser, *yaml.Node) {
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
// space (or nothing) are comments (matchers.EachTextLine), and so is the
// text after " # " on a line, but in a texts file. A hashtag entry may
// start with # as long as a letter follows it.
func (p *demandParser) readEntryFile(kind matchers.EntryKind, display string, data []byte, namedAt int) {
	if !utf8.Valid(data) {
		p.errs = append(p.errs, &matchers.ListError{File: display, Msg: fmt.Sprintf("not valid UTF-8 (named by %s:%d)", p.file, namedAt)})
		return
	}
	p.d.Entries.Grow(bytes.Count(data, []byte{'\n'})+1, len(data))
	matchers.EachTextLine(data, func(lineNo int, line []byte) {
		if j := bytes.Index(line, []byte(" #")); j >= 0 && kind != matchers.EntryText {
			if rest := line[j+2:]; len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' {
				line = bytes.TrimSpace(line[:j])
			}
		}
		p.addEntry(kind, line, display, lineNo)
	})
}

// addEntry validates one entry and adds it, or records why not.
func (p *demandParser) addEntry(kind matchers.EntryKind, value []byte, file string, line int) {
	value = bytes.TrimSpace(value)
	var err error
	if p.key, err = matchers.AppendEntryKey(p.key[:0], &p.norm, kind, value); err != nil {
		p.errs = append(p.errs, &matchers.ListError{File: file, Line: line, Msg: err.Error()})
		return
	}
	if kind == matchers.EntryDomain {
		if w := matchers.DomainWarning(p.key); w != "" {
			p.warnings = append(p.warnings, matchers.ListError{File: file, Line: line, Msg: w})
		}
	}
	p.d.Entries.Append(kind, value, file, line)
}
