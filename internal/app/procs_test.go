package app

import (
	"runtime"
	"testing"
)

// TestReserveProcsTwice: a second command in the same process (as in the
// tests) reserves what the first did; before, each call doubled
// GOMAXPROCS again, and a test binary running many commands reached
// Go's limit of 10,000 threads.
func TestReserveProcsTwice(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	noEnv := func(string) string { return "" }
	first := ReserveProcs(noEnv)
	for i := range 3 {
		if cpus := ReserveProcs(noEnv); cpus != first || runtime.GOMAXPROCS(0) != 2*first {
			t.Fatalf("call %d: ReserveProcs = %d, GOMAXPROCS %d; want %d and %d, as after the first", i+2, cpus, runtime.GOMAXPROCS(0), first, 2*first)
		}
	}
	runtime.GOMAXPROCS(first)
	set := func(k string) string {
		if k == "GOMAXPROCS" {
			return "3"
		}
		return ""
	}
	if ReserveProcs(set); runtime.GOMAXPROCS(0) != first {
		t.Errorf("with GOMAXPROCS set: GOMAXPROCS %d, want it left at %d", runtime.GOMAXPROCS(0), first)
	}
}
