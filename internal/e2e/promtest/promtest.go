// Package promtest holds the checks of flagstream's monitoring artefacts:
// the Grafana dashboard (deploy/grafana/flagstream.json) and the
// Prometheus alert rules (deploy/prometheus/alerts.yml), tested against a
// live flagstream scrape and, where installed, a real Prometheus. The
// functions here read those files; the tests are in promtest_test.go.
package promtest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Target is one PromQL query of a dashboard panel.
type Target struct {
	Panel string // the panel's title
	Expr  string
}

// DashboardTargets returns the query of every target of every panel of a
// Grafana dashboard, including panels nested in collapsed rows.
func DashboardTargets(dashboard []byte) ([]Target, error) {
	var d struct {
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(dashboard, &d); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	var out []Target
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, t := range p.Targets {
				if t.Expr != "" {
					out = append(out, Target{Panel: p.Title, Expr: t.Expr})
				}
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out, nil
}

type panel struct {
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// MetricNames returns the flagstream metric names (identifiers starting
// with "flagstream_") that a PromQL expression refers to, in order of
// first use. Quoted strings (label values) are skipped; series names of
// histograms keep their _bucket, _sum or _count suffix (see Family).
func MetricNames(expr string) []string {
	var names []string
	seen := map[string]bool{}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			i = j + 1
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			tok := expr[i:j]
			// A template variable ($instance, ${datasource}) is not a name.
			if (i == 0 || expr[i-1] != '$' && expr[i-1] != '{') && strings.HasPrefix(tok, "flagstream_") && !seen[tok] {
				seen[tok] = true
				names = append(names, tok)
			}
			i = j
		case c >= '0' && c <= '9':
			// A number or a duration (1e3, 5m): not a name.
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		default:
			i++
		}
	}
	return names
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdent(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// Family returns the metric family a series name belongs to, given the
// families' types from a scrape: the name of a histogram's or summary's
// _bucket, _sum or _count series maps to the histogram; any other name is
// its own family.
func Family(name string, types map[string]string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		if t := types[base]; t == "histogram" || (t == "summary" && suffix != "_bucket") {
			return base
		}
	}
	return name
}

// Scrape is what a Prometheus text-format exposition holds: the type of
// every family, the number of samples of every series name, and the value
// of every series (keyed by the series as exposed: name{labels}).
type Scrape struct {
	Types   map[string]string
	Samples map[string]int
	Values  map[string]string
}

// ParseScrape reads a Prometheus text-format (0.0.4) exposition.
func ParseScrape(text string) Scrape {
	s := Scrape{Types: map[string]string{}, Samples: map[string]int{}, Values: map[string]string{}}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			if name, typ, ok := strings.Cut(rest, " "); ok {
				s.Types[name] = typ
			}
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		end := strings.IndexAny(line, "{ ")
		if end < 0 {
			continue
		}
		s.Samples[line[:end]]++
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			s.Values[line[:i]] = line[i+1:]
		}
	}
	return s
}

// Has reports whether the scrape has a sample of series name.
func (s Scrape) Has(name string) bool { return s.Samples[name] > 0 }
