package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Format is an output format of the report.
type Format string

// The formats.
const (
	FormatTable    Format = "table" // aligned text for a terminal
	FormatMarkdown Format = "md"
	FormatCSV      Format = "csv"
	FormatJSON     Format = "json"
	FormatHTML     Format = "html"
)

// Formats lists the formats, the default first.
var Formats = []Format{FormatTable, FormatMarkdown, FormatCSV, FormatJSON, FormatHTML}

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	if f := Format(s); slices.Contains(Formats, f) {
		return f, nil
	}
	return "", fmt.Errorf("unknown report format %q (want table, md, csv, json or html)", s)
}

// Render writes the report to w in format f.
func Render(w io.Writer, r *Report, f Format) error {
	var err error
	switch f {
	case FormatTable:
		err = writeText(w, r)
	case FormatMarkdown:
		err = writeMarkdown(w, r)
	case FormatCSV:
		err = writeCSV(w, r)
	case FormatJSON:
		err = writeJSON(w, r)
	case FormatHTML:
		err = writeHTML(w, r)
	default:
		_, err = ParseFormat(string(f))
		return err
	}
	if err != nil {
		return fmt.Errorf("write %s report: %w", f, err)
	}
	return nil
}

func writeJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// table is one table of the text and Markdown formats.
type table struct {
	title  string
	note   string
	header []string
	right  []bool // right-aligned column (numbers)
	rows   [][]string
}

// row is one line of a table of counts: a demand or the totals, in a class.
type row struct {
	Label     string // demand id, or "Total"
	Total     bool
	Class     Class
	Specified *int64
	Counts    *Counts
}

// rows returns the report's rows: per demand its live counts, then its
// shadow and tripped counts where it has any, and the totals last.
func (r *Report) rows() []row {
	var out []row
	add := func(label string, total bool, specified *int64, get func(Class) *Counts) {
		for _, c := range Classes {
			k := get(c)
			if c == Live || !k.Empty() {
				sp := specified
				if c != Live {
					sp = nil
				}
				out = append(out, row{Label: label, Total: total, Class: c, Specified: sp, Counts: k})
			}
		}
	}
	for i := range r.Demands {
		d := &r.Demands[i]
		add(d.ID, false, d.AccountsSpecified, d.Class)
	}
	add("Total", true, r.Totals.AccountsSpecified, r.Totals.Class)
	return out
}

func count(n int64) string { return strconv.FormatInt(n, 10) }

func optCount(n *int64) string {
	if n == nil {
		return "-"
	}
	return count(*n)
}

// countries writes per-country counts as "IN 5, PK 1", sorted by country.
func countries(m map[string]int64) string {
	var b strings.Builder
	for i, c := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " " + count(m[c]))
	}
	return b.String()
}

