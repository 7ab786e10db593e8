package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"flagstream/pipeline"
)

// These tests compare LineSource with oldLineSource, the bufio reader it
// replaced (oldsource_test.go), on the same inputs read in the same
// pieces: every Fetch must give the same records, batch by batch, the
// same BytesRead after it, the same error and the same spill files.

// chunkReader reads data in pieces: sizes[i%len(sizes)] bytes at the i-th
// read (all that is asked for when sizes is empty). With eofWithData the
// last piece comes with io.EOF; with err, the read after failAt bytes
// fails with it; with cancel, the cancelAt-th read (from 1) calls it.
type chunkReader struct {
	data        []byte
	sizes       []int
	reads       int
	eofWithData bool
	failAt      int
	err         error
	cancelAt    int
	cancel      func()
	calls       int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	r.calls++
	if r.cancel != nil && r.calls == r.cancelAt {
		r.cancel()
	}
	if r.err != nil && r.failAt <= 0 {
		return 0, r.err
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if len(r.sizes) > 0 {
		n = min(n, r.sizes[r.reads%len(r.sizes)])
		r.reads++
	}
	if r.err != nil {
		n = min(n, r.failAt)
		r.failAt -= n
	}
	n = copy(p, r.data[:min(n, len(r.data))])
	r.data = r.data[n:]
	if r.eofWithData && len(r.data) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// oracleInput is an input for both sources: each opens its own reader.
type oracleInput struct {
	name        string
	data        string
	sizes       []int // read sizes, see chunkReader
	eofWithData bool
	failAt      int // with err, see chunkReader
	err         error
	openErr     error
	cancelAt    int // the read that cancels the Fetches' context
}

// input returns in as an Input whose reader calls cancel at its
// cancelAt-th read.
func (in oracleInput) input(cancel func()) Input {
	return Input{Name: in.name, Open: func() (io.ReadCloser, error) {
		if in.openErr != nil {
			return nil, in.openErr
		}
		return io.NopCloser(&chunkReader{data: []byte(in.data), sizes: in.sizes, eofWithData: in.eofWithData, failAt: in.failAt, err: in.err,
			cancelAt: in.cancelAt, cancel: cancel}), nil
	}}
}

// oracleConfig is a LineSource's limits; spill asks for a spill directory
// and badSpill for one that does not exist.
type oracleConfig struct {
	max, batchRecords, batchBytes int
	spill, badSpill               bool
}

// orec is what the comparison sees of a record: Spill is the spill file's
// contents.
type orec struct {
	File     string
	Line     int64
	Value    string
	Oversize int64
	Spill    string
	HasSpill bool
}

// fetchResult is what one Fetch gave.
type fetchResult struct {
	Records   []orec
	BytesRead int64
	Err       string
}

// runSource fetches src to its end or first error, one batch reused as
// the pipeline does (or a fresh one each time), and returns what each
// Fetch gave.
func runSource(t *testing.T, ctx context.Context, src fetcher, bytesRead func() int64, reuse bool) []fetchResult {
	t.Helper()
	var results []fetchResult
	var batch pipeline.Batch
	for range 100000 {
		if reuse {
			batch.Records, batch.Data = batch.Records[:0], batch.Data[:0]
		} else {
			batch = pipeline.Batch{}
		}
		err := src.Fetch(ctx, &batch)
		var res fetchResult
		for _, r := range batch.Records {
			o := orec{File: r.File, Line: r.Line, Value: string(r.Value), Oversize: r.Oversize, HasSpill: r.Spill != ""}
			if r.Spill != "" {
				data, rerr := os.ReadFile(r.Spill)
				if rerr != nil {
					t.Fatalf("read spill file: %v", rerr)
				}
				o.Spill = string(data)
				os.Remove(r.Spill)
			}
			res.Records = append(res.Records, o)
		}
		res.BytesRead = bytesRead()
		if err != nil {
			res.Err = err.Error()
		}
		results = append(results, res)
		if err != nil {
			src.Close()
			return results
		}
	}
	t.Fatal("Fetch never returned an error or io.EOF")
	return nil
}

// compareWithOld reads inputs with a LineSource and an oldLineSource
// configured alike and fails t where they differ.
func compareWithOld(t *testing.T, cfg oracleConfig, inputs []oracleInput, reuse bool) {
	t.Helper()
	ctxNew, cancelNew := context.WithCancel(context.Background())
	defer cancelNew()
	ctxOld, cancelOld := context.WithCancel(context.Background())
	defer cancelOld()
	var insNew, insOld []Input
	for _, in := range inputs {
		insNew, insOld = append(insNew, in.input(cancelNew)), append(insOld, in.input(cancelOld))
	}
	spillDir := func() string {
		switch {
		case cfg.badSpill:
			return filepath.Join(t.TempDir(), "absent")
		case cfg.spill:
			return t.TempDir()
		}
		return ""
	}
	dirNew, dirOld := spillDir(), spillDir()
	newSrc := &LineSource{Inputs: insNew, MaxRecordBytes: cfg.max, BatchRecords: cfg.batchRecords, BatchBytes: cfg.batchBytes, SpillDir: dirNew}
	oldSrc := &oldLineSource{Inputs: insOld, MaxRecordBytes: cfg.max, BatchRecords: cfg.batchRecords, BatchBytes: cfg.batchBytes, SpillDir: dirOld}
	got := runSource(t, ctxNew, newSrc, newSrc.BytesRead.Load, reuse)
	want := runSource(t, ctxOld, oldSrc, oldSrc.BytesRead.Load, reuse)
	if cfg.badSpill {
		// The spill directories differ in name: compare the messages
		// without them.
		for _, rs := range [][]fetchResult{got, want} {
			for i := range rs {
				rs[i].Err = strings.ReplaceAll(strings.ReplaceAll(rs[i].Err, dirNew, "DIR"), dirOld, "DIR")
				rs[i].Err = tempName.ReplaceAllString(rs[i].Err, "oversize-N.line")
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LineSource and the old reader differ (cfg %+v, reuse %v):\n%s", cfg, reuse, describeDiff(got, want))
	}
}

// tempName matches the names os.CreateTemp gives spill files.
var tempName = regexp.MustCompile(`oversize-[0-9]+\.line`)

// describeDiff says where two runs first differ.
func describeDiff(got, want []fetchResult) string {
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) {
			return fmt.Sprintf("fetches: %d, old %d", len(got), len(want))
		}
		g, w := got[i], want[i]
		if g.Err != w.Err || g.BytesRead != w.BytesRead || len(g.Records) != len(w.Records) {
			return fmt.Sprintf("fetch %d: %d records, BytesRead %d, err %q; old %d records, BytesRead %d, err %q",
				i, len(g.Records), g.BytesRead, g.Err, len(w.Records), w.BytesRead, w.Err)
		}
		for j := range g.Records {
			if g.Records[j] != w.Records[j] {
				return fmt.Sprintf("fetch %d record %d:\n%s\nold:\n%s", i, j, short(g.Records[j]), short(w.Records[j]))
			}
		}
	}
	return "no difference"
}

func short(r orec) string {
	clip := func(s string) string {
		if len(s) > 80 {
			return fmt.Sprintf("%q... (%d bytes)", s[:80], len(s))
		}
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%s:%d value %s oversize %d spill %v %s", r.File, r.Line, clip(r.Value), r.Oversize, r.HasSpill, clip(r.Spill))
}

// chunkings are the ways the tests read an input: whole reads, one byte
// at a time, and pieces of odd sizes, some with io.EOF on the last.
var chunkings = []struct {
	name        string
	sizes       []int
	eofWithData bool
}{
	{"whole", nil, false},
	{"whole, EOF with data", nil, true},
	{"one byte", []int{1}, false},
	{"odd pieces", []int{7, 1, 3000, 2, 65537, 13, 40000}, true},
}

func TestLineSourceMatchesOldEdgeCases(t *testing.T) {
	long := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	errDisk := errors.New("disk on fire")
	tests := []struct {
		name   string
		cfg    oracleConfig
		inputs []oracleInput
	}{
		{"empty", oracleConfig{}, []oracleInput{{name: "a"}}},
		{"no inputs", oracleConfig{}, nil},
		{"only blank lines", oracleConfig{}, []oracleInput{{name: "a", data: "\n\n \n\t\r\n\r\n\v\f\n"}}},
		{"unicode blank lines", oracleConfig{}, []oracleInput{{name: "a", data: "\u00a0\n{}\n\u2028\u3000 \r\n\u0085\n\xc2\n"}}},
		{"last line without newline", oracleConfig{}, []oracleInput{{name: "a", data: "{}\n[1]"}, {name: "b", data: "x"}}},
		{"last line blank without newline", oracleConfig{}, []oracleInput{{name: "a", data: "{}\n  "}, {name: "b", data: "\r"}}},
		{"CRLF and stray CRs", oracleConfig{}, []oracleInput{{name: "a", data: "a\r\nb\r\r\n\r\nc\rd\n\r\re\r"}}},
		{"several inputs with empties", oracleConfig{batchRecords: 2}, []oracleInput{{name: "a", data: "1\n2\n3\n"}, {name: "b"}, {name: "c", data: "\n"}, {name: "-", data: "4\n5"}}},
		{"stdin", oracleConfig{}, []oracleInput{{name: "-", data: "x\n\ny\n"}}},
		{"batch bytes", oracleConfig{batchBytes: 25}, []oracleInput{{name: "a", data: strings.Repeat("0123456789\n", 10)}}},
		{"batch bytes with blank lines", oracleConfig{batchBytes: 7}, []oracleInput{{name: "a", data: "abc\n\n\n  \nde\r\nfgh\n\n\nijklmnop\nq\n"}}},
		{"batch records", oracleConfig{batchRecords: 3}, []oracleInput{{name: "a", data: "1\n\n2\n3\n4\n\n\n5\n6\n"}}},
		{"batch of one", oracleConfig{batchRecords: 1}, []oracleInput{{name: "a", data: "1\n2\n"}, {name: "b", data: "3"}}},
		{"at the limit", oracleConfig{max: 10}, []oracleInput{{name: "a", data: long('a', 10) + "\n" + long('b', 10) + "\r\n" + long('c', 10)}}},
		{"over the limit", oracleConfig{max: 10, spill: true}, []oracleInput{{name: "a", data: long('a', 11) + "\n" + long('b', 11) + "\r\n" + long('c', 12) + "\n" + long('d', 11)}}},
		{"over the limit, no spill", oracleConfig{max: 10}, []oracleInput{{name: "a", data: "x\n" + long('a', 11) + "\nz\n" + long('b', 5000) + "\r\ny\n"}}},
		{"limit and trailing CRs", oracleConfig{max: 3, spill: true}, []oracleInput{{name: "a", data: "abc\r\r\r\n" + "abc\r\r\n" + "ab\r\r\r\r\r\n" + "x\n"}}},
		{"oversize last line", oracleConfig{max: 10, spill: true}, []oracleInput{{name: "a", data: "ok\n" + long('y', 50)}, {name: "b", data: long('z', 11)}}},
		{"oversize blank line", oracleConfig{max: 4, spill: true}, []oracleInput{{name: "a", data: "a\n" + long(' ', 20) + "\nb\n"}}},
		{"oversize over blocks", oracleConfig{max: 1000, spill: true}, []oracleInput{{name: "a", data: "{}\n" + long('x', 300<<10) + "\n{\"after\":1}\n" + long('w', 200<<10)}}},
		{"oversize lines only", oracleConfig{max: 5, spill: true, batchRecords: 2}, []oracleInput{{name: "a", data: strings.Repeat(long('o', 100)+"\n", 9)}}},
		{"long lines within the limit", oracleConfig{max: 1 << 20, batchBytes: 512 << 10}, []oracleInput{{name: "a", data: long('a', 64<<10-1) + "\n" + long('b', 64<<10) + "\r\n" + long('c', 64<<10+1) + "\n" + long('d', 300<<10) + "\n" + long('e', 10)}}},
		{"lines across blocks", oracleConfig{batchRecords: 5000, batchBytes: 10 << 20}, []oracleInput{{name: "a", data: strings.Repeat(long('q', 999)+"\n", 700)}}},
		{"spill dir missing, held line", oracleConfig{max: 10, badSpill: true}, []oracleInput{{name: "a", data: "x\n" + long('a', 11) + "\n"}}},
		{"spill dir missing, long line", oracleConfig{max: 10, badSpill: true}, []oracleInput{{name: "a", data: "x\n" + long('a', 5000) + "\n"}}},
		{"read error", oracleConfig{}, []oracleInput{{name: "a", data: "1\n2\n3\n4", failAt: 5, err: errDisk}}},
		{"read error at a line end", oracleConfig{batchRecords: 2}, []oracleInput{{name: "a", data: "1\n2\n3\n4\n", failAt: 4, err: errDisk}}},
		{"read error in an oversize line", oracleConfig{max: 10, spill: true}, []oracleInput{{name: "a", data: "1\n" + long('a', 100) + "\n2\n", failAt: 50, err: errDisk}}},
		{"open error", oracleConfig{}, []oracleInput{{name: "a", data: "1\n"}, {name: "b", openErr: errDisk}}},
		{"open error after a full batch", oracleConfig{batchRecords: 1}, []oracleInput{{name: "a", data: "1\n"}, {name: "b", openErr: errDisk}}},
		{"reads that return nothing", oracleConfig{}, []oracleInput{{name: "a", data: "1\n2\n", sizes: []int{0}}}},
		{"canceled at the first read", oracleConfig{}, []oracleInput{{name: "a", data: "1\n2\n", cancelAt: 1}}},
		{"canceled mid-input", oracleConfig{batchRecords: 100}, []oracleInput{{name: "a", data: "1\n\n2\n3\n\n\n\n4\n5\n6\n7\n8\n9\n", cancelAt: 3}}},
		{"canceled among blank lines", oracleConfig{}, []oracleInput{{name: "a", data: "1\n" + strings.Repeat("\n", 100) + "2\n3\n", cancelAt: 4}}},
		// Not with a last read that comes with io.EOF: bufio.Reader reads
		// once more after it, LineSource does not.
		{"canceled at an input's end", oracleConfig{}, []oracleInput{{name: "a", data: "1\n2", sizes: []int{1000}, cancelAt: 2}, {name: "b", data: "3\n"}}},
		{"canceled in an oversize line", oracleConfig{max: 10, spill: true}, []oracleInput{{name: "a", data: "1\n" + long('a', 500) + "\n2\n3\n", cancelAt: 5}}},
	}
	for _, tc := range tests {
		for _, ch := range chunkings {
			t.Run(tc.name+"/"+ch.name, func(t *testing.T) {
				inputs := append([]oracleInput(nil), tc.inputs...)
				for i := range inputs {
					if inputs[i].sizes == nil {
						inputs[i].sizes, inputs[i].eofWithData = ch.sizes, ch.eofWithData
					}
				}
				for _, reuse := range []bool{true, false} {
					compareWithOld(t, tc.cfg, inputs, reuse)
				}
			})
		}
	}
}

// randomNDJSON returns n lines of random kinds: JSON-like ones of lengths
// around max (when max > 0) and around the 64KiB blocks the source reads,
// blank ones, CRLF ones, and maybe a last one without a newline.
func randomNDJSON(rng *rand.Rand, n, max int) string {
	var b strings.Builder
	lengths := []int{0, 1, 2, 10, 100, 800, 1500, readSize - 1, readSize, readSize + 1}
	if max > 0 {
		lengths = append(lengths, max-2, max-1, max, max+1, max+2, max+3)
	}
	for i := range n {
		switch rng.IntN(10) {
		case 0:
			b.WriteString([]string{"", " ", "\t", "\r", "  \r", "\u00a0"}[rng.IntN(6)])
		default:
			l := lengths[rng.IntN(len(lengths))]
			if rng.IntN(2) == 0 {
				l = rng.IntN(2000)
			}
			if l < 0 {
				l = 0
			}
			fmt.Fprintf(&b, "{%d", i)
			for range l - 1 - len(fmt.Sprint(i)) {
				b.WriteByte('a' + byte(rng.IntN(26)))
			}
		}
		if i == n-1 && rng.IntN(2) == 0 {
			break // no newline
		}
		if rng.IntN(5) == 0 {
			b.WriteString("\r\n")
		} else {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func TestLineSourceMatchesOldRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	runs := 60
	if testing.Short() {
		runs = 10
	}
	for run := range runs {
		cfg := oracleConfig{
			max:          []int{0, 50, 1000, 3000, readSize, 100 << 10}[rng.IntN(6)],
			batchRecords: []int{0, 1, 3, 50}[rng.IntN(4)],
			batchBytes:   []int{0, 10, 5000, 100 << 10}[rng.IntN(4)],
			spill:        rng.IntN(2) == 0,
		}
		var inputs []oracleInput
		for i := range 1 + rng.IntN(3) {
			in := oracleInput{name: fmt.Sprintf("in%d", i), data: randomNDJSON(rng, rng.IntN(60), cfg.max)}
			ch := chunkings[rng.IntN(len(chunkings))]
			in.sizes, in.eofWithData = ch.sizes, ch.eofWithData
			if rng.IntN(3) == 0 {
				in.sizes = []int{1 + rng.IntN(100000), 1 + rng.IntN(5000), 1 + rng.IntN(10)}
			}
			inputs = append(inputs, in)
		}
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			compareWithOld(t, cfg, inputs, run%2 == 0)
		})
	}
}

// TestLineSourceMemoryBounded reads records far apart, between runs of
// blank lines longer than a read, which the arena holds until it
// compacts: the arena must stay within its bound, the records intact.
func TestLineSourceMemoryBounded(t *testing.T) {
	var in strings.Builder
	blanks := strings.Repeat("\n", 100<<10)
	const n = 200
	for i := range n {
		fmt.Fprintf(&in, "{%d}\n%s", i, blanks)
	}
	src := &LineSource{Inputs: []Input{memInput("a", in.String())}, BatchRecords: 1000, BatchBytes: 1 << 20}
	var b pipeline.Batch
	err := src.Fetch(context.Background(), &b)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if len(b.Records) != n {
		t.Fatalf("records = %d, want %d", len(b.Records), n)
	}
	for i, r := range b.Records {
		if want := fmt.Sprintf("{%d}", i); string(r.Value) != want || r.Line != int64(i*(100<<10+1)+1) {
			t.Fatalf("record %d = line %d %q, want line %d %q", i, r.Line, r.Value, i*(100<<10+1)+1, want)
		}
	}
	if cap(b.Data) > 1<<20 {
		t.Errorf("cap(b.Data) = %d after %d bytes of mostly blank lines: the blank lines were held", cap(b.Data), in.Len())
	}
	compareWithOld(t, oracleConfig{batchRecords: 1000, batchBytes: 1 << 20}, []oracleInput{{name: "a", data: in.String()}}, true)
}

// FuzzLineSource compares LineSource with the old reader on an input
// split in two, read in pieces, with small limits.
func FuzzLineSource(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n\n{\"b\":2}\r\nlast"), uint8(0), uint16(0), uint8(0), uint16(0), uint8(0))
	f.Add([]byte("aaaaaaaaaaaa\r\n\r\nbb\n  \n\xc2\xa0\ncccccccccccccccc"), uint8(3), uint16(1), uint8(2), uint16(5), uint8(3))
	f.Add([]byte(strings.Repeat("0123456789\n", 30)), uint8(17), uint16(9), uint8(4), uint16(25), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, split uint8, max uint16, batchRecords uint8, batchBytes uint16, piece uint8) {
		cut := 0
		if len(data) > 0 {
			cut = int(split) % (len(data) + 1)
		}
		var sizes []int
		if piece > 0 {
			sizes = []int{int(piece), 1, int(piece) * 3}
		}
		inputs := []oracleInput{
			{name: "a", data: string(data[:cut]), sizes: sizes, eofWithData: piece%2 == 1},
			{name: "-", data: string(data[cut:]), sizes: sizes},
		}
		// Spill files are slow to make here: few runs get them.
		cfg := oracleConfig{max: int(max), batchRecords: int(batchRecords), batchBytes: int(batchBytes), spill: max%16 == 1}
		compareWithOld(t, cfg, inputs, piece%3 == 0)
	})
}
