package files

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"flagstream/pipeline"
)

// Counts are what a NDJSONSink has written.
type Counts struct {
	Records, Tweets, Tasks, Rejected int64
}

// NDJSONSink writes review tasks as NDJSON lines, in input order (the
// pipeline must run with one writer), copies each rejected line as it was
// to Rejects, and reports each rejection with its file and line.
type NDJSONSink struct {
	out     *bufio.Writer
	rejects *bufio.Writer
	report  func(r *pipeline.Record, rej pipeline.Rejection)

	counts Counts
}

var _ pipeline.Sink = (*NDJSONSink)(nil)

// NewNDJSONSink returns a sink writing tasks to out and rejected lines to
// rejects (nil for none); report is called for each rejection.
func NewNDJSONSink(out, rejects io.Writer, report func(r *pipeline.Record, rej pipeline.Rejection)) *NDJSONSink {
	s := &NDJSONSink{out: bufio.NewWriterSize(out, 256<<10), report: report}
	if rejects != nil {
		s.rejects = bufio.NewWriterSize(rejects, 64<<10)
	}
	return s
}

// Counts returns what has been written so far. It must not be called
// while a Write is running.
func (s *NDJSONSink) Counts() Counts { return s.counts }

// Write writes b's tasks and rejections and flushes them.
func (s *NDJSONSink) Write(_ context.Context, b *pipeline.Batch) error {
	for i := range b.Tasks {
		_, v := b.Task(i)
		s.out.Write(v)
		s.out.WriteByte('\n')
	}
	if err := s.out.Flush(); err != nil {
		return fmt.Errorf("write review tasks: %w", err)
	}
	for _, rej := range b.Rejects {
		r := &b.Records[rej.Record]
		if s.report != nil {
			s.report(r, rej)
		}
		if err := s.writeReject(r); err != nil {
			return err
		}
	}
	if s.rejects != nil {
		if err := s.rejects.Flush(); err != nil {
			return fmt.Errorf("write rejects: %w", err)
		}
	}
	s.counts.Records += int64(len(b.Records))
	s.counts.Tweets += int64(b.Stats.Tweets)
	s.counts.Tasks += int64(len(b.Tasks))
	s.counts.Rejected += int64(len(b.Rejects))
	return nil
}

// writeReject copies a rejected line to the rejects file; an oversize line
// comes from its spill file, which is then removed.
func (s *NDJSONSink) writeReject(r *pipeline.Record) error {
	if r.Oversize > 0 {
		if r.Spill == "" {
			return nil
		}
		path := r.Spill
		defer os.Remove(path)
		if s.rejects == nil {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("write rejects: %w", err)
		}
		defer f.Close()
		n, err := io.Copy(s.rejects, f)
		if err != nil {
			return fmt.Errorf("write rejects: %w", err)
		}
		if n > 0 {
			// The spill holds the line as read; end it with exactly one
			// newline.
			if r.Oversize == n && !endsWithNewline(path) {
				s.rejects.WriteByte('\n')
			}
		}
		return nil
	}
	if s.rejects == nil {
		return nil
	}
	s.rejects.Write(r.Value)
	return s.rejects.WriteByte('\n')
}

func endsWithNewline(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return false
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], info.Size()-1); err != nil {
		return false
	}
	return last[0] == '\n'
}
