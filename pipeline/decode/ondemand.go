package decode

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"

	"flagstream/matchers"
)

// The on-demand reader decodes a record in one pass over its bytes, the
// way simdjson's On-Demand API does: it reads the members that matching
// needs where they lie, passes over everything else (checking its syntax,
// building nothing), and points the posts' strings into the record. It
// reads exactly what the full parse (fastjson, decode.go) reads, with the
// same checks, but it knows only success: at the first thing that is not
// plainly a good tweet record (a wrong type, a missing id, a repeated
// member name, a limit, an escape it does not handle, an unusual
// number...) it gives up, and the full parse reads the record and gives
// the reason. FuzzOnDemand checks that whatever it reads, the full parse
// reads the same way.
//
// Members are read in the record's order, but the posts' parts, and their
// hashtags, mentions and URLs, come in the full parse's order: an embedded
// tweet's parts are moved after the replied-to part, extended_tweet's and
// note_tweet's entities are read into a scratch tweet and appended after
// the tweet's own, and v2 tweets are read once includes are (after a
// second pass over data, when data comes first).

// onDemand is the on-demand reader's state for the record being read.
type onDemand struct {
	b     []byte // the record
	pos   int    // the next byte to read; len(b) once given up
	level int    // containers open around pos
	bad   bool   // given up: the full parse reads the record

	keys    []*nameSet        // by reading level: the names of the object read there
	scratch []*matchers.Tweet // by embedding depth: extended_tweet's or note_tweet's entities
	parts   []matchers.Part   // scratch for putting parts in order
	buf     []byte            // unescaped strings

	users, tweets includedOnDemand // v2 includes

	// memberSlow's guesses, for objects off their sequences (seqs):
	// guess[l][f] is the field of the member that followed a member of
	// field f the last time, in an object read at a level of l modulo
	// guessLevels (objects of different kinds, a user and a tweet, lie at
	// different levels): guess[l][fieldOther] is the one after a name not
	// in fieldTable; fieldOther for none yet. firstGuess[l][k] is the
	// first member of an object of kind k (memberNames.prev as the object
	// starts: entities, a user, a hashtag...), so that objects of
	// different kinds at one level, a tweet's entities and its user, do
	// not take each other's first guess.
	guess, firstGuess [guessLevels][int(fieldEnd) + 1]field

	// seqs[l][k] is the names, in order, of the last object of kind k
	// read whole at level l (below seqLevels), which member follows in
	// the next one; trails[l] is the names of the object being read at
	// level l since it left its sequence. Two objects open at once lie at
	// different levels, so an object's sequence changes only once it is
	// read, for the objects after it.
	seqs   [seqLevels][int(fieldEnd) + 1]*memberSeq
	trails [seqLevels]memberSeq
}

// guessLevels is how many reading levels member's guesses tell apart.
const guessLevels = 8

// seqLevels is how many reading levels, from the record's, have member
// sequences: those of tweets, users, entities and embedded tweets.
const seqLevels = 8

// memberSeq is the member names of an object as read: their fields in
// order, all distinct and known (none fieldOther); n of them, or, for a
// trail, -1 once it is not one (a name not known, more than maxSeq).
type memberSeq struct {
	n int
	f [maxSeq]field
}

// maxSeq is the most members a sequence holds.
const maxSeq = 64

// valKind is the kind of a scalar value read on demand.
type valKind uint8

const (
	valAbsent  valKind = iota
	valNull            // null
	valString          // a string without escapes
	valEscaped         // a string holding a backslash
	valNumber          // a number
	valOther           // true, false, an object or an array
)

// val is a scalar value read on demand and evaluated later, as the full
// parse evaluates it (some only when another is empty): its kind and its
// bytes in the record (a string's without its quotes).
type val struct {
	kind       valKind
	start, end int
}

// readOnDemand decodes record into the decoder's posts and reports whether
// it could; when not, the output is left for the full parse to reset.
func (d *Decoder) readOnDemand(record []byte) bool {
	o := &d.od
	o.b, o.pos, o.level, o.bad = record, skipSpace(record, 0), 0, false
	o.buf = o.buf[:0]
	o.users.reset()
	o.tweets.reset()
	defer func() { o.b = nil }()
	if o.pos >= len(record) || record[o.pos] != '{' {
		return false
	}
	if d.responseFirst() {
		d.odResponse()
	} else if d.newPost() {
		d.odTweetV1(matchers.InTweet, 0, 0, true)
	} else {
		return false
	}
	return !o.bad && skipSpace(record, o.pos) == len(record)
}

// giveUp ends reading the record on demand.
func (d *Decoder) giveUp() {
	d.od.bad = true
	d.od.pos = len(d.od.b)
}

