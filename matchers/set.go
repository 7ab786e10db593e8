package matchers

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// Set is an immutable hashed lookup set from normalized keys to entry
// references. Keys are hashed with xxhash64; the top bits of the hash pick
// a shard, the low 32 bits (the key's tag) a home slot in the shard's
// open-addressing table, which is probed linearly. The table is ordered:
// its keys sit in the order of their tags, so a lookup stops at the first
// empty slot or bigger tag, and one that misses probes about as few slots
// as one that hits; one of a length that no key has is not even hashed. A
// hit is verified against the stored key bytes, so a hash collision can
// never produce a false match.
//
// The layout is compact and free of pointers, so a set of millions of keys
// costs the garbage collector nothing to scan: per key, one 8-byte slot in
// a table kept at most 3/4 full, an 8-byte key record, and the key bytes
// behind a one- or two-byte length in the arena. Shards keep each table
// small enough to build in cache, and are built in parallel. A Set is safe
// for concurrent lookups.
type Set struct {
	shards []setShard
	shift  uint   // a hash's shard is hash >> shift
	arena  []byte // per key: uvarint length, then the key bytes
	keys   int
	// lens has bit lenBit(len(k)) set for every key k (and perhaps for
	// lengths of keys left out), so a lookup of a length no key has
	// misses without hashing.
	lens uint64
}

// lenBit returns the bit of Set.lens for keys of n bytes: lengths from 63
// share the top bit.
func lenBit(n int) uint64 { return 1 << min(n, 63) }

// setShard is one open-addressing table of a Set.
type setShard struct {
	// slots holds, per table position, 0 for empty or the key's tag above
	// the key's index in keys. A key's home position is its tag scaled to
	// homes, so the table can be sized to its keys exactly. The invariants
	// that make a miss cheap:
	//   - a key sits at its home position or after it, with no empty slot
	//     between;
	//   - the tags of the occupied slots do not decrease along the table;
	//   - probing never wraps: keys pushed past the last home position sit
	//     in slots after it, and the last slot is always empty.
	slots []uint64
	homes uint64 // the number of home positions, at most len(slots)-1
	keys  []setKey
	multi []uint32 // for keys with several references: count, then refs
}

// tagOf returns the tag of hash h: its low 32 bits, forced odd so that a
// tag is never 0, the empty slot.
func tagOf(h uint64) uint32 { return uint32(h) | 1 }

// home returns the home position of tag among n home positions. It does
// not decrease as tag grows, so ordering keys by tag orders them by home.
func home(tag uint32, n uint64) int { return int(uint64(tag) * n >> 32) }

// setKey locates one distinct key: off is its place in the arena; ref is
// its only reference, or, with the top bit set, the index in multi of its
// count and references.
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
	return s.keys
}

// keyHash returns the hash of key by which Sets place and find it.
func keyHash(key []byte) uint64 { return xxhash.Sum64(key) }

// mayHold reports whether s may hold a key of n bytes: false when no key
// has that length.
func (s *Set) mayHold(n int) bool { return s != nil && s.lens&lenBit(n) != 0 }

// Lookup returns the references stored under key; Len is 0 when there are
// none.
func (s *Set) Lookup(key []byte) Refs {
	if !s.mayHold(len(key)) {
		return Refs{}
	}
	return s.lookupHashed(key, keyHash(key))
}

// lookupHashed is Lookup of key whose keyHash is h, in a set that may hold
// keys of its length (mayHold): a caller that looks up one key in several
// sets hashes it once.
func (s *Set) lookupHashed(key []byte, h uint64) Refs {
	sh := &s.shards[h>>s.shift]
	tag := tagOf(h)
	for pos := home(tag, sh.homes); ; pos++ {
		slot := sh.slots[pos]
		if t := uint32(slot >> 32); t != tag {
			if t-1 >= tag-1 { // empty (t-1 wraps) or past tag: key is absent
				return Refs{}
			}
			continue
		}
		k := sh.keys[uint32(slot)]
		if !bytes.Equal(keyAt(s.arena, k.off), key) {
			continue
		}
		if k.ref&multiRef == 0 {
			return Refs{one: k.ref, n: 1}
		}
		i := k.ref &^ multiRef
		n := sh.multi[i]
		return Refs{multi: sh.multi[i+1 : i+1+n], n: int(n)}
	}
}

