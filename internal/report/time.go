package report

import (
	"fmt"
	"time"
)

// ParseTime reads a TIME of the command line (DESIGN.md, "Retro-hunt"):
// RFC 3339 ("2021-02-04T10:00:00Z"), a date ("2021-02-04", midnight UTC),
// or a duration back from now ("72h").
func ParseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want RFC 3339 (2021-02-04T10:00:00Z), a date (2021-02-04) or a duration back from now (72h)", s)
}
