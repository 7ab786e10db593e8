// Package files adapts NDJSON files and standard input to the pipeline:
// a Source that reads lines in order and a Sink that writes review tasks as
// NDJSON and copies rejected lines to a rejects file.
package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync/atomic"
	"unicode/utf8"

	"flagstream/pipeline"
)

// Input is one file to read; Name "-" is standard input.
type Input struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// OpenInputs returns the inputs for file names as given on a command line;
// "-" (or no name at all) reads stdin.
func OpenInputs(names []string, stdin io.Reader) []Input {
	if len(names) == 0 {
		names = []string{"-"}
	}
	in := make([]Input, len(names))
	for i, n := range names {
		if n == "-" {
			in[i] = Input{Name: "-", Open: func() (io.ReadCloser, error) { return io.NopCloser(stdin), nil }}
			continue
		}
		in[i] = Input{Name: n, Open: func() (io.ReadCloser, error) { return os.Open(n) }}
	}
	return in
}

// LineSource reads NDJSON lines from inputs in order as pipeline records.
// Blank lines are skipped. A line longer than MaxRecordBytes is not held
// in memory: it becomes a record with Oversize set, and, when SpillDir is
// set, its bytes are copied to a file there (named by Record.Spill) so
// that the rejects file can have it whole.
//
// Fetch reads an input in blocks of up to readSize bytes straight into the
// batch's arena, b.Data, and makes records slices of it: values without
// their line ends, their capacity cut to their length. After Fetch,
// b.Data holds the lines it took (records' values, and the line ends and
// blank lines between them); what it read past them is kept in carry and
// copied to the front of the next batch's arena. Only a line that grows
// past MaxRecordBytes before its end is read apart, in pieces, by
// skipOversize.
type LineSource struct {
	Inputs         []Input
	MaxRecordBytes int
	BatchRecords   int
	BatchBytes     int
	// SpillDir, when not empty, receives oversize lines.
	SpillDir string

	// BytesRead counts input bytes, for progress reports: those of every
	// line taken (records and blank lines alike), added once a Fetch.
	BytesRead atomic.Int64

	next int
	cur  io.ReadCloser
	name string
	line int64
	// rerr is the error that cur's last read returned (io.EOF at its
	// end), acted on once the lines read before it are taken.
	rerr error
	// carry holds what was read of cur past the last line the last batch
	// took: whole lines and the start of one, always from a line's start.
	carry []byte
}

var _ pipeline.Source = (*LineSource)(nil)

const (
	defaultBatchRecords = 1024
	defaultBatchBytes   = 1 << 20
	// readSize is the most read from an input at once. It bounds what a
	// batch carries to the next.
	readSize = 64 << 10
	// minRead is the least room worth reading into: with less left after
	// the arena's bytes, makeRoom is called first.
	minRead = 4 << 10
)

// Fetch fills b with the next lines.
func (s *LineSource) Fetch(ctx context.Context, b *pipeline.Batch) error {
	if s.BatchRecords <= 0 {
		s.BatchRecords = defaultBatchRecords
	}
	if s.BatchBytes <= 0 {
		s.BatchBytes = defaultBatchBytes
	}
	if s.MaxRecordBytes <= 0 {
		s.MaxRecordBytes = 4 << 20
	}
	// A batch met for the first time gets the arena and the records a
	// full batch needs, at once: grown step by step, every slot's arena
	// was zeroed and copied about twice over on the way up, which was most
	// of the page faults of scanning a file of 100,000 tweets.
	if cap(b.Data) == 0 {
		b.Data = make([]byte, 0, s.BatchBytes)
	}
	if cap(b.Records) == 0 {
		b.Records = make([]pipeline.Record, 0, s.BatchRecords)
	}
	base, first := len(b.Data), len(b.Records)
	b.Data = append(b.Data, s.carry...)
	s.carry = s.carry[:0]
	pos, read, err := s.fill(ctx, b, base, first)
	s.carry = append(s.carry, b.Data[pos:]...)
	b.Data = b.Data[:pos]
	s.BytesRead.Add(read)
	return err
}