// keyAt returns the key stored at off in arena.
func keyAt(arena []byte, off uint32) []byte {
	n, w := binary.Uvarint(arena[off:])
	start := uint64(off) + uint64(w)
	return arena[start : start+n]
}

// Bytes returns the memory that the set's arrays occupy.
func (s *Set) Bytes() int {
	if s == nil {
		return 0
	}
	n := cap(s.arena) + 48*cap(s.shards)
	for i := range s.shards {
		sh := &s.shards[i]
		n += 8*cap(sh.slots) + 8*cap(sh.keys) + 4*cap(sh.multi)
	}
	return n
}

// SetBuilder collects keys and references for a Set. The zero value is
// ready to use. Adding only appends; Build partitions the keys by shard and
// builds the shards' tables.
type SetBuilder struct {
	arena []byte
	items []setItem
	// buckets, when Grow was told the size up front, hold the items
	// already partitioned by shard.
	buckets   [][]setItem
	shardBits int
	lens      uint64 // as Set.lens
}

// setItem is one Add: the key's hash, its place in the arena, its
// reference.
type setItem struct {
	hash     uint64
	off, ref uint32
}

// Limits of the packed layout.
const (
	maxSetKeyLen = 1<<14 - 1 // a two-byte uvarint
	maxSetRef    = multiRef - 1
)

// Grow makes room for keys more keys of keyBytes bytes in all. Told the
// size of an empty builder, it partitions keys by shard as they are added,
// saving Build a pass and a copy.
func (b *SetBuilder) Grow(keys, keyBytes int) {
	b.arena = slices.Grow(b.arena, keyBytes+2*keys)
	if len(b.items) == 0 && b.buckets == nil && keys > 1<<14 {
		b.shardBits = shardBitsFor(keys)
		b.buckets = make([][]setItem, 1<<b.shardBits)
		per := keys>>b.shardBits + keys>>b.shardBits/8 + 64
		for i := range b.buckets {
			b.buckets[i] = make([]setItem, 0, per)
		}
		return
	}
	b.items = slices.Grow(b.items, keys)
}

// shardBitsFor returns how many hash bits pick the shard of a set of n
// keys: shards of about 16k keys keep each table within a few hundred KiB,
// small enough to build in cache.
func shardBitsFor(n int) int {
	bits := 0
	for n>>bits > 1<<14 && bits < 12 {
		bits++
	}
	return bits
}

// Add stores ref under key. Adding the same reference to the same key again
// changes nothing; references under one key keep the order they were added
// in.
func (b *SetBuilder) Add(key []byte, ref uint32) error {
	switch {
	case len(key) > maxSetKeyLen:
		return fmt.Errorf("key of %d bytes is longer than %d", len(key), maxSetKeyLen)
	case ref > maxSetRef:
		return fmt.Errorf("entry reference %d is beyond %d", ref, maxSetRef)
	case uint64(len(b.arena))+uint64(len(key))+2 > 1<<32-1:
		return fmt.Errorf("lookup set is full")
	}
	off := uint32(len(b.arena))
	b.lens |= lenBit(len(key))
	b.arena = binary.AppendUvarint(b.arena, uint64(len(key)))
	b.arena = append(b.arena, key...)
	it := setItem{hash: keyHash(key), off: off, ref: ref}
	if b.buckets != nil {
		sh := it.hash >> (64 - b.shardBits)
		b.buckets[sh] = append(b.buckets[sh], it)
		return nil
	}
	b.items = append(b.items, it)
	return nil
}

// Dup is a reference that Build refused because its key already held a
// reference of the same group: Ref was not stored, Prev is the reference
// it repeats.
type Dup struct {
	Ref, Prev uint32
}

