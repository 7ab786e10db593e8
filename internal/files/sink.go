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
	Records, Tweets, Rejected int64
	// Tasks counts the review tasks of every destination (review, shadow,
	// escalation), Evidence the case evidence records, written or not:
	// both are sums of ByDestination.
	Tasks, Evidence int64
	// ByDestination counts the outputs of each destination.
	ByDestination [4]int64
}

// NDJSONSink writes review tasks as NDJSON lines, in input order (the
// pipeline must run with one writer), copies each rejected line as it was
// to Rejects, and reports each rejection with its file and line. Outputs
// of another destination go to the writer set for it (SetWriter): shadow
// and escalated tasks to the tasks' writer when none is set, as the Kafka
// sink writes escalated tasks to the review topic when no escalation
// topic is set; evidence nowhere when none is set (scan hands it to its
// case processor).
type NDJSONSink struct {
	out     *bufio.Writer
	dests   [4]*bufio.Writer // by pipeline.Destination; nil: see above
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
	s.dests[pipeline.ToReview] = s.out
	s.dests[pipeline.ToShadow] = s.out
	s.dests[pipeline.ToEscalation] = s.out
	return s
}

// outputNames name the outputs of each destination in messages.
var outputNames = [4]string{"review tasks", "shadow tasks", "escalated tasks", "case evidence"}

// SetWriter sends the outputs of destination d to w; nil restores the
// default (see NDJSONSink). It must be called before the first Write.
func (s *NDJSONSink) SetWriter(d pipeline.Destination, w io.Writer) {
	switch {
	case w != nil:
		s.dests[d] = bufio.NewWriterSize(w, 64<<10)
	case d == pipeline.ToEvidence:
		s.dests[d] = nil
	default:
		s.dests[d] = s.out
	}
}

// Counts returns what has been written so far. It must not be called
// while a Write is running.
func (s *NDJSONSink) Counts() Counts {
	c := s.counts
	by := &c.ByDestination
	c.Tasks = by[pipeline.ToReview] + by[pipeline.ToShadow] + by[pipeline.ToEscalation]
	c.Evidence = by[pipeline.ToEvidence]
	return c
}

// Write writes b's outputs and rejections and flushes them.
func (s *NDJSONSink) Write(_ context.Context, b *pipeline.Batch) error {
	for i := range b.Outputs {
		d := b.Outputs[i].Dest
		s.counts.ByDestination[d]++
		w := s.dests[d]
		if w == nil {
			continue
		}
		_, v := b.Output(i)
		w.Write(v)
		w.WriteByte('\n')
	}
	for d, w := range s.dests {
		if w == nil || (w == s.out && d != int(pipeline.ToReview)) {
			continue
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", outputNames[d], err)
		}
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