// fill appends records to b until it is full, the inputs end (io.EOF) or
// an error. The bytes of this Fetch start at b.Data[base], its records at
// b.Records[first]; b.Data[base:] starts with the carry. fill returns the
// position in b.Data after the last line it took (the bytes after it are
// unconsumed) and the bytes of the lines it took.
//
// Invariants of the loop: b.Data[pos:] are the unconsumed bytes read from
// s.cur, starting at a line's start; b.Data[pos:from] holds no newline;
// the values of b.Records[first:] lie in b.Data[base:pos] or in an arena
// it grew from, in order; held counts their bytes and those of b.Data
// before base, as BatchBytes limits them.
func (s *LineSource) fill(ctx context.Context, b *pipeline.Batch, base, first int) (pos int, read int64, err error) {
	max := s.MaxRecordBytes
	held := base
	pos, from := base, base
	// ctx is checked where bufio's reader checked it: before the first
	// record and after each record and each input's end.
	check := true
	for len(b.Records) < s.BatchRecords && held < s.BatchBytes {
		if check {
			if err := ctx.Err(); err != nil {
				return pos, read, err
			}
			check = false
		}
		if s.cur == nil {
			if err := s.open(); err != nil {
				return pos, read, err
			}
		}
		data := b.Data
		end := -1
		if i := bytes.IndexByte(data[from:], '\n'); i >= 0 {
			end = from + i + 1
		} else if pos < len(data) && s.rerr != nil && errors.Is(s.rerr, io.EOF) {
			end = len(data) // the last line, without a newline
		}
		if end >= 0 {
			raw := data[pos:end]
			line := trimLineEnd(raw)
			s.line++
			pos, from = end, end
			switch {
			case len(raw) > max+2 || len(line) > max:
				if err := s.oversizeHeld(b, raw); err != nil {
					if len(raw) > max+2 {
						// bufio handed such a line over in pieces: a
						// spill error named the input, and the line
						// was not counted.
						s.line--
						return pos, read, fmt.Errorf("read %s: %w", s.name, err)
					}
					return pos, read + int64(len(raw)), err
				}
				check = true
			case (len(line) == 0 || line[0] <= ' ' || line[0] >= utf8.RuneSelf) && isBlank(line):
				// A line that starts with printable ASCII, as JSON
				// does, is not blank: only others need a look.
			default:
				b.Records = append(b.Records, pipeline.Record{Value: line[:len(line):len(line)], File: s.name, Line: s.line})
				held += len(line)
				check = true
			}
			read += int64(len(raw))
			continue
		}
		from = len(data)
		switch {
		case s.rerr != nil && errors.Is(s.rerr, io.EOF): // every line taken
			s.closeCurrent()
			check = true
			continue
		case s.rerr != nil:
			// The start of a line read before the error is lost, as it
			// was with bufio; a later Fetch reads on.
			err := fmt.Errorf("read %s: %w", s.name, s.rerr)
			s.rerr = nil
			b.Data = b.Data[:pos]
			return pos, read, err
		case len(data)-pos > max+2: // +2 for a CRLF
			next, size, err := s.skipOversize(b, base, first, held-base, pos)
			if err != nil {
				return next, read, err
			}
			read += size
			pos, from = next, next
			check = true
			continue
		}
		if cap(b.Data)-len(b.Data) < minRead {
			pos = makeRoom(b, base, first, held-base, pos)
			from = len(b.Data)
		}
		s.readMore(b)
	}
	return pos, read, nil
}

// readMore reads up to readSize bytes of s.cur onto the end of b.Data,
// within its capacity, and keeps the read's error in s.rerr.
func (s *LineSource) readMore(b *pipeline.Batch) {
	n := len(b.Data)
	k, err := s.read(b.Data[n:min(cap(b.Data), n+readSize)])
	b.Data = b.Data[:n+k]
	s.rerr = err
}

