package kafkaio

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"testing"
)

// testRecord is a record for encodeBatch; nil key or value are null.
type testRecord struct {
	key, value []byte
	headers    [][2][]byte
}

// encodeBatch encodes records as a v2 record batch at base offset, as a
// producer writes one (uncompressed), with consecutive offsets and
// timestamps 1 ms apart from firstTime.
func encodeBatch(base, firstTime int64, attrs uint16, recs []testRecord) []byte {
	var records []byte
	for i, r := range recs {
		var body []byte
		body = append(body, 0) // attributes
		body = binary.AppendVarint(body, int64(i))
		body = binary.AppendVarint(body, int64(i))
		body = appendVarBytes(body, r.key)
		body = appendVarBytes(body, r.value)
		body = binary.AppendVarint(body, int64(len(r.headers)))
		for _, h := range r.headers {
			body = appendVarBytes(body, h[0])
			body = appendVarBytes(body, h[1])
		}
		records = binary.AppendVarint(records, int64(len(body)))
		records = append(records, body...)
	}
	var b []byte
	b = binary.BigEndian.AppendUint64(b, uint64(base))
	b = binary.BigEndian.AppendUint32(b, 0) // length, below
	b = binary.BigEndian.AppendUint32(b, 0) // partition leader epoch
	b = append(b, 2)
	b = binary.BigEndian.AppendUint32(b, 0) // crc, below
	b = binary.BigEndian.AppendUint16(b, attrs)
	b = binary.BigEndian.AppendUint32(b, uint32(max(len(recs)-1, 0)))
	b = binary.BigEndian.AppendUint64(b, uint64(firstTime))
	b = binary.BigEndian.AppendUint64(b, uint64(firstTime+int64(max(len(recs)-1, 0))))
	b = binary.BigEndian.AppendUint64(b, ^uint64(0)) // producer id -1
	b = binary.BigEndian.AppendUint16(b, ^uint16(0))
	b = binary.BigEndian.AppendUint32(b, ^uint32(0))
	b = binary.BigEndian.AppendUint32(b, uint32(len(recs)))
	b = append(b, records...)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-batchPrefix))
	binary.BigEndian.PutUint32(b[batchPrefix+5:], crc32.Checksum(b[batchPrefix+crcStart:], castagnoli()))
	return b
}

func appendVarBytes(b, field []byte) []byte {
	if field == nil {
		return binary.AppendVarint(b, -1)
	}
	return append(binary.AppendVarint(b, int64(len(field))), field...)
}

func readBatches(data []byte, offset int64) (*chunk, int64, error) {
	c := &chunk{}
	next, _, err := appendRecordBatches(c, data, offset)
	return c, next, err
}

