package report

import (
	_ "embed"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// report.html.tmpl is the page: one self-contained file, styles inline,
// charts inline SVG, no script and no external reference. html/template
// escapes every text and attribute that comes from data.
//
//go:embed report.html.tmpl
var pageSource string

// pageTemplate is the report page's template, parsed on first use rather
// than at the start of every command.
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"num": func(n any) string {
			switch n := n.(type) {
			case int64:
				return groupDigits(n)
			case *int64:
				return groupDigits(*n)
			}
			return "?"
		},
		"inc": func(n int) int { return n + 1 },
	}).Parse(pageSource))
})

// page is what the template shows.
type page struct {
	Title     string
	Period    string
	Demands   string
	Generated string
	Rows      []row
	Charts    []chart
	Sections  []demandSection
	Inputs    []string
	Problems  []string
}

// demandSection is one demand's table: a row per column of the report, a
// column per class that has items (live always).
type demandSection struct {
	Anchor  string
	D       *Demand
	Classes []string
	Groups  []metricGroup
}

type metricGroup struct {
	Name string
	Rows []metricRow
}

type metricRow struct {
	Name   string
	Values []string
}

func writeHTML(w io.Writer, r *Report) error {
	r = visible(r)
	p := page{
		Title:     "Compliance report, " + r.periodText(),
		Period:    r.periodText(),
		Demands:   r.demandsText(),
		Generated: stamp(r.GeneratedAt),
		Rows:      r.rows(),
		Charts: []chart{
			outcomeChart("chart-accounts", r, true),
			outcomeChart("chart-tasks", r, false),
			dailyChart("chart-days", r),
		},
		Inputs:   r.inputText(),
		Problems: r.problemLines(),
	}
	for i := range r.Demands {
		p.Sections = append(p.Sections, demandTable(i, &r.Demands[i], r.Totals.kinds()))
	}
	return pageTemplate().Execute(w, p)
}

// visible returns a copy of r whose texts from data have their control
// characters and bidirectional overrides written as escapes (termSafe):
// html/template escapes markup, but would pass a right-to-left override
// that makes text read differently from what it is.
func visible(r *Report) *Report {
	c := *r
	c.Demands = slices.Clone(r.Demands)
	for i := range c.Demands {
		d := &c.Demands[i]
		d.ID, d.Authority, d.LegalBasis, d.Reference = termSafe(d.ID), termSafe(d.Authority), termSafe(d.LegalBasis), termSafe(d.Reference)
	}
	c.Period.Demands = make([]string, len(r.Period.Demands))
	for i, id := range r.Period.Demands {
		c.Period.Demands[i] = termSafe(id)
	}
	c.Inputs.Problems = slices.Clone(r.Inputs.Problems)
	for i := range c.Inputs.Problems {
		p := &c.Inputs.Problems[i]
		p.Stream, p.Reason = termSafe(p.Stream), termSafe(p.Reason)
	}
	return &c
}

func demandTable(i int, d *Demand, kinds []string) demandSection {
	s := demandSection{Anchor: "demand-" + strconv.Itoa(i+1), D: d}
	var classes []Class
	for _, c := range Classes {
		if c == Live || !d.Class(c).Empty() {
			classes = append(classes, c)
			s.Classes = append(s.Classes, c.String())
		}
	}
	metric := func(name string, get func(k *Counts) string) metricRow {
		m := metricRow{Name: name}
		for _, c := range classes {
			m.Values = append(m.Values, get(d.Class(c)))
		}
		return m
	}
	n := func(f func(k *Counts) int64) func(k *Counts) string {
		return func(k *Counts) string { return groupDigits(f(k)) }
	}
	specified := metricRow{Name: "Accounts specified"}
	for _, c := range classes {
		v := ""
		if c == Live {
			v = "not listed"
			if d.AccountsSpecified != nil {
				v = groupDigits(*d.AccountsSpecified)
			}
		}
		specified.Values = append(specified.Values, v)
	}
	accounts := metricGroup{Name: "Accounts", Rows: []metricRow{
		specified,
		metric("Seen (cases opened)", n(func(k *Counts) int64 { return k.Accounts.Seen })),
		metric("Withheld", n(func(k *Counts) int64 { return k.Accounts.Withheld })),
		metric("Withheld in", func(k *Counts) string { return or(countries(k.Accounts.WithheldCountries), "–") }),
		metric("No action", n(func(k *Counts) int64 { return k.Accounts.NoAction })),
		metric("Terms of service", n(func(k *Counts) int64 { return k.Accounts.TermsOfService })),
		metric("Escalated", n(func(k *Counts) int64 { return k.Accounts.Escalated })),
		metric("Pending", n(func(k *Counts) int64 { return k.Accounts.Pending })),
		metric("Handles reassigned", n(func(k *Counts) int64 { return k.Accounts.Reassigned })),
		metric("Exempted", n(func(k *Counts) int64 { return k.Accounts.Exempted })),
		metric("Evidence: posts", n(func(k *Counts) int64 { return k.Accounts.EvidencePosts })),
		metric("Evidence: mentions", n(func(k *Counts) int64 { return k.Accounts.EvidenceMentions })),
	}}
	tasks := metricGroup{Name: "Tweet tasks", Rows: []metricRow{
		metric("Emitted", n(func(k *Counts) int64 { return k.Tasks.Emitted })),
		metric("Withheld", n(func(k *Counts) int64 { return k.Tasks.Withheld })),
		metric("No action", n(func(k *Counts) int64 { return k.Tasks.NoAction })),
		metric("Terms of service", n(func(k *Counts) int64 { return k.Tasks.TermsOfService })),
		metric("Escalated", n(func(k *Counts) int64 { return k.Tasks.Escalated })),
		metric("Pending", n(func(k *Counts) int64 { return k.Tasks.Pending })),
		metric("Exempted", n(func(k *Counts) int64 { return k.Tasks.Exempted })),
	}}
	matches := metricGroup{Name: "Matches by kind"}
	for _, kind := range kinds {
		matches.Rows = append(matches.Rows, metric(strings.ReplaceAll(kind, "_", " "), n(func(k *Counts) int64 { return k.Matches[kind] })))
	}
	s.Groups = []metricGroup{accounts, tasks, matches}
	return s
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// groupDigits writes n with thousands separators: 1,178.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
