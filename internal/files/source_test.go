package files

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"flagstream/pipeline"
)

// memInput is an input read from s.
func memInput(name, s string) Input {
	return Input{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }}
}

// rec is what a test sees of a record.
type rec struct {
	File     string
	Line     int64
	Value    string
	Oversize int64
}

// fetchAll reads src to its end, one fresh batch a fetch, and returns the
// records of each batch.
func fetchAll(t *testing.T, src *LineSource) [][]rec {
	t.Helper()
	var batches [][]rec
	for range 10000 {
		var b pipeline.Batch
		err := src.Fetch(context.Background(), &b)
		if len(b.Records) > 0 {
			var rs []rec
			for _, r := range b.Records {
				rs = append(rs, rec{File: r.File, Line: r.Line, Value: string(r.Value), Oversize: r.Oversize})
			}
			batches = append(batches, rs)
		}
		if errors.Is(err, io.EOF) {
			return batches
		}
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if len(b.Records) == 0 {
			t.Fatal("Fetch returned no records and no error")
		}
	}
	t.Fatal("Fetch never returned io.EOF")
	return nil
}

func flatten(batches [][]rec) []rec {
	var all []rec
	for _, b := range batches {
		all = append(all, b...)
	}
	return all
}

func TestLineSourceLines(t *testing.T) {
	tests := []struct {
		name   string
		inputs []Input
		want   []rec
	}{
		{
			name:   "lines numbered per input",
			inputs: []Input{memInput("a.ndjson", "{\"a\":1}\n{\"a\":2}\n"), memInput("b.ndjson", "{\"b\":1}\n")},
			want: []rec{
				{File: "a.ndjson", Line: 1, Value: `{"a":1}`},
				{File: "a.ndjson", Line: 2, Value: `{"a":2}`},
				{File: "b.ndjson", Line: 1, Value: `{"b":1}`},
			},
		},
		{
			name:   "blank lines skipped but counted",
			inputs: []Input{memInput("a", "\n  \n{}\n\t\r\n\n[1]\n\n")},
			want:   []rec{{File: "a", Line: 3, Value: "{}"}, {File: "a", Line: 6, Value: "[1]"}},
		},
		{
			name:   "CRLF",
			inputs: []Input{memInput("a", "one\r\ntwo\r\n\r\nthree\r\n")},
			want:   []rec{{File: "a", Line: 1, Value: "one"}, {File: "a", Line: 2, Value: "two"}, {File: "a", Line: 4, Value: "three"}},
		},
		{
			name:   "last line without newline",
			inputs: []Input{memInput("a", "one\ntwo"), memInput("b", "three")},
			want:   []rec{{File: "a", Line: 1, Value: "one"}, {File: "a", Line: 2, Value: "two"}, {File: "b", Line: 1, Value: "three"}},
		},
		{
			name:   "empty inputs",
			inputs: []Input{memInput("a", ""), memInput("b", "\n\n"), memInput("c", "x\n")},
			want:   []rec{{File: "c", Line: 1, Value: "x"}},
		},
		{
			name:   "stdin",
			inputs: []Input{memInput("-", "x\n")},
			want:   []rec{{File: "stdin", Line: 1, Value: "x"}},
		},
		{
			name:   "spaces inside a line kept",
			inputs: []Input{memInput("a", "  {\"t\": \"a b\"}  \n")},
			want:   []rec{{File: "a", Line: 1, Value: "  {\"t\": \"a b\"}  "}},
		},
		{
			name:   "invalid UTF-8 kept as is",
			inputs: []Input{memInput("a", "\xff\xfe\n")},
			want:   []rec{{File: "a", Line: 1, Value: "\xff\xfe"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &LineSource{Inputs: tc.inputs}
			got := flatten(fetchAll(t, src))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("records =\n%+v\nwant\n%+v", got, tc.want)
			}
			var size int64
			for _, in := range tc.inputs {
				r, _ := in.Open()
				n, _ := io.Copy(io.Discard, r)
				size += n
			}
			if got := src.BytesRead.Load(); got != size {
				t.Errorf("BytesRead = %d, want %d", got, size)
			}
		})
	}
}

