package decode

import (
	"bytes"
	"hash/maphash"

	"github.com/valyala/fastjson"
)

// keySet finds a member name that an object repeats. Parsers disagree on
// which of two values of one name counts (fastjson's Get takes the first,
// encoding/json and Python the last), so a record with one is rejected
// rather than read one way.
//
// It is an open-addressing table of the names' hashes, stamped with a
// generation so that it is never cleared between objects: checking an
// object costs one hash per member and allocates nothing once the table
// has grown to the largest object seen. The hash is seeded per process
// (hash/maphash), so a record cannot be crafted to make every name collide.
type keySet struct {
	seed  maphash.Seed
	gen   uint32
	slots []keySlot
	keys  [][]byte
}

type keySlot struct {
	gen uint32 // the slot is in use when gen is the set's
	tag uint32 // the hash's upper half, to skip most unequal names
	key uint32 // index in keys
}

// repeated returns a member name that o has more than once, or nil.
func (k *keySet) repeated(o *fastjson.Object) []byte {
	n := o.Len()
	if n < 2 {
		return nil
	}
	if n <= 8 {
		return k.repeatedSmall(o)
	}
	size := 16
	for size < 2*n {
		size *= 2
	}
	if len(k.slots) < size {
		if k.seed == (maphash.Seed{}) {
			k.seed = maphash.MakeSeed()
		}
		k.slots = make([]keySlot, size)
		k.gen = 0
	}
	if k.gen++; k.gen == 0 {
		clear(k.slots)
		k.gen = 1
	}
	mask := uint64(size - 1)
	k.keys = k.keys[:0]
	var dup []byte
	o.Visit(func(key []byte, _ *fastjson.Value) {
		if dup != nil {
			return
		}
		h := maphash.Bytes(k.seed, key)
		tag := uint32(h >> 32)
		for pos := h & mask; ; pos = (pos + 1) & mask {
			s := &k.slots[pos]
			if s.gen != k.gen {
				*s = keySlot{gen: k.gen, tag: tag, key: uint32(len(k.keys))}
				k.keys = append(k.keys, key)
				return
			}
			if s.tag == tag && bytes.Equal(k.keys[s.key], key) {
				dup = key
				return
			}
		}
	})
	return dup
}

// repeatedSmall is repeated for objects of a few members, by comparing
// each pair.
func (k *keySet) repeatedSmall(o *fastjson.Object) []byte {
	k.keys = k.keys[:0]
	var dup []byte
	o.Visit(func(key []byte, _ *fastjson.Value) {
		if dup != nil {
			return
		}
		for _, prev := range k.keys {
			if bytes.Equal(prev, key) {
				dup = key
				return
			}
		}
		k.keys = append(k.keys, key)
	})
	return dup
}
