// Package decode turns one input record (a Kafka message value or an NDJSON
// line) into the posts that matching reads: an API v1.1 tweet, a v1.1
// search response ({"statuses":[…]}) or an API v2 response ({"data": tweet
// or [tweets], "includes": {…}}).
//
// Only the fields matching needs are read; everything else is skipped. A
// record is read on demand first (ondemand.go): one pass over its bytes
// that builds nothing for the members it skips. A record that this reader
// does not plainly accept, every rejected one among them, is parsed in full
// with fastjson, which gives the rejection's reason; both read a record
// the same way (FuzzOnDemand). Strings point into the record or the
// decoder's buffers, so a Decoder allocates nothing per record once its
// buffers have grown. A Decoder is not safe for concurrent use: each
// worker owns one.
package decode

import (
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"flagstream/matchers"
	"flagstream/pipeline/refusal"
)

// Limits bound what one record may hold; exceeding one rejects the record.
type Limits struct {
	// MaxTweets is the most posts one record may carry (a search
	// response's statuses or a v2 data array).
	MaxTweets int
	// MaxEmbedDepth is how deep retweeted and quoted tweets may nest.
	MaxEmbedDepth int
	// MaxTextBytes is the longest text a tweet may have.
	MaxTextBytes int
}

// DefaultLimits are generous for real tweets: a v2 page carries at most 500
// tweets, a long post about 25,000 characters.
var DefaultLimits = Limits{MaxTweets: 1000, MaxEmbedDepth: 4, MaxTextBytes: 256 << 10}

// withDefaults returns l with every unset (zero) limit at its default.
func (l Limits) withDefaults() Limits {
	if l.MaxTweets <= 0 {
		l.MaxTweets = DefaultLimits.MaxTweets
	}
	if l.MaxEmbedDepth <= 0 {
		l.MaxEmbedDepth = DefaultLimits.MaxEmbedDepth
	}
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = DefaultLimits.MaxTextBytes
	}
	return l
}

// Reason classifies why a record was rejected. Reasons are a small fixed
// set, fit for metric labels.
type Reason string

// The rejection reasons the decoder gives.
const (
	ReasonInvalidUTF8   Reason = "invalid_utf8"
	ReasonInvalidJSON   Reason = "invalid_json"
	ReasonNotATweet     Reason = "not_a_tweet"
	ReasonMissingID     Reason = "missing_id"
	ReasonWrongType     Reason = "wrong_type"
	ReasonTooManyTweets Reason = "too_many_tweets"
	ReasonTooDeep       Reason = "too_deep"
	ReasonTextTooLong   Reason = "text_too_long"
	// ReasonDuplicateKey is an object, among those the decoder reads, that
	// repeats a member name: parsers disagree on which value counts.
	ReasonDuplicateKey Reason = "duplicate_key"
)

// Error is a record the decoder rejects, with the reason class and what
// exactly is wrong.
type Error = refusal.Error[Reason]

func reject(r Reason, format string, args ...any) *Error {
	return refusal.New(r, format, args...)
}

// ReasonOf returns the reason class of a decode error, or "" when err is
// not one.
func ReasonOf(err error) Reason { return refusal.ReasonOf[Reason](err) }

// Decoder decodes records. The zero value uses DefaultLimits.
type Decoder struct {
	Limits Limits

	parser fastjson.Parser
	tweets []*matchers.Tweet // pool; the first used of them are in use
	used   int
	parts  []matchers.Part
	posts  []matchers.Post
	bounds []int // start of each post's parts in parts
	texts  []byte
	err    *Error

	// v2 includes of the record being decoded.
	users, tweetV included

	// keys finds repeated member names in the objects the decoder reads;
	// tweetKeys in a tweet object, as its members are visited (which
	// reads nested objects, with keys, meanwhile).
	keys, tweetKeys keySet

	// od is the on-demand reader's state.
	od onDemand
	// mode chooses the readers (tests compare them).
	mode readMode

	// bigLast is set after a record large enough that the parser's caches
	// grew with it: they are dropped before the next record, so that one
	// hostile record does not keep its memory for the decoder's lifetime.
	bigLast bool
}

// readMode says which readers Decode uses.
type readMode uint8

const (
	readBoth         readMode = iota // on demand, else the full parse
	readFullOnly                     // the full parse alone
	readOnDemandOnly                 // on demand alone: errNotOnDemand when it gives up
)