// tables returns the tables of the text and Markdown formats.
func (r *Report) tables() []table {
	rows := r.rows()
	label := func(rw row) []string { return []string{rw.Label, rw.Class.String()} }
	accounts := table{
		title:  "Accounts",
		note:   "one case per demand and account entry; outcome = latest decision",
		header: []string{"DEMAND", "CLASS", "SPECIFIED", "SEEN", "WITHHELD", "NO ACTION", "TERMS OF SERVICE", "ESCALATED", "PENDING", "REASSIGNED", "EXEMPTED"},
		right:  []bool{false, false, true, true, true, true, true, true, true, true, true},
	}
	withheldIn := table{
		title:  "Accounts withheld, by country",
		header: []string{"DEMAND", "CLASS", "WITHHELD", "COUNTRIES"},
		right:  []bool{false, false, true, false},
	}
	tasks := table{
		title:  "Tweet tasks",
		note:   "a task naming several demands counts in each, and once in the total",
		header: []string{"DEMAND", "CLASS", "EMITTED", "WITHHELD", "NO ACTION", "TERMS OF SERVICE", "ESCALATED", "PENDING", "EXEMPTED"},
		right:  []bool{false, false, true, true, true, true, true, true, true},
	}
	kinds := r.Totals.kinds()
	matches := table{
		title:  "Matches by kind",
		note:   "matches in the tweet tasks counted above",
		header: []string{"DEMAND", "CLASS"},
		right:  []bool{false, false},
	}
	for _, k := range kinds {
		matches.header = append(matches.header, strings.ToUpper(k))
		matches.right = append(matches.right, true)
	}
	for _, rw := range rows {
		a, t := &rw.Counts.Accounts, &rw.Counts.Tasks
		accounts.rows = append(accounts.rows, append(label(rw), optCount(rw.Specified), count(a.Seen), count(a.Withheld),
			count(a.NoAction), count(a.TermsOfService), count(a.Escalated), count(a.Pending), count(a.Reassigned), count(a.Exempted)))
		if a.Withheld > 0 {
			withheldIn.rows = append(withheldIn.rows, append(label(rw), count(a.Withheld), countries(a.WithheldCountries)))
		}
		tasks.rows = append(tasks.rows, append(label(rw), count(t.Emitted), count(t.Withheld), count(t.NoAction),
			count(t.TermsOfService), count(t.Escalated), count(t.Pending), count(t.Exempted)))
		m := label(rw)
		for _, k := range kinds {
			m = append(m, count(rw.Counts.Matches[k]))
		}
		matches.rows = append(matches.rows, m)
	}
	demands := table{
		title:  "Demands",
		header: []string{"DEMAND", "AUTHORITY", "JURISDICTIONS", "LEGAL BASIS", "REFERENCE", "LISTED"},
		right:  make([]bool, 6),
	}
	for _, d := range r.Demands {
		listed := "no"
		if d.Listed {
			listed = "yes"
		}
		demands.rows = append(demands.rows, []string{d.ID, d.Authority, strings.Join(d.Jurisdictions, ", "), d.LegalBasis, d.Reference, listed})
	}
	out := []table{accounts}
	if len(withheldIn.rows) > 0 {
		out = append(out, withheldIn)
	}
	return append(out, tasks, matches, demands)
}

