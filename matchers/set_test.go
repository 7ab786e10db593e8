package matchers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

func refsOf(r Refs) []uint32 {
	out := []uint32{}
	for i := range r.Len() {
		out = append(out, r.At(i))
	}
	return out
}

type setAdd struct {
	key string
	ref uint32
}

func buildSet(t testing.TB, adds ...setAdd) *Set {
	t.Helper()
	var b SetBuilder
	for _, a := range adds {
		if err := b.Add([]byte(a.key), a.ref); err != nil {
			t.Fatalf("Add(%q, %d): %v", a.key, a.ref, err)
		}
	}
	return b.Build()
}

func TestSet(t *testing.T) {
	tests := []struct {
		name    string
		adds    []setAdd
		lookups map[string][]uint32 // key → refs; missing keys map to none
		keys    int
	}{
		{
			name:    "empty",
			lookups: map[string][]uint32{"": {}, "baduser": {}},
		},
		{
			name:    "one key",
			adds:    []setAdd{{"baduser", 7}},
			lookups: map[string][]uint32{"baduser": {7}, "baduse": {}, "baduser1": {}, "BADUSER": {}, "": {}},
			keys:    1,
		},
		{
			name: "several refs under one key keep insertion order",
			adds: []setAdd{{"farmergenocide", 9}, {"other", 1}, {"farmergenocide", 3}, {"farmergenocide", 5}},
			lookups: map[string][]uint32{
				"farmergenocide": {9, 3, 5},
				"other":          {1},
			},
			keys: 2,
		},
		{
			name:    "same ref twice is stored once",
			adds:    []setAdd{{"baduser", 4}, {"baduser", 4}, {"baduser", 6}, {"baduser", 4}},
			lookups: map[string][]uint32{"baduser": {4, 6}},
			keys:    1,
		},
		{
			name: "keys differing only in the last byte",
			adds: []setAdd{{"fict_user_0001", 1}, {"fict_user_0002", 2}, {"fict_user_000", 3}},
			lookups: map[string][]uint32{
				"fict_user_0001":  {1},
				"fict_user_0002":  {2},
				"fict_user_000":   {3},
				"fict_user_0003":  {},
				"fict_user_00010": {},
			},
			keys: 3,
		},
		{
			name:    "empty key",
			adds:    []setAdd{{"", 1}},
			lookups: map[string][]uint32{"": {1}, "a": {}},
			keys:    1,
		},
		{
			name:    "non-ASCII keys",
			adds:    []setAdd{{"किसान", 1}, {"कसन", 2}, {"\u0915\u093C", 3}},
			lookups: map[string][]uint32{"किसान": {1}, "कसन": {2}, "\u0915\u093C": {3}, "\u0958": {}},
			keys:    3,
		},
		{
			name:    "largest reference",
			adds:    []setAdd{{"max", maxSetRef}, {"max", 0}},
			lookups: map[string][]uint32{"max": {maxSetRef, 0}},
			keys:    1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSet(t, tt.adds...)
			if got := s.Len(); got != tt.keys {
				t.Errorf("Len() = %d, want %d", got, tt.keys)
			}
			for key, want := range tt.lookups {
				if got := refsOf(s.Lookup([]byte(key))); !slices.Equal(got, want) {
					t.Errorf("Lookup(%q) = %v, want %v", key, got, want)
				}
			}
		})
	}
}

func TestSetNil(t *testing.T) {
	var s *Set
	if got := s.Lookup([]byte("x")).Len(); got != 0 {
		t.Errorf("nil set: Lookup = %d refs, want 0", got)
	}
	if s.Len() != 0 || s.Bytes() != 0 {
		t.Errorf("nil set: Len = %d, Bytes = %d; want 0, 0", s.Len(), s.Bytes())
	}
	var b SetBuilder
	empty := b.Build()
	if got := empty.Lookup(nil).Len(); got != 0 {
		t.Errorf("empty set: Lookup(nil) = %d refs, want 0", got)
	}
}

