package kafkaio

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
)

// errWireUnsupported is a broker that does not serve Fetch version 4 (the
// wire fetcher's one version; Kafka has served it since 0.11 and still
// does in 4.0) or, with SASL, SaslHandshake v1 and SaslAuthenticate v0:
// the fetcher fetches through kafka-go instead.
var errWireUnsupported = errors.New("broker does not serve Fetch v4 (or, with SASL, SaslHandshake v1)")

// Kafka API keys and the versions the wire fetcher speaks.
const (
	apiFetch            = 1
	apiMetadata         = 3
	apiSaslHandshake    = 17
	apiVersionsKey      = 18
	apiSaslAuthenticate = 36
	fetchVersion        = 4
	maxResponseSize     = 1 << 30 // a larger response size is a broken stream
)

// wireClient fetches a topic's records over connections of its own: it
// sends Fetch v4 requests to each partition's leader and hands back the
// response's bytes, whose record batches appendRecordBatches reads in
// place. It replaces, for the fetches of the consumer and every reader of
// partitions, kafka-go's Client.Fetch, whose record reader decodes each
// response through an io.Reader a varint byte at a time and allocates per
// record (14-17% of flagstream run's CPU in profiles). It asks brokers
// for partitions' leaders itself; offsets still go through kafka-go. It
// reaches brokers in plaintext or over TLS, with or without SASL
// (kafka-go's mechanisms: PLAIN, SCRAM); a broker without Fetch v4 or
// SASL's v1 handshake is fetched from through kafka-go
// (errWireUnsupported). Safe for concurrent use: each fetch takes a connection of
// its own from the idle ones (or dials one) and puts it back after.
type wireClient struct {
	topic     string
	bootstrap []string // where to ask for partitions' leaders first
	clientID  string
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	tls       *tls.Config
	sasl      sasl.Mechanism // nil: none

	// unsupported is set once a broker answers ApiVersions without what
	// the wire fetcher needs (errWireUnsupported): every fetch goes
	// through kafka-go from then on.
	unsupported atomic.Bool
	// bufs holds response buffers (*[]byte) of released chunks.
	bufs sync.Pool

	mu      sync.Mutex
	leaders map[int]string         // partition → leader address
	idle    map[string][]*wireConn // address → idle connections
}

// wireConn is one connection to a broker; one fetch at a time uses it.
type wireConn struct {
	net.Conn
	correlation int32
	req         []byte
}

// newWireClient returns the wire fetcher of conn's cluster for topic.
func newWireClient(conn Connection, topic string) *wireClient {
	clientID := conn.ClientID
	if clientID == "" {
		clientID = "flagstream"
	}
	d := &net.Dialer{Timeout: conn.DialTimeout, KeepAlive: 30 * time.Second}
	if d.Timeout <= 0 {
		d.Timeout = 10 * time.Second
	}
	return &wireClient{bootstrap: conn.Brokers, topic: topic, clientID: clientID, dial: d.DialContext, tls: conn.TLS, sasl: conn.SASL,
		leaders: map[int]string{}, idle: map[string][]*wireConn{}}
}

// wireResponse is one partition's part of a fetch response.
type wireResponse struct {
	buf     *[]byte // the response, from wireClient.bufs; records lie in it
	records []byte  // the partition's records (nil: null)
	hwm     int64
	err     error // the partition's error code, as a kafka.Error
}