// kinds returns the match kinds of every class of the totals.
func (t *Totals) kinds() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range Classes {
		for _, k := range t.Class(c).MatchKinds() {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// periodText says which items the report covers.
func (r *Report) periodText() string {
	p := r.Period
	var s string
	switch {
	case p.Since != nil && p.Until != nil:
		s = "from " + stamp(*p.Since) + " up to " + stamp(*p.Until)
	case p.Since != nil:
		s = "from " + stamp(*p.Since)
	case p.Until != nil:
		s = "up to " + stamp(*p.Until)
	default:
		s = "all records"
	}
	if p.AsOf != nil && (p.Until == nil || !p.AsOf.Equal(*p.Until)) {
		s += "; decisions before " + stamp(*p.AsOf)
	}
	return s
}

func (r *Report) demandsText() string {
	if len(r.Period.Demands) == 0 {
		return "all"
	}
	return strings.Join(r.Period.Demands, ", ")
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// inputText sums up what was read.
func (r *Report) inputText() []string {
	in := &r.Inputs
	return []string{
		fmt.Sprintf("case events: %d read, %d bad, %d after as-of; %d cases, %d reported, %d without an opened event",
			in.Cases.Records, in.Cases.Bad, in.Cases.Late, in.Cases.Cases, in.Cases.Reported, in.Cases.NotOpened),
		fmt.Sprintf("review tasks: %d read, %d bad, %d copies of a task already read; %d reported",
			in.Tasks.Records, in.Tasks.Bad, in.Tasks.Repeats, in.Tasks.Reported),
		fmt.Sprintf("decisions: %d read, %d bad, %d after as-of, %d about no case or task read",
			in.Decisions.Records, in.Decisions.Bad, in.Decisions.Late, in.Decisions.Unmatched),
	}
}

func (r *Report) problemLines() []string {
	var out []string
	for _, p := range r.Inputs.Problems {
		out = append(out, fmt.Sprintf("%s:%d: %s", p.Stream, p.Index, p.Reason))
	}
	bad := r.Inputs.Cases.Bad + r.Inputs.Tasks.Bad + r.Inputs.Decisions.Bad
	if more := bad - int64(len(r.Inputs.Problems)); more > 0 {
		out = append(out, fmt.Sprintf("... and %d more", more))
	}
	return out
}

func writeText(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.header(r, "flagstream compliance report\n", "%s %s\n", [3]string{"Period:   ", "Demands:  ", "Generated:"}, termSafe)
	for _, t := range r.tables() {
		ew.printf("\n%s", termSafe(t.title))
		if t.note != "" {
			ew.printf(" (%s)", t.note)
		}
		ew.printf("\n")
		cells := make([][]string, 0, len(t.rows)+1)
		cells = append(cells, t.header)
		for _, rw := range t.rows {
			safe := make([]string, len(rw))
			for i, c := range rw {
				safe[i] = termSafe(c)
			}
			cells = append(cells, safe)
		}
		widths := make([]int, len(t.header))
		for _, rw := range cells {
			for i, c := range rw {
				widths[i] = max(widths[i], textWidth(c))
			}
		}
		for _, rw := range cells {
			var line strings.Builder
			for i, c := range rw {
				pad := strings.Repeat(" ", widths[i]-textWidth(c))
				if i > 0 {
					line.WriteString("  ")
				}
				if t.right[i] {
					line.WriteString(pad + c)
				} else if i < len(rw)-1 {
					line.WriteString(c + pad)
				} else {
					line.WriteString(c)
				}
			}
			ew.printf("%s\n", strings.TrimRight(line.String(), " "))
		}
	}
	ew.inputAndProblems(r, "\n%s\n", "  %s\n", func(l string) string { return l }, termSafe)
	return ew.err
}

// termSafe makes data safe to print on a terminal: control characters
// (which could move the cursor or recolour the screen), bidirectional
// overrides and invalid UTF-8 are written as Go escapes.
func termSafe(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
}

// textWidth is the number of terminal columns s takes: East Asian wide
// characters take two, combining marks none.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || r == '\u200B' || r == '\u200D':
		case width.LookupRune(r).Kind() == width.EastAsianWide || width.LookupRune(r).Kind() == width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

func writeMarkdown(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.header(r, "# Compliance report\n\n", "- %s %s\n", [3]string{"Period:", "Demands:", "Generated:"}, mdText)
	for _, t := range r.tables() {
		ew.printf("\n## %s\n\n", mdText(t.title))
		if t.note != "" {
			ew.printf("%s.\n\n", mdText(upperFirst(t.note)))
		}
		ew.printf("|")
		for _, h := range t.header {
			ew.printf(" %s |", mdText(strings.ToLower(h)))
		}
		ew.printf("\n|")
		for i := range t.header {
			if t.right[i] {
				ew.printf(" ---: |")
			} else {
				ew.printf(" --- |")
			}
		}
		ew.printf("\n")
		for _, rw := range t.rows {
			ew.printf("|")
			for _, c := range rw {
				ew.printf(" %s |", mdText(c))
			}
			ew.printf("\n")
		}
	}
	ew.inputAndProblems(r, "\n## %s\n\n", "- %s\n", func(l string) string { return mdText(upperFirst(l)) }, mdText)
	return ew.err
}

// mdText escapes data for Markdown: no markup, raw HTML or table syntax
// survives, and a line break becomes a space.
func mdText(s string) string {
	s = termSafe(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\\', '`', '*', '_', '[', ']', '(', ')', '#', '|', '~', '!', '{', '}':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// CSVHeader is the header of the CSV format: one row per demand and class
// (every class, zeros included), then the totals (row "total", empty
// demand_id). accounts_specified is on the live rows only; lists are
// joined by ";", countries written as "IN:5;PK:1".
var CSVHeader = []string{
	"row", "demand_id", "class", "authority", "jurisdictions", "legal_basis", "reference", "listed",
	"accounts_specified", "accounts_seen", "accounts_withheld", "accounts_withheld_countries",
	"accounts_no_action", "accounts_terms_of_service", "accounts_escalated", "accounts_pending",
	"handles_reassigned", "accounts_exempted", "evidence_posts", "evidence_mentions",
	"tasks_emitted", "tasks_withheld", "tasks_no_action", "tasks_terms_of_service",
	"tasks_escalated", "tasks_pending", "tasks_exempted",
	"matches_hashtag", "matches_mention", "matches_author", "matches_author_id",
	"matches_phrase", "matches_domain", "matches_text", "matches_other",
}

func writeCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	line := func(kind string, d *Demand, c Class, specified *int64, k *Counts) []string {
		rec := []string{kind, "", c.String(), "", "", "", "", ""}
		if d != nil {
			rec[1], rec[3], rec[4], rec[5], rec[6] = csvText(d.ID), csvText(d.Authority), csvText(strings.Join(d.Jurisdictions, ";")), csvText(d.LegalBasis), csvText(d.Reference)
			rec[7] = strconv.FormatBool(d.Listed)
		}
		sp := ""
		if specified != nil && c == Live {
			sp = count(*specified)
		}
		var wc []string
		for _, cc := range slices.Sorted(maps.Keys(k.Accounts.WithheldCountries)) {
			wc = append(wc, cc+":"+count(k.Accounts.WithheldCountries[cc]))
		}
		a, t := &k.Accounts, &k.Tasks
		rec = append(rec, sp, count(a.Seen), count(a.Withheld), strings.Join(wc, ";"),
			count(a.NoAction), count(a.TermsOfService), count(a.Escalated), count(a.Pending),
			count(a.Reassigned), count(a.Exempted), count(a.EvidencePosts), count(a.EvidenceMentions),
			count(t.Emitted), count(t.Withheld), count(t.NoAction), count(t.TermsOfService),
			count(t.Escalated), count(t.Pending), count(t.Exempted))
		var other int64
		for kind, n := range k.Matches {
			if !slices.Contains(matchKinds[:], kind) {
				other += n
			}
		}
		for _, kind := range matchKinds {
			rec = append(rec, count(k.Matches[kind]))
		}
		return append(rec, count(other))
	}
	for i := range r.Demands {
		d := &r.Demands[i]
		for _, c := range Classes {
			if err := cw.Write(line("demand", d, c, d.AccountsSpecified, d.Class(c))); err != nil {
				return err
			}
		}
	}
	for _, c := range Classes {
		if err := cw.Write(line("total", nil, c, r.Totals.AccountsSpecified, r.Totals.Class(c))); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvText writes a text from data: control characters as escapes
// (termSafe), and, so that a spreadsheet never reads it as a formula, a
// leading quote before a cell that starts with = + - @, a tab or a
// carriage return.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + termSafe(s)
	}
	return termSafe(s)
}

// errWriter keeps the first write error, so that a renderer checks once.
type errWriter struct {
	w   io.Writer
	err error
}

// header writes the lines a text or Markdown report starts with: title,
// then the period, the demands and when it was generated, each in the
// format line of its label and its value (the first two made fit to print
// by esc).
func (e *errWriter) header(r *Report, title, line string, labels [3]string, esc func(string) string) {
	e.printf("%s", title)
	e.printf(line, labels[0], esc(r.periodText()))
	e.printf(line, labels[1], esc(r.demandsText()))
	e.printf(line, labels[2], stamp(r.GeneratedAt))
}

// inputAndProblems writes the sections of a text or Markdown report that
// follow its tables: the input, and the bad records when there were some.
// heading and item are the formats of a section's title and of its lines,
// input and problem make each line of the two fit to print.
func (e *errWriter) inputAndProblems(r *Report, heading, item string, input, problem func(string) string) {
	e.printf(heading, "Input")
	for _, l := range r.inputText() {
		e.printf(item, input(l))
	}
	if lines := r.problemLines(); len(lines) > 0 {
		e.printf(heading, "Bad records")
		for _, l := range lines {
			e.printf(item, problem(l))
		}
	}
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
