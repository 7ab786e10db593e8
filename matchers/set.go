package matchers

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// Set is an immutable hashed lookup set from normalized keys to entry
// references. Keys are hashed with xxhash64 into an open-addressing table
// with linear probing; a hit is verified against the stored key bytes, so
// a hash collision can never produce a false match.
//
// The layout is compact and free of pointers, so a set of millions of keys
// costs the garbage collector nothing to scan: per key, one 8-byte slot in a
// table kept at most 3/4 full, 8 bytes of key record, and the key bytes
// behind a one- or two-byte length in the arena. A Set is safe for
// concurrent lookups.
type Set struct {
	// slots holds, per table position, 0 for empty or the upper 32 bits of
	// the key's hash (forced odd, so never 0) above the key's index.
	slots []uint64
	mask  uint64
	keys  []setKey
	arena []byte   // per key: uvarint length, then the key bytes
	multi []uint32 // for keys with several references: count, then refs
}

// setKey locates one distinct key. ref is the key's only reference, or,
// with the top bit set, the index in multi of its count and references.
type setKey struct {
	off, ref uint32
}

const multiRef = 1 << 31

// Refs is the list of entry references stored under one key. It points into
// its Set and is valid as long as the Set is.
type Refs struct {
	one   uint32
	multi []uint32
	n     int
}

// Len returns the number of references.
func (r Refs) Len() int { return r.n }

// At returns reference i, 0 <= i < Len().
func (r Refs) At(i int) uint32 {
	if r.multi != nil {
		return r.multi[i]
	}
	return r.one
}

// Len returns the number of distinct keys in s.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.keys)
}

// Lookup returns the references stored under key; Len is 0 when there are
// none.
func (s *Set) Lookup(key []byte) Refs {
	if s == nil || len(s.keys) == 0 {
		return Refs{}
	}
	h := xxhash.Sum64(key)
	tag := h>>32 | 1
	for pos := h & s.mask; ; pos = (pos + 1) & s.mask {
		slot := s.slots[pos]
		if slot == 0 {
			return Refs{}
		}
		if slot>>32 != tag {
			continue
		}
		k := s.keys[uint32(slot)]
		if !bytes.Equal(s.keyBytes(k.off), key) {
			continue
		}
		if k.ref&multiRef == 0 {
			return Refs{one: k.ref, n: 1}
		}
		i := k.ref &^ multiRef
		n := s.multi[i]
		return Refs{multi: s.multi[i+1 : i+1+n], n: int(n)}
	}
}

func (s *Set) keyBytes(off uint32) []byte {
	n, w := binary.Uvarint(s.arena[off:])
	start := uint64(off) + uint64(w)
	return s.arena[start : start+n]
}

// Bytes returns the memory that the set's arrays occupy.
func (s *Set) Bytes() int {
	if s == nil {
		return 0
	}
	return 8*cap(s.slots) + 8*cap(s.keys) + cap(s.arena) + 4*cap(s.multi)
}

// SetBuilder collects keys and references for a Set. The zero value is
// ready to use.
type SetBuilder struct {
	set    Set
	hashes []uint64 // per key, for growing the table
	chain  []refNode
	heads  []uint32 // per key: index+1 of its newest refNode
}

type refNode struct {
	ref, next uint32 // next is index+1; 0 ends the chain
}

// Limits of the packed layout.
const (
	maxSetKeyLen = 1<<14 - 1 // a two-byte uvarint
	maxSetRef    = multiRef - 1
)

// Add stores ref under key. Adding the same reference to the same key again
// changes nothing.
func (b *SetBuilder) Add(key []byte, ref uint32) error {
	switch {
	case len(key) > maxSetKeyLen:
		return fmt.Errorf("key of %d bytes is longer than %d", len(key), maxSetKeyLen)
	case ref > maxSetRef:
		return fmt.Errorf("entry reference %d is beyond %d", ref, maxSetRef)
	case uint64(len(b.set.arena))+uint64(len(key))+2 > 1<<32-1:
		return fmt.Errorf("lookup set is full")
	}
	if 4*(len(b.set.keys)+1) > 3*len(b.set.slots) {
		b.grow()
	}
	s := &b.set
	h := xxhash.Sum64(key)
	tag := h>>32 | 1
	pos := h & s.mask
	for ; s.slots[pos] != 0; pos = (pos + 1) & s.mask {
		slot := s.slots[pos]
		if slot>>32 != tag {
			continue
		}
		i := uint32(slot)
		if !bytes.Equal(s.keyBytes(s.keys[i].off), key) {
			continue
		}
		for n := b.heads[i]; n != 0; n = b.chain[n-1].next {
			if b.chain[n-1].ref == ref {
				return nil
			}
		}
		b.chain = append(b.chain, refNode{ref: ref, next: b.heads[i]})
		b.heads[i] = uint32(len(b.chain))
		return nil
	}
	i := uint32(len(s.keys))
	s.slots[pos] = tag<<32 | uint64(i)
	s.keys = append(s.keys, setKey{off: uint32(len(s.arena))})
	s.arena = binary.AppendUvarint(s.arena, uint64(len(key)))
	s.arena = append(s.arena, key...)
	b.hashes = append(b.hashes, h)
	b.chain = append(b.chain, refNode{ref: ref})
	b.heads = append(b.heads, uint32(len(b.chain)))
	return nil
}

// grow doubles the table and reinserts every key.
func (b *SetBuilder) grow() {
	n := 2 * len(b.set.slots)
	if n < 16 {
		n = 16
	}
	slots := make([]uint64, n)
	mask := uint64(n - 1)
	for i, h := range b.hashes {
		pos := h & mask
		for slots[pos] != 0 {
			pos = (pos + 1) & mask
		}
		slots[pos] = (h>>32|1)<<32 | uint64(i)
	}
	b.set.slots, b.set.mask = slots, mask
}

// Build returns the finished Set; references under each key keep the order
// they were added in. The builder is empty afterwards.
func (b *SetBuilder) Build() *Set {
	s := b.set
	for i := range s.keys {
		head := b.heads[i]
		if b.chain[head-1].next == 0 {
			s.keys[i].ref = b.chain[head-1].ref
			continue
		}
		s.keys[i].ref = multiRef | uint32(len(s.multi))
		countAt := len(s.multi)
		s.multi = append(s.multi, 0)
		for n := head; n != 0; n = b.chain[n-1].next {
			s.multi = append(s.multi, b.chain[n-1].ref)
		}
		refs := s.multi[countAt+1:]
		s.multi[countAt] = uint32(len(refs))
		for l, r := 0, len(refs)-1; l < r; l, r = l+1, r-1 { // newest first → insertion order
			refs[l], refs[r] = refs[r], refs[l]
		}
	}
	s.arena = s.arena[:len(s.arena):len(s.arena)]
	s.keys = s.keys[:len(s.keys):len(s.keys)]
	*b = SetBuilder{}
	return &s
}