// read reads into p from s.cur, retrying reads that return nothing and no
// error, as bufio.Reader does, up to a hundred times.
func (s *LineSource) read(p []byte) (int, error) {
	for range 100 {
		n, err := s.cur.Read(p)
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}

// makeRoom makes room after b.Data for a read of at least minRead bytes
// and returns where the unconsumed bytes, which were at b.Data[pos:],
// start now. It compacts the arena first: the values of this Fetch's
// records, b.Records[first:] (values bytes in all, starting at or after
// b.Data[base]), move down to base end to end, and the unconsumed bytes
// after them, dropping the line ends and blank lines between; then, if
// that left less than a quarter of the arena free, it grows the arena.
// After it, the arena holds at most the bytes before base, under
// BatchBytes of values and a line under MaxRecordBytes+2 bytes (fill reads
// no more of a longer one), so its size stays within twice that plus
// 2*readSize, whatever the input.
func makeRoom(b *pipeline.Batch, base, first, values, pos int) int {
	w := base
	for i := first; i < len(b.Records); i++ {
		r := &b.Records[i]
		n := len(r.Value)
		if n == 0 {
			continue // an oversize record
		}
		// Values only move down: w is at or before r.Value's place, in
		// b.Data or, if the arena grew since, in the one it grew from.
		if &r.Value[0] != &b.Data[w] {
			copy(b.Data[w:w+n], r.Value)
			r.Value = b.Data[w : w+n : w+n]
		}
		w += n
	}
	if w != base+values {
		panic("files: makeRoom lost track of the batch's values")
	}
	n := copy(b.Data[w:], b.Data[pos:])
	b.Data = b.Data[:w+n]
	if free := cap(b.Data) - len(b.Data); free < minRead || free < cap(b.Data)/4 {
		// The records keep their values in the old arena.
		b.Data = slices.Grow(b.Data, max(cap(b.Data), 2*readSize))
	}
	return w
}

// oversizeHeld appends the oversize record of a line over the limit that
// fill holds whole, raw with its line end, and spills it when SpillDir is
// set.
func (s *LineSource) oversizeHeld(b *pipeline.Batch, raw []byte) error {
	spill, err := s.spillHeld(raw)
	if err != nil {
		return err
	}
	b.Records = append(b.Records, pipeline.Record{File: s.name, Line: s.line, Oversize: int64(len(raw)), Spill: spill})
	return nil
}

// skipOversize takes a line that has grown past MaxRecordBytes, and the
// room of a CRLF, before its end, when b.Data[pos:] holds its start. It
// reads the rest of the line through the arena after pos, holding none of
// it, copies it all to a spill file when SpillDir is set, and appends its
// oversize record. It returns where the unconsumed bytes after the line
// start in b.Data and the line's size. base, first and values are fill's,
// for makeRoom.
func (s *LineSource) skipOversize(b *pipeline.Batch, base, first, values, pos int) (next int, size int64, err error) {
	size = int64(len(b.Data) - pos)
	var spill *os.File
	var spillName string
	defer func() {
		if spill != nil {
			if cerr := spill.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("read %s: %w", s.name, cerr)
			}
		}
	}()
	if s.SpillDir != "" {
		f, err := os.CreateTemp(s.SpillDir, "oversize-*.line")
		if err != nil {
			b.Data = b.Data[:pos]
			return pos, size, fmt.Errorf("read %s: spill oversize line: %w", s.name, err)
		}
		spill, spillName = f, f.Name()
		if _, err := f.Write(b.Data[pos:]); err != nil {
			b.Data = b.Data[:pos]
			return pos, size, fmt.Errorf("read %s: spill oversize line: %w", s.name, err)
		}
	}
	b.Data = b.Data[:pos]
	next = pos
	for {
		if s.rerr != nil {
			if errors.Is(s.rerr, io.EOF) {
				break // the line ends with the input
			}
			err := fmt.Errorf("read %s: %w", s.name, s.rerr)
			s.rerr = nil
			return pos, size, err
		}
		if cap(b.Data)-pos < minRead {
			pos = makeRoom(b, base, first, values, pos)
			next = pos
		}
		s.readMore(b)
		chunk := b.Data[pos:]
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			chunk, next = chunk[:i+1], pos+i+1
		} else {
			b.Data = b.Data[:pos]
		}
		size += int64(len(chunk))
		if spill != nil {
			if _, err := spill.Write(chunk); err != nil {
				b.Data = b.Data[:pos]
				return pos, size, fmt.Errorf("read %s: spill oversize line: %w", s.name, err)
			}
		}
		if next > pos {
			break
		}
	}
	s.line++
	b.Records = append(b.Records, pipeline.Record{File: s.name, Line: s.line, Oversize: size, Spill: spillName})
	return next, size, nil
}

// open opens the next input, or returns io.EOF after the last.
func (s *LineSource) open() error {
	if s.next >= len(s.Inputs) {
		return io.EOF
	}
	in := s.Inputs[s.next]
	s.next++
	f, err := in.Open()
	if err != nil {
		return err // os.Open's error names the file
	}
	s.cur, s.name, s.line, s.rerr = f, in.Name, 0, nil
	if s.carry == nil {
		s.carry = make([]byte, 0, readSize)
	}
	if s.name == "-" {
		s.name = "stdin"
	}
	return nil
}

// closeCurrent closes the input being read and drops what is left of it.
func (s *LineSource) closeCurrent() {
	if s.cur != nil {
		s.cur.Close()
	}
	s.cur, s.rerr, s.carry = nil, nil, s.carry[:0]
}

// Close closes the input being read.
func (s *LineSource) Close() error {
	s.closeCurrent()
	return nil
}

// isBlank reports whether line holds only white space, as bytes.TrimSpace
// has it (Unicode's included).
func isBlank(line []byte) bool { return len(bytes.TrimSpace(line)) == 0 }

// spillHeld writes an oversize line that fill held whole to a spill
// file, when SpillDir is set, and returns its name.
func (s *LineSource) spillHeld(line []byte) (string, error) {
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

// Commit has nothing to do for files: they are read once, in order.
func (s *LineSource) Commit(context.Context, *pipeline.Batch) error { return nil }

// trimLineEnd returns line without the newlines and carriage returns it
// ends with (bytes.TrimRight with a cutset, which builds a set per call,
// was 1.6% of scan's CPU).
func trimLineEnd(line []byte) []byte {
	n := len(line)
	for n > 0 && (line[n-1] == '\n' || line[n-1] == '\r') {
		n--
	}
	return line[:n]
}