func TestSetAddErrors(t *testing.T) {
	var b SetBuilder
	if err := b.Add(make([]byte, maxSetKeyLen+1), 1); err == nil {
		t.Errorf("Add of a %d-byte key succeeded, want error", maxSetKeyLen+1)
	}
	if err := b.Add([]byte("x"), maxSetRef+1); err == nil {
		t.Errorf("Add with reference %d succeeded, want error", maxSetRef+1)
	}
	if err := b.Add(make([]byte, maxSetKeyLen), 1); err != nil {
		t.Errorf("Add of a %d-byte key: %v", maxSetKeyLen, err)
	}
	s := b.Build()
	if got := refsOf(s.Lookup(make([]byte, maxSetKeyLen))); !slices.Equal(got, []uint32{1}) {
		t.Errorf("Lookup of the longest key = %v, want [1]", got)
	}
}

func TestSetBuilderReuse(t *testing.T) {
	var b SetBuilder
	_ = b.Add([]byte("first"), 1)
	first := b.Build()
	_ = b.Add([]byte("second"), 2)
	second := b.Build()
	if first.Lookup([]byte("second")).Len() != 0 || second.Lookup([]byte("first")).Len() != 0 {
		t.Error("a builder reused after Build shares keys between sets")
	}
	if got := refsOf(first.Lookup([]byte("first"))); !slices.Equal(got, []uint32{1}) {
		t.Errorf("first set: Lookup(first) = %v, want [1]", got)
	}
}

