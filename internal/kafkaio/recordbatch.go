package kafkaio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
)

// errLegacyRecords is a fetch response holding a message set of message
// format v0 or v1 (written by brokers before 0.11, or kept in that
// format): appendRecordBatches reads only v2 record batches, and the
// fetcher reads such a response again through kafka-go.
var errLegacyRecords = errors.New("records in message format v0/v1")

// errCorruptBatch is a record batch that does not read: a checksum that
// does not match, or lengths and counts past its end.
var errCorruptBatch = errors.New("corrupt record batch")

// castagnoli is the CRC-32C table of record batches, made on first use:
// made at start-up it cost every command 1.2 million instructions, a
// twentieth of its start.
var castagnoli = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// Record batch v2 layout (Kafka's DefaultRecordBatch): the 12 bytes of
// base offset and length, then, counted by the length, the header below
// and the records.
const (
	batchPrefix = 12 // baseOffset int64, batchLength int32
	// From the partition leader epoch on: epoch int32, magic int8,
	// crc uint32, attributes int16, lastOffsetDelta int32, firstTimestamp
	// int64, maxTimestamp int64, producerId int64, producerEpoch int16,
	// baseSequence int32, records int32.
	batchHeader = 49
	crcStart    = 9 // the checksum covers attributes to the end

	attrCompression   = 0x07
	attrLogAppendTime = 0x08
	attrControl       = 0x20
)

// appendRecordBatches appends to c.recs the records of data, a fetch
// response's records, at or after offset, skipping control batches. It
// returns the offset after the last batch read (offset when none is past
// it) and the size of the records' keys and values.
//
// A batch cut off at the end of data (the broker fills the fetch's bytes
// with what fits) is left for the next fetch. Keys and values of
// uncompressed batches are slices of data, those of compressed batches
// slices of their decompressed bytes; header values are copies. A batch or
// record that does not read ends the records before it: the error is
// returned with next at it, and the caller keeps what was read (a fetch
// from next meets the error again, alone).
func appendRecordBatches(c *chunk, data []byte, offset int64) (next, size int64, err error) {
	next = offset
	for len(data) >= batchPrefix {
		base := int64(binary.BigEndian.Uint64(data))
		n := int64(int32(binary.BigEndian.Uint32(data[8:])))
		// A message set of format v0/v1 has its magic byte where a batch
		// has its own: after the offset, the length and 4 more bytes.
		if len(data) > batchPrefix+4 {
			switch magic := data[batchPrefix+4]; {
			case magic < 2:
				return next, size, errLegacyRecords
			case magic > 2:
				return next, size, fmt.Errorf("%w: batch at offset %d: magic %d", errCorruptBatch, base, magic)
			}
		}
		if n > int64(len(data)-batchPrefix) {
			break // cut off: the next fetch reads it whole
		}
		if n < batchHeader {
			return next, size, fmt.Errorf("%w: batch at offset %d: length %d", errCorruptBatch, base, n)
		}
		b := data[batchPrefix : batchPrefix+n]
		data = data[batchPrefix+n:]
		if crc32.Checksum(b[crcStart:], castagnoli()) != binary.BigEndian.Uint32(b[5:]) {
			return next, size, fmt.Errorf("%w: batch at offset %d: checksum mismatch", errCorruptBatch, base)
		}
		attrs := binary.BigEndian.Uint16(b[9:])
		last := base + int64(int32(binary.BigEndian.Uint32(b[11:])))
		if last < offset || attrs&attrControl != 0 {
			next = max(next, last+1)
			continue
		}
		firstTime := int64(binary.BigEndian.Uint64(b[15:]))
		if attrs&attrLogAppendTime != 0 {
			firstTime = int64(binary.BigEndian.Uint64(b[23:])) // every record has the batch's max timestamp
		}
		count := int(int32(binary.BigEndian.Uint32(b[45:])))
		records := b[batchHeader:]
		if codec := attrs & attrCompression; codec != 0 {
			if records, err = decompress(compress.Compression(codec), records); err != nil {
				return next, size, fmt.Errorf("%w: batch at offset %d: %w", errCorruptBatch, base, err)
			}
		}
		batchNext, batchSize, err := appendRecords(c, records, count, base, last, offset, firstTime, attrs&attrLogAppendTime != 0)
		size += batchSize
		if err != nil {
			return max(next, batchNext), size, fmt.Errorf("%w: batch at offset %d: %w", errCorruptBatch, base, err)
		}
		next = max(next, last+1)
	}
	return next, size, nil
}