// responseFirst reports whether the record's first member name is one of
// a search or API v2 response rather than of a v1.1 tweet.
func (d *Decoder) responseFirst() bool {
	b := d.od.b
	i := skipSpace(b, d.od.pos+1)
	if i+1 >= len(b) || b[i] != '"' {
		return false
	}
	switch b[i+1] {
	case 'd', 'i', 's', 'm', 'e': // data, includes, statuses, search_metadata, meta, errors
	default:
		return false // a tweet's: created_at, id...
	}
	e := quoteOrBackslash(b, i+1)
	if e >= len(b) {
		return false
	}
	switch fieldTable.lookup(b[i+1 : e]) {
	case fieldData, fieldIncludes, fieldStatuses, fieldSearchMetadata, fieldMeta, fieldErrors:
		return true
	}
	return false
}

// open enters the container at pos, which must start with c; otherwise it
// gives up and returns false.
func (d *Decoder) open(c byte) bool {
	o := &d.od
	if o.pos >= len(o.b) || o.b[o.pos] != c || o.level >= maxScanLevel {
		d.giveUp()
		return false
	}
	o.level++
	o.pos = skipSpace(o.b, o.pos+1)
	return true
}

// null passes over a null at pos and reports whether there was one.
func (d *Decoder) null() bool {
	o := &d.od
	if e := literalEnd(o.b, o.pos, "null"); e >= 0 {
		o.pos = e
		return true
	}
	return false
}

// enter enters the container at pos, which must start with c, and reports
// true; for a null it reports false, and gives up on anything else.
func (d *Decoder) enter(c byte) bool {
	if d.null() {
		return false
	}
	return d.open(c)
}

// member reads the next member name of the object entered and leaves pos
// at its value; first says whether it is the object's first. It returns
// the name's field, noting it in seen, and fieldEnd at the end of the
// object and when giving up, which it does when the object repeats a
// name. lvl must be the object's nesting level, so that two objects open
// at once have different levels (their member sequences depend on it).
//
//	seen := memberNames{lvl: lvl, prev: kind}
//	for f := d.member(true, &seen); f != fieldEnd; f = d.member(false, &seen) { … read or skip the value … }
//	if d.repeats(&seen) { … }
func (d *Decoder) member(first bool, seen *memberNames) field {
	// Records of one producer write their members in one order: the
	// object of this kind before this one read whole had its members in
	// seen.seq, and the next of them is taken when the record has it,
	// comma, quotes and colon, byte for byte (compact JSON; anything else
	// takes memberSlow's way). Then it is exactly that name, with no
	// escape: the field the lookup would find; and, the sequence's names
	// being distinct, one the object has not had before. This is the
	// whole of the common case, kept small so that it spills nothing.
	o := &d.od
	b, i := o.b, o.pos
	if first {
		seen.kind, seen.k = seen.prev, 0
		if seen.lvl < seqLevels {
			seen.seq = o.seqs[seen.lvl][seen.prev]
		}
	} else if i < len(b) && b[i] == ',' {
		i++
	} else if i < len(b) && b[i] == '}' && seen.seq != nil && seen.k == seen.seq.n {
		// The end of an object that had its sequence's members, all.
		o.pos, o.level = i+1, o.level-1
		return fieldEnd
	} else {
		return d.memberSlow(first, seen)
	}
	q, k := seen.seq, seen.k
	if q == nil || uint(k) >= uint(q.n) || i+16 > len(b) {
		return d.memberSlow(first, seen)
	}
	g := q.f[k]
	p := &fieldPatterns[g]
	if !p.headAt(b, i) || p.n > 16 && !p.longAt(b, i) {
		return d.memberSlow(first, seen)
	}
	seen.k = k + 1
	if i += p.n; i < len(b) && isSpace(b[i]) {
		i = skipSpace(b, i)
	}
	o.pos = i
	return g
}