func TestSetLarge(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	var b SetBuilder
	key := func(i int) []byte { return []byte("fict_user_" + strconv.Itoa(i)) }
	for i := range n {
		if err := b.Add(key(i), uint32(i)); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 { // a second reference under every tenth key
			if err := b.Add(key(i), uint32(n+i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := b.Build()
	if s.Len() != n {
		t.Fatalf("Len() = %d, want %d", s.Len(), n)
	}
	for i := range n {
		want := []uint32{uint32(i)}
		if i%10 == 0 {
			want = append(want, uint32(n+i))
		}
		if got := refsOf(s.Lookup(key(i))); !slices.Equal(got, want) {
			t.Fatalf("Lookup(%q) = %v, want %v", key(i), got, want)
		}
	}
	for i := n; i < n+1000; i++ {
		if got := s.Lookup(key(i)).Len(); got != 0 {
			t.Fatalf("Lookup(%q) of a missing key = %d refs, want 0", key(i), got)
		}
	}
	// Every shard's table is at most 3/4 full, and keys sit in the shard
	// their hash's top bits name.
	slots := 0
	for i, sh := range s.shards {
		n := len(sh.slots)
		slots += n
		if 4*len(sh.keys) > 3*n {
			t.Errorf("shard %d: %d keys in %d slots, want at most 3/4 full", i, len(sh.keys), n)
		}
		for _, k := range sh.keys {
			if h := xxhash.Sum64(keyAt(s.arena, k.off)); int(h>>s.shift) != i {
				t.Fatalf("key %q in shard %d, its hash names shard %d", keyAt(s.arena, k.off), i, h>>s.shift)
			}
		}
		checkOrdered(t, i, &sh)
	}
	if len(s.shards) < 2 {
		t.Errorf("%d keys in %d shard(s), want several", n, len(s.shards))
	}
	// Bytes counts at least the slots, the key records and the key bytes.
	low := 8*slots + 8*n + n*len("fict_user_")
	if got := s.Bytes(); got < low || got > 4*low {
		t.Errorf("Bytes() = %d, want between %d and %d", got, low, 4*low)
	}
}

// checkOrdered checks the invariants of shard i's table that let a lookup
// stop early: every key at or after its home position with no empty slot
// between, tags not decreasing, and the last slot empty.
func checkOrdered(t *testing.T, i int, sh *setShard) {
	t.Helper()
	if n := len(sh.slots); n == 0 || sh.slots[n-1] != 0 || sh.homes > uint64(n-1) {
		t.Fatalf("shard %d: %d slots for %d home positions, want more, the last empty", i, n, sh.homes)
	}
	prev := uint32(0)
	for pos, slot := range sh.slots {
		if slot == 0 {
			continue
		}
		tag := uint32(slot >> 32)
		if tag < prev {
			t.Fatalf("shard %d: tag %08x at %d after tag %08x", i, tag, pos, prev)
		}
		prev = tag
		for p := home(tag, sh.homes); p < pos; p++ {
			if sh.slots[p] == 0 {
				t.Fatalf("shard %d: key at %d, home %d, has an empty slot at %d between", i, pos, home(tag, sh.homes), p)
			}
		}
		if h := home(tag, sh.homes); h > pos {
			t.Fatalf("shard %d: key at %d before its home %d", i, pos, h)
		}
	}
}

// Two keys whose xxhash64 values share the lower 32 bits (once forced
// odd), so their slot tags, and so their home positions, are equal. Found
// by search.
const collideA, collideB = "user14076", "user106210"

func TestSetTagCollision(t *testing.T) {
	ha, hb := xxhash.Sum64String(collideA), xxhash.Sum64String(collideB)
	if tagOf(ha) != tagOf(hb) || ha == hb {
		t.Fatalf("precondition: %q and %q hash to %016x and %016x, want equal tags", collideA, collideB, ha, hb)
	}
	tests := []struct {
		name    string
		adds    []setAdd
		lookups map[string][]uint32
	}{
		{"both keys", []setAdd{{collideA, 1}, {collideB, 2}}, map[string][]uint32{collideA: {1}, collideB: {2}}},
		{"both keys, other order", []setAdd{{collideB, 2}, {collideA, 1}}, map[string][]uint32{collideA: {1}, collideB: {2}}},
		{"only A", []setAdd{{collideA, 1}}, map[string][]uint32{collideA: {1}, collideB: {}}},
		{"only B", []setAdd{{collideB, 2}}, map[string][]uint32{collideA: {}, collideB: {2}}},
		{"second ref to B after A", []setAdd{{collideA, 1}, {collideB, 2}, {collideB, 3}}, map[string][]uint32{collideA: {1}, collideB: {2, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSet(t, tt.adds...)
			for key, want := range tt.lookups {
				if got := refsOf(s.Lookup([]byte(key))); !slices.Equal(got, want) {
					t.Errorf("Lookup(%q) = %v, want %v", key, got, want)
				}
			}
		})
	}
}

func BenchmarkSetLookup(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		var sb SetBuilder
		for i := range n {
			_ = sb.Add([]byte("fict_user_"+strconv.Itoa(i)), uint32(i))
		}
		s := sb.Build()
		// Cycle through many keys, so that a large table is not all in
		// cache.
		var hits, misses [][]byte
		for i := range 4096 {
			hits = append(hits, []byte("fict_user_"+strconv.Itoa(i*7919%n)))
			misses = append(misses, []byte("fict_user_x"+strconv.Itoa(i)))
		}
		for _, c := range []struct {
			name string
			keys [][]byte
			want int
		}{{"hit", hits, 1}, {"miss", misses, 0}} {
			b.Run(fmt.Sprintf("%s/%d", c.name, n), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if s.Lookup(c.keys[i%len(c.keys)]).Len() != c.want {
						b.Fatal("wrong lookup result")
					}
					i++
				}
			})
		}
	}
}

// TestSetLengths checks that the lengths a set's keys have let lookups of
// other lengths miss, and that keys of 63 bytes and more, which share one
// length bit, are all found.
func TestSetLengths(t *testing.T) {
	long := strings.Repeat("x", 63)
	s := buildSet(t, setAdd{"abc", 1}, setAdd{long, 2}, setAdd{long + "yz", 3})
	if s.lens != lenBit(3)|lenBit(63) {
		t.Errorf("lens = %b, want bits 3 and 63", s.lens)
	}
	for key, want := range map[string][]uint32{"abc": {1}, "abd": {}, "ab": {}, "": {}, long: {2}, long + "yz": {3}, long + "y": {}} {
		if got := refsOf(s.Lookup([]byte(key))); !slices.Equal(got, want) {
			t.Errorf("Lookup(%q) = %v, want %v", key, got, want)
		}
	}
	if s := buildSet(t); s.lens != 0 {
		t.Errorf("empty set: lens = %b, want 0", s.lens)
	}
}
