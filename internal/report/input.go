package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Record is one JSON value of an input stream.
type Record struct {
	// Value is the JSON text; it is valid only until the next call of
	// Next on the same Records.
	Value []byte
	// Stream names where the record was read: a file name, or a Kafka
	// topic and partition ("review-cases/3").
	Stream string
	// Index is the record's position in Stream: the line number (from 1)
	// of an NDJSON file, the offset of a Kafka record.
	Index int64
	// Err, when set, says the record could not be read (a line too long):
	// the report counts it as a bad record and goes on.
	Err error
}

// Records is an input stream: NDJSON lines ([NDJSON]) or, in the same
// shape, the values of a Kafka topic's records.
type Records interface {
	// Next returns the next record, or io.EOF after the last one. Any
	// other error is an I/O failure that stops the report.
	Next() (Record, error)
}

// MaxLine is the longest NDJSON line read; a longer one is a bad record.
const MaxLine = 16 << 20

// NDJSON returns the records of r, one JSON value per line, named name in
// problems. Blank lines are skipped; a carriage return before the newline
// is dropped.
func NDJSON(name string, r io.Reader) Records {
	return &ndjson{name: name, r: bufio.NewReaderSize(r, 64<<10)}
}

type ndjson struct {
	name string
	r    *bufio.Reader
	line int64
	buf  []byte
	done bool
}

var errLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLine)

func (n *ndjson) Next() (Record, error) {
	for !n.done {
		line, tooLong, err := n.readLine()
		if err != nil && !errors.Is(err, io.EOF) {
			return Record{}, fmt.Errorf("read %s: line %d: %w", n.name, n.line+1, err)
		}
		if errors.Is(err, io.EOF) {
			n.done = true
			if len(line) == 0 && !tooLong {
				break
			}
		}
		n.line++
		if tooLong {
			return Record{Stream: n.name, Index: n.line, Err: errLineTooLong}, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return Record{Value: line, Stream: n.name, Index: n.line}, nil
	}
	return Record{}, io.EOF
}

// readLine returns the next line without its newline. A line longer than
// MaxLine is read to its end and dropped (tooLong).
func (n *ndjson) readLine() (line []byte, tooLong bool, err error) {
	n.buf = n.buf[:0]
	for {
		chunk, err := n.r.ReadSlice('\n')
		if !tooLong {
			if len(n.buf)+len(chunk) > MaxLine+1 {
				tooLong, n.buf = true, n.buf[:0]
			} else {
				n.buf = append(n.buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == nil {
			if tooLong {
				return nil, true, nil
			}
			return n.buf[:len(n.buf)-1], false, nil
		}
		return n.buf, tooLong, err
	}
}

// Concat returns the records of each stream in turn.
func Concat(streams ...Records) Records { return &concat{streams: streams} }

type concat struct{ streams []Records }

func (c *concat) Next() (Record, error) {
	for len(c.streams) > 0 {
		rec, err := c.streams[0].Next()
		if errors.Is(err, io.EOF) {
			c.streams = c.streams[1:]
			continue
		}
		return rec, err
	}
	return Record{}, io.EOF
}
