package decode

import (
	"bytes"
	"math/rand/v2"
	"slices"

	"github.com/valyala/fastjson"
)

// keySet finds a member name that an object repeats. Parsers disagree on
// which of two values of one name counts (fastjson's Get takes the first,
// encoding/json and Python the last), so a record with one is rejected
// rather than read one way.
//
// Names are chained into 256 buckets by a cheap hash of their length and
// three of their bytes, seeded per keySet; a bitmap says which buckets
// hold names of the current object, so nothing is cleared between objects
// but the bitmap, and a name is compared only with the earlier names of
// its bucket. Checking an object costs a few nanoseconds per member and
// allocates nothing once its scratch has grown. Names crafted to share a
// bucket make long chains; past a bound, and for objects of more than 255
// members, the object's names are sorted instead, so no record costs more
// than n log n.
//
// Use: start, add each name, finish. A keySet checks one object at a time.
type keySet struct {
	seed   uint32
	filled [4]uint64 // buckets holding names of the current object
	head   [256]uint8
	n      int         // names added
	keys   [255][]byte // the first 255 names
	next   [255]uint8  // per name: the bucket's previous name, index+1
	many   [][]byte    // all names, when finish sorts
	sorted bool        // finish sorts: too many names or a chain too long
	dup    []byte
}

// maxChain is the longest bucket chain compared before an object is
// checked by sorting.
const maxChain = 8

// start prepares for an object of n members.
func (k *keySet) start(n int) {
	if k.seed == 0 {
		k.seed = rand.Uint32() | 1
	}
	k.filled = [4]uint64{}
	k.n, k.dup, k.many = 0, nil, k.many[:0]
	k.sorted = n > len(k.keys)
}

// add notes a member name of the object. The name must stay valid until
// finish.
func (k *keySet) add(key []byte) {
	if k.sorted {
		k.many = append(k.many, key)
		return
	}
	if k.dup != nil || k.n == len(k.keys) {
		return
	}
	h := uint32(len(key)) * 0x9E3779B1
	if n := len(key); n > 0 {
		h ^= uint32(key[0]) | uint32(key[n-1])<<8 | uint32(key[n/2])<<16
	}
	b := uint8((h ^ k.seed) * 0x85EBCA6B >> 24)
	i := k.n
	k.keys[i] = key
	k.n++
	prev := uint8(0)
	if k.filled[b>>6]&(1<<(b&63)) != 0 {
		prev = k.head[b]
		chain := 0
		for j := prev; j != 0; j = k.next[j-1] {
			if bytes.Equal(k.keys[j-1], key) {
				k.dup = key
				return
			}
			if chain++; chain == maxChain {
				// Crafted names: check the object by sorting.
				k.sorted = true
				k.many = append(k.many[:0], k.keys[:k.n]...)
				return
			}
		}
	}
	k.filled[b>>6] |= 1 << (b & 63)
	k.next[i] = prev
	k.head[b] = uint8(i + 1)
}

// finish returns a member name the object repeats, or nil.
func (k *keySet) finish() []byte {
	if k.dup != nil || !k.sorted {
		return k.dup
	}
	slices.SortFunc(k.many, bytes.Compare)
	for i := 1; i < len(k.many); i++ {
		if bytes.Equal(k.many[i-1], k.many[i]) {
			return k.many[i]
		}
	}
	return nil
}

// repeated returns a member name that o has more than once, or nil.
func (k *keySet) repeated(o *fastjson.Object) []byte {
	if o.Len() < 2 {
		return nil
	}
	k.start(o.Len())
	o.Visit(func(key []byte, _ *fastjson.Value) { k.add(key) })
	return k.finish()
}

// nameSet is keySet for the on-demand reader, whose member names all lie
// in the record: it keeps each name as its offsets there, so it holds no
// pointers and adding a name costs no write barrier. It buckets, chains,
// bounds chains and falls back to sorting as keySet does.
//
// Use: start, add each name, finish, with the same record throughout.
type nameSet struct {
	seed   uint32
	filled [4]uint64 // buckets holding names of the current object
	head   [256]uint8
	next   []uint8  // per name: the bucket's previous name, index+1
	names  []uint64 // per name: start<<32 | end, in the record
	sorted bool     // finish sorts: too many names or a chain too long
	dup    bool
}

// start prepares for an object.
func (s *nameSet) start() {
	if s.seed == 0 {
		s.seed = rand.Uint32() | 1
	}
	s.filled = [4]uint64{}
	s.names, s.next, s.dup, s.sorted = s.names[:0], s.next[:0], false, false
}

// add notes the member name b[start:end] and reports whether it is known
// by now that the object repeats a name (finish may still find one).
func (s *nameSet) add(b []byte, start, end int) bool {
	if s.dup {
		return true
	}
	i := len(s.names)
	s.names = append(s.names, uint64(start)<<32|uint64(end))
	if i >= 255 {
		s.sorted = true
	}
	if s.sorted {
		return false
	}
	key := b[start:end]
	h := uint32(len(key)) * 0x9E3779B1
	if n := len(key); n > 0 {
		h ^= uint32(key[0]) | uint32(key[n-1])<<8 | uint32(key[n/2])<<16
	}
	h = (h ^ s.seed) * 0x85EBCA6B
	bk := uint8(h >> 24)
	word, bit := bk>>6, uint64(1)<<(bk&63)
	prev := uint8(0)
	if s.filled[word]&bit != 0 {
		prev = s.head[bk]
		chain := 0
		for j := prev; j != 0; j = s.next[j-1] {
			n := s.names[j-1]
			if string(b[n>>32:uint32(n)]) == string(key) {
				s.dup = true
				return true
			}
			if chain++; chain == maxChain {
				s.sorted = true
				return false
			}
		}
	}
	s.filled[word] |= bit
	s.next = append(s.next, prev)
	s.head[bk] = uint8(i + 1)
	return false
}

// finish reports whether the object repeats a member name.
func (s *nameSet) finish(b []byte) bool {
	if s.dup || !s.sorted {
		return s.dup
	}
	name := func(n uint64) []byte { return b[n>>32 : uint32(n)] }
	slices.SortFunc(s.names, func(x, y uint64) int { return bytes.Compare(name(x), name(y)) })
	for i := 1; i < len(s.names); i++ {
		if bytes.Equal(name(s.names[i-1]), name(s.names[i])) {
			return true
		}
	}
	return false
}
