package matchers

import (
	"slices"
	"testing"
	"time"
)

func TestDemandStateAt(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2021, 3, d, 0, 0, 0, 0, time.UTC) }
	dated := Demand{Received: day(2), Expires: day(4)}
	rescinded := dated
	rescinded.Status = StatusRescinded
	for _, tc := range []struct {
		name string
		d    Demand
		at   time.Time
		want State
	}{
		{"before received", dated, day(1), StatePending},
		{"at received", dated, day(2), StateActive},
		{"between", dated, day(3), StateActive},
		{"just before expires", dated, day(4).Add(-time.Nanosecond), StateActive},
		{"at expires", dated, day(4), StateExpired},
		{"after expires", dated, day(5), StateExpired},
		{"undated", Demand{}, day(1), StateActive},
		{"only received", Demand{Received: day(2)}, day(9), StateActive},
		{"only expires", Demand{Expires: day(2)}, time.Time{}, StateActive},
		{"rescinded while it would be active", rescinded, day(3), StateRescinded},
		{"rescinded while it would be pending", rescinded, day(1), StateRescinded},
	} {
		if got := tc.d.StateAt(tc.at); got != tc.want {
			t.Errorf("%s: StateAt = %v, want %v", tc.name, got, tc.want)
		}
	}
	var names []string
	for _, s := range States() {
		names = append(names, s.String())
	}
	if got, want := names, []string{"active", "pending", "expired", "rescinded"}; !slices.Equal(got, want) {
		t.Errorf("States() = %q, want %q", got, want)
	}
	if got := State(len(States())).String(); got != "unknown" {
		t.Errorf("State past the last = %q, want unknown", got)
	}
}

func TestCheckIDs(t *testing.T) {
	demands := []Demand{
		{ID: "A", File: "a.yaml", Line: 1}, {ID: "B", File: "b.yaml", Line: 2},
		{ID: "A", File: "c.yaml", Line: 3}, {ID: "A", File: "d.yaml", Line: 4},
	}
	err := CheckIDs(demands)
	want := `c.yaml:3: demand id "A" is already used by a.yaml:1` + "\n" + `d.yaml:4: demand id "A" is already used by a.yaml:1`
	if err == nil || err.Error() != want {
		t.Errorf("CheckIDs = %v, want\n%s", err, want)
	}
	if err := CheckIDs(demands[:2]); err != nil {
		t.Errorf("CheckIDs of unique ids = %v", err)
	}
}
