package kafkaio

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"flagstream/config"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/testkit"
)

// wireRecord is a fetched record as the tests compare them.
type wireRecord struct {
	offset     int64
	time       time.Time
	key, value []byte
	headers    []string
}

func (r wireRecord) String() string {
	return fmt.Sprintf("%d %v key=%q(nil=%v) value=%d bytes(nil=%v) headers=%q", r.offset, r.time.UnixMilli(),
		r.key, r.key == nil, len(r.value), r.value == nil, r.headers)
}

func sameRecord(a, b wireRecord) bool {
	return a.offset == b.offset && a.time.Equal(b.time) && bytes.Equal(a.key, b.key) && (a.key == nil) == (b.key == nil) &&
		bytes.Equal(a.value, b.value) && (a.value == nil) == (b.value == nil) && slices.Equal(a.headers, b.headers)
}

// fetchAll reads partition 0 of f's topic from offset up to end with
// fetchChunk, and returns its records; wire says which way each chunk
// must have come (a chunk holding a response buffer came over the wire).
func fetchAll(t *testing.T, f *Fetcher, from, end int64, wire bool) []wireRecord {
	t.Helper()
	ctx := context.Background()
	var out []wireRecord
	for offset, fetches := from, 0; offset < end; fetches++ {
		if fetches > 1000 {
			t.Fatalf("no progress at offset %d", offset)
		}
		c, next, _, err := f.fetchChunk(ctx, 0, offset, fetchOptions{})
		if err != nil {
			t.Fatalf("fetch at %d: %v", offset, err)
		}
		if next <= offset && c == nil {
			t.Fatalf("fetch at %d: nothing, next %d", offset, next)
		}
		if c != nil {
			if (c.buf != nil) != wire {
				t.Fatalf("fetch at %d: chunk over the wire = %v, want %v", offset, c.buf != nil, wire)
			}
			for _, r := range c.recs {
				wr := wireRecord{offset: r.offset, time: r.time, key: bytes.Clone(r.key), value: bytes.Clone(r.value)}
				for _, h := range r.headers {
					wr.headers = append(wr.headers, headerString(h.Key, h.Value))
				}
				out = append(out, wr)
			}
			c.release()
		}
		offset = next
	}
	return out
}

// produceVaried produces, with franz-go (a client other than kafka-go),
// batches of records of every shape to partition 0 of topic with codec:
// null and empty keys and values, headers (one with a null value),
// values past the two-byte varint lengths, and two transactions, one
// aborted (its records stay, read uncommitted) and one committed (each
// ends with a control batch). It returns the records as produced, with
// the offsets the broker gave them, and the end offset.
func produceVaried(t *testing.T, addr, topic string, codec kgo.CompressionCodec) ([]wireRecord, int64) {
	t.Helper()
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerBatchCompression(codec), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionalID("wire-test-"+topic), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	record := func(i int) *kgo.Record {
		r := &kgo.Record{Partition: 0, Key: []byte(fmt.Sprintf("k%d", i)), Value: bytes.Repeat([]byte{byte('a' + i%26)}, 1+i%300),
			Timestamp: time.UnixMilli(1_600_000_000_000 + int64(i)*1_000)}
		switch {
		case i%7 == 0:
			r.Key = nil
		case i%7 == 1:
			r.Key = []byte{}
		}
		switch {
		case i%11 == 0:
			r.Value = nil
		case i%11 == 1:
			r.Value = []byte{}
		case i%50 == 2:
			r.Value = bytes.Repeat([]byte("0123456789"), 2_000) // 20 KB: a three-byte length
		}
		if i%5 == 0 {
			r.Headers = []kgo.RecordHeader{{Key: "h", Value: []byte(fmt.Sprint(i))}, {Key: "null", Value: nil}}
		}
		return r
	}
	var produced []wireRecord
	i := 0
	for _, size := range []int{1, 40, 3, 120, 2, 60} {
		for _, tx := range []string{"abort", "commit"} {
			if err := cl.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			rs := make([]*kgo.Record, size)
			for j := range rs {
				rs[j] = record(i)
				i++
			}
			results := cl.ProduceSync(ctx, rs...)
			if err := results.FirstErr(); err != nil {
				t.Fatal(err)
			}
			for _, res := range results {
				r := res.Record
				wr := wireRecord{offset: r.Offset, time: r.Timestamp, key: r.Key, value: r.Value}
				for _, h := range r.Headers {
					wr.headers = append(wr.headers, headerString(h.Key, h.Value))
				}
				produced = append(produced, wr)
			}
			if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(tx == "commit")); err != nil {
				t.Fatal(err)
			}
		}
	}
	f := NewFetcher(Connection{Brokers: []string{addr}}, topic, 0, 0)
	defer f.Close()
	end, err := f.End(ctx, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(produced, func(a, b wireRecord) int { return int(a.offset - b.offset) })
	return produced, end[0]
}

