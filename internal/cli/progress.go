package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal (not merely a character
// device: /dev/null is not one).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// statusWriter writes to w a status line that it rewrites in place, and
// ordinary lines, which clear the status line first (the next status
// redraws it). It serializes the writers of both.
type statusWriter struct {
	mu    sync.Mutex
	w     io.Writer
	shown bool
}

// Write writes ordinary lines.
func (s *statusWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shown {
		io.WriteString(s.w, "\r\033[K")
		s.shown = false
	}
	return s.w.Write(p)
}

// status replaces the status line with line; "" clears it.
func (s *statusWriter) status(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	io.WriteString(s.w, "\r\033[K"+line)
	s.shown = line != ""
}

// progressFlag adds --progress WHEN (auto, always or never) to cmd.
func progressFlag(cmd *cobra.Command, mode *string) {
	cmd.Flags().StringVar(mode, "progress", "auto", "show a progress line on standard error `WHEN`: auto (on a terminal), always or never")
	cmd.RegisterFlagCompletionFunc("progress", cobra.FixedCompletions([]cobra.Completion{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
}

// progressOutput returns where command, given --progress mode, writes its
// standard error lines: stderr itself, or a statusWriter over it (also
// returned) when a progress line is to be shown; nil when none is.
func progressOutput(command, mode string, stderr io.Writer) (io.Writer, *statusWriter, error) {
	var show bool
	switch mode {
	case "always":
		show = true
	case "never":
	case "auto":
		show = isTerminal(stderr)
	default:
		return stderr, nil, usagef("%s: --progress must be auto, always or never, not %q", command, mode)
	}
	if !show {
		return stderr, nil, nil
	}
	status := &statusWriter{w: stderr}
	return status, status, nil
}

// startProgress rewrites the status line of w every half second, with
// line of the time since it started, until the returned function is
// called, which clears it. With no w (no progress shown) it does nothing.
func startProgress(w *statusWriter, line func(elapsed time.Duration) string) (stop func()) {
	if w == nil {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // owned by startProgress; joined by stop
		defer wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				w.status("")
				return
			case <-t.C:
				w.status(line(time.Since(start)))
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// progressLine describes a scan that has read n bytes in elapsed: percent
// done and time left when the total is known, bytes and rate otherwise.
func progressLine(n, total int64, sized bool, elapsed time.Duration) string {
	perSecond := int64(0)
	if elapsed > 0 {
		perSecond = int64(float64(n) / elapsed.Seconds())
	}
	if !sized || total <= 0 {
		return fmt.Sprintf("scan: %s read, %s/s", byteSize(n), byteSize(perSecond))
	}
	done := min(float64(n)/float64(total), 1)
	left := "ETA -"
	if perSecond > 0 {
		eta := time.Duration(float64(max(total-n, 0)) / float64(perSecond) * float64(time.Second))
		left = "ETA " + eta.Round(time.Second).String()
	}
	return fmt.Sprintf("scan: %3.0f%% of %s, %s/s, %s", 100*done, byteSize(total), byteSize(perSecond), left)
}

func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(n)/d.Seconds())
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
