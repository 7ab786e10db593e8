package decode_test

import (
	"testing"

	"flagstream/internal/dev/synth"
	"flagstream/pipeline/decode"
)

// synthRecords returns n well-formed synthetic records, a share v2Rate of
// them API v2 responses and the rest v1.1 tweets.
func synthRecords(n int, v2Rate float64) [][]byte {
	g := synth.New(synth.Config{
		Seed:        1,
		Handles:     synth.Handles(1, 50),
		Hashtags:    []string{"FarmerGenocide", "ModiPlanningFarmerGenocide"},
		FlagRate:    0.05,
		EvasiveRate: 0.02,
		V2Rate:      v2Rate,
	})
	records := make([][]byte, 0, n)
	for len(records) < n {
		rec, kind := g.Next(nil)
		if kind != synth.Malformed {
			records = append(records, rec)
		}
	}
	return records
}

func totalBytes(records [][]byte) int {
	n := 0
	for _, r := range records {
		n += len(r)
	}
	return n
}

// benchmarkRecords decodes one record per operation, round robin, with
// Decode as the pipeline uses it, or with the full parse alone (full).
func benchmarkRecords(b *testing.B, records [][]byte, full bool) {
	var d decode.Decoder
	if full {
		decode.FullParseOnly(&d)
	}
	for _, r := range records {
		if _, err := d.Decode(r); err != nil {
			b.Fatalf("Decode(%s): %v", r, err)
		}
	}
	b.SetBytes(int64(totalBytes(records) / len(records)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := d.Decode(records[i]); err != nil {
			b.Fatal(err)
		}
		i++
		if i == len(records) {
			i = 0
		}
	}
}

func BenchmarkDecodeV1(b *testing.B) { benchmarkRecords(b, synthRecords(1024, 0), false) }

func BenchmarkDecodeV2(b *testing.B) { benchmarkRecords(b, synthRecords(1024, 1), false) }

// BenchmarkDecodeFullParseV1 and V2 decode with fastjson alone, the
// on-demand reader's fallback: the baseline of BenchmarkDecodeV1 and V2.
func BenchmarkDecodeFullParseV1(b *testing.B) { benchmarkRecords(b, synthRecords(1024, 0), true) }

func BenchmarkDecodeFullParseV2(b *testing.B) { benchmarkRecords(b, synthRecords(1024, 1), true) }

// BenchmarkDecodeCorpus decodes every record of a corpus per operation.
func BenchmarkDecodeCorpus(b *testing.B) {
	for _, c := range corpora {
		for _, full := range []bool{false, true} {
			name := c.name + "/decode"
			if full {
				name = c.name + "/full-parse"
			}
			b.Run(name, func(b *testing.B) { benchmarkCorpus(b, corpusRecords(b, c), full) })
		}
	}
}

// benchmarkCorpus decodes every record of a corpus per operation.
func benchmarkCorpus(b *testing.B, records [][]byte, full bool) {
	var d decode.Decoder
	if full {
		decode.FullParseOnly(&d)
	}
	for _, r := range records {
		if _, err := d.Decode(r); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(totalBytes(records)))
	b.ReportAllocs()
	tweets := 0
	for b.Loop() {
		for _, r := range records {
			posts, err := d.Decode(r)
			if err != nil {
				b.Fatal(err)
			}
			tweets += len(posts)
		}
	}
	b.ReportMetric(float64(tweets)/b.Elapsed().Seconds(), "tweets/s")
}

// TestDecodeAllocs checks that a warmed-up decoder allocates nothing per
// record.
func TestDecodeAllocs(t *testing.T) {
	sets := []struct {
		name    string
		records func(testing.TB) [][]byte
	}{
		{"synth v1.1", func(testing.TB) [][]byte { return synthRecords(200, 0) }},
		{"synth v2", func(testing.TB) [][]byte { return synthRecords(200, 1) }},
		{"hostile", func(testing.TB) [][]byte {
			var out [][]byte
			for _, tc := range hostileCases() {
				if tc.limits == (decode.Limits{}) && len(tc.record) < 4096 {
					out = append(out, []byte(tc.record))
				}
			}
			return out
		}},
	}
	for _, c := range corpora {
		sets = append(sets, struct {
			name    string
			records func(testing.TB) [][]byte
		}{c.name, func(tb testing.TB) [][]byte { return corpusRecords(tb, c) }})
	}
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			records := set.records(t)
			var d decode.Decoder
			decodeAll := func() {
				for _, r := range records {
					d.Decode(r)
				}
			}
			decodeAll()
			allocs := testing.AllocsPerRun(20, decodeAll)
			if set.name == "hostile" {
				// Rejections write a message; they must not grow
				// with the record, but they do allocate.
				perRecord := allocs / float64(len(records))
				t.Logf("%.1f allocations per rejected record", perRecord)
				if perRecord > 8 {
					t.Errorf("%.1f allocations per rejected record, want at most 8", perRecord)
				}
				return
			}
			if allocs != 0 {
				t.Errorf("%v allocations per run of %d records, want 0", allocs, len(records))
			}
		})
	}
}