func headerString(key string, value []byte) string {
	return fmt.Sprintf("%s=%q(nil=%v)", key, value, value == nil)
}

// TestWireFetch reads records over the wire (appendRecordBatches) from
// every fifth offset (some in the middle of a batch, some at a control
// record), with fetches of 1 MiB and of 9,000 bytes (which cut batches
// off), for each compression codec: they are the records franz-go
// produced, in offset order, with their times, keys, values and headers,
// null or empty as produced; so does the fetch through kafka-go.
func TestWireFetch(t *testing.T) {
	broker, err := devbroker.Start(devbroker.Config{Listen: "127.0.0.1:0", Partitions: 1,
		Topics: []string{"wire-none", "wire-gzip", "wire-snappy", "wire-lz4", "wire-zstd"}})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	conn := Connection{Brokers: []string{broker.Addr()}}
	for _, tc := range []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"none", kgo.NoCompression()}, {"gzip", kgo.GzipCompression()}, {"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()}, {"zstd", kgo.ZstdCompression()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := "wire-" + tc.name
			produced, end := produceVaried(t, broker.Addr(), topic, tc.codec)
			if int64(len(produced)) >= end {
				t.Fatalf("%d records produced, end offset %d: no control records", len(produced), end)
			}
			for _, maxBytes := range []int{1 << 20, 9_000} {
				wire := NewFetcher(conn, topic, 100*time.Millisecond, maxBytes)
				defer wire.Close()
				for from := int64(0); from < end; from += 5 {
					got := fetchAll(t, wire, from, end, true)
					want := produced[slices.IndexFunc(produced, func(r wireRecord) bool { return r.offset >= from }):]
					compareRecords(t, fmt.Sprintf("max bytes %d, from %d, over the wire", maxBytes, from), got, want, sameRecord)
				}
				viaKafkaGo := NewFetcher(conn, topic, 100*time.Millisecond, maxBytes)
				viaKafkaGo.wire = nil
				compareRecords(t, fmt.Sprintf("max bytes %d, through kafka-go", maxBytes), fetchAll(t, viaKafkaGo, 0, end, false), produced, sameRecord)
			}
		})
	}
}

func compareRecords(t *testing.T, what string, got, want []wireRecord, same func(a, b wireRecord) bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !same(got[i], want[i]) {
			t.Fatalf("%s: record %d\ngot:  %v\nwant: %v", what, i, got[i], want[i])
		}
	}
}

