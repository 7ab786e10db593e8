package files

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flagstream/pipeline"
)

// fetcher is what the benchmarks and the oracle tests use of a source.
type fetcher interface {
	Fetch(ctx context.Context, b *pipeline.Batch) error
	Close() error
}

// writeBenchFile writes about size bytes of NDJSON lines of tweet-like
// lengths (200 to 1,600 bytes, about 800 on average, as in the scan
// benchmark's input) to a file in dir and returns its name and size.
func writeBenchFile(tb testing.TB, dir string, size int) (string, int64) {
	tb.Helper()
	path := filepath.Join(dir, "bench.ndjson")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(1, 2))
	text := strings.Repeat("lorem ipsum dolor sit amet ", 64)
	var n int
	for i := 0; n < size; i++ {
		line := fmt.Sprintf(`{"data":{"id":"%d","text":"%s"}}`+"\n", i, text[:150+rng.IntN(1400)])
		w.WriteString(line)
		n += len(line)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path, int64(n)
}

// benchSource reads a 32 MiB file to its end per op through the source
// that newSource makes, reusing one batch as the pipeline does.
func benchSource(b *testing.B, newSource func([]Input) fetcher) {
	path, size := writeBenchFile(b, b.TempDir(), 32<<20)
	b.SetBytes(size)
	b.ReportAllocs()
	var batch pipeline.Batch
	ctx := context.Background()
	for b.Loop() {
		src := newSource(OpenInputs([]string{path}, nil))
		var records int
		for {
			batch.Records, batch.Data = batch.Records[:0], batch.Data[:0]
			err := src.Fetch(ctx, &batch)
			records += len(batch.Records)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		src.Close()
		if records == 0 {
			b.Fatal("no records")
		}
	}
}

func BenchmarkLineSource(b *testing.B) {
	benchSource(b, func(in []Input) fetcher { return &LineSource{Inputs: in} })
}

// BenchmarkLineSourceOld is BenchmarkLineSource for the old source, the
// oracle in oldsource_test.go.
func BenchmarkLineSourceOld(b *testing.B) {
	benchSource(b, func(in []Input) fetcher { return &oldLineSource{Inputs: in} })
}