// errNotOnDemand is what Decode returns in readOnDemandOnly mode for a
// record the on-demand reader gives up on.
var errNotOnDemand = &Error{Reason: "not_on_demand", Msg: "the on-demand reader gave up"}

// bigRecord is the size past which a record's parse caches are dropped
// after use.
const bigRecord = 1 << 20

// Decode parses one record and returns its posts. They are valid until
// the next call, and may point into record, which must stay unchanged
// while they are used. A record that is not a tweet, or not well-formed,
// is rejected with an *Error.
func (d *Decoder) Decode(record []byte) ([]matchers.Post, error) {
	d.Limits = d.Limits.withDefaults()
	if d.bigLast {
		d.parser = fastjson.Parser{}
		d.tweets, d.parts, d.posts, d.texts = nil, nil, nil, nil
		d.users, d.tweetV = included{}, included{}
		d.keys, d.tweetKeys = keySet{}, keySet{}
		d.od = onDemand{}
	}
	d.bigLast = len(record) > bigRecord
	d.resetOutput()
	if !utf8.Valid(record) {
		return nil, reject(ReasonInvalidUTF8, "record is not valid UTF-8")
	}
	if d.mode != readFullOnly {
		if d.readOnDemand(record) {
			return d.finish(), nil
		}
		if d.mode == readOnDemandOnly {
			return nil, errNotOnDemand
		}
		d.resetOutput()
	}
	v, err := d.parser.ParseBytes(record)
	if err != nil {
		return nil, reject(ReasonInvalidJSON, "%v", err)
	}
	o, err := v.Object()
	if err != nil {
		return nil, reject(ReasonNotATweet, "record is a JSON %s, not an object", v.Type())
	}
	switch {
	case o.Get("data") != nil:
		if d.checkKeys(o, path{}); d.err == nil {
			d.decodeV2(v)
		}
	case o.Get("statuses") != nil:
		if d.checkKeys(o, path{}); d.err == nil {
			d.decodeSearch(v)
		}
	case o.Get("id_str") != nil || o.Get("id") != nil:
		// decodeV1 checks the tweet's members as it reads them.
		d.newPost()
		d.decodeV1(v, matchers.InTweet, 0)
	default:
		return nil, reject(ReasonNotATweet, "object has none of id_str, id, data or statuses")
	}
	if d.err != nil {
		return nil, d.err
	}
	return d.finish(), nil
}

// resetOutput empties the posts and their buffers for the next reading.
func (d *Decoder) resetOutput() {
	d.used, d.parts, d.posts, d.bounds, d.texts, d.err = 0, d.parts[:0], d.posts[:0], d.bounds[:0], d.texts[:0], nil
	d.users.reset()
	d.tweetV.reset()
}

// finish points each post at its parts and returns the posts.
func (d *Decoder) finish() []matchers.Post {
	d.bounds = append(d.bounds, len(d.parts))
	for i := range d.posts {
		d.posts[i].Parts = d.parts[d.bounds[i]:d.bounds[i+1]]
	}
	return d.posts
}

// fail records the first problem of the record.
func (d *Decoder) fail(reason Reason, format string, args ...any) {
	if d.err == nil {
		d.err = reject(reason, format, args...)
	}
}

func (d *Decoder) newPost() bool {
	if len(d.posts) >= d.Limits.MaxTweets {
		d.fail(ReasonTooManyTweets, "record carries more than %d tweets", d.Limits.MaxTweets)
		return false
	}
	d.posts = append(d.posts, matchers.Post{})
	d.bounds = append(d.bounds, len(d.parts))
	return true
}

// newPart adds a part to the current post and returns its tweet.
func (d *Decoder) newPart(in matchers.Where) *matchers.Tweet {
	if d.used == len(d.tweets) {
		d.tweets = append(d.tweets, new(matchers.Tweet))
	}
	t := d.tweets[d.used]
	d.used++
	t.Reset()
	d.parts = append(d.parts, matchers.Part{In: in, Tweet: t})
	return t
}

