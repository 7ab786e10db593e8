package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Running is a program that Start runs in the background, such as
// app.Run.
type Running struct {
	// Addr is what the program passed to started: its admin address.
	Addr   string
	cancel context.CancelFunc
	done   chan error
}

// Start runs run in a goroutine, which it owns, and returns once run has
// called started (failing the test if run returns first or 20 s pass).
// When the test ends, the program is stopped and waited for.
func Start(tb testing.TB, run func(ctx context.Context, started func(addr string)) error) *Running {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{cancel: cancel, done: make(chan error, 1)}
	addrs := make(chan string, 1)
	go func() { r.done <- run(ctx, func(addr string) { addrs <- addr }) }()
	select {
	case r.Addr = <-addrs:
	case err := <-r.done:
		cancel()
		tb.Fatalf("stopped at start: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		tb.Fatal("did not start within 20s")
	}
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			r.done <- err
		case <-time.After(30 * time.Second):
			tb.Error("did not stop within 30s")
		}
	})
	return r
}

// Stop stops the program gracefully and returns its result.
func (r *Running) Stop(tb testing.TB) error {
	tb.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for Cleanup
		return err
	case <-time.After(30 * time.Second):
		tb.Fatal("did not stop within 30s")
		return nil
	}
}

// Stopped returns a channel that yields the program's result should it
// stop by itself.
func (r *Running) Stopped() <-chan error { return r.done }

// Sum returns the sum of the values of every series of the counter or
// gauge name in g, 0 when there is none.
func Sum(g prometheus.Gatherer, name string) float64 {
	mfs, _ := g.Gather()
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// Labelled returns the value of the series of the counter or gauge name
// in g that has a label of value value, 0 when there is none.
func Labelled(g prometheus.Gatherer, name, value string) float64 {
	mfs, _ := g.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == value {
					return m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}