// appendRecords appends a batch's count records (data, decompressed) at or
// after offset to c.recs. Their offsets must rise, from base to last. On
// an error, next is the offset after the last record appended (offset
// when none was).
func appendRecords(c *chunk, data []byte, count int, base, last, offset, firstTime int64, logAppendTime bool) (next, size int64, err error) {
	next = offset
	if count < 0 {
		return next, 0, fmt.Errorf("record count %d", count)
	}
	var prev int64
	for i := 0; i < count; i++ {
		n, k := varint(data)
		if k <= 0 || n < 1 || n > int64(len(data)-k) {
			return next, size, fmt.Errorf("record %d: length past the batch", i)
		}
		rec := data[k+1 : k+int(n)] // after the record's attributes (unused)
		data = data[k+int(n):]
		timeDelta, k := varint(rec)
		if k <= 0 {
			return next, size, fmt.Errorf("record %d: timestamp", i)
		}
		offsetDelta, k2 := varint(rec[k:])
		if k2 <= 0 {
			return next, size, fmt.Errorf("record %d: offset", i)
		}
		rec = rec[k+k2:]
		var key, value []byte
		var ok bool
		if key, rec, ok = lengthPrefixed(rec); !ok {
			return next, size, fmt.Errorf("record %d: key", i)
		}
		if value, rec, ok = lengthPrefixed(rec); !ok {
			return next, size, fmt.Errorf("record %d: value", i)
		}
		headerCount, k := varint(rec)
		if k <= 0 || headerCount < 0 || headerCount > int64(len(rec)) {
			return next, size, fmt.Errorf("record %d: header count", i)
		}
		rec = rec[k:]
		var headers []kafka.Header
		if headerCount > 0 {
			headers = make([]kafka.Header, headerCount)
			for h := range headers {
				var hk, hv []byte
				if hk, rec, ok = lengthPrefixed(rec); !ok || hk == nil {
					return next, size, fmt.Errorf("record %d: header %d key", i, h)
				}
				if hv, rec, ok = lengthPrefixed(rec); !ok {
					return next, size, fmt.Errorf("record %d: header %d value", i, h)
				}
				headers[h] = kafka.Header{Key: string(hk), Value: bytes.Clone(hv)}
			}
		}
		off := base + offsetDelta
		if offsetDelta < 0 || off > last || (i > 0 && off <= prev) {
			return next, size, fmt.Errorf("record %d: offset %d out of order", i, off)
		}
		prev = off
		if off < offset {
			continue
		}
		t := firstTime
		if !logAppendTime {
			t += timeDelta
		}
		c.recs = append(c.recs, chunkRecord{offset: off, time: time.UnixMilli(t), key: key, value: value, headers: headers})
		size += int64(len(key) + len(value))
		next = off + 1
	}
	return next, size, nil
}

// varint reads a zigzag varint as Kafka's records write them; k <= 0 when
// it does not read (binary.Varint's convention). Lengths of up to 8 KiB
// take the one- and two-byte paths.
func varint(b []byte) (v int64, k int) {
	if len(b) > 0 && b[0] < 0x80 {
		u := uint64(b[0])
		return int64(u>>1) ^ -int64(u&1), 1
	}
	if len(b) > 1 && b[1] < 0x80 {
		u := uint64(b[0]&0x7f) | uint64(b[1])<<7
		return int64(u>>1) ^ -int64(u&1), 2
	}
	return binary.Varint(b)
}

// lengthPrefixed reads a varint length and that many bytes: nil for the
// length -1 (null), an empty non-nil slice for 0.
func lengthPrefixed(b []byte) (field, rest []byte, ok bool) {
	n, k := varint(b)
	if k <= 0 || n < -1 || n > int64(len(b)-k) {
		return nil, b, false
	}
	if n == -1 {
		return nil, b[k:], true
	}
	end := k + int(n)
	return b[k:end:end], b[end:], true
}

// decompress returns the decompressed records of a batch.
func decompress(codec compress.Compression, data []byte) ([]byte, error) {
	c := codec.Codec()
	if c == nil {
		return nil, fmt.Errorf("unknown compression %d", codec)
	}
	r := c.NewReader(bytes.NewReader(data))
	defer r.Close()
	out := bytes.NewBuffer(make([]byte, 0, 4*len(data)))
	if _, err := io.Copy(out, r); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name(), err)
	}
	return out.Bytes(), nil
}
