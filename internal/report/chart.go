package report

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// chart is an SVG chart as numbers and texts; html.tmpl draws it, so every
// text from data goes through html/template's escaping. Each chart has its
// own pattern ids (prefixed by ID), so charts never share definitions.
type chart struct {
	ID       string
	Title    string
	Desc     string
	Width    int
	Height   int
	Patterns []pattern
	Rects    []rect
	Texts    []text
	Lines    []line
	Paths    []path
	Legend   []legendItem
	Empty    string // shown instead of a plot when there is nothing to draw
}

// style is how one series is filled: a pattern as well as a colour, so
// that no series is told apart by colour alone (nor lost on a greyscale
// print).
type style struct {
	Name string // series name, as the legend says it
	Key  string // pattern id suffix
	Bg   string
	Fg   string
	Path string // pattern drawing over the background; empty is solid
	Dash string // line charts: stroke-dasharray
}

type pattern struct {
	ID, Bg, Fg, Path string
}

type rect struct {
	X, Y, W, H string
	Fill       string
	Title      string
}

type text struct {
	X, Y   string
	Anchor string
	Class  string
	Text   string
	Title  string
}

type line struct {
	X1, Y1, X2, Y2 string
	Class          string
}

type path struct {
	D      string
	Stroke string
	Dash   string
	Title  string
}

type legendItem struct {
	X, Y   string
	Fill   string // a swatch of this fill, or, when Stroke is set, a line
	Stroke string
	Dash   string
	Name   string
}

var (
	outcomeStyles = []style{
		{Name: "withheld", Key: "withheld", Bg: "#d55e00"},
		{Name: "no action", Key: "no-action", Bg: "#e3eef7", Fg: "#0072b2", Path: "M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2"},
		{Name: "terms of service", Key: "tos", Bg: "#f3e3ee", Fg: "#9e3d7c", Path: "M0,0 L6,6 M6,0 L0,6"},
		{Name: "escalated", Key: "escalated", Bg: "#fff4c2", Fg: "#8a6500", Path: "M1.5,1.5h2.2v2.2h-2.2z"},
		{Name: "pending", Key: "pending", Bg: "#ffffff", Fg: "#555555", Path: "M0,1.5 H6 M0,4.5 H6"},
	}
	classStyles = []style{
		{Name: "live", Key: "live", Bg: "#0072b2", Dash: ""},
		{Name: "shadow", Key: "shadow", Bg: "#eeeeee", Fg: "#444444", Path: "M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2", Dash: "6 3"},
		{Name: "tripped", Key: "tripped", Bg: "#fde3cc", Fg: "#b34700", Path: "M0,0 L6,6 M6,0 L0,6", Dash: "2 3"},
	}
)

func patternsOf(id string, styles []style) []pattern {
	out := make([]pattern, len(styles))
	for i, s := range styles {
		out[i] = pattern{ID: id + "-" + s.Key, Bg: s.Bg, Fg: s.Fg, Path: s.Path}
	}
	return out
}

func fill(id string, s style) string { return "url(#" + id + "-" + s.Key + ")" }