// Build returns the finished Set. The builder is empty afterwards.
func (b *SetBuilder) Build() *Set {
	s, _ := b.BuildGrouped(nil, nil)
	return s
}

// BuildGrouped returns the finished Set. When sameGroup is not nil, a
// reference whose key already holds a reference of the same group (per
// sameGroup of the new and the newest stored reference) is not stored but
// returned as a Dup; when skip is not nil, references it reports are left
// out. Dups come sorted by Ref. The builder is empty afterwards.
func (b *SetBuilder) BuildGrouped(sameGroup func(ref, prev uint32) bool, skip func(ref uint32) bool) (*Set, []Dup) {
	arena, lens := b.arena, b.lens
	buckets, shardBits := b.buckets, b.shardBits
	if buckets == nil {
		shardBits = shardBitsFor(len(b.items))
		buckets = partition(b.items, shardBits)
	}
	*b = SetBuilder{}
	if skip != nil {
		for i, bucket := range buckets {
			kept := bucket[:0]
			for _, it := range bucket {
				if !skip(it.ref) {
					kept = append(kept, it)
				}
			}
			buckets[i] = kept
		}
	}
	nShards := 1 << shardBits
	s := &Set{shards: make([]setShard, nShards), shift: uint(64 - shardBits), arena: arena[:len(arena):len(arena)]}

	// Build the shards on all cores.
	workers := min(runtime.GOMAXPROCS(0), nShards)
	dups := make([][]Dup, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() { // owned by BuildGrouped; joined below
			defer wg.Done()
			var scratch shardScratch
			for i := w; i < nShards; i += workers {
				dups[w] = scratch.build(&s.shards[i], buckets[i], arena, sameGroup, dups[w])
				buckets[i] = nil // done with: let the collector have it
			}
		}()
	}
	wg.Wait()
	var all []Dup
	for w := range dups {
		all = append(all, dups[w]...)
	}
	slices.SortFunc(all, func(a, b Dup) int { return int(a.Ref) - int(b.Ref) })
	for i := range s.shards {
		s.keys += len(s.shards[i].keys)
	}
	if s.keys > 0 {
		s.lens = lens
	}
	return s, all
}

// partition splits items by shard (the top shardBits bits of their
// hashes), keeping their order within a shard.
func partition(items []setItem, shardBits int) [][]setItem {
	if shardBits == 0 {
		return [][]setItem{items}
	}
	n := 1 << shardBits
	start := make([]int, n+1)
	for _, it := range items {
		start[(it.hash>>(64-shardBits))+1]++
	}
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	parted := make([]setItem, len(items))
	next := slices.Clone(start[:n])
	for _, it := range items {
		sh := it.hash >> (64 - shardBits)
		parted[next[sh]] = it
		next[sh]++
	}
	buckets := make([][]setItem, n)
	for i := range buckets {
		buckets[i] = parted[start[i]:start[i+1]:start[i+1]]
	}
	return buckets
}

// shardScratch is the reusable working memory of building shards.
type shardScratch struct {
	chain  []refNode
	heads  []uint32
	starts []uint32  // of order: per home position, where its items go
	sorted []setItem // of order: the items in order
}

// order returns items ordered by tag, and among equal tags by offset in the
// arena, which is the order they were added in. It counts them out by home
// position among homes (the order of homes is that of tags), then sorts by
// insertion: only items of one home can be out of order, and they are few.
// The result is sc's until the next call.
func (sc *shardScratch) order(items []setItem, homes uint64) []setItem {
	starts := slices.Grow(sc.starts[:0], int(homes)+1)[:homes+1]
	clear(starts)
	for _, it := range items {
		starts[home(tagOf(it.hash), homes)+1]++
	}
	for i := 1; i < len(starts); i++ {
		starts[i] += starts[i-1]
	}
	sorted := slices.Grow(sc.sorted[:0], len(items))[:len(items)]
	for _, it := range items {
		h := home(tagOf(it.hash), homes)
		sorted[starts[h]] = it
		starts[h]++
	}
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && itemBefore(&sorted[j], &sorted[j-1]); j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	sc.starts, sc.sorted = starts, sorted
	return sorted
}

