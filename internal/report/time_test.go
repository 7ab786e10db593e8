package report

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2021, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2021-02-04T10:00:00Z", time.Date(2021, 2, 4, 10, 0, 0, 0, time.UTC)},
		{"2021-02-04T15:30:00+05:30", time.Date(2021, 2, 4, 10, 0, 0, 0, time.UTC)},
		{"2021-02-04", time.Date(2021, 2, 4, 0, 0, 0, 0, time.UTC)},
		{"72h", time.Date(2021, 3, 7, 12, 0, 0, 0, time.UTC)},
		{"0s", now},
	} {
		got, err := ParseTime(c.in, now)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2021-02-30", "-72h", "2021-02-04T10:00"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q): no error", bad)
		}
	}
}