// fetch sends one Fetch request for partition from offset and reads the
// answer. An error is the request's (the connection, the leader lookup);
// a partition error is in the response.
func (w *wireClient) fetch(ctx context.Context, partition int, offset int64, minBytes, maxBytes int, maxWait time.Duration) (wireResponse, error) {
	addr, err := w.leader(ctx, partition)
	if err != nil {
		return wireResponse{}, err
	}
	// An idle connection may have been closed by the broker (Kafka closes
	// those idle for connections.max.idle.ms): one that fails is followed
	// by a fresh one, once.
	for attempt := 0; ; attempt++ {
		c, reused, err := w.conn(ctx, addr)
		if err != nil {
			w.forget(partition)
			return wireResponse{}, err
		}
		buf := w.buffer()
		res, err := c.fetch(ctx, buf, w.clientID, w.topic, partition, offset, minBytes, maxBytes, maxWait)
		if err != nil {
			c.Close()
			w.bufs.Put(buf)
			if ctx.Err() != nil {
				return wireResponse{}, ctx.Err()
			}
			if reused && attempt == 0 {
				continue
			}
			w.forget(partition)
			return wireResponse{}, fmt.Errorf("fetch %s/%d from %s: %w", w.topic, partition, addr, err)
		}
		w.release(addr, c)
		if res.err != nil && !errors.Is(res.err, kafka.OffsetOutOfRange) {
			w.forget(partition) // leadership may have moved
		}
		return res, nil
	}
}

// buffer returns a response buffer: a released chunk's, or a new one.
func (w *wireClient) buffer() *[]byte {
	if b, ok := w.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

// leader returns the address of partition's leader, asking the cluster
// when it is not known. It asks a broker itself (Metadata v1) rather than
// kafka-go's client, whose transport answers from a cache that may be
// seconds old after leadership moved: the fetch that found the old leader
// was not the leader is followed by one to the new.
func (w *wireClient) leader(ctx context.Context, partition int) (string, error) {
	w.mu.Lock()
	addr, ok := w.leaders[partition]
	w.mu.Unlock()
	if ok {
		return addr, nil
	}
	leaders, err := w.lookupLeaders(ctx)
	if err != nil {
		return "", fmt.Errorf("metadata of %s: %w", w.topic, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	maps.Copy(w.leaders, leaders)
	if addr, ok = w.leaders[partition]; !ok {
		return "", fmt.Errorf("metadata of %s: no leader for partition %d: %w", w.topic, partition, kafka.LeaderNotAvailable)
	}
	return addr, nil
}

// lookupLeaders asks a broker the leaders of the topic's partitions: one
// of those connected to already, else the bootstrap brokers in turn.
func (w *wireClient) lookupLeaders(ctx context.Context) (map[int]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	w.mu.Lock()
	addrs := make([]string, 0, len(w.idle)+len(w.bootstrap))
	for addr, idle := range w.idle {
		if len(idle) > 0 {
			addrs = append(addrs, addr)
		}
	}
	w.mu.Unlock()
	addrs = append(addrs, w.bootstrap...)
	err := errors.New("no brokers")
	for _, addr := range addrs {
		c, _, cerr := w.conn(ctx, addr)
		if cerr != nil {
			err = cerr
			continue
		}
		leaders, merr := c.metadata(ctx, w.clientID, w.topic)
		if merr != nil {
			c.Close()
			err = fmt.Errorf("%s: %w", addr, merr)
			if errors.Is(merr, kafka.UnknownTopicOrPartition) {
				return nil, err
			}
			continue
		}
		w.release(addr, c)
		return leaders, nil
	}
	return nil, err
}

// forget drops partition's leader: the next fetch looks it up again.
func (w *wireClient) forget(partition int) {
	w.mu.Lock()
	delete(w.leaders, partition)
	w.mu.Unlock()
}

// conn returns an idle connection to addr (reused) or dials one, checking
// that the broker serves Fetch v4 and authenticating.
func (w *wireClient) conn(ctx context.Context, addr string) (c *wireConn, reused bool, err error) {
	w.mu.Lock()
	if idle := w.idle[addr]; len(idle) > 0 {
		c := idle[len(idle)-1]
		w.idle[addr] = idle[:len(idle)-1]
		w.mu.Unlock()
		return c, true, nil
	}
	w.mu.Unlock()
	c, err = w.dialConn(ctx, addr)
	return c, false, err
}

// dialConn dials addr, checks that the broker serves Fetch v4 and
// authenticates.
func (w *wireClient) dialConn(ctx context.Context, addr string) (*wireConn, error) {
	raw, err := w.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if w.tls != nil {
		cfg := w.tls.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("tls handshake with %s: %w", addr, err)
		}
		raw = tc
	}
	c := &wireConn{Conn: raw}
	versions, err := c.apiVersions(ctx, w.clientID)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("api versions of %s: %w", addr, err)
	}
	if !serves(versions, apiFetch, fetchVersion) ||
		w.sasl != nil && !(serves(versions, apiSaslHandshake, 1) && serves(versions, apiSaslAuthenticate, 0)) {
		c.Close()
		w.unsupported.Store(true)
		return nil, fmt.Errorf("%s: %w", addr, errWireUnsupported)
	}
	if w.sasl != nil {
		if err := c.authenticate(ctx, w.clientID, w.sasl, addr); err != nil {
			c.Close()
			return nil, fmt.Errorf("%s: %w", addr, err)
		}
	}
	return c, nil
}

// release puts c back among addr's idle connections.
func (w *wireClient) release(addr string, c *wireConn) {
	w.mu.Lock()
	w.idle[addr] = append(w.idle[addr], c)
	w.mu.Unlock()
}

// closeIdle closes the idle connections.
func (w *wireClient) closeIdle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for addr, idle := range w.idle {
		for _, c := range idle {
			c.Close()
		}
		delete(w.idle, addr)
	}
}

