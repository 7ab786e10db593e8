package retry

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

func TestBackoffNext(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		b    Backoff
		want []time.Duration
	}{
		{"doubles to the ceiling", Backoff{Min: 50 * ms, Max: 300 * ms}, []time.Duration{50 * ms, 100 * ms, 200 * ms, 300 * ms, 300 * ms}},
		{"defaults", Backoff{}, []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 5000 * ms, 5000 * ms}},
		{"ceiling below floor", Backoff{Min: 10 * time.Second, Max: time.Second}, []time.Duration{10 * time.Second, 10 * time.Second}},
	} {
		var got []time.Duration
		for range tc.want {
			got = append(got, tc.b.Next())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: waits %v, want %v", tc.name, got, tc.want)
		}
	}
	b := Backoff{Min: ms, Max: 8 * ms}
	b.Next()
	b.Next()
	b.Reset()
	if got := b.Next(); got != ms {
		t.Errorf("after Reset: %v, want %v", got, ms)
	}
}

func TestDo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		calls := 0
		err := Do(context.Background(), Backoff{Min: time.Second, Max: 4 * time.Second}, func() error {
			if calls++; calls < 4 {
				return errors.New("not yet")
			}
			return nil
		})
		if err != nil || calls != 4 {
			t.Fatalf("Do = %v after %d calls, want nil after 4", err, calls)
		}
		if got, want := time.Since(start), 7*time.Second; got != want {
			t.Errorf("Do waited %v, want %v (1s + 2s + 4s)", got, want)
		}
	})
}

func TestDoStopsWithTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 9500*time.Millisecond)
		defer cancel()
		calls := 0
		err := Do(ctx, Backoff{Min: time.Second, Max: time.Second}, func() error { calls++; return errors.New("never") })
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Do = %v, want the context's error", err)
		}
		if calls != 10 {
			t.Errorf("%d calls in 9.5s with 1s between, want 10", calls)
		}
	})
}