// memberSlow is member's reading of every name that is not the next of
// the object's sequence in compact JSON (after whitespace, off the
// sequence, past its end, near the record's end), and of the object's
// end: by the guesses, else by fieldTable.
func (d *Decoder) memberSlow(first bool, seen *memberNames) field {
	o := &d.od
	b, i := o.b, o.pos
	guess := &o.guess[seen.lvl&(guessLevels-1)]
	if first {
		guess = &o.firstGuess[seen.lvl&(guessLevels-1)]
	}
	if i >= len(b) {
		d.giveUp()
		return fieldEnd
	}
	// Compact JSON, as producers write records, takes no call here.
	c := b[i]
	if isSpace(c) {
		if i = skipSpace(b, i); i >= len(b) {
			d.giveUp()
			return fieldEnd
		}
		c = b[i]
	}
	if c == '}' {
		o.pos, o.level = i+1, o.level-1
		d.learnSeq(seen)
		return fieldEnd
	}
	if !first {
		if c != ',' {
			d.giveUp()
			return fieldEnd
		}
		if i++; i < len(b) && isSpace(b[i]) {
			i = skipSpace(b, i)
		}
		if i >= len(b) {
			d.giveUp()
			return fieldEnd
		}
		c = b[i]
	}
	if c != '"' {
		d.giveUp()
		return fieldEnd
	}
	// The next member of the sequence after whitespace, or within 16
	// bytes of the record's end (a record's last member).
	if q, k := seen.seq, seen.k; q != nil && uint(k) < uint(q.n) && fieldPatterns[q.f[k]].at(b, i) {
		g := q.f[k]
		seen.k = k + 1
		if i += fieldPatterns[g].n; i < len(b) && isSpace(b[i]) {
			i = skipSpace(b, i)
		}
		o.pos = i
		return g
	}
	if seen.k >= 0 {
		d.leaveSeq(seen)
	}
	// A guess, likewise.
	if g := guess[seen.prev]; g != fieldOther && fieldPatterns[g].at(b, i) {
		if seen.repeated(g) {
			d.giveUp()
			return fieldEnd
		}
		seen.prev = g
		if i += fieldPatterns[g].n; i < len(b) && isSpace(b[i]) {
			i = skipSpace(b, i)
		}
		o.pos = i
		d.trail(seen, g)
		return g
	}
	// The name: its end and its words (nameWords) from the same loads. An
	// escaped name is given up on: the full parse compares names
	// unescaped.
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	start := i + 1
	var e int
	var first8, last8 uint64
	if start+16 <= len(b) {
		x := binary.LittleEndian.Uint64(b[start:])
		q, t := x^(ones*'"'), x^(ones*'\\')
		if m := ((q-ones)&^q | (t-ones)&^t) & highs; m != 0 {
			n := bits.TrailingZeros64(m) / 8
			e, first8 = start+n, x&(1<<(8*n)-1)
		} else {
			first8 = x
			x = binary.LittleEndian.Uint64(b[start+8:])
			q, t = x^(ones*'"'), x^(ones*'\\')
			if m := ((q-ones)&^q | (t-ones)&^t) & highs; m != 0 {
				e = start + 8 + bits.TrailingZeros64(m)/8
			} else {
				e = quoteOrBackslash(b, start+16)
			}
			if e < len(b) && e > start+8 {
				last8 = binary.LittleEndian.Uint64(b[e-8:])
			}
		}
	} else {
		e = quoteOrBackslash(b, start)
		if e < len(b) {
			first8, last8 = nameWords(b[start:e])
		}
	}
	if e >= len(b) || b[e] != '"' {
		d.giveUp()
		return fieldEnd
	}
	n := e - start
	i = e + 1
	if i < len(b) && isSpace(b[i]) {
		i = skipSpace(b, i)
	}
	if i >= len(b) || b[i] != ':' {
		d.giveUp()
		return fieldEnd
	}
	if i++; i < len(b) && isSpace(b[i]) {
		i = skipSpace(b, i)
	}
	o.pos = i
	// fieldTable.find, inlined.
	var f field
	for h := nameHash(first8, last8, n); ; h = (h + 1) % fieldSlots {
		s := &fieldTable[h]
		if s.f == fieldOther || s.first == first8 && s.last == last8 && s.n == uint32(n) && (n <= 16 || s.name == string(b[start:e])) {
			f = s.f
			break
		}
	}
	if f != fieldOther {
		if seen.repeated(f) {
			d.giveUp()
			return fieldEnd
		}
		guess[seen.prev], seen.prev = f, f
		d.trail(seen, f)
		return f
	}
	d.trail(seen, fieldOther)
	seen.prev = fieldOther
	if seen.other == nil {
		seen.other = d.names(seen.lvl)
	}
	if seen.other.add(b, start, e) {
		d.giveUp()
		return fieldEnd
	}
	return fieldOther
}

// leaveSeq turns the members the object has had along its sequence into
// seen's names and its level's trail, for memberSlow to read on; the
// object is then off its sequence.
func (d *Decoder) leaveSeq(seen *memberNames) {
	read := seen.k
	seen.k = -1
	if seen.lvl >= seqLevels {
		return
	}
	t := &d.od.trails[seen.lvl]
	t.n = read
	if read == 0 {
		return
	}
	copy(t.f[:read], seen.seq.f[:read])
	for _, f := range t.f[:read] {
		seen.repeated(f) // distinct: notes each
	}
	seen.prev = t.f[read-1]
}

// trail adds a member that memberSlow read to its level's trail.
func (d *Decoder) trail(seen *memberNames, f field) {
	if seen.lvl >= seqLevels {
		return
	}
	t := &d.od.trails[seen.lvl]
	switch {
	case t.n < 0:
	case f == fieldOther || t.n == maxSeq:
		t.n = -1
	default:
		t.f[t.n] = f
		t.n++
	}
}