// aLongTimeAgo is a deadline in the past: it interrupts a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

// roundTrip sends c.req (a request whose first 4 bytes are left for its
// size) and reads the response into *buf, returning it after its
// correlation id. ctx's deadline bounds it, and ctx's end interrupts it;
// after either the connection is not to be used again (the error says
// so).
func (c *wireConn) roundTrip(ctx context.Context, buf *[]byte) ([]byte, error) {
	deadline, _ := ctx.Deadline()
	if err := c.SetDeadline(deadline); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(aLongTimeAgo) })
	defer stop()
	binary.BigEndian.PutUint32(c.req, uint32(len(c.req)-4))
	if _, err := c.Write(c.req); err != nil {
		return nil, err
	}
	var size [8]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(size[:])))
	if n < 4 || n > maxResponseSize {
		return nil, fmt.Errorf("response size %d", n)
	}
	if got := int32(binary.BigEndian.Uint32(size[4:])); got != c.correlation {
		return nil, fmt.Errorf("response to request %d, expected %d", got, c.correlation)
	}
	if cap(*buf) < n-4 {
		*buf = make([]byte, n-4, n-4+n/8)
	}
	*buf = (*buf)[:n-4]
	if _, err := io.ReadFull(c, *buf); err != nil {
		return nil, err
	}
	if !stop() {
		return nil, context.Cause(ctx) // ended as it answered: the deadline is set to the past
	}
	return *buf, nil
}