// itemBefore reports whether a comes before b: by tag, then by offset.
func itemBefore(a, b *setItem) bool {
	if ta, tb := tagOf(a.hash), tagOf(b.hash); ta != tb {
		return ta < tb
	}
	return a.off < b.off
}

type refNode struct {
	ref, next uint32 // next is index+1; 0 ends the chain
}

// build fills sh with items and appends the dups it refuses to dups.
func (sc *shardScratch) build(sh *setShard, items []setItem, arena []byte, sameGroup func(ref, prev uint32) bool, dups []Dup) []Dup {
	// At most 3/4 full: linear probing stays short. Placed in the order of
	// their tags, keys keep the table ordered.
	homes := max(4*len(items)/3+1, 8)
	sh.homes = uint64(homes)
	items = sc.order(items, sh.homes)
	// Keys pushed past the last home position take slots after it; one
	// more stays empty to end every probe.
	sh.slots = make([]uint64, homes+1, homes+1+len(items)/64+8)
	sh.keys = make([]setKey, 0, len(items))
	sc.chain, sc.heads = sc.chain[:0], sc.heads[:0]
	multi := false
	end := 0 // the slot after the last key placed
	for _, it := range items {
		tag := tagOf(it.hash)
		found := false
		// A key of the same tag placed before sits just before end.
		for pos := end - 1; pos >= 0 && uint32(sh.slots[pos]>>32) == tag; pos-- {
			i := uint32(sh.slots[pos])
			if !bytes.Equal(keyAt(arena, sh.keys[i].off), keyAt(arena, it.off)) {
				continue
			}
			found = true
			newest := sc.chain[sc.heads[i]-1].ref
			switch {
			case newest == it.ref || sc.holds(i, it.ref):
			case sameGroup != nil && sameGroup(it.ref, newest):
				dups = append(dups, Dup{Ref: it.ref, Prev: newest})
			default:
				sc.chain = append(sc.chain, refNode{ref: it.ref, next: sc.heads[i]})
				sc.heads[i] = uint32(len(sc.chain))
				multi = true
			}
			break
		}
		if found {
			continue
		}
		pos := max(home(tag, sh.homes), end)
		for pos+1 >= len(sh.slots) {
			sh.slots = append(sh.slots, 0)
		}
		end = pos + 1
		i := uint32(len(sh.keys))
		sh.slots[pos] = uint64(tag)<<32 | uint64(i)
		sh.keys = append(sh.keys, setKey{off: it.off})
		sc.chain = append(sc.chain, refNode{ref: it.ref})
		sc.heads = append(sc.heads, uint32(len(sc.chain)))
	}
	for i := range sh.keys {
		head := sc.heads[i]
		if sc.chain[head-1].next == 0 {
			sh.keys[i].ref = sc.chain[head-1].ref
			continue
		}
		sh.keys[i].ref = multiRef | uint32(len(sh.multi))
		countAt := len(sh.multi)
		sh.multi = append(sh.multi, 0)
		for n := head; n != 0; n = sc.chain[n-1].next {
			sh.multi = append(sh.multi, sc.chain[n-1].ref)
		}
		refs := sh.multi[countAt+1:]
		sh.multi[countAt] = uint32(len(refs))
		slices.Reverse(refs) // the chain is newest first
	}
	if !multi {
		sh.multi = nil
	}
	sh.keys = sh.keys[:len(sh.keys):len(sh.keys)]
	return dups
}

// holds reports whether key i's chain already has ref.
func (sc *shardScratch) holds(i uint32, ref uint32) bool {
	for n := sc.heads[i]; n != 0; n = sc.chain[n-1].next {
		if sc.chain[n-1].ref == ref {
			return true
		}
	}
	return false
}
