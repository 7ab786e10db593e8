package kafkaio

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// failureLog follows a run of consumer errors: it logs the first error and
// then at most one every 10 s, with how long the run has lasted, and logs
// its end. It is safe for concurrent use; a nil logger logs nothing.
type failureLog struct {
	logger *slog.Logger
	topic  string

	failing           atomic.Bool
	mu                sync.Mutex // guards since and lastWarned
	since, lastWarned time.Time
}

// failed notes an error of operation op; the caller retries.
func (f *failureLog) failed(op string, err error) {
	f.failing.Store(true)
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if f.since.IsZero() {
		f.since = now
	}
	if f.logger != nil && now.Sub(f.lastWarned) > 10*time.Second {
		f.lastWarned = now
		f.logger.Warn("kafka consume failed; retrying", "topic", f.topic, "op", op, "err", err,
			"failing_for", now.Sub(f.since).Round(time.Millisecond))
	}
}

// recovered notes a success, logging the end of a run of errors.
func (f *failureLog) recovered() {
	if !f.failing.Load() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.failing.Swap(false) {
		return
	}
	if f.logger != nil && !f.since.IsZero() {
		f.logger.Info("kafka consumer recovered", "topic", f.topic, "after", time.Since(f.since).Round(time.Millisecond))
	}
	f.since = time.Time{}
}