// header starts c.req with a request header (v1) of the API and version.
func (c *wireConn) header(api, version int16, clientID string) {
	c.correlation++
	c.req = append(c.req[:0], 0, 0, 0, 0)
	c.req = binary.BigEndian.AppendUint16(c.req, uint16(api))
	c.req = binary.BigEndian.AppendUint16(c.req, uint16(version))
	c.req = binary.BigEndian.AppendUint32(c.req, uint32(c.correlation))
	c.req = appendString(c.req, clientID)
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// apiVersions asks the broker the versions it serves of each API
// (ApiVersions v0): key → [min, max].
func (c *wireConn) apiVersions(ctx context.Context, clientID string) (map[int16][2]int16, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c.header(apiVersionsKey, 0, clientID)
	var buf []byte
	res, err := c.roundTrip(ctx, &buf)
	if err != nil {
		return nil, err
	}
	r := wireReader{b: res}
	code := r.int16()
	n := int(r.int32())
	out := map[int16][2]int16{}
	for i := 0; i < n && r.err == nil; i++ {
		key, lo, hi := r.int16(), r.int16(), r.int16()
		out[key] = [2]int16{lo, hi}
	}
	if r.err != nil {
		return nil, r.err
	}
	if code != 0 {
		return nil, kafka.Error(code)
	}
	return out, nil
}

// serves reports whether versions include version of api.
func serves(versions map[int16][2]int16, api, version int16) bool {
	r, ok := versions[api]
	return ok && r[0] <= version && version <= r[1]
}

// authenticate runs mechanism's SASL exchange (SaslHandshake v1, then
// SaslAuthenticate v0 until the mechanism is done), as kafka-go's dialer
// does.
func (c *wireConn) authenticate(ctx context.Context, clientID string, mechanism sasl.Mechanism, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c.header(apiSaslHandshake, 1, clientID)
	c.req = appendString(c.req, mechanism.Name())
	var buf []byte
	res, err := c.roundTrip(ctx, &buf)
	if err != nil {
		return fmt.Errorf("SASL handshake: %w", err)
	}
	r := wireReader{b: res}
	if code := r.int16(); r.err == nil && code != 0 {
		return fmt.Errorf("SASL handshake for %s: %w", mechanism.Name(), kafka.Error(code))
	}
	if r.err != nil {
		return fmt.Errorf("SASL handshake: %w", r.err)
	}
	host, port, _ := net.SplitHostPort(addr)
	portNumber, _ := strconv.Atoi(port)
	ctx = sasl.WithMetadata(ctx, &sasl.Metadata{Host: host, Port: portNumber})
	sess, state, err := mechanism.Start(ctx)
	if err != nil {
		return fmt.Errorf("SASL %s: %w", mechanism.Name(), err)
	}
	for done := false; !done; {
		c.header(apiSaslAuthenticate, 0, clientID)
		c.req = binary.BigEndian.AppendUint32(c.req, uint32(len(state)))
		c.req = append(c.req, state...)
		res, err := c.roundTrip(ctx, &buf)
		if err != nil {
			return fmt.Errorf("SASL authenticate: %w", err)
		}
		r := wireReader{b: res}
		code := r.int16()
		message := r.bytes16()
		challenge := r.bytes32()
		if r.err != nil {
			return fmt.Errorf("SASL authenticate: %w", r.err)
		}
		if code != 0 {
			return fmt.Errorf("SASL authenticate: %w: %s", kafka.Error(code), message)
		}
		if done, state, err = sess.Next(ctx, challenge); err != nil {
			return fmt.Errorf("SASL %s: %w", mechanism.Name(), err)
		}
	}
	return nil
}

// metadata asks the broker the leaders of topic's partitions (Metadata
// v1): partition → leader address; partitions without a leader are left
// out.
func (c *wireConn) metadata(ctx context.Context, clientID, topic string) (map[int]string, error) {
	c.header(apiMetadata, 1, clientID)
	c.req = binary.BigEndian.AppendUint32(c.req, 1)
	c.req = appendString(c.req, topic)
	var buf []byte
	res, err := c.roundTrip(ctx, &buf)
	if err != nil {
		return nil, err
	}
	return parseMetadataResponse(res, topic)
}

// parseMetadataResponse reads a Metadata v1 response body (after the
// correlation id): topic's partitions' leaders.
func parseMetadataResponse(data []byte, topic string) (map[int]string, error) {
	r := wireReader{b: data}
	brokers := map[int32]string{}
	for n := r.int32(); n > 0 && r.err == nil; n-- {
		id, host, port := r.int32(), r.bytes16(), r.int32()
		r.bytes16() // rack
		brokers[id] = net.JoinHostPort(string(host), strconv.Itoa(int(port)))
	}
	r.int32() // controller
	leaders := map[int]string{}
	for n := r.int32(); n > 0 && r.err == nil; n-- {
		code, name := r.int16(), r.bytes16()
		r.skip(1) // internal
		for parts := r.int32(); parts > 0 && r.err == nil; parts-- {
			pcode, p, leader := r.int16(), r.int32(), r.int32()
			r.skip(4 * int(r.int32())) // replicas
			r.skip(4 * int(r.int32())) // in-sync replicas
			if pcode == 0 && string(name) == topic {
				if addr, ok := brokers[leader]; ok {
					leaders[int(p)] = addr
				}
			}
		}
		if r.err == nil && string(name) == topic && code != 0 {
			return nil, kafka.Error(code)
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("metadata response: %w", r.err)
	}
	return leaders, nil
}

// fetch sends a Fetch v4 request for one partition and reads its answer
// into *buf.
func (c *wireConn) fetch(ctx context.Context, buf *[]byte, clientID, topic string, partition int, offset int64, minBytes, maxBytes int, maxWait time.Duration) (wireResponse, error) {
	c.header(apiFetch, fetchVersion, clientID)
	b := c.req
	b = binary.BigEndian.AppendUint32(b, 0xffffffff) // replica id -1: a consumer
	b = binary.BigEndian.AppendUint32(b, uint32(maxWait.Milliseconds()))
	b = binary.BigEndian.AppendUint32(b, uint32(minBytes))
	b = binary.BigEndian.AppendUint32(b, uint32(maxBytes))
	b = append(b, 0)                        // isolation level: read uncommitted, as kafka-go's fetch
	b = binary.BigEndian.AppendUint32(b, 1) // one topic
	b = appendString(b, topic)
	b = binary.BigEndian.AppendUint32(b, 1) // one partition
	b = binary.BigEndian.AppendUint32(b, uint32(partition))
	b = binary.BigEndian.AppendUint64(b, uint64(offset))
	b = binary.BigEndian.AppendUint32(b, uint32(maxBytes))
	c.req = b
	data, err := c.roundTrip(ctx, buf)
	if err != nil {
		return wireResponse{}, err
	}
	res, err := parseFetchResponse(data, topic, partition)
	res.buf = buf
	return res, err
}

// parseFetchResponse reads a Fetch v4 response body (after the
// correlation id) for one partition of topic.
func parseFetchResponse(data []byte, topic string, partition int) (wireResponse, error) {
	var res wireResponse
	r := wireReader{b: data}
	r.int32() // throttle time
	for topics := r.int32(); topics > 0 && r.err == nil; topics-- {
		name := r.bytes16()
		for parts := r.int32(); parts > 0 && r.err == nil; parts-- {
			p := r.int32()
			code := r.int16()
			hwm := r.int64()
			r.int64() // last stable offset
			if aborted := r.int32(); aborted > 0 {
				r.skip(int(aborted) * 16) // producer id, first offset
			}
			records := r.bytes32()
			if r.err == nil && string(name) == topic && int(p) == partition {
				res.records, res.hwm = records, hwm
				if code != 0 {
					res.err = kafka.Error(code)
				}
				return res, nil
			}
		}
	}
	if r.err != nil {
		return res, fmt.Errorf("fetch response: %w", r.err)
	}
	return res, fmt.Errorf("fetch response: no answer for %s/%d", topic, partition)
}

// wireReader reads a response's big-endian fields; past the end it
// reads zeros and sets err.
type wireReader struct {
	b   []byte
	err error
}

func (r *wireReader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		if r.err == nil {
			r.err = io.ErrUnexpectedEOF
		}
		r.b = nil
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *wireReader) skip(n int) { r.take(n) }

func (r *wireReader) int16() int16 {
	if b := r.take(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (r *wireReader) int32() int32 {
	if b := r.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (r *wireReader) int64() int64 {
	if b := r.take(8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

// bytes16 reads a nullable string (int16 length; -1 is null, read as
// nil).
func (r *wireReader) bytes16() []byte {
	n := r.int16()
	if n == -1 {
		return nil
	}
	return r.take(int(n))
}

// bytes32 reads nullable bytes (int32 length; -1 is null, read as nil).
func (r *wireReader) bytes32() []byte {
	n := r.int32()
	if n == -1 {
		return nil
	}
	return r.take(int(n))
}