// decodeSearch decodes a v1.1 search response: each status is a post.
func (d *Decoder) decodeSearch(v *fastjson.Value) {
	statuses := v.Get("statuses")
	arr, err := statuses.Array()
	if err != nil {
		d.fail(ReasonWrongType, "statuses: expected an array, got %s", statuses.Type())
		return
	}
	if len(arr) == 0 {
		d.fail(ReasonNotATweet, "search response with no statuses")
		return
	}
	for i, s := range arr {
		if s.Type() != fastjson.TypeObject {
			d.fail(ReasonWrongType, "statuses[%d]: expected an object, got %s", i, s.Type())
			return
		}
		if !d.newPost() {
			return
		}
		d.decodeV1(s, matchers.InTweet, 0)
	}
}

// path names a field in messages. It is two strings so that naming a
// nested field costs no allocation unless a message is written.
type path struct{ parent, name string }

func (p path) String() string { return p.parent + p.name }

func at(name string) path { return path{name: name} }

// str returns a string field's bytes; null and absent give nil. Another
// type fails the record.
func (d *Decoder) str(v *fastjson.Value, field path) []byte {
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return b
	case fastjson.TypeNull:
		return nil
	}
	d.fail(ReasonWrongType, "%s: expected a string, got %s", field, v.Type())
	return nil
}

// id returns an id field given as a string or a number, as digits; null
// and absent give nil. Another type fails the record.
func (d *Decoder) id(v *fastjson.Value, field path) []byte {
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeString, fastjson.TypeNull:
		return d.str(v, field)
	case fastjson.TypeNumber:
		start := len(d.texts)
		d.texts = v.MarshalTo(d.texts)
		digits := d.texts[start:]
		for _, c := range digits {
			if c < '0' || c > '9' {
				d.fail(ReasonWrongType, "%s: expected an integer id, got %s", field, digits)
				return nil
			}
		}
		return digits
	}
	d.fail(ReasonWrongType, "%s: expected an id, got %s", field, v.Type())
	return nil
}

// text unescapes a tweet text into the decoder's buffer.
func (d *Decoder) text(raw []byte, field path) []byte {
	if len(raw) > d.Limits.MaxTextBytes {
		d.fail(ReasonTextTooLong, "%s: %d bytes, longer than %d", field, len(raw), d.Limits.MaxTextBytes)
		return nil
	}
	return d.unescapeText(raw)
}

// unescapeText appends raw, HTML references decoded, to the decoder's
// buffer and returns it there; an empty text is nil.
func (d *Decoder) unescapeText(raw []byte) []byte {
	start := len(d.texts)
	d.texts = AppendUnescapedHTML(d.texts, raw)
	if len(d.texts) == start {
		return nil
	}
	return d.texts[start:len(d.texts):len(d.texts)]
}

// object returns an object field; null and absent give nil, another type
// fails the record. The caller checks its member names, reading them with
// lookup or through a keySet.
func (d *Decoder) object(v *fastjson.Value, field path) *fastjson.Object {
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil
	}
	o, err := v.Object()
	if err != nil {
		d.fail(ReasonWrongType, "%s: expected an object, got %s", field, v.Type())
		return nil
	}
	return o
}

// lookup reads the members names of o in one visit of its members, setting
// vals[i] to the value of names[i] (nil when absent), and fails the record
// when o repeats a member name. It is object's check and Get's reads in
// one pass.
func (d *Decoder) lookup(o *fastjson.Object, field path, names []string, vals []*fastjson.Value) {
	clear(vals)
	k := &d.keys
	k.start(o.Len())
	o.Visit(func(key []byte, v *fastjson.Value) {
		k.add(key)
		for i, n := range names {
			if string(key) == n {
				vals[i] = v
				return
			}
		}
	})
	if dup := k.finish(); dup != nil {
		d.duplicateKey(field, dup)
	}
}

// checkKeys fails the record when o repeats a member name.
func (d *Decoder) checkKeys(o *fastjson.Object, field path) {
	if dup := d.keys.repeated(o); dup != nil {
		d.duplicateKey(field, dup)
	}
}

// duplicateKey fails the record for a repeated member name.
func (d *Decoder) duplicateKey(field path, dup []byte) {
	where := field.String()
	if where == "" {
		where = "record"
	}
	d.fail(ReasonDuplicateKey, "%s: member %q appears more than once", where, dup)
}

func (d *Decoder) array(v *fastjson.Value, field path) []*fastjson.Value {
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil
	}
	a, err := v.Array()
	if err != nil {
		d.fail(ReasonWrongType, "%s: expected an array, got %s", field, v.Type())
		return nil
	}
	return a
}
