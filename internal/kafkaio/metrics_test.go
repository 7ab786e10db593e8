package kafkaio

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetricsLagFollowsAssignments(t *testing.T) {
	m := NewMetrics(prometheus.NewPedanticRegistry())
	m.generationJoined([]int{0, 1, 2})
	m.observeLag(0, 100, 94) // 5 after offset 94
	m.observeLag(1, 10, 6)   // 3
	m.observeLag(2, 7, 6)    // 0
	if got := testutil.ToFloat64(m.lagTotal); got != 8 {
		t.Errorf("instance lag = %v, want 8", got)
	}
	if got := testutil.ToFloat64(m.lag.WithLabelValues("0")); got != 5 {
		t.Errorf("lag of partition 0 = %v, want 5", got)
	}
	// A rebalance takes partitions 0 and 2 away: their series go, and the
	// sum is partition 1's alone.
	m.generationJoined([]int{1, 3})
	if got := testutil.CollectAndCount(m.lag); got != 1 {
		t.Errorf("%d lag series after the rebalance, want 1 (partition 1)", got)
	}
	if got := testutil.ToFloat64(m.lagTotal); got != 3 {
		t.Errorf("instance lag after the rebalance = %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.rebalances); got != 2 {
		t.Errorf("rebalances = %v, want 2", got)
	}
}

func TestMetricsProducer(t *testing.T) {
	m := NewMetrics(prometheus.NewPedanticRegistry())
	m.produced(10, 1000, nil)
	m.produced(5, 500, errors.New("not enough replicas"))
	m.writeFailed(true)
	m.writeFailed(false)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"writes", testutil.ToFloat64(m.writes), 2},
		{"errors", testutil.ToFloat64(m.writeErrors), 1},
		{"messages", testutil.ToFloat64(m.writeMessages), 10},
		{"bytes", testutil.ToFloat64(m.writeBytes), 1000},
		{"failures", testutil.ToFloat64(m.writeFailures), 2},
		{"retries", testutil.ToFloat64(m.writeRetries), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	m.batchWritten(80 * time.Millisecond)
	m.batchWritten(160 * time.Millisecond)
	if got, want := testutil.ToFloat64(m.writeTime), 0.08+(0.16-0.08)/8; math.Abs(got-want) > 1e-9 {
		t.Errorf("write time average = %v, want %v", got, want)
	}
	m.setBlocked(1)
	m.setBlocked(1)
	m.setBlocked(-1)
	if got := testutil.ToFloat64(m.writeBlocked); got != 1 {
		t.Errorf("blocked with one write still retrying = %v, want 1", got)
	}
	m.setBlocked(-1)
	if got := testutil.ToFloat64(m.writeBlocked); got != 0 {
		t.Errorf("blocked after both recovered = %v, want 0", got)
	}
}