// learnSeq makes the members of the object read whole the sequence of
// its kind at its level, when it left the one it had.
func (d *Decoder) learnSeq(seen *memberNames) {
	if seen.lvl >= seqLevels {
		return
	}
	if seen.k >= 0 {
		// Along its sequence to the end, or to an end before it: then that
		// part of it is the sequence. (seen.seq is the one kept for its
		// kind: only objects at its level, read before it, change that.)
		if seen.k > 0 && seen.k < seen.seq.n {
			seen.seq.n = seen.k
		}
		return
	}
	t := &d.od.trails[seen.lvl]
	if t.n <= 0 {
		return
	}
	q := &d.od.seqs[seen.lvl][seen.kind]
	if *q == nil {
		*q = new(memberSeq)
	}
	**q = *t
}

// repeats reports whether the object just read repeats a member name
// that member could not tell at once, giving up then, and whether reading
// it gave up.
func (d *Decoder) repeats(seen *memberNames) bool {
	if d.od.bad || seen.other != nil && seen.other.finish(d.od.b) {
		d.giveUp()
		return true
	}
	return false
}

// element moves to the next element of the array entered, leaving pos at
// it; first says whether it is the array's first. It returns false at the
// end of the array, and when giving up.
func (d *Decoder) element(first bool) bool {
	o := &d.od
	i := o.pos
	if !first {
		if i = skipSpace(o.b, i); i >= len(o.b) {
			d.giveUp()
			return false
		}
		switch o.b[i] {
		case ',':
			o.pos = skipSpace(o.b, i+1)
			return true
		case ']':
			o.pos, o.level = i+1, o.level-1
			return false
		}
		d.giveUp()
		return false
	}
	if i >= len(o.b) {
		d.giveUp()
		return false
	}
	if o.b[i] == ']' {
		o.pos, o.level = i+1, o.level-1
		return false
	}
	return true
}

// skip passes over the value at pos. Most are strings, numbers or
// literals, or arrays of numbers (indices): they are passed over without
// skipValue's stack.
func (d *Decoder) skip() {
	o := &d.od
	b, i := o.b, o.pos
	if i < len(b) {
		switch c := b[i]; {
		case c == '"':
			i = stringEnd(b, i+1)
			if i >= 0 {
				i++
			}
		case '0' <= c && c <= '9':
			i = numberEnd(b, i)
		case c == 'n':
			i = literalEnd(b, i, "null")
		case c == 'f':
			i = literalEnd(b, i, "false")
		case c == 't':
			i = literalEnd(b, i, "true")
		case c == '[':
			i = skipNumbers(b, i, o.level)
		default:
			i = skipValue(b, i, o.level)
		}
	} else {
		i = -1
	}
	if o.pos = i; i < 0 {
		d.giveUp()
	}
}

// scalar reads the value at pos for evaluating later; an object or array
// is passed over and read as valOther.
func (d *Decoder) scalar() val {
	o := &d.od
	b, i := o.b, o.pos
	if i >= len(b) {
		d.giveUp()
		return val{}
	}
	switch c := b[i]; {
	case c == '"':
		e, escaped := readString(b, i+1)
		if e < 0 {
			d.giveUp()
			return val{}
		}
		o.pos = e + 1
		v := val{kind: valString, start: i + 1, end: e}
		if escaped {
			v.kind = valEscaped
		}
		return v
	case c == 'n':
		if !d.null() {
			d.giveUp()
		}
		return val{kind: valNull}
	case isNumberByte(c):
		e := numberEnd(b, i)
		if e < 0 {
			d.giveUp()
			return val{}
		}
		o.pos = e
		return val{kind: valNumber, start: i, end: e}
	}
	d.skip()
	return val{kind: valOther}
}

// odStr evaluates v as str does: a string's bytes, nil for null and
// absent; it gives up on another type.
func (d *Decoder) odStr(v val) []byte {
	o := &d.od
	switch v.kind {
	case valAbsent, valNull:
		return nil
	case valString:
		return o.b[v.start:v.end:v.end]
	case valEscaped:
		start := len(o.buf)
		buf, ok := appendUnescapedJSON(o.buf, o.b[v.start:v.end])
		o.buf = buf
		if !ok {
			d.giveUp()
			return nil
		}
		return buf[start:len(buf):len(buf)]
	}
	d.giveUp()
	return nil
}

// odID evaluates v as id does: a string, or a number of digits alone.
func (d *Decoder) odID(v val) []byte {
	if v.kind != valNumber {
		return d.odStr(v)
	}
	digits := d.od.b[v.start:v.end:v.end]
	for _, c := range digits {
		if c < '0' || c > '9' {
			d.giveUp()
			return nil
		}
	}
	return digits
}

// names returns the name set of reading level lvl, started.
func (d *Decoder) names(lvl int) *nameSet {
	for len(d.od.keys) <= lvl {
		d.od.keys = append(d.od.keys, new(nameSet))
	}
	k := d.od.keys[lvl]
	k.start()
	return k
}

