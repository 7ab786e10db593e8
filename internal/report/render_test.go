package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden renders the fixture's report (February, so that case D's
// late decision and the March items show the period at work) in every
// format and compares it with testdata/golden/report.FORMAT; go test
// -update rewrites them.
func TestGolden(t *testing.T) {
	r := buildFixture(t, Options{Since: fixtureSince, Until: fixtureUntil})
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, r, f); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "golden", "report."+string(f)), buf.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			if i >= len(gl) || i >= len(wl) || gl[i] != wl[i] {
				var g, w string
				if i < len(gl) {
					g = gl[i]
				}
				if i < len(wl) {
					w = wl[i]
				}
				t.Fatalf("%s differs at line %d (go test -update rewrites it):\n got: %s\nwant: %s", path, i+1, g, w)
			}
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseFormat("pdf"); err == nil || !strings.Contains(err.Error(), "table, md, csv, json or html") {
		t.Errorf("ParseFormat(pdf) error = %v", err)
	}
	if err := Render(&bytes.Buffer{}, &Report{}, "pdf"); err == nil {
		t.Error("Render in an unknown format: no error")
	}
}

// TestCSV reads the CSV back with encoding/csv and checks its shape and
// some hand-counted cells.
func TestCSV(t *testing.T) {
	r := buildFixture(t, Options{})
	var buf bytes.Buffer
	if err := Render(&buf, r, FormatCSV); err != nil {
		t.Fatal(err)
	}
	rd := csv.NewReader(&buf)
	rd.FieldsPerRecord = len(CSVHeader)
	recs, err := rd.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], CSVHeader) {
		t.Fatalf("header = %v", recs[0])
	}
	// Every demand has its three classes, then the totals.
	if got, want := len(recs)-1, 3*len(r.Demands)+3; got != want {
		t.Fatalf("%d rows, want %d", got, want)
	}
	col := func(name string) int { return slices.Index(CSVHeader, name) }
	cell := func(row, demand, class, name string) string {
		t.Helper()
		for _, rec := range recs[1:] {
			if rec[0] == row && rec[1] == demand && rec[2] == class {
				return rec[col(name)]
			}
		}
		t.Fatalf("no row %s %s %s", row, demand, class)
		return ""
	}
	for _, c := range []struct{ row, demand, class, col, want string }{
		{"demand", "IN-MEITY-2021-02-04", "live", "accounts_specified", "12"},
		{"demand", "IN-MEITY-2021-02-04", "tripped", "accounts_specified", ""},
		{"demand", "IN-MEITY-2021-02-04", "live", "accounts_seen", "9"},
		{"demand", "IN-MEITY-2021-02-04", "live", "accounts_withheld_countries", "IN:3;PK:1"},
		{"demand", "IN-MEITY-2021-02-04", "live", "handles_reassigned", "1"},
		{"demand", "IN-MEITY-2021-02-04", "tripped", "accounts_no_action", "1"},
		{"demand", "IN-MHA-2021-02", "live", "tasks_emitted", "7"},
		{"demand", "IN-MHA-2021-02", "live", "matches_hashtag", "4"},
		{"demand", "IN-MHA-2021-02", "tripped", "tasks_pending", "1"},
		{"demand", "DE-BKA-2021-05", "shadow", "tasks_emitted", "1"},
		{"demand", "DE-BKA-2021-05", "shadow", "listed", "false"},
		{"demand", "DE-BKA-2021-05", "shadow", "authority", `Bundeskriminalamt <img src=x onerror=alert(1)> & "Partner"`},
		{"demand", "DE-BKA-2021-05", "shadow", "reference", `ref\x1b[31m-red\u202e`},
		{"demand", "PK-PTA-2021-03", "live", "accounts_seen", "0"},
		{"total", "", "live", "tasks_emitted", "8"},
		{"total", "", "live", "accounts_specified", "14"},
		{"total", "", "live", "matches_other", "0"},
	} {
		if got := cell(c.row, c.demand, c.class, c.col); got != c.want {
			t.Errorf("%s %s %s %s = %q, want %q", c.row, c.demand, c.class, c.col, got, c.want)
		}
	}
	for _, rec := range recs[1:] {
		for i, name := range CSVHeader {
			if strings.HasPrefix(name, "accounts_") && name != "accounts_withheld_countries" && name != "accounts_specified" ||
				strings.HasPrefix(name, "tasks_") || strings.HasPrefix(name, "matches_") {
				if _, err := strconv.ParseInt(rec[i], 10, 64); err != nil {
					t.Errorf("%s = %q: not a number", name, rec[i])
				}
			}
		}
	}
}

