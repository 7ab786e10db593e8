package files

// This file keeps the LineSource as it was before it read blocks straight
// into the batch (commit e54ab4c's source.go, names suffixed with Old), as
// the oracle that the tests and the fuzz target compare the new one with,
// and as the benchmark's baseline.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"flagstream/pipeline"
)

// oldLineSource reads NDJSON lines from inputs in order as pipeline records.
// Blank lines are skipped. A line longer than MaxRecordBytes is not held
// in memory: it becomes a record with Oversize set, and, when SpillDir is
// set, its bytes are copied to a file there (named by Record.Spill) so
// that the rejects file can have it whole.
type oldLineSource struct {
	Inputs         []Input
	MaxRecordBytes int
	BatchRecords   int
	BatchBytes     int
	// SpillDir, when not empty, receives oversize lines.
	SpillDir string

	// BytesRead counts input bytes, for progress reports.
	BytesRead atomic.Int64

	next int
	cur  io.ReadCloser
	r    *bufio.Reader
	name string
	line int64
}

// Fetch fills b with the next lines.
func (s *oldLineSource) Fetch(ctx context.Context, b *pipeline.Batch) error {
	if s.BatchRecords <= 0 {
		s.BatchRecords = defaultBatchRecords
	}
	if s.BatchBytes <= 0 {
		s.BatchBytes = defaultBatchBytes
	}
	if s.MaxRecordBytes <= 0 {
		s.MaxRecordBytes = 4 << 20
	}
	for len(b.Records) < s.BatchRecords && len(b.Data) < s.BatchBytes {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.r == nil {
			if err := s.openOld(); err != nil {
				return err
			}
		}
		if err := s.readLineOld(b); err != nil {
			if errors.Is(err, io.EOF) {
				s.closeCurrentOld()
				continue
			}
			return err
		}
	}
	return nil
}

// openOld opens the next input, or returns io.EOF after the last.
func (s *oldLineSource) openOld() error {
	if s.next >= len(s.Inputs) {
		return io.EOF
	}
	in := s.Inputs[s.next]
	s.next++
	f, err := in.Open()
	if err != nil {
		return err // os.Open's error names the file
	}
	s.cur, s.name, s.line = f, in.Name, 0
	if s.name == "-" {
		s.name = "stdin"
	}
	s.r = bufio.NewReaderSize(f, 256<<10)
	return nil
}

func (s *oldLineSource) closeCurrentOld() {
	if s.cur != nil {
		s.cur.Close()
	}
	s.cur, s.r = nil, nil
}

// Close closes the input being read.
func (s *oldLineSource) Close() error {
	s.closeCurrentOld()
	return nil
}

// readLineOld appends the next non-blank line of the current input to b, or
// returns io.EOF at its end.
func (s *oldLineSource) readLineOld(b *pipeline.Batch) error {
	for {
		start := len(b.Data)
		size, oversize, spill, err := s.readRawOld(b)
		if err != nil && !(errors.Is(err, io.EOF) && size > 0) {
			b.Data = b.Data[:start]
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return fmt.Errorf("read %s: %w", s.name, err)
		}
		s.line++
		s.BytesRead.Add(size)
		if oversize {
			b.Data = b.Data[:start]
			b.Records = append(b.Records, pipeline.Record{File: s.name, Line: s.line, Oversize: size, Spill: spill})
			return nil
		}
		line := trimLineEnd(b.Data[start:])
		if len(line) > s.MaxRecordBytes {
			// readRawOld holds up to two bytes more than the limit, the room
			// of a line ending; without one, the line is over it.
			spill, err := s.spillHeldOld(b.Data[start:])
			b.Data = b.Data[:start]
			if err != nil {
				return err
			}
			b.Records = append(b.Records, pipeline.Record{File: s.name, Line: s.line, Oversize: size, Spill: spill})
			return nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			b.Data = b.Data[:start]
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			continue
		}
		b.Data = b.Data[:start+len(line)]
		b.Records = append(b.Records, pipeline.Record{Value: b.Data[start:len(b.Data):len(b.Data)], File: s.name, Line: s.line})
		return nil
	}
}

// readRawOld appends one line (with its newline) to b.Data, unless it grows
// past MaxRecordBytes: then the rest is skipped (or spilled) and oversize
// is set. size counts every byte of the line.
func (s *oldLineSource) readRawOld(b *pipeline.Batch) (size int64, oversize bool, spill string, err error) {
	var spillFile *os.File
	defer func() {
		if spillFile != nil {
			if cerr := spillFile.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()
	for {
		chunk, rerr := s.r.ReadSlice('\n')
		size += int64(len(chunk))
		switch {
		case oversize && spillFile != nil:
			if _, werr := spillFile.Write(chunk); werr != nil {
				return size, oversize, spill, fmt.Errorf("spill oversize line: %w", werr)
			}
		case oversize:
		case size > int64(s.MaxRecordBytes)+2: // +2 for a CRLF
			oversize = true
			if s.SpillDir != "" {
				f, ferr := os.CreateTemp(s.SpillDir, "oversize-*.line")
				if ferr != nil {
					return size, oversize, "", fmt.Errorf("spill oversize line: %w", ferr)
				}
				spillFile, spill = f, f.Name()
				start := len(b.Data) - int(size-int64(len(chunk)))
				if _, werr := f.Write(b.Data[start:]); werr != nil {
					return size, oversize, spill, fmt.Errorf("spill oversize line: %w", werr)
				}
				if _, werr := f.Write(chunk); werr != nil {
					return size, oversize, spill, fmt.Errorf("spill oversize line: %w", werr)
				}
			}
		default:
			b.Data = append(b.Data, chunk...)
		}
		switch {
		case rerr == nil:
			return size, oversize, spill, nil
		case errors.Is(rerr, bufio.ErrBufferFull):
			continue
		default:
			return size, oversize, spill, rerr
		}
	}
}

// spillHeldOld writes an oversize line that readRaw held whole to a spill
// file, when SpillDir is set, and returns its name.
func (s *oldLineSource) spillHeldOld(line []byte) (string, error) {
	if s.SpillDir == "" {
		return "", nil
	}
	f, err := os.CreateTemp(s.SpillDir, "oversize-*.line")
	if err != nil {
		return "", fmt.Errorf("spill oversize line: %w", err)
	}
	_, err = f.Write(line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("spill oversize line: %w", err)
	}
	return f.Name(), nil
}
