// Package retry waits between the attempts of an operation that fails for
// a while, such as a write to a broker that is away: exponential backoff
// between a floor and a ceiling, cut short by a context. flagstream never
// gives up on such an operation by itself; the context ends it.
package retry

import (
	"context"
	"time"
)

// Backoff is the wait between attempts: Min after the first failure,
// doubling after each further one up to Max. Zero fields default to
// 100 ms and 5 s. A Backoff is used by one goroutine.
type Backoff struct {
	Min, Max time.Duration
	next     time.Duration
}

// Next returns the wait before the next attempt and doubles the one after.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi < lo {
		hi = max(lo, 5*time.Second)
	}
	d := max(b.next, lo)
	b.next = min(2*d, hi)
	return d
}

// Reset makes the next wait Min again, after a success.
func (b *Backoff) Reset() { b.next = 0 }

// Wait waits for the next backoff (see Next), or until ctx is done, when
// it returns ctx.Err().
func (b *Backoff) Wait(ctx context.Context) error { return Sleep(ctx, b.Next()) }

// Sleep waits for d, or until ctx is done, when it returns ctx.Err().
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Do calls op until it returns nil, waiting b between the attempts, and
// returns nil; or it returns ctx.Err() once ctx is done.
func Do(ctx context.Context, b Backoff, op func() error) error {
	for {
		if op() == nil {
			return nil
		}
		if err := b.Wait(ctx); err != nil {
			return err
		}
	}
}