// scratchTweet returns the scratch tweet of embedding depth depth, empty.
func (d *Decoder) scratchTweet(depth int) *matchers.Tweet {
	for len(d.od.scratch) <= depth {
		d.od.scratch = append(d.od.scratch, new(matchers.Tweet))
	}
	t := d.od.scratch[depth]
	t.Reset()
	return t
}

// appendEntities appends the hashtags, mentions and URLs of from to t.
func appendEntities(t, from *matchers.Tweet) {
	t.Hashtags = append(t.Hashtags, from.Hashtags...)
	t.Mentions = append(t.Mentions, from.Mentions...)
	t.URLs = append(t.URLs, from.URLs...)
}

// textOnDemand is text's reading: unescaped, within MaxTextBytes.
func (d *Decoder) textOnDemand(raw []byte) []byte {
	if len(raw) > d.Limits.MaxTextBytes {
		d.giveUp()
		return nil
	}
	return d.unescapeText(raw)
}

// odTweetV1 reads the v1.1 tweet object at pos as decodeV1 does: a part of
// the current post, then the parts of the tweets it embeds. lvl is the
// reading level of the object; root says it is the record itself, which
// the full parse would read as a response had it a data or statuses
// member.
func (d *Decoder) odTweetV1(in matchers.Where, depth, lvl int, root bool) {
	if depth > d.Limits.MaxEmbedDepth || !d.open('{') {
		d.giveUp()
		return
	}
	ti := len(d.parts)
	t := d.newPart(in)
	ext := d.scratchTweet(depth)
	// The members read, evaluated once all are: the record is given up on
	// at any problem, so the order of the checks does not matter. They
	// stay in memory (a struct of more than four fields), which spares
	// spilling them around each call of the loop.
	var v struct {
		idStr, id, createdAt, lang, text, fullText, replyHandle, replyUserID val
	}
	var (
		extText           []byte
		retweeted, quoted [2]int // their parts in d.parts
	)
	seen := memberNames{lvl: lvl}
	for f := d.member(true, &seen); f != fieldEnd; f = d.member(false, &seen) {
		switch f {
		case fieldIDStr:
			v.idStr = d.scalar()
		case fieldID:
			v.id = d.scalar()
		case fieldCreatedAt:
			v.createdAt = d.scalar()
		case fieldLang:
			v.lang = d.scalar()
		case fieldText:
			v.text = d.scalar()
		case fieldFullText:
			v.fullText = d.scalar()
		case fieldExtendedTweet:
			extText = d.odLongText(ext, fieldFullText, lvl+1)
		case fieldEntities:
			d.odEntities(t, false, lvl+1)
		case fieldUser:
			d.odUserV1(t, lvl+1)
		case fieldRetweetedStatus, fieldQuotedStatus:
			if d.null() {
				continue
			}
			where, r := matchers.InRetweeted, &retweeted
			if f == fieldQuotedStatus {
				where, r = matchers.InQuoted, &quoted
			}
			r[0] = len(d.parts)
			d.odTweetV1(where, depth+1, lvl+1, false)
			r[1] = len(d.parts)
		case fieldInReplyToScreenName:
			v.replyHandle = d.scalar()
		case fieldInReplyToUserIDStr:
			v.replyUserID = d.scalar()
		case fieldData, fieldStatuses:
			if root {
				d.giveUp()
			} else {
				d.skip()
			}
		default:
			d.skip()
		}
	}
	if d.repeats(&seen) {
		return
	}
	idStr, idNum := d.odID(v.idStr), d.odID(v.id)
	if t.ID = idStr; len(t.ID) == 0 {
		t.ID = idNum
	}
	if len(t.ID) == 0 {
		d.giveUp()
		return
	}
	t.CreatedAt, t.Lang = d.odStr(v.createdAt), d.odStr(v.lang)
	replyHandle, replyUserID := d.odStr(v.replyHandle), d.odID(v.replyUserID)
	raw, fullText := d.odStr(v.text), d.odStr(v.fullText)
	switch {
	case extText != nil:
		raw = extText
	case fullText != nil:
		raw = fullText
	}
	t.Text = d.textOnDemand(raw)
	appendEntities(t, ext)

	// The full parse's order: the tweet, its replied-to part, then the
	// retweeted and the quoted tweets' parts.
	reply := len(replyHandle) > 0 || len(replyUserID) > 0
	if !reply && (retweeted[1] == 0 || quoted[1] == 0 || retweeted[0] < quoted[0]) {
		return
	}
	embedded := append(d.od.parts[:0], d.parts[retweeted[0]:retweeted[1]]...)
	embedded = append(embedded, d.parts[quoted[0]:quoted[1]]...)
	d.parts = d.parts[:ti+1]
	if reply {
		r := d.newPart(matchers.InRepliedTo)
		r.AuthorHandle, r.AuthorID = replyHandle, replyUserID
	}
	d.parts = append(d.parts, embedded...)
	d.od.parts = embedded[:0]
}