// TestWireFetchTLS fetches over TLS: the wire fetcher makes its own TLS
// connections, verifying the broker's certificate against the CA given.
func TestWireFetchTLS(t *testing.T) {
	serverTLS, caFile := testkit.SelfSigned(t)
	broker, err := devbroker.Start(devbroker.Config{Listen: "127.0.0.1:0", Partitions: 1, Topics: []string{"tls"}, TLS: serverTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	clientTLS, err := tlsConfig(config.TLS{CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	conn := Connection{Brokers: []string{broker.Addr()}, TLS: clientTLS}
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addr()), kgo.DialTLSConfig(conn.TLS.Clone()), kgo.DefaultProduceTopic("tls"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 10 {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Partition: 0, Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	f := NewFetcher(conn, "tls", 100*time.Millisecond, 0)
	defer f.Close()
	got := fetchAll(t, f, 0, 10, true)
	if len(got) != 10 || string(got[9].value) != "9" {
		t.Fatalf("read %v", got)
	}

	// The same fetcher, but its own connections do not trust the CA.
	untrusted := NewFetcher(conn, "tls", 100*time.Millisecond, 0)
	defer untrusted.Close()
	untrusted.wire.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, _, err := untrusted.fetchChunk(ctx, 0, 0, fetchOptions{}); err == nil || !strings.Contains(err.Error(), "tls handshake") {
		t.Fatalf("fetch from a broker whose certificate is not trusted: %v", err)
	}
}

// FuzzFetchResponse feeds parseFetchResponse arbitrary bytes: it never
// panics, and the records it finds lie within the response.
func FuzzFetchResponse(f *testing.F) {
	var seed []byte
	seed = binary.BigEndian.AppendUint32(seed, 0) // throttle
	seed = binary.BigEndian.AppendUint32(seed, 1)
	seed = appendString(seed, "t")
	seed = binary.BigEndian.AppendUint32(seed, 1)
	seed = binary.BigEndian.AppendUint32(seed, 0) // partition
	seed = binary.BigEndian.AppendUint16(seed, 0) // error code
	seed = binary.BigEndian.AppendUint64(seed, 3) // high watermark
	seed = binary.BigEndian.AppendUint64(seed, 3) // last stable offset
	seed = binary.BigEndian.AppendUint32(seed, 1) // one aborted transaction
	seed = append(seed, make([]byte, 16)...)
	batch := encodeBatch(0, 1000, 0, []testRecord{{value: []byte("v")}})
	seed = binary.BigEndian.AppendUint32(seed, uint32(len(batch)))
	seed = append(seed, batch...)
	f.Add(seed, 0)
	f.Add(seed, 1)
	f.Fuzz(func(t *testing.T, data []byte, partition int) {
		res, err := parseFetchResponse(data, "t", partition)
		if err != nil {
			return
		}
		if len(res.records) > 0 && !bytes.Contains(data, res.records) {
			t.Fatalf("records not within the response")
		}
	})
}

// TestWireFetchSASL fetches over connections that authenticate with SASL
// (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), and is refused with a wrong
// password.
func TestWireFetchSASL(t *testing.T) {
	for _, tc := range []struct{ mechanism, kfake string }{
		{"plain", "PLAIN"}, {"scram-sha-256", "SCRAM-SHA-256"}, {"scram-sha-512", "SCRAM-SHA-512"},
	} {
		t.Run(tc.mechanism, func(t *testing.T) {
			broker, err := devbroker.Start(devbroker.Config{Listen: "127.0.0.1:0", Partitions: 1, Topics: []string{"sasl"},
				Users: []devbroker.User{{Mechanism: tc.kfake, Name: "flagstream", Password: "right"}}})
			if err != nil {
				t.Fatal(err)
			}
			defer broker.Close()
			connWith := func(password string) Connection {
				m, err := saslMechanism(config.SASL{Mechanism: tc.mechanism, Username: "flagstream", Password: config.NewSecret(password)})
				if err != nil {
					t.Fatal(err)
				}
				return Connection{Brokers: []string{broker.Addr()}, SASL: m}
			}
			conn := connWith("right")
			w := kafka.Writer{Addr: kafka.TCP(broker.Addr()), Topic: "sasl", Transport: conn.transport(), BatchTimeout: time.Millisecond}
			for i := range 5 {
				if err := w.WriteMessages(context.Background(), kafka.Message{Value: []byte(fmt.Sprint(i))}); err != nil {
					t.Fatal(err)
				}
			}
			w.Close()
			f := NewFetcher(conn, "sasl", 100*time.Millisecond, 0)
			defer f.Close()
			if got := fetchAll(t, f, 0, 5, true); len(got) != 5 || string(got[4].value) != "4" {
				t.Fatalf("read %v", got)
			}

			// The same fetcher, but its own connections authenticate with
			// a wrong password: they are refused.
			wrong := NewFetcher(conn, "sasl", 100*time.Millisecond, 0)
			defer wrong.Close()
			wrong.wire.sasl = connWith("wrong").SASL
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, _, _, err := wrong.fetchChunk(ctx, 0, 0, fetchOptions{}); err == nil || !strings.Contains(err.Error(), "SASL") {
				t.Fatalf("fetch with a wrong password: %v", err)
			}
		})
	}
}

// TestWireFetchStaleConnection fetches again after the idle connection
// broke (as when the broker closes one idle for too long): the fetch
// succeeds on a fresh connection, without an error.
func TestWireFetchStaleConnection(t *testing.T) {
	broker, err := devbroker.Start(devbroker.Config{Listen: "127.0.0.1:0", Partitions: 1, Topics: []string{"stale"}})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	conn := Connection{Brokers: []string{broker.Addr()}}
	produced, end := produceVaried(t, broker.Addr(), "stale", kgo.NoCompression())
	f := NewFetcher(conn, "stale", 100*time.Millisecond, 0)
	defer f.Close()
	compareRecords(t, "first read", fetchAll(t, f, 0, end, true), produced, sameRecord)
	f.wire.mu.Lock()
	var broken int
	for _, idle := range f.wire.idle {
		for _, c := range idle {
			c.Conn.Close()
			broken++
		}
	}
	f.wire.mu.Unlock()
	if broken == 0 {
		t.Fatal("no idle connection after the first read")
	}
	compareRecords(t, "after the connection broke", fetchAll(t, f, 0, end, true), produced, sameRecord)
}

// TestWireFetchCancel ends a fetch that waits on the broker (an empty
// partition, a long wait) as soon as its context is done, as the end of a
// group generation does, and does not keep its connection for reuse.
func TestWireFetchCancel(t *testing.T) {
	broker, err := devbroker.Start(devbroker.Config{Listen: "127.0.0.1:0", Partitions: 1, Topics: []string{"empty"}})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	f := NewFetcher(Connection{Brokers: []string{broker.Addr()}}, "empty", 20*time.Second, 0)
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, _, _, err := f.fetchChunk(ctx, 0, 0, fetchOptions{})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("fetch ended with %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("fetch still waiting 5 s after its context ended")
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("fetch took %v", elapsed)
	}
	f.wire.mu.Lock()
	defer f.wire.mu.Unlock()
	for addr, idle := range f.wire.idle {
		if len(idle) > 0 {
			t.Errorf("%d connections to %s kept after an interrupted fetch", len(idle), addr)
		}
	}
}

// TestWireFetchLeaders reads the partitions of a topic led by different
// brokers of a three-broker cluster, each from its own leader, and goes
// on reading a partition whose leadership moved: the fetch from the old
// leader fails (not the leader), the next one asks the cluster again.
func TestWireFetchLeaders(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(3, "multi"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addrs := c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.DefaultProduceTopic("multi"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(partition int32, n int) {
		for i := range n {
			if err := cl.ProduceSync(context.Background(), &kgo.Record{Partition: partition, Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	leaders := map[int32]bool{}
	for p := range int32(3) {
		produce(p, 10)
		leaders[c.LeaderFor("multi", p)] = true
	}
	f := NewFetcher(Connection{Brokers: addrs[:1]}, "multi", 100*time.Millisecond, 0)
	defer f.Close()
	read := func(partition int, want int) {
		t.Helper()
		var got int
		var failed int
		for offset := int64(0); offset < int64(want); {
			ch, next, _, err := f.fetchChunk(context.Background(), partition, offset, fetchOptions{})
			if err != nil {
				if failed++; failed > 1 {
					t.Fatalf("partition %d at %d: %v (after one failure already)", partition, offset, err)
				}
				continue
			}
			if ch != nil {
				got += len(ch.recs)
				ch.release()
			}
			offset = next
		}
		if got != want {
			t.Fatalf("partition %d: %d records, want %d", partition, got, want)
		}
	}
	for p := range 3 {
		read(p, 10)
	}
	f.wire.mu.Lock()
	fetchedFrom := map[string]bool{}
	for p, addr := range f.wire.leaders {
		fetchedFrom[addr] = true
		if len(f.wire.idle[addr]) == 0 {
			t.Errorf("no connection to %s, partition %d's leader", addr, p)
		}
	}
	f.wire.mu.Unlock()
	if len(fetchedFrom) != len(leaders) {
		t.Errorf("fetched from %d brokers, the partitions have %d leaders", len(fetchedFrom), len(leaders))
	}

	old := c.LeaderFor("multi", 0)
	if err := c.MoveTopicPartition("multi", 0, (old+1)%3); err != nil {
		t.Fatal(err)
	}
	produce(0, 5)
	read(0, 15)
}

// FuzzMetadataResponse feeds parseMetadataResponse arbitrary bytes: it
// never panics, and every leader it finds is a host:port.
func FuzzMetadataResponse(f *testing.F) {
	var seed []byte
	seed = binary.BigEndian.AppendUint32(seed, 2) // brokers
	for id := range uint32(2) {
		seed = binary.BigEndian.AppendUint32(seed, id)
		seed = appendString(seed, "127.0.0.1")
		seed = binary.BigEndian.AppendUint32(seed, 9092+id)
		seed = binary.BigEndian.AppendUint16(seed, 0xffff) // no rack
	}
	seed = binary.BigEndian.AppendUint32(seed, 0) // controller
	seed = binary.BigEndian.AppendUint32(seed, 1) // topics
	seed = binary.BigEndian.AppendUint16(seed, 0)
	seed = appendString(seed, "t")
	seed = append(seed, 0)
	seed = binary.BigEndian.AppendUint32(seed, 2) // partitions
	for p := range uint32(2) {
		seed = binary.BigEndian.AppendUint16(seed, 0)
		seed = binary.BigEndian.AppendUint32(seed, p)
		seed = binary.BigEndian.AppendUint32(seed, p) // leader
		seed = binary.BigEndian.AppendUint32(seed, 1) // replicas
		seed = binary.BigEndian.AppendUint32(seed, p)
		seed = binary.BigEndian.AppendUint32(seed, 1) // ISR
		seed = binary.BigEndian.AppendUint32(seed, p)
	}
	if leaders, err := parseMetadataResponse(seed, "t"); err != nil || leaders[1] != "127.0.0.1:9093" {
		f.Fatalf("seed: %v, %v", leaders, err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		leaders, err := parseMetadataResponse(data, "t")
		if err != nil {
			return
		}
		for p, addr := range leaders {
			if _, _, err := net.SplitHostPort(addr); err != nil {
				t.Fatalf("partition %d: leader %q: %v", p, addr, err)
			}
		}
	})
}
