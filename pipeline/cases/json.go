package cases

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"flagstream/pipeline/jsontext"
)

// jsonWriter appends JSON to a byte slice, as encoding/json would write it
// with HTML escaping off, without reflection or allocation beyond the
// slice's growth. The first error (a time out of JSON's range) sticks.
type jsonWriter struct {
	b   []byte
	err error
}

// raw appends s as it is: punctuation and keys known to need no escaping.
func (w *jsonWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *jsonWriter) str(s string) { w.b = jsontext.AppendString(w.b, s) }

func (w *jsonWriter) strs(ss []string) {
	w.b = append(w.b, '[')
	for i, s := range ss {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = jsontext.AppendString(w.b, s)
	}
	w.b = append(w.b, ']')
}

func (w *jsonWriter) int(n int64) { w.b = strconv.AppendInt(w.b, n, 10) }

// time appends t in UTC as encoding/json does: RFC 3339 with as many
// fractional digits as needed, quoted. Every time this package writes is
// in UTC ("Z"), whatever the location of the time.Time it is given.
func (w *jsonWriter) time(t time.Time) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		if w.err == nil {
			w.err = fmt.Errorf("time %v is outside the years 0-9999 that JSON times can hold", t)
		}
		return
	}
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

// objectReader reads one JSON object strictly, member by member: every
// name must be one the caller knows, exactly as spelled (encoding/json
// would match names case-insensitively), no name may come twice (parsers
// disagree on which value counts), no value may be null, and nothing may
// follow the object.
type objectReader struct {
	dec  *json.Decoder
	seen []string
}

func newObjectReader(data []byte) (*objectReader, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	return &objectReader{dec: dec}, nil
}

// next returns the name of the next member and its value, or "" at the end
// of the object.
func (r *objectReader) next(known func(string) bool) (name string, value json.RawMessage, err error) {
	if !r.dec.More() {
		if _, err := r.dec.Token(); err != nil { // the closing brace
			return "", nil, fmt.Errorf("not JSON: %w", err)
		}
		if _, err := r.dec.Token(); err != io.EOF {
			return "", nil, errors.New("data after the object")
		}
		return "", nil, nil
	}
	tok, err := r.dec.Token()
	if err != nil {
		return "", nil, fmt.Errorf("not JSON: %w", err)
	}
	name, _ = tok.(string)
	if !known(name) {
		return "", nil, fmt.Errorf("unknown field %q", name)
	}
	for _, s := range r.seen {
		if s == name {
			return "", nil, fmt.Errorf("field %q given twice", name)
		}
	}
	r.seen = append(r.seen, name)
	if err := r.dec.Decode(&value); err != nil {
		return "", nil, fmt.Errorf("not JSON: %w", err)
	}
	if string(value) == "null" {
		return "", nil, fmt.Errorf("%s is null", name)
	}
	return name, value, nil
}