// odLongText reads a v1.1 extended_tweet object (textField
// fieldFullText) or a v2 note_tweet one (fieldText): it returns its text
// and reads its entities into ext.
func (d *Decoder) odLongText(ext *matchers.Tweet, textField field, lvl int) (text []byte) {
	if !d.enter('{') {
		return nil
	}
	seen := memberNames{lvl: lvl, prev: fieldExtendedTweet}
	for f := d.member(true, &seen); f != fieldEnd; f = d.member(false, &seen) {
		switch f {
		case textField:
			text = d.odStr(d.scalar())
		case fieldEntities:
			d.odEntities(ext, textField == fieldText, lvl+1)
		default:
			d.skip()
		}
	}
	d.repeats(&seen)
	return text
}

// odObject reads the object at pos: of the members named fields, the
// values, as scalar reads them, into vals (fieldEnd names none); the
// others are passed over. It reports false for a null, and when the
// object repeats a member name or reading gave up (after which an array
// around it ends at its next element).
func (d *Decoder) odObject(lvl int, fields [3]field, vals *[3]val) bool {
	if !d.enter('{') {
		return false
	}
	seen := memberNames{lvl: lvl, prev: fields[0]}
	for f := d.member(true, &seen); f != fieldEnd; f = d.member(false, &seen) {
		switch f {
		case fields[0]:
			vals[0] = d.scalar()
		case fields[1]:
			vals[1] = d.scalar()
		case fields[2]:
			vals[2] = d.scalar()
		default:
			d.skip()
		}
	}
	return !d.repeats(&seen)
}

// odUserV1 reads a v1.1 user object: the author's handle and id.
func (d *Decoder) odUserV1(t *matchers.Tweet, lvl int) {
	var v [3]val // screen_name, id_str, id
	if !d.odObject(lvl, [3]field{fieldScreenName, fieldIDStr, fieldID}, &v) {
		return
	}
	t.AuthorHandle = d.odStr(v[0])
	if t.AuthorID = d.odID(v[1]); len(t.AuthorID) == 0 {
		t.AuthorID = d.odID(v[2])
	}
}

// odEntities reads a v1.1 (v2: API v2) entities object as entities
// does.
func (d *Decoder) odEntities(t *matchers.Tweet, v2 bool, lvl int) {
	if !d.enter('{') {
		return
	}
	mentions, tag := fieldUserMentions, fieldText
	if v2 {
		mentions, tag = fieldMentions, fieldTag
	}
	seen := memberNames{lvl: lvl, prev: fieldEntities}
	for f := d.member(true, &seen); f != fieldEnd; f = d.member(false, &seen) {
		switch f {
		case fieldHashtags:
			d.odHashtags(t, tag, lvl+1)
		case mentions:
			d.odMentions(t, v2, lvl+1)
		case fieldURLs:
			d.odURLs(t, lvl+1)
		default:
			d.skip()
		}
	}
	d.repeats(&seen)
}

// odHashtags reads a hashtags array, of each object its tag member.
func (d *Decoder) odHashtags(t *matchers.Tweet, tag field, lvl int) {
	if !d.enter('[') {
		return
	}
	for more := d.element(true); more; more = d.element(false) {
		var v [3]val
		if !d.odObject(lvl, [3]field{tag, fieldEnd, fieldEnd}, &v) {
			continue
		}
		if s := d.odStr(v[0]); len(s) > 0 {
			t.Hashtags = append(t.Hashtags, s)
		}
	}
}

// odMentions reads a v1.1 user_mentions or a v2 mentions array.
func (d *Decoder) odMentions(t *matchers.Tweet, v2 bool, lvl int) {
	if !d.enter('[') {
		return
	}
	handleField, idStrField := fieldScreenName, fieldIDStr
	if v2 {
		handleField, idStrField = fieldUsername, fieldEnd // v2 mentions have no id_str
	}
	for more := d.element(true); more; more = d.element(false) {
		var v [3]val // the handle, id_str, id
		if !d.odObject(lvl, [3]field{handleField, idStrField, fieldID}, &v) {
			continue
		}
		m := matchers.Mention{Handle: d.odStr(v[0])}
		if v2 {
			m.ID = d.odID(v[2])
		} else if m.ID = d.odID(v[1]); len(m.ID) == 0 {
			m.ID = d.odID(v[2])
		}
		if len(m.Handle) > 0 || len(m.ID) > 0 {
			t.Mentions = append(t.Mentions, m)
		}
	}
}

// odURLs reads a urls array: of each object, the URL forms of urlNames.
func (d *Decoder) odURLs(t *matchers.Tweet, lvl int) {
	if !d.enter('[') {
		return
	}
	for more := d.element(true); more; more = d.element(false) {
		var forms [len(urlNames)]val
		if !d.odObject(lvl, [3]field{fieldExpandedURL, fieldUnwoundURL, fieldURL}, &forms) {
			continue
		}
		for _, f := range forms {
			if s := d.odStr(f); len(s) > 0 {
				t.URLs = append(t.URLs, s)
			}
		}
	}
}