func TestLineSourceBatchLimits(t *testing.T) {
	var in strings.Builder
	for range 10 {
		in.WriteString("0123456789\n") // 10 bytes a record
	}
	tests := []struct {
		name                     string
		batchRecords, batchBytes int
		wantSizes                []int
	}{
		{"records", 4, 0, []int{4, 4, 2}},
		{"bytes", 0, 25, []int{3, 3, 3, 1}}, // a batch is full once it holds BatchBytes or more
		{"records before bytes", 2, 25, []int{2, 2, 2, 2, 2}},
		{"defaults", 0, 0, []int{10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &LineSource{Inputs: []Input{memInput("a", in.String())}, BatchRecords: tc.batchRecords, BatchBytes: tc.batchBytes}
			batches := fetchAll(t, src)
			var sizes []int
			for _, b := range batches {
				sizes = append(sizes, len(b))
			}
			if !reflect.DeepEqual(sizes, tc.wantSizes) {
				t.Errorf("batch sizes = %v, want %v", sizes, tc.wantSizes)
			}
			if got := len(flatten(batches)); got != 10 {
				t.Errorf("records = %d, want 10", got)
			}
		})
	}
}

func TestLineSourceBatchSpansInputs(t *testing.T) {
	src := &LineSource{Inputs: []Input{memInput("a", "1\n2\n"), memInput("b", "3\n")}, BatchRecords: 10}
	batches := fetchAll(t, src)
	if len(batches) != 1 || len(batches[0]) != 3 {
		t.Errorf("batches = %+v, want one batch of 3", batches)
	}
}

func TestLineSourceRecordsShareArena(t *testing.T) {
	src := &LineSource{Inputs: []Input{memInput("a", "first\nsecond\nthird\n")}}
	var b pipeline.Batch
	if err := src.Fetch(context.Background(), &b); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	// A record's value must not be extendable into its neighbour.
	v := b.Records[0].Value
	if cap(v) != len(v) {
		t.Errorf("cap(Value) = %d, want %d: appending to a value would overwrite the next", cap(v), len(v))
	}
	_ = append(v, "XXXX"...)
	if got := string(b.Records[1].Value); got != "second" {
		t.Errorf("second record = %q after appending to the first, want %q", got, "second")
	}
}

// repeatReader returns n bytes of c without holding them.
type repeatReader struct {
	c byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = r.c
	}
	r.n -= int64(len(p))
	return len(p), nil
}

func TestLineSourceOversize(t *testing.T) {
	const max = 1000
	const big = 8 << 20
	open := func() (io.ReadCloser, error) {
		return io.NopCloser(io.MultiReader(
			strings.NewReader("{\"before\":1}\n"),
			&repeatReader{c: 'x', n: big},
			strings.NewReader("\n{\"after\":1}\n"),
		)), nil
	}
	for _, spill := range []bool{false, true} {
		name := "no spill"
		if spill {
			name = "spill"
		}
		t.Run(name, func(t *testing.T) {
			src := &LineSource{Inputs: []Input{{Name: "big", Open: open}}, MaxRecordBytes: max}
			if spill {
				src.SpillDir = t.TempDir()
			}
			var b pipeline.Batch
			err := src.Fetch(context.Background(), &b)
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			if got, want := len(b.Records), 3; got != want {
				t.Fatalf("records = %d, want %d", got, want)
			}
			over := b.Records[1]
			if over.Line != 2 || over.Oversize < big || len(over.Value) != 0 {
				t.Errorf("oversize record = line %d, Oversize %d, %d value bytes; want line 2, Oversize >= %d, no value",
					over.Line, over.Oversize, len(over.Value), big)
			}
			// The line was never held: the arena holds the small lines and
			// at most a read buffer's worth besides.
			if cap(b.Data) > 1<<20 {
				t.Errorf("cap(b.Data) = %d after an %d-byte line: the line was held in memory", cap(b.Data), big)
			}
			if got, want := string(b.Records[2].Value), `{"after":1}`; got != want || b.Records[2].Line != 3 {
				t.Errorf("record after the oversize one = line %d %q, want line 3 %q", b.Records[2].Line, got, want)
			}
			if !spill {
				if over.Spill != "" {
					t.Errorf("Spill = %q without SpillDir", over.Spill)
				}
				return
			}
			if filepath.Dir(over.Spill) != src.SpillDir {
				t.Fatalf("Spill = %q, want a file in %s", over.Spill, src.SpillDir)
			}
			data, err := os.ReadFile(over.Spill)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(bytes.TrimRight(data, "\n")), big; got != want || bytes.Count(data, []byte("x")) != big {
				t.Errorf("spill file holds %d bytes of the line, want %d", got, want)
			}
			if int64(len(data)) != over.Oversize {
				t.Errorf("spill file has %d bytes, Oversize says %d", len(data), over.Oversize)
			}
		})
	}
}