// TestAppendRecordBatches covers what a fetch response's records can be
// beside well-formed batches: each case's records read, the offset to
// fetch next and the error.
func TestAppendRecordBatches(t *testing.T) {
	three := []testRecord{{key: []byte("a"), value: []byte("1")}, {value: []byte("2")}, {key: []byte{}, value: nil,
		headers: [][2][]byte{{[]byte("h"), []byte("v")}, {[]byte("n"), nil}}}}
	b0 := encodeBatch(0, 1000, 0, three)
	b3 := encodeBatch(3, 2000, 0, three)
	control := encodeBatch(6, 3000, attrControl, []testRecord{{key: []byte{0, 0, 0, 1}, value: []byte{0, 0, 0, 0, 0, 0}}})
	logAppend := encodeBatch(0, 5000, attrLogAppendTime, three)
	corrupt := append([]byte(nil), b3...)
	corrupt[len(corrupt)-1] ^= 1
	legacy := append([]byte(nil), b3...)
	legacy[batchPrefix+4] = 1
	badLength := append([]byte(nil), b0...)
	binary.BigEndian.PutUint32(badLength[8:], 10)
	// A record whose length runs past its batch (the checksum made right).
	badRecord := append([]byte(nil), b3...)
	badRecord[batchPrefix+batchHeader] = 0x7e // the first record's length: 63
	binary.BigEndian.PutUint32(badRecord[batchPrefix+5:], crc32.Checksum(badRecord[batchPrefix+crcStart:], castagnoli()))
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		offset  int64
		offsets []int64
		next    int64
		err     error
	}{
		{"empty", nil, 0, nil, 0, nil},
		{"two batches", cat(b0, b3), 0, []int64{0, 1, 2, 3, 4, 5}, 6, nil},
		{"from the middle of a batch", cat(b0, b3), 4, []int64{4, 5}, 6, nil},
		{"a batch before the offset", cat(b0, b3), 3, []int64{3, 4, 5}, 6, nil},
		{"control batch skipped", cat(b3, control), 3, []int64{3, 4, 5}, 7, nil},
		{"only a control batch", control, 6, nil, 7, nil},
		{"second batch cut off", cat(b0, b3[:len(b3)-1]), 0, []int64{0, 1, 2}, 3, nil},
		{"cut off in its prefix", cat(b0, b3[:10]), 0, []int64{0, 1, 2}, 3, nil},
		{"checksum mismatch after a batch", cat(b0, corrupt), 0, []int64{0, 1, 2}, 3, errCorruptBatch},
		{"checksum mismatch first", corrupt, 3, nil, 3, errCorruptBatch},
		{"message format v1", cat(b0, legacy), 0, []int64{0, 1, 2}, 3, errLegacyRecords},
		{"length shorter than a header", badLength, 0, nil, 0, errCorruptBatch},
		{"record past its batch", badRecord, 3, nil, 3, errCorruptBatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, next, err := readBatches(tc.data, tc.offset)
			var offsets []int64
			for _, r := range c.recs {
				offsets = append(offsets, r.offset)
			}
			if !slices.Equal(offsets, tc.offsets) || next != tc.next || !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("offsets %v, next %d, err %v; want %v, %d, %v", offsets, next, err, tc.offsets, tc.next, tc.err)
			}
		})
	}

	c, _, err := readBatches(cat(b0, logAppend), 0)
	if err != nil {
		t.Fatal(err)
	}
	r := c.recs
	if r[0].time.UnixMilli() != 1000 || r[2].time.UnixMilli() != 1002 || r[3].time.UnixMilli() != 5002 || r[5].time.UnixMilli() != 5002 {
		t.Errorf("times %v %v %v %v: want create times 1000, 1002 and the log append time 5002", r[0].time, r[2].time, r[3].time, r[5].time)
	}
	if string(r[0].key) != "a" || r[1].key != nil || r[2].key == nil || len(r[2].key) != 0 || r[2].value != nil || string(r[1].value) != "2" {
		t.Errorf("keys and values: %q %q %q / %q %q %q", r[0].key, r[1].key, r[2].key, r[0].value, r[1].value, r[2].value)
	}
	if h := r[2].headers; len(h) != 2 || h[0].Key != "h" || string(h[0].Value) != "v" || h[1].Key != "n" || h[1].Value != nil {
		t.Errorf("headers %v", h)
	}
}

// TestVarint compares varint's one- and two-byte paths with
// binary.Varint at every value they cover and around them.
func TestVarint(t *testing.T) {
	for v := int64(-20_000); v <= 20_000; v++ {
		b := binary.AppendVarint(nil, v)
		got, k := varint(b)
		want, wk := binary.Varint(b)
		if got != want || k != wk {
			t.Fatalf("%d: varint %d/%d, binary.Varint %d/%d", v, got, k, want, wk)
		}
		if got, k := varint(b[:len(b)-1]); k > 0 {
			t.Fatalf("%d cut short: read %d/%d", v, got, k)
		}
	}
}

// FuzzRecordBatches feeds appendRecordBatches arbitrary bytes: it never
// panics; every record's offset is at or after the one asked for and
// before next, in increasing order; without an error next is at least
// the offset asked for. With fixCRC, the fuzzer's bytes get right
// checksums, so that it reaches the records.
func FuzzRecordBatches(f *testing.F) {
	three := []testRecord{{key: []byte("a"), value: []byte("1")}, {value: []byte("2")},
		{key: []byte{}, headers: [][2][]byte{{[]byte("h"), []byte("v")}}}}
	f.Add(encodeBatch(0, 1000, 0, three), int64(0), true)
	f.Add(append(encodeBatch(0, 1000, 0, three), encodeBatch(3, 1000, attrControl, three[:1])...), int64(1), true)
	f.Add(encodeBatch(7, 1000, 1, three), int64(7), false) // "gzip" that is not
	f.Fuzz(func(t *testing.T, data []byte, offset int64, fixCRC bool) {
		if fixCRC {
			for b := data; len(b) >= batchPrefix+batchHeader; {
				n := int(int32(binary.BigEndian.Uint32(b[8:])))
				if n < batchHeader || n > len(b)-batchPrefix {
					break
				}
				binary.BigEndian.PutUint32(b[batchPrefix+5:], crc32.Checksum(b[batchPrefix+crcStart:batchPrefix+n], castagnoli()))
				b = b[batchPrefix+n:]
			}
		}
		c := &chunk{}
		next, size, err := appendRecordBatches(c, data, offset)
		if err == nil && next < offset {
			t.Fatalf("next %d before offset %d", next, offset)
		}
		prev := offset - 1
		var total int64
		for _, r := range c.recs {
			if r.offset <= prev || r.offset >= next {
				t.Fatalf("record at %d: after %d, next %d", r.offset, prev, next)
			}
			prev = r.offset
			total += int64(len(r.key) + len(r.value))
		}
		if total != size {
			t.Fatalf("size %d, records' keys and values %d", size, total)
		}
	})
}