// odResponse reads a record that is a search or v2 response, as Decode's
// dispatch and decodeSearch or decodeV2 do: data wins over statuses.
func (d *Decoder) odResponse() {
	if !d.open('{') {
		return
	}
	o := &d.od
	dataAt, dataEnd := -1, -1 // where data lies, when it comes before includes
	var data, statuses, includes bool
	seen := memberNames{lvl: 0}
	for f := d.member(true, &seen); f != fieldEnd; f = d.member(false, &seen) {
		switch f {
		case fieldData:
			data = true
			switch {
			case statuses:
				d.giveUp() // read as posts already
			case includes:
				d.odData(1)
			default:
				// Read in full once includes are, which checks it; a
				// data that is no tweet or array is the full parse's.
				dataAt = o.pos
				if o.pos >= len(o.b) || o.b[o.pos] != '{' && o.b[o.pos] != '[' {
					d.giveUp()
				} else if o.pos = balancedEnd(o.b, o.pos); o.pos < 0 {
					d.giveUp()
				}
				dataEnd = o.pos
			}
		case fieldStatuses:
			statuses = true
			if data {
				d.skip()
			} else {
				d.odPosts(false, 1)
			}
		case fieldIncludes:
			includes = true
			d.odIncludes(1)
		default:
			d.skip()
		}
	}
	if d.repeats(&seen) || !data && !statuses {
		d.giveUp()
		return
	}
	if dataAt >= 0 {
		end := o.pos
		o.pos, o.level = dataAt, 1
		d.odData(1)
		if o.pos != dataEnd { // never for a data that reads well
			d.giveUp()
			return
		}
		o.pos, o.level = end, 0
	}
}

// odPosts reads an array of tweets, each a post: a search response's
// statuses, or (v2) a v2 response's data array.
func (d *Decoder) odPosts(v2 bool, lvl int) {
	if !d.open('[') {
		return
	}
	n := 0
	for more := d.element(true); more; more = d.element(false) {
		n++
		if !d.odPost(v2, lvl) {
			return
		}
	}
	if n == 0 {
		d.giveUp()
	}
}

// odPost reads the tweet at pos (v2: an API v2 one) as a new post, and
// reports false when there may be no more posts.
func (d *Decoder) odPost(v2 bool, lvl int) bool {
	if !d.newPost() {
		d.giveUp()
		return false
	}
	if v2 {
		d.odTweetV2(matchers.InTweet, 0, lvl)
	} else {
		d.odTweetV1(matchers.InTweet, 0, lvl, false)
	}
	return true
}

// odData reads a v2 response's data: a tweet or an array of them, each a
// post.
func (d *Decoder) odData(lvl int) {
	o := &d.od
	if o.pos < len(o.b) && o.b[o.pos] == '{' {
		d.odPost(true, lvl)
		return
	}
	d.odPosts(true, lvl)
}

// odIncludes reads a v2 response's includes: its users and tweets.
func (d *Decoder) odIncludes(lvl int) {
	if !d.enter('{') {
		return
	}
	seen := memberNames{lvl: lvl, prev: fieldIncludes}
	for f := d.member(true, &seen); f != fieldEnd; f = d.member(false, &seen) {
		switch f {
		case fieldUsers:
			d.odIncluded(&d.od.users, true, lvl+1)
		case fieldTweets:
			d.odIncluded(&d.od.tweets, false, lvl+1)
		default:
			d.skip()
		}
	}
	d.repeats(&seen)
}

// odIncluded reads an includes array: of each object, its member names
// checked, its string id and where it lies (and a user's username).
// Other values are passed over: lookups by id never find them.
func (d *Decoder) odIncluded(in *includedOnDemand, users bool, lvl int) {
	if !d.enter('[') {
		return
	}
	username := fieldEnd
	if users {
		username = fieldUsername
	}
	o := &d.od
	for more := d.element(true); more; more = d.element(false) {
		if o.pos >= len(o.b) || o.b[o.pos] != '{' {
			d.skip()
			continue
		}
		e := includedEntry{start: o.pos, level: o.level}
		var v [3]val // id, username
		if !d.odObject(lvl, [3]field{fieldID, username, fieldEnd}, &v) {
			return
		}
		e.username = v[1]
		switch id := v[0]; id.kind {
		case valString:
			e.id = o.b[id.start:id.end:id.end]
			in.entries = append(in.entries, e)
		case valEscaped:
			d.giveUp()
			return
		}
	}
}