func TestLineSourceOversizeLastLine(t *testing.T) {
	src := &LineSource{Inputs: []Input{memInput("a", "ok\n"+strings.Repeat("y", 50))}, MaxRecordBytes: 10, SpillDir: t.TempDir()}
	var b pipeline.Batch
	if err := src.Fetch(context.Background(), &b); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if len(b.Records) != 2 || b.Records[1].Oversize != 50 {
		t.Fatalf("records = %+v, want ok and a 50-byte oversize line", b.Records)
	}
	data, err := os.ReadFile(b.Records[1].Spill)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), strings.Repeat("y", 50); got != want {
		t.Errorf("spill = %q, want %q", got, want)
	}
}

// TestLineSourceLimitIsExact checks that MaxRecordBytes bounds a line's
// content, whatever its line ending.
func TestLineSourceLimitIsExact(t *testing.T) {
	const max = 10
	tests := []struct {
		name     string
		line     string
		oversize bool
	}{
		{"at the limit", strings.Repeat("a", max) + "\n", false},
		{"at the limit, CRLF", strings.Repeat("a", max) + "\r\n", false},
		{"at the limit, no newline", strings.Repeat("a", max), false},
		{"one over", strings.Repeat("a", max+1) + "\n", true},
		{"one over, CRLF", strings.Repeat("a", max+1) + "\r\n", true},
		{"one over, no newline", strings.Repeat("a", max+1), true},
		{"two over", strings.Repeat("a", max+2) + "\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// The line comes last, so that one without a newline ends the input.
			src := &LineSource{Inputs: []Input{memInput("a", "next\n"+tc.line)}, MaxRecordBytes: max, SpillDir: dir}
			got := flatten(fetchAll(t, src))
			if len(got) != 2 || got[0].Value != "next" {
				t.Fatalf("records = %+v, want next and the line", got)
			}
			if gotOver := got[1].Oversize > 0; gotOver != tc.oversize {
				t.Errorf("line of %d bytes: oversize = %v, want %v", len(strings.TrimRight(tc.line, "\r\n")), gotOver, tc.oversize)
			}
			if !tc.oversize && got[1].Value != strings.TrimRight(tc.line, "\r\n") {
				t.Errorf("value = %q, want %q", got[1].Value, strings.TrimRight(tc.line, "\r\n"))
			}
			if tc.oversize {
				files, _ := os.ReadDir(dir)
				if len(files) != 1 {
					t.Fatalf("spill dir holds %d files, want 1", len(files))
				}
				data, _ := os.ReadFile(filepath.Join(dir, files[0].Name()))
				if string(data) != tc.line {
					t.Errorf("spill = %q, want %q", data, tc.line)
				}
			}
		})
	}
}

