package report

import (
	"testing"
	"time"
)

// TestParseUTC: the fast path reads what time.Parse reads, and leaves
// anything unusual to it.
func TestParseUTC(t *testing.T) {
	for _, s := range []string{
		"2021-02-04T10:00:00Z", "2021-02-04T10:00:00.5Z", "2021-02-04T10:00:00.123456789Z", "1970-01-01T00:00:00Z",
		"2199-12-28T23:59:59Z", "2024-02-29T12:00:00Z", "2021-02-04T10:00:00+05:30", "2021-02-31T10:00:00Z",
		"2021-13-04T10:00:00Z", "2021-02-04T10:00:60Z", "2021-02-04T10:00:00.Z", "2021-02-04t10:00:00Z", "2300-01-01T00:00:00Z",
		"2021-02-04T10:00:00.1234567890Z", "2021-02-04 10:00:00Z", "+021-02-04T10:00:00Z",
	} {
		got, gotErr := parseTimeBytes("t", []byte(s))
		var want int64
		tt, wantErr := time.Parse(time.RFC3339Nano, s)
		if wantErr == nil && (tt.Before(minTime) || tt.After(maxTime)) {
			wantErr = errOutOfRange
		}
		if wantErr == nil {
			want = tt.UnixNano()
		}
		if (gotErr == nil) != (wantErr == nil) || got != want {
			t.Errorf("%s: got %d, %v; want %d, %v", s, got, gotErr, want, wantErr)
		}
	}
}

var errOutOfRange = errorString("out of range")

type errorString string

func (e errorString) Error() string { return string(e) }
