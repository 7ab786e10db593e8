package cli

import (
	"context"
	"io"
	"os"
	"time"

	"flagstream/internal/files"
	"flagstream/matchers"
	"flagstream/pipeline"
	"flagstream/pipeline/decode"
)

// scanJob is the pipeline scan runs: NDJSON inputs through the matchers
// to review tasks on out and rejected lines on rejects. It is all of
// scan's wiring, so that it can move to the composition root (internal/app)
// as one call.
type scanJob struct {
	inputs         []files.Input
	lists          *matchers.Snapshot
	out            io.Writer
	rejects        io.Writer // may be nil
	onReject       func(*pipeline.Record, pipeline.Rejection)
	workers        int
	maxRecordBytes int
	limits         decode.Limits
	// watch, when set, is called once reading starts with a function
	// that returns the input bytes read so far; the function it returns
	// is called when the job ends.
	watch func(bytesRead func() int64) (stop func())
}

// scanResult is what a scan job did.
type scanResult struct {
	counts    files.Counts
	bytesRead int64
	elapsed   time.Duration
}

// runScanJob runs job to the end of its inputs, or until ctx is done.
func runScanJob(ctx context.Context, job scanJob) (scanResult, error) {
	src := &files.LineSource{Inputs: job.inputs, MaxRecordBytes: job.maxRecordBytes}
	defer src.Close()
	if job.rejects != nil {
		spill, err := os.MkdirTemp("", "flagstream-spill-")
		if err != nil {
			return scanResult{}, err
		}
		defer os.RemoveAll(spill)
		src.SpillDir = spill
	}
	sink := files.NewNDJSONSink(job.out, job.rejects, job.onReject)
	start := time.Now()
	stop := func() {}
	if job.watch != nil {
		stop = job.watch(src.BytesRead.Load)
	}
	err := pipeline.Run(ctx, pipeline.Config{
		Source:  src,
		Sink:    sink,
		Lists:   func() *matchers.Snapshot { return job.lists },
		Workers: job.workers,
		Limits:  job.limits,
	})
	stop()
	return scanResult{counts: sink.Counts(), bytesRead: src.BytesRead.Load(), elapsed: time.Since(start)}, err
}
