package app

import (
	"context"
	"fmt"
	"io"
	"os"

	"flagstream/internal/files"
	"flagstream/matchers"
	"flagstream/pipeline"
)

// ScanOptions configure an offline scan.
type ScanOptions struct {
	// Lists are the demands to match, as LoadLists returns them.
	Lists *matchers.Snapshot
	// Inputs are the NDJSON files to read, in order; "-" (or none at all)
	// is Stdin.
	Inputs []string
	Stdin  io.Reader
	// Tasks receives one review task per flagged tweet, in input order.
	Tasks io.Writer
	// RejectsPath, when set, is created and receives every rejected line
	// as it was.
	RejectsPath string
	// OnReject, when set, is called for every rejected line.
	OnReject func(r *pipeline.Record, rej pipeline.Rejection)
	// MaxRecordBytes is the longest line accepted; a longer one is
	// rejected without being held in memory.
	MaxRecordBytes int
	// Engine tunes the matching; Writers and Slots are ignored: tasks are
	// written in input order.
	Engine Engine
}

// Scan is one offline scan of NDJSON tweets into NDJSON review tasks; it
// is flagstream scan without the command line.
type Scan struct {
	opts ScanOptions
	src  *files.LineSource
}

// ScanCounts are what a scan read and wrote.
type ScanCounts struct {
	files.Counts
	// BytesRead counts the input bytes.
	BytesRead int64
}

// NewScan returns a scan of opts; nothing is opened until Run.
func NewScan(opts ScanOptions) *Scan {
	return &Scan{
		opts: opts,
		src:  &files.LineSource{Inputs: files.OpenInputs(opts.Inputs, opts.Stdin), MaxRecordBytes: opts.MaxRecordBytes},
	}
}

// BytesRead returns the input bytes read so far; it may be called while
// Run runs, for a progress report.
func (s *Scan) BytesRead() int64 { return s.src.BytesRead.Load() }

// Run reads every input through the pipeline and returns the counts, also
// when it fails: a line that cannot be processed is rejected and counted,
// and only an I/O failure (an input, the tasks, the rejects file) or ctx
// ending stops it early.
func (s *Scan) Run(ctx context.Context) (ScanCounts, error) {
	defer s.src.Close()
	var rejects io.Writer
	if s.opts.RejectsPath != "" {
		f, err := os.Create(s.opts.RejectsPath)
		if err != nil {
			return ScanCounts{}, fmt.Errorf("rejects: %w", err)
		}
		defer f.Close()
		rejects = f
		// A line too long to hold in memory is spilled to a file, so that
		// it can still be copied to the rejects file.
		spill, err := os.MkdirTemp("", "flagstream-spill-")
		if err != nil {
			return ScanCounts{}, err
		}
		defer os.RemoveAll(spill)
		s.src.SpillDir = spill
	}
	sink := files.NewNDJSONSink(s.opts.Tasks, rejects, s.opts.OnReject)
	engine := s.opts.Engine
	engine.Writers, engine.Slots = 0, 0
	lists := s.opts.Lists
	err := pipeline.Run(ctx, engine.Pipeline(s.src, sink, func() *matchers.Snapshot { return lists }, nil))
	counts := ScanCounts{Counts: sink.Counts(), BytesRead: s.BytesRead()}
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return counts, err
}