func px(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// niceMax returns a round number at least v (1, 2 or 5 times a power of
// ten), and the step of about four ticks up to it.
func niceMax(v int64) (top, step int64) {
	if v <= 0 {
		return 1, 1
	}
	if v > 1e17 {
		return v, v // beyond any count of records; no overflow below
	}
	step = 1
	for {
		for _, m := range [...]int64{1, 2, 5} {
			if s := step * m; s*4 >= v {
				return (v + s - 1) / s * s, s
			}
		}
		step *= 10
	}
}

// short cuts a label to n characters, with an ellipsis.
func short(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// outcomeChart draws one horizontal stacked bar per demand: its live
// items by outcome (the accounts' cases when accounts, else the tasks).
func outcomeChart(id string, r *Report, accounts bool) chart {
	what := "Tweet tasks"
	if accounts {
		what = "Accounts (cases)"
	}
	const (
		left, right, top = 200.0, 70.0, 12.0
		barH, gap        = 22.0, 10.0
		width            = 760
	)
	c := chart{
		ID:       id,
		Title:    what + " by outcome, per demand",
		Desc:     "Live items only (shadow and tripped items are in the tables). Each bar is a demand; its segments, left to right: withheld, no action, terms of service, escalated, pending.",
		Width:    width,
		Patterns: patternsOf(id, outcomeStyles),
	}
	var maxTotal int64
	values := make([][5]int64, len(r.Demands))
	for i := range r.Demands {
		k := &r.Demands[i].Live
		if accounts {
			a := &k.Accounts
			values[i] = [5]int64{a.Withheld, a.NoAction, a.TermsOfService, a.Escalated, a.Pending}
		} else {
			t := &k.Tasks
			values[i] = [5]int64{t.Withheld, t.NoAction, t.TermsOfService, t.Escalated, t.Pending}
		}
		var sum int64
		for _, v := range values[i] {
			sum += v
		}
		maxTotal = max(maxTotal, sum)
	}
	if len(r.Demands) == 0 {
		c.Height, c.Empty = 60, "No demand to show."
		return c
	}
	topV, step := niceMax(maxTotal)
	plotW := float64(width) - left - right
	scale := plotW / float64(topV)
	plotH := float64(len(r.Demands))*(barH+gap) - gap
	axisY := top + plotH + 6
	for v := int64(0); v <= topV; v += step {
		x := left + float64(v)*scale
		c.Lines = append(c.Lines, line{X1: px(x), Y1: px(top - 4), X2: px(x), Y2: px(axisY), Class: "grid"})
		c.Texts = append(c.Texts, text{X: px(x), Y: px(axisY + 14), Anchor: "middle", Class: "tick", Text: strconv.FormatInt(v, 10)})
	}
	c.Lines = append(c.Lines, line{X1: px(left), Y1: px(axisY), X2: px(left + plotW), Y2: px(axisY), Class: "axis"})
	for i := range r.Demands {
		d := &r.Demands[i]
		y := top + float64(i)*(barH+gap)
		c.Texts = append(c.Texts, text{X: px(left - 8), Y: px(y + barH/2 + 4), Anchor: "end", Class: "label", Text: short(d.ID, 28), Title: d.ID})
		x := left
		var sum int64
		for j, v := range values[i] {
			sum += v
			if v == 0 {
				continue
			}
			w := float64(v) * scale
			s := outcomeStyles[j]
			c.Rects = append(c.Rects, rect{X: px(x), Y: px(y), W: px(w), H: px(barH), Fill: fill(id, s),
				Title: fmt.Sprintf("%s: %s %d of %d", d.ID, s.Name, v, sumOf(values[i]))})
			if w >= 26 {
				c.Texts = append(c.Texts, text{X: px(x + w/2), Y: px(y + barH/2 + 4), Anchor: "middle", Class: "value", Text: strconv.FormatInt(v, 10)})
			}
			x += w
		}
		label := strconv.FormatInt(sum, 10)
		if sum == 0 {
			label = "none"
		}
		c.Texts = append(c.Texts, text{X: px(x + 6), Y: px(y + barH/2 + 4), Anchor: "start", Class: "total", Text: label})
	}
	legendY := axisY + 34
	c.Legend = legend(id, outcomeStyles, left, legendY)
	c.Height = int(legendY + 16)
	return c
}

func sumOf(v [5]int64) int64 {
	var s int64
	for _, x := range v {
		s += x
	}
	return s
}

func legend(id string, styles []style, x, y float64) []legendItem {
	out := make([]legendItem, len(styles))
	for i, s := range styles {
		out[i] = legendItem{X: px(x), Y: px(y - 11), Fill: fill(id, s), Name: s.Name}
		x += 30 + float64(len(s.Name))*7.2
	}
	return out
}

// bucket is one bar of the per-day chart: a day, or several.
type bucket struct {
	start, end time.Time // [start, end)
	cases      ByClass
	tasks      ByClass
}

// dayBuckets spreads the report's days over at most maxBuckets buckets of
// whole days, from the first day of the period (or of the data) to the
// last, empty days included.
func dayBuckets(r *Report, maxBuckets int) []bucket {
	if len(r.Days) == 0 {
		return nil
	}
	first, _ := time.Parse(time.DateOnly, r.Days[0].Date)
	last, _ := time.Parse(time.DateOnly, r.Days[len(r.Days)-1].Date)
	if p := r.Period.Since; p != nil && !p.Before(first.AddDate(-1, 0, 0)) && p.Before(first) {
		first = p.UTC().Truncate(24 * time.Hour)
	}
	if p := r.Period.Until; p != nil && p.After(last) && !p.After(last.AddDate(1, 0, 0)) {
		last = p.Add(-1).UTC().Truncate(24 * time.Hour)
	}
	days := int(last.Sub(first)/(24*time.Hour)) + 1
	per := (days + maxBuckets - 1) / maxBuckets
	out := make([]bucket, (days+per-1)/per)
	for i := range out {
		out[i].start = first.AddDate(0, 0, i*per)
		out[i].end = out[i].start.AddDate(0, 0, per)
	}
	for _, d := range r.Days {
		t, _ := time.Parse(time.DateOnly, d.Date)
		i := int(t.Sub(first)/(24*time.Hour)) / per
		b := &out[i]
		b.cases.Live += d.CasesOpened.Live
		b.cases.Shadow += d.CasesOpened.Shadow
		b.cases.Tripped += d.CasesOpened.Tripped
		b.tasks.Live += d.Tasks.Live
		b.tasks.Shadow += d.Tasks.Shadow
		b.tasks.Tripped += d.Tasks.Tripped
	}
	return out
}

func (b ByClass) of(c Class) int64 {
	switch c {
	case Shadow:
		return b.Shadow
	case Tripped:
		return b.Tripped
	}
	return b.Live
}

func (b ByClass) sum() int64 { return b.Live + b.Shadow + b.Tripped }

// maxBarBuckets is the most buckets drawn as bars; more are drawn as lines.
const maxBarBuckets = 62

// dailyChart draws cases opened and tasks per day, one panel each, on a
// shared time axis: stacked bars by class, or lines when there are many
// days.
func dailyChart(id string, r *Report) chart {
	const (
		left, right, top = 70.0, 20.0, 10.0
		panelH, panelGap = 130.0, 50.0
		width            = 760
	)
	c := chart{
		ID:       id,
		Title:    "Cases opened and tweet tasks per day",
		Width:    width,
		Patterns: patternsOf(id, classStyles),
	}
	bs := dayBuckets(r, 366)
	if len(bs) == 0 {
		c.Height, c.Empty = 60, "No case opened and no task in the period."
		c.Desc = c.Empty
		return c
	}
	per := int(bs[0].end.Sub(bs[0].start) / (24 * time.Hour))
	unit := "day"
	if per > 1 {
		unit = strconv.Itoa(per) + " days"
		c.Title = "Cases opened and tweet tasks per " + unit
	}
	asBars := len(bs) <= maxBarBuckets
	c.Desc = fmt.Sprintf("Two panels over %s to %s (UTC), one value per %s: above, cases opened; below, tweet tasks. ",
		bs[0].start.Format(time.DateOnly), bs[len(bs)-1].end.AddDate(0, 0, -1).Format(time.DateOnly), unit)
	if asBars {
		c.Desc += "Bars stack live, shadow and tripped items."
	} else {
		c.Desc += "One line per class: live solid, shadow dashed, tripped dotted."
	}
	plotW := float64(width) - left - right
	slot := plotW / float64(len(bs))
	used := [len(Classes)]bool{}
	for _, b := range bs {
		for _, cl := range Classes {
			used[cl] = used[cl] || b.cases.of(cl) > 0 || b.tasks.of(cl) > 0
		}
	}
	used[Live] = true
	panels := []struct {
		name string
		get  func(bucket) ByClass
	}{
		{"Cases opened", func(b bucket) ByClass { return b.cases }},
		{"Tweet tasks", func(b bucket) ByClass { return b.tasks }},
	}
	for p, panel := range panels {
		y0 := top + float64(p)*(panelH+panelGap) + 16
		c.Texts = append(c.Texts, text{X: px(left), Y: px(y0 - 6), Anchor: "start", Class: "panel", Text: panel.name + " per " + unit})
		var peak int64
		for _, b := range bs {
			peak = max(peak, panel.get(b).sum())
			if !asBars {
				peak = max(peak, panel.get(b).Live, panel.get(b).Shadow, panel.get(b).Tripped)
			}
		}
		topV, step := niceMax(peak)
		scale := panelH / float64(topV)
		base := y0 + panelH
		for v := int64(0); v <= topV; v += step {
			y := base - float64(v)*scale
			c.Lines = append(c.Lines, line{X1: px(left), Y1: px(y), X2: px(left + plotW), Y2: px(y), Class: "grid"})
			c.Texts = append(c.Texts, text{X: px(left - 6), Y: px(y + 4), Anchor: "end", Class: "tick", Text: strconv.FormatInt(v, 10)})
		}
		c.Lines = append(c.Lines, line{X1: px(left), Y1: px(base), X2: px(left + plotW), Y2: px(base), Class: "axis"})
		if asBars {
			barW := max(slot*0.8, 1)
			for i, b := range bs {
				v := panel.get(b)
				x := left + float64(i)*slot + (slot-barW)/2
				y := base
				for _, cl := range Classes {
					n := v.of(cl)
					if n == 0 {
						continue
					}
					h := float64(n) * scale
					y -= h
					c.Rects = append(c.Rects, rect{X: px(x), Y: px(y), W: px(barW), H: px(h), Fill: fill(id, classStyles[cl]),
						Title: fmt.Sprintf("%s: %s %s %d", bucketName(b), panel.name, classStyles[cl].Name, n)})
				}
			}
		} else {
			for _, cl := range Classes {
				if !used[cl] {
					continue
				}
				d := ""
				for i, b := range bs {
					x := left + (float64(i)+0.5)*slot
					y := base - float64(panel.get(b).of(cl))*scale
					cmd := "L"
					if i == 0 {
						cmd = "M"
					}
					d += cmd + px(x) + "," + px(y) + " "
				}
				stroke := classStyles[cl].Bg
				if classStyles[cl].Fg != "" {
					stroke = classStyles[cl].Fg
				}
				c.Paths = append(c.Paths, path{D: d, Stroke: stroke, Dash: classStyles[cl].Dash, Title: panel.name + ", " + classStyles[cl].Name})
			}
		}
		// Date labels under each panel: about seven, first and last included.
		every := max(1, (len(bs)+6)/7)
		for i := 0; i < len(bs); i += every {
			x := left + (float64(i)+0.5)*slot
			c.Texts = append(c.Texts, text{X: px(x), Y: px(base + 15), Anchor: "middle", Class: "tick", Text: bs[i].start.Format(time.DateOnly)})
		}
	}
	legendY := top + 2*(panelH+panelGap) + 12
	var styles []style
	for _, cl := range Classes {
		if used[cl] {
			styles = append(styles, classStyles[cl])
		}
	}
	c.Legend = legend(id, styles, left, legendY)
	if !asBars {
		for i, s := range styles {
			c.Legend[i].Stroke, c.Legend[i].Dash = s.Bg, s.Dash
			if s.Fg != "" {
				c.Legend[i].Stroke = s.Fg
			}
		}
	}
	c.Height = int(legendY + 10)
	return c
}

func bucketName(b bucket) string {
	last := b.end.AddDate(0, 0, -1)
	if last.Equal(b.start) {
		return b.start.Format(time.DateOnly)
	}
	return b.start.Format(time.DateOnly) + " to " + last.Format(time.DateOnly)
}