// TestLineSourceBufferBoundary reads lines longer than the reader's buffer
// (256KiB) but within the limit.
func TestLineSourceBufferBoundary(t *testing.T) {
	const buf = 256 << 10
	var lines []string
	var in strings.Builder
	for i, n := range []int{buf - 2, buf - 1, buf, buf + 1, 300 << 10, 3*buf + 17, 10} {
		line := strings.Repeat(string(rune('a'+i)), n)
		lines = append(lines, line)
		in.WriteString(line)
		if i%2 == 0 {
			in.WriteString("\n")
		} else {
			in.WriteString("\r\n")
		}
	}
	src := &LineSource{Inputs: []Input{memInput("a", in.String())}, MaxRecordBytes: 1 << 20, BatchBytes: 512 << 10}
	got := flatten(fetchAll(t, src))
	if len(got) != len(lines) {
		t.Fatalf("records = %d, want %d", len(got), len(lines))
	}
	for i, r := range got {
		if r.Value != lines[i] || r.Line != int64(i+1) || r.Oversize != 0 {
			t.Errorf("record %d = line %d, %d bytes (oversize %d), want line %d, %d bytes", i, r.Line, len(r.Value), r.Oversize, i+1, len(lines[i]))
		}
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestLineSourceErrors(t *testing.T) {
	errOpen := errors.New("permission denied")
	errRead := errors.New("disk on fire")
	t.Run("open", func(t *testing.T) {
		src := &LineSource{Inputs: []Input{
			memInput("a", "x\n"),
			{Name: "b", Open: func() (io.ReadCloser, error) { return nil, errOpen }},
		}}
		var b pipeline.Batch
		err := src.Fetch(context.Background(), &b)
		if !errors.Is(err, errOpen) {
			t.Errorf("Fetch = %v, want %v", err, errOpen)
		}
	})
	t.Run("open a missing file", func(t *testing.T) {
		src := &LineSource{Inputs: OpenInputs([]string{filepath.Join(t.TempDir(), "absent.ndjson")}, nil)}
		var b pipeline.Batch
		err := src.Fetch(context.Background(), &b)
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "absent.ndjson") {
			t.Errorf("Fetch = %v, want a not-exist error naming the file", err)
		}
	})
	t.Run("read", func(t *testing.T) {
		src := &LineSource{Inputs: []Input{{Name: "c", Open: func() (io.ReadCloser, error) {
			return io.NopCloser(io.MultiReader(strings.NewReader("x\n"), failingReader{errRead})), nil
		}}}}
		var b pipeline.Batch
		err := src.Fetch(context.Background(), &b)
		if !errors.Is(err, errRead) || !strings.Contains(err.Error(), "c") {
			t.Errorf("Fetch = %v, want %v naming c", err, errRead)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		src := &LineSource{Inputs: []Input{memInput("a", "x\n")}}
		var b pipeline.Batch
		if err := src.Fetch(ctx, &b); !errors.Is(err, context.Canceled) {
			t.Errorf("Fetch = %v, want context.Canceled", err)
		}
	})
}

func TestOpenInputs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.ndjson")
	if err := os.WriteFile(path, []byte("from-file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		names []string
		want  []rec
	}{
		{"none is stdin", nil, []rec{{File: "stdin", Line: 1, Value: "from-stdin"}}},
		{"dash is stdin", []string{"-"}, []rec{{File: "stdin", Line: 1, Value: "from-stdin"}}},
		{"file then stdin", []string{path, "-"}, []rec{{File: path, Line: 1, Value: "from-file"}, {File: "stdin", Line: 1, Value: "from-stdin"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &LineSource{Inputs: OpenInputs(tc.names, strings.NewReader("from-stdin\n"))}
			defer src.Close()
			if got := flatten(fetchAll(t, src)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("records = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestTrimLineEnd compares trimLineEnd with bytes.TrimRight(line, "\r\n"),
// which it replaced.
func TestTrimLineEnd(t *testing.T) {
	for _, line := range []string{"", "\n", "\r\n", "\r", "{}", "{}\n", "{}\r\n", "{}\n\r\n", "a\rb\r", " \r\n", "\n\n\n", "x\n "} {
		if got, want := string(trimLineEnd([]byte(line))), string(bytes.TrimRight([]byte(line), "\r\n")); got != want {
			t.Errorf("trimLineEnd(%q) = %q, want %q", line, got, want)
		}
	}
}
