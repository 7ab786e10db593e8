package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"flagstream/internal/app"
	"flagstream/pipeline"
	"flagstream/pipeline/decode"
)

const scanDescription = `
Scan reads tweets as NDJSON (one JSON value a line: an API v1.1 tweet, a v1.1
search response, or an API v2 response) from the files named, or from
standard input when none or "-" is named, matches them against the demand
lists in --lists, and writes one review task per flagged tweet to standard
output as NDJSON, in input order.

A line that cannot be processed (broken JSON, invalid UTF-8, not a tweet,
too large) never stops the scan: it is counted, reported on standard error
with its file and line, and copied as it was to --rejects when given.
A summary goes to standard error at the end, with a progress line while
scanning when standard error is a terminal.

Exit status: 0 when the scan completed (rejected lines included), 2 for bad
usage or broken lists, 1 for an I/O failure.`

// maxReportedRejects bounds the rejection messages on standard error.
const maxReportedRejects = 100

func scanCommand(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "scan", "scan --lists DIR [--rejects FILE] [FILE|-]...", scanDescription)
	listsDir := fs.String("lists", "", "directory of demand list files (*.yaml) (required)")
	rejectsPath := fs.String("rejects", "", "write rejected lines, as they were, to this file")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "matching goroutines")
	atFlag := fs.String("at", "", "evaluate demands' received/expires dates at this time (YYYY-MM-DD or RFC 3339) instead of now")
	maxRecord := fs.Int("max-record-bytes", 4<<20, "longest line accepted; longer lines are rejected without being held in memory")
	maxTweets := fs.Int("max-tweets-per-record", decode.DefaultLimits.MaxTweets, "most tweets one line (search response or v2 page) may carry")
	maxText := fs.Int("max-text-bytes", decode.DefaultLimits.MaxTextBytes, "longest tweet text accepted")
	progress := fs.String("progress", "auto", "progress line on standard error: auto (when a terminal), always or never")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *listsDir == "" {
		fs.Usage()
		return usagef("scan: --lists is required")
	}
	if *workers < 1 || *maxRecord < 1 || *maxTweets < 1 || *maxText < 1 {
		return usagef("scan: --workers, --max-record-bytes, --max-tweets-per-record and --max-text-bytes must be positive")
	}
	at, err := atTime("scan", *atFlag)
	if err != nil {
		return err
	}
	showProgress, err := wantProgress(*progress, env.Stderr)
	if err != nil {
		return err
	}

	snap, warnings, err := app.LoadLists(*listsDir, at)
	for _, w := range warnings {
		fmt.Fprintf(env.Stderr, "flagstream: warning: %v\n", &w)
	}
	if err != nil {
		return usageError(err)
	}
	fmt.Fprintf(env.Stderr, "scan: lists %s: %s\n", *listsDir, snap.Summary())

	reported := 0
	scan := app.NewScan(app.ScanOptions{
		Lists:       snap,
		Inputs:      fs.Args(),
		Stdin:       env.Stdin,
		Tasks:       env.Stdout,
		RejectsPath: *rejectsPath,
		OnReject: func(r *pipeline.Record, rej pipeline.Rejection) {
			reported++
			switch {
			case reported <= maxReportedRejects:
				fmt.Fprintf(env.Stderr, "scan: %s:%d: rejected (%s): %s\n", r.File, r.Line, rej.Reason, rej.Err)
			case reported == maxReportedRejects+1:
				fmt.Fprintf(env.Stderr, "scan: further rejections are counted but not shown\n")
			}
		},
		MaxRecordBytes: *maxRecord,
		Engine: app.Engine{
			Workers: *workers,
			Limits:  decode.Limits{MaxTweets: *maxTweets, MaxEmbedDepth: decode.DefaultLimits.MaxEmbedDepth, MaxTextBytes: *maxText},
		},
	})

	start := time.Now()
	stopProgress := func() {}
	if showProgress {
		stopProgress = startProgress(env.Stderr, scan.BytesRead, start)
	}
	c, err := scan.Run(ctx)
	stopProgress()
	elapsed := time.Since(start)
	fmt.Fprintf(env.Stderr, "scan: read %d records (%d tweets, %s) in %s: %s tweets/s; flagged %d; rejected %d\n",
		c.Records, c.Tweets, byteSize(c.BytesRead), elapsed.Round(time.Millisecond),
		rate(c.Tweets, elapsed), c.Tasks, c.Rejected)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	return nil
}

func wantProgress(mode string, w io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		return isTerminal(w), nil
	}
	return false, usagef("scan: --progress must be auto, always or never, not %q", mode)
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// startProgress rewrites one status line on w every half second, with
// the bytes read so far (bytesRead), until the returned function is
// called, which clears it.
func startProgress(w io.Writer, bytesRead func() int64, start time.Time) (stop func()) {
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
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				n := bytesRead()
				el := time.Since(start)
				fmt.Fprintf(w, "\r\033[Kscan: %s read, %s/s", byteSize(n), byteSize(int64(float64(n)/el.Seconds())))
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
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
