package report

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestNDJSON(t *testing.T) {
	long := strings.Repeat("x", MaxLine+1)
	in := "first\r\n\n  \nsecond\n" + long + "\nthird"
	rs := NDJSON("in.ndjson", strings.NewReader(in))
	var got []Record
	for {
		r, err := rs.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		r.Value = bytes.Clone(r.Value)
		got = append(got, r)
	}
	want := []Record{
		{Value: []byte("first"), Stream: "in.ndjson", Index: 1},
		{Value: []byte("second"), Stream: "in.ndjson", Index: 4},
		{Stream: "in.ndjson", Index: 5, Err: errLineTooLong},
		{Value: []byte("third"), Stream: "in.ndjson", Index: 6},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if string(g.Value) != string(w.Value) || g.Stream != w.Stream || g.Index != w.Index || !errors.Is(g.Err, w.Err) {
			t.Errorf("record %d = %q %s:%d %v, want %q %s:%d %v", i, g.Value, g.Stream, g.Index, g.Err, w.Value, w.Stream, w.Index, w.Err)
		}
	}
}

// TestNDJSONReadError: an I/O error stops the report, with the stream's
// name and line.
func TestNDJSONReadError(t *testing.T) {
	rs := NDJSON("broken.ndjson", io.MultiReader(strings.NewReader("ok\n"), iotest.ErrReader(errors.New("disk on fire"))))
	if _, err := rs.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := rs.Next()
	if err == nil || !strings.Contains(err.Error(), "broken.ndjson: line 2: disk on fire") {
		t.Fatalf("err = %v", err)
	}
	_, err = Build(t.Context(), Input{Tasks: NDJSON("broken.ndjson", iotest.ErrReader(errors.New("disk on fire")))}, Options{})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Build err = %v", err)
	}
}

func TestConcat(t *testing.T) {
	rs := Concat(NDJSON("a", strings.NewReader("1\n2\n")), NDJSON("b", strings.NewReader("")), NDJSON("c", strings.NewReader("3")))
	var got []string
	for {
		r, err := rs.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		got = append(got, r.Stream+":"+string(r.Value))
	}
	if strings.Join(got, " ") != "a:1 a:2 c:3" {
		t.Errorf("got %v", got)
	}
}

// TestBuildCancelled: a cancelled context stops the report.
func TestBuildCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Build(ctx, fixtureInput(t), Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
