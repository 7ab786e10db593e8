package report

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestNiceMax(t *testing.T) {
	for _, c := range []struct{ v, top, step int64 }{
		{0, 1, 1}, {1, 1, 1}, {3, 3, 1}, {4, 4, 1}, {5, 6, 2}, {9, 10, 5}, {12, 15, 5}, {21, 30, 10}, {1178, 1500, 500},
	} {
		top, step := niceMax(c.v)
		if top != c.top || step != c.step || top < c.v {
			t.Errorf("niceMax(%d) = %d, %d; want %d, %d", c.v, top, step, c.top, c.step)
		}
	}
	if top, _ := niceMax(1 << 62); top < 1<<62 {
		t.Errorf("niceMax(2^62) = %d", top)
	}
}

// TestDailyChartLong: past 62 buckets the chart draws lines, and past 366
// days each bucket holds several days.
func TestDailyChartLong(t *testing.T) {
	r := &Report{}
	start := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	var total int64
	for i := range 500 {
		if i%3 == 0 {
			r.Days = append(r.Days, Day{Date: start.AddDate(0, 0, i).Format(time.DateOnly),
				CasesOpened: ByClass{Live: int64(i % 7)}, Tasks: ByClass{Live: 10, Shadow: int64(i % 2)}})
			total += 10 + int64(i%2)
		}
	}
	c := dailyChart("d", r)
	if !strings.Contains(c.Title, "per 2 days") || len(c.Rects) != 0 || len(c.Paths) != 4 {
		t.Errorf("title %q, %d rects, %d paths; want per 2 days as 4 lines (2 panels, live and shadow)", c.Title, len(c.Rects), len(c.Paths))
	}
	bs := dayBuckets(r, 366)
	var sum int64
	for _, b := range bs {
		sum += b.tasks.sum()
	}
	if len(bs) != 250 || sum != total {
		t.Errorf("%d buckets summing to %d tasks, want 250 and %d", len(bs), sum, total)
	}
	// A short period is drawn as bars, one per day, over the whole period.
	r = &Report{Days: []Day{{Date: "2021-02-10", Tasks: ByClass{Live: 2, Tripped: 1}}}}
	since, until := time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	r.Period.Since, r.Period.Until = &since, &until
	if bs := dayBuckets(r, 366); len(bs) != 28 || bs[9].tasks.Live != 2 {
		t.Errorf("February: %d buckets, want 28 with the 10th's tasks", len(bs))
	}
	if c := dailyChart("d", r); len(c.Rects) != 2 {
		t.Errorf("%d bars, want 2 (live and tripped on 02-10)", len(c.Rects))
	}
}

// TestEmptyReport: with nothing read, every format still renders and says
// so.
func TestEmptyReport(t *testing.T) {
	r, err := Build(context.Background(), Input{}, Options{Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Formats {
		var buf bytes.Buffer
		if err := Render(&buf, r, f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if f == FormatHTML && (!strings.Contains(buf.String(), "No demand in this report") || !strings.Contains(buf.String(), "No case opened")) {
			t.Errorf("html of an empty report does not say it is empty")
		}
	}
}