// odTweetV2 reads the v2 tweet object at pos as tweetV2 does: a part of
// the current post, then the parts of the tweets it references.
func (d *Decoder) odTweetV2(in matchers.Where, depth, lvl int) {
	if !d.open('{') {
		return
	}
	o := &d.od
	t := d.newPart(in)
	note := d.scratchTweet(depth)
	// As in odTweetV1, the members are evaluated once all are read.
	var v struct {
		id, createdAt, lang, text, authorID, replyUserID val
	}
	var noteText []byte
	refsAt := -1
	seen := memberNames{lvl: lvl}
	for f := d.member(true, &seen); f != fieldEnd; f = d.member(false, &seen) {
		switch f {
		case fieldID:
			v.id = d.scalar()
		case fieldCreatedAt:
			v.createdAt = d.scalar()
		case fieldLang:
			v.lang = d.scalar()
		case fieldText:
			v.text = d.scalar()
		case fieldAuthorID:
			v.authorID = d.scalar()
		case fieldEntities:
			d.odEntities(t, true, lvl+1)
		case fieldNoteTweet:
			noteText = d.odLongText(note, fieldText, lvl+1)
		case fieldReferencedTweets:
			// Followed one level, as the full parse does.
			if depth == 0 {
				refsAt = o.pos
			}
			d.skip()
		case fieldInReplyToUserID:
			v.replyUserID = d.scalar()
		default:
			d.skip()
		}
	}
	if d.repeats(&seen) {
		return
	}
	if t.ID = d.odID(v.id); len(t.ID) == 0 {
		d.giveUp()
		return
	}
	t.CreatedAt, t.Lang, t.AuthorID = d.odStr(v.createdAt), d.odStr(v.lang), d.odID(v.authorID)
	replyUserID := d.odID(v.replyUserID)
	raw := d.odStr(v.text)
	if noteText != nil {
		raw = noteText
	}
	t.Text = d.textOnDemand(raw)
	if u := o.users.find(t.AuthorID); u != nil {
		t.AuthorHandle = d.odStr(u.username)
	}
	appendEntities(t, note)
	repliedFound := false
	if refsAt >= 0 {
		end, level := o.pos, o.level
		o.pos, o.level = refsAt, level+1
		repliedFound = d.odReferences(depth, lvl+1)
		o.pos, o.level = end, level
	}
	if !repliedFound && len(replyUserID) > 0 && depth == 0 {
		r := d.newPart(matchers.InRepliedTo)
		r.AuthorID = replyUserID
		if u := o.users.find(replyUserID); u != nil {
			r.AuthorHandle = d.odStr(u.username)
		}
	}
}

// odReferences reads a referenced_tweets array, reading each referenced
// tweet that includes holds where it lies, and reports whether a
// replied-to one was among them.
func (d *Decoder) odReferences(depth, lvl int) (repliedFound bool) {
	if !d.enter('[') {
		return false
	}
	o := &d.od
	for more := d.element(true); more; more = d.element(false) {
		var v [3]val // type, id
		if !d.odObject(lvl, [3]field{fieldType, fieldID, fieldEnd}, &v) {
			continue
		}
		where, ok := referenceType(d.odStr(v[0]))
		if !ok {
			continue
		}
		ref := o.tweets.find(d.odID(v[1]))
		if ref == nil {
			continue
		}
		if where == matchers.InRepliedTo {
			repliedFound = true
		}
		end, level := o.pos, o.level
		o.pos, o.level = ref.start, ref.level
		d.odTweetV2(where, depth+1, lvl+1)
		o.pos, o.level = end, level
	}
	return repliedFound
}

// includedOnDemand is one includes array (users or tweets) read on demand:
// its objects that have a string id, in order, with an index by id built
// on the first lookup of a long array, as included has.
type includedOnDemand struct {
	entries []includedEntry
	index   []int // of entries, sorted by id
	indexed bool
}

// includedEntry is an included object: its id, where it lies (its first
// byte and the containers open around it) and, for a user, its username.
type includedEntry struct {
	id       []byte
	start    int
	level    int
	username val
}

func (in *includedOnDemand) reset() {
	in.entries, in.index, in.indexed = in.entries[:0], in.index[:0], false
}

// find returns the first entry whose id is id, or nil.
func (in *includedOnDemand) find(id []byte) *includedEntry {
	if len(id) == 0 {
		return nil
	}
	if len(in.entries) <= 8 {
		for i := range in.entries {
			if bytes.Equal(in.entries[i].id, id) {
				return &in.entries[i]
			}
		}
		return nil
	}
	if !in.indexed {
		for i := range in.entries {
			in.index = append(in.index, i)
		}
		slices.SortStableFunc(in.index, func(a, b int) int { return bytes.Compare(in.entries[a].id, in.entries[b].id) })
		in.indexed = true
	}
	i, ok := slices.BinarySearchFunc(in.index, id, func(e int, id []byte) int { return bytes.Compare(in.entries[e].id, id) })
	if !ok {
		return nil
	}
	return &in.entries[in.index[i]]
}