func TestCSVText(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(1)": "'=HYPERLINK(1)", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\tx": `'\t` + "x", "a\x1bb": `a\x1bb`,
		"plain": "plain", "": "", "IN-MEITY": "IN-MEITY",
	} {
		if got := csvText(in); got != want {
			t.Errorf("csvText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestJSONSchema validates the JSON format against report.schema.json,
// which documents its shape, and checks that the schema names every field
// (additionalProperties is false there, so a field added to the Go types
// without the schema fails here).
func TestJSONSchema(t *testing.T) {
	f, err := os.Open("report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("report.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, opt := range map[string]Options{
		"all":      {},
		"february": {Since: fixtureSince, Until: fixtureUntil},
		"filter":   {Only: []string{"XX-NONE"}},
		"unlisted": {Demands: []ListedDemand{}},
	} {
		var buf bytes.Buffer
		if err := Render(&buf, buildFixture(t, opt), FormatJSON); err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The JSON reads back into the same report.
	r := buildFixture(t, Options{})
	var buf bytes.Buffer
	if err := Render(&buf, r, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var back Report
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	diffJSON(t, "read back", &back, r)
}

// TestHTML parses the page with an HTML5 parser and checks its structure:
// a table per demand, the three charts as inline SVG with titles, nothing
// that loads from elsewhere, no script, and data escaped.
func TestHTML(t *testing.T) {
	r := buildFixture(t, Options{})
	var buf bytes.Buffer
	if err := Render(&buf, r, FormatHTML); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var (
		demandSections, demandTables, svgs, svgTitles int
		titles                                        []string
		texts                                         strings.Builder
	)
	for n := range doc.Descendants() {
		if n.Type == html.TextNode {
			texts.WriteString(n.Data + "\n")
		}
		if n.Type != html.ElementNode {
			continue
		}
		switch n.DataAtom {
		case atom.Script, atom.Iframe, atom.Object, atom.Embed, atom.Img, atom.Link, atom.Base:
			t.Errorf("element <%s> in a self-contained page", n.Data)
		case atom.Title:
			if n.Parent.DataAtom == atom.Head && n.FirstChild != nil {
				titles = append(titles, n.FirstChild.Data)
			}
		case atom.Section:
			if attr(n, "class") == "demand" {
				demandSections++
				for m := range n.Descendants() {
					if m.DataAtom == atom.Table {
						demandTables++
					}
				}
			}
		}
		if n.Data == "svg" {
			svgs++
			if attr(n, "role") != "img" || attr(n, "aria-labelledby") == "" {
				t.Errorf("svg without role=img and aria-labelledby")
			}
			for m := range n.ChildNodes() {
				if m.Data == "title" && m.FirstChild != nil && m.FirstChild.Data != "" {
					svgTitles++
				}
			}
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s=...>: an event handler", n.Data, a.Key)
			}
			switch a.Key {
			case "href", "src", "xlink:href", "action", "srcset", "poster", "data":
				if !strings.HasPrefix(a.Val, "#") {
					t.Errorf("<%s %s=%q>: an external reference", n.Data, a.Key, a.Val)
				}
			case "style", "fill", "stroke":
				if strings.Contains(a.Val, "url(") && !strings.Contains(a.Val, "url(#") {
					t.Errorf("<%s %s=%q>: an external reference", n.Data, a.Key, a.Val)
				}
			}
		}
		if n.DataAtom == atom.Style && n.FirstChild != nil {
			css := n.FirstChild.Data
			if strings.Contains(css, "url(") || strings.Contains(css, "@import") {
				t.Error("the style sheet loads something")
			}
		}
	}
	if demandSections != len(r.Demands) || demandTables != 3*len(r.Demands) {
		t.Errorf("%d demand sections with %d tables, want %d sections of 3 tables (accounts, tasks, matches)", demandSections, demandTables, len(r.Demands))
	}
	if svgs != 3 || svgTitles != 3 {
		t.Errorf("%d svg charts with %d titles, want 3", svgs, svgTitles)
	}
	if len(titles) != 1 || !strings.Contains(titles[0], "Compliance report") {
		t.Errorf("page title = %q", titles)
	}
	for _, s := range []string{"<img src=x", "\x1b", "\u202e", `"Partner"`} {
		if strings.Contains(page, s) {
			t.Errorf("page has %q unescaped", s)
		}
	}
	// The escaped data still reads as written.
	if !strings.Contains(texts.String(), `Bundeskriminalamt <img src=x onerror=alert(1)> & "Partner"`) {
		t.Error("DE-BKA's authority is not shown as text")
	}
	for _, s := range []string{"IN-MEITY-2021-02-04", "Accounts (cases) by outcome, per demand", "Cases opened and tweet tasks per day", "@media print"} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// TestTextEscapes: terminal and Markdown output show data, never run it.
func TestTextEscapes(t *testing.T) {
	r := buildFixture(t, Options{})
	for _, f := range []Format{FormatTable, FormatMarkdown} {
		var buf bytes.Buffer
		if err := Render(&buf, r, f); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, s := range []string{"\x1b", "\u202e"} {
			if strings.Contains(out, s) {
				t.Errorf("%s: control character %q unescaped", f, s)
			}
		}
		if !strings.Contains(out, `ref\x1b[31m-red\u202e`) && !strings.Contains(out, `ref\\x1b\[31m-red\\u202e`) {
			t.Errorf("%s: the reference with control characters is not shown escaped", f)
		}
	}
	var md bytes.Buffer
	if err := Render(&md, r, FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(md.String(), "<img") || strings.Contains(md.String(), "](http") {
		t.Error("markdown: data became markup")
	}
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"}, {"a|b", `a\|b`}, {"<b>", "&lt;b&gt;"}, {"*x*", `\*x\*`}, {"a\nb", `a\\nb`},
	} {
		if got := mdText(c.in); got != c.want {
			t.Errorf("mdText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := termSafe("ok \x1b[2J\xff"); got != `ok \x1b[2J\xff` {
		t.Errorf("termSafe = %q", got)
	}
	if w := textWidth("日本e\u0301"); w != 5 {
		t.Errorf("textWidth = %d, want 5", w)
	}
}

// TestTableAligned: every line of a table in the text format has its
// numbers' right edges in the same columns.
func TestTableAligned(t *testing.T) {
	r := buildFixture(t, Options{})
	var buf bytes.Buffer
	if err := Render(&buf, r, FormatTable); err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(buf.String(), "\n\n")
	var checked int
	for _, b := range blocks {
		lines := strings.Split(strings.TrimSpace(b), "\n")
		if len(lines) < 3 || !strings.HasPrefix(lines[1], "DEMAND ") || strings.Contains(lines[1], "AUTHORITY") || strings.Contains(lines[1], "COUNTRIES") {
			continue
		}
		checked++
		w := textWidth(lines[1])
		for _, l := range lines[2:] {
			if textWidth(l) != w {
				t.Errorf("%s: line %q is %d wide, header %d", lines[0], l, textWidth(l), w)
			}
		}
	}
	if checked != 3 {
		t.Errorf("checked %d tables, want 3 (accounts, tasks, matches)", checked)
	}
}
