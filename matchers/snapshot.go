package matchers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Snapshot is a compiled, immutable set of demands: the hashed lookup sets
// of every entry of the demands active at one instant, and the lists
// version that identifies them. Workers share one Snapshot without locks; a
// reload compiles a new one and swaps a pointer.
type Snapshot struct {
	demands []Demand // sorted by id; inactive ones included, with no entries
	active  []bool

	// Entries of active demands, grouped by demand: demand d's entries are
	// first[d] to first[d+1]-1. Entry e's text as written ends at
	// entryEnd[e] in entryText.
	first     []uint32
	entryEnd  []uint32
	entryText []byte

	// sets[kind][tier] maps normalized keys to entry indexes. The exact set
	// holds every entry; the loose set only entries whose loose key differs
	// from their exact key (the rest are found in the exact set); the
	// lookalike set every entry of demands with that tier.
	sets [numEntryKinds][numTiers]*Set
	// tiers[kind] is the union of the tiers of demands with such entries.
	tiers [numEntryKinds]TierSet

	// Phrase matching bounds and prefilter: the longest phrase in words and
	// in loose-key bytes, and a bitmap of the first two bytes of the loose
	// key of every phrase.
	maxPhraseWords int
	maxPhraseBytes int
	phraseStarts   *[1 << 16 / 64]uint64

	counts     [][numEntryKinds]int // per demand, active entries
	version    string
	at         time.Time
	nextChange time.Time
}

// Compile builds the snapshot of demands as active at time at. Entries that
// repeat within a demand are counted once and reported as warnings.
func Compile(demands []Demand, at time.Time) (*Snapshot, []Warning, error) {
	ds := slices.Clone(demands)
	sort.Slice(ds, func(i, j int) bool { return ds[i].ID < ds[j].ID })
	for i := 1; i < len(ds); i++ {
		if ds[i].ID == ds[i-1].ID {
			return nil, nil, &ListError{File: ds[i].File, Line: ds[i].Line,
				Msg: fmt.Sprintf("demand id %q is already used by %s:%d", ds[i].ID, ds[i-1].File, ds[i-1].Line)}
		}
	}
	s := &Snapshot{
		demands: ds,
		active:  make([]bool, len(ds)),
		first:   make([]uint32, len(ds)+1),
		counts:  make([][numEntryKinds]int, len(ds)),
		at:      at,
	}
	var (
		builders [numEntryKinds][numTiers]SetBuilder
		n        Normalizer
		words    Words
		exact    []byte
		loose    []byte
		look     []byte
		warnings []Warning
		version  = sha256.New()
		entrySum uint64 // order-independent hash of a demand's entries
	)
	total := 0
	for i := range ds {
		if ds[i].ActiveAt(at) {
			total += ds[i].Entries.Len()
		}
	}
	s.entryEnd = make([]uint32, 0, total)
	for di := range ds {
		d := &ds[di]
		s.first[di] = uint32(len(s.entryEnd))
		s.noteChange(d.Received, at)
		s.noteChange(d.Expires, at)
		if !d.ActiveAt(at) {
			continue
		}
		s.active[di] = true
		entrySum = 0
		fmt.Fprintf(version, "demand\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00",
			d.ID, d.JurisdictionList(), d.Authority, d.LegalBasis, d.Reference,
			d.Action, d.Scope, d.Priority, d.Tiers)
		for i := 0; i < d.Entries.Len(); i++ {
			kind, value := d.Entries.Kind(i), d.Entries.Value(i)
			var err error
			exact, err = entryKey(&n, kind, string(value))
			if err != nil {
				e := d.Entries.At(i)
				return nil, nil, &ListError{File: e.File, Line: e.Line, Msg: err.Error()}
			}
			ref := uint32(len(s.entryEnd))
			// A repeat is checked before adding: a reference stored for an
			// entry that is then skipped would name the next entry.
			if prev, ok := builders[kind][TierExact].newest(exact); ok && prev >= s.first[di] {
				e := d.Entries.At(i)
				warnings = append(warnings, Warning{File: e.File, Line: e.Line,
					Msg: fmt.Sprintf("%s %q repeats %q of this demand; counted once", kind, e.Value, s.entryValue(prev))})
				continue
			}
			if err := builders[kind][TierExact].Add(exact, ref); err != nil {
				e := d.Entries.At(i)
				return nil, nil, &ListError{File: e.File, Line: e.Line, Msg: err.Error()}
			}
			s.entryText = append(s.entryText, value...)
			s.entryEnd = append(s.entryEnd, uint32(len(s.entryText)))
			s.counts[di][kind]++
			s.tiers[kind] |= d.Tiers
			entrySum += xxhash.Sum64String(kind.String() + "\x00" + string(value))

			if d.Tiers.Has(TierLoose) || d.Tiers.Has(TierLookalike) {
				loose = n.Loose(loose[:0], exact)
				if d.Tiers.Has(TierLoose) && !bytes.Equal(loose, exact) && len(loose) > 0 {
					if err := builders[kind][TierLoose].Add(loose, ref); err != nil {
						return nil, nil, err
					}
				}
				if d.Tiers.Has(TierLookalike) && len(loose) > 0 {
					look = n.Lookalike(look[:0], loose)
					if err := builders[kind][TierLookalike].Add(look, ref); err != nil {
						return nil, nil, err
					}
				}
			}
			if kind == EntryPhrase {
				words.Split(&n, value)
				s.maxPhraseWords = max(s.maxPhraseWords, words.Len())
				lk := words.Loose(0, words.Len())
				s.maxPhraseBytes = max(s.maxPhraseBytes, len(lk))
				if s.phraseStarts == nil {
					s.phraseStarts = new([1 << 16 / 64]uint64)
				}
				if len(lk) == 1 { // any second byte may follow in a text
					for c := range uint32(256) {
						b := uint32(lk[0])<<8 | c
						s.phraseStarts[b/64] |= 1 << (b % 64)
					}
				} else {
					b := prefix16(lk)
					s.phraseStarts[b/64] |= 1 << (b % 64)
				}
			}
		}
		fmt.Fprintf(version, "entries\x00%d\x00%016x\x00", uint32(len(s.entryEnd))-s.first[di], entrySum)
	}
	s.first[len(ds)] = uint32(len(s.entryEnd))
	for k := range builders {
		for t := range builders[k] {
			s.sets[k][t] = builders[k][t].Build()
		}
	}
	s.version = hex.EncodeToString(version.Sum(nil)[:8])
	return s, warnings, nil
}

// newest returns the newest reference stored under key, if any.
func (b *SetBuilder) newest(key []byte) (uint32, bool) {
	s := &b.set
	if len(s.keys) == 0 {
		return 0, false
	}
	h := xxhash.Sum64(key)
	tag := h>>32 | 1
	for pos := h & s.mask; s.slots[pos] != 0; pos = (pos + 1) & s.mask {
		slot := s.slots[pos]
		if slot>>32 == tag && bytes.Equal(s.keyBytes(s.keys[uint32(slot)].off), key) {
			return b.chain[b.heads[uint32(slot)]-1].ref, true
		}
	}
	return 0, false
}

func prefix16(b []byte) uint32 {
	switch len(b) {
	case 0:
		return 0
	case 1:
		return uint32(b[0]) << 8
	}
	return uint32(b[0])<<8 | uint32(b[1])
}

func (s *Snapshot) noteChange(t, at time.Time) {
	if t.IsZero() || !t.After(at) {
		return
	}
	if s.nextChange.IsZero() || t.Before(s.nextChange) {
		s.nextChange = t
	}
}

// Version returns the lists version: a stable hash of the active demands'
// metadata and entries, the same whatever the order of files or entries'
// normalization.
func (s *Snapshot) Version() string { return s.version }

// At returns the instant the snapshot was compiled for.
func (s *Snapshot) At() time.Time { return s.at }

// NextChange returns the next instant at which a demand of the snapshot
// starts or stops being active, so the snapshot must be compiled again; zero
// when there is none.
func (s *Snapshot) NextChange() time.Time { return s.nextChange }

// Demands returns every demand, active or not, sorted by id. The slice
// belongs to the snapshot.
func (s *Snapshot) Demands() []Demand { return s.demands }

// Active reports whether demand d (an index into Demands) is active.
func (s *Snapshot) Active(d int) bool { return s.active[d] }

// Counts returns the number of active entries of each kind of demand d.
func (s *Snapshot) Counts(d int) [numEntryKinds]int { return s.counts[d] }

// Entries returns the number of active entries.
func (s *Snapshot) Entries() int { return len(s.entryEnd) }

// Demand returns the index of the demand that entry e belongs to.
func (s *Snapshot) Demand(e uint32) int {
	// first is sorted; inactive demands have empty ranges.
	return sort.Search(len(s.demands), func(d int) bool { return s.first[d+1] > e })
}

// EntryValue returns entry e as written in its demand.
func (s *Snapshot) EntryValue(e uint32) []byte {
	return s.entryText[s.entryStart(e):s.entryEnd[e]]
}

func (s *Snapshot) entryValue(e uint32) string { return string(s.EntryValue(e)) }

func (s *Snapshot) entryStart(e uint32) uint32 {
	if e == 0 {
		return 0
	}
	return s.entryEnd[e-1]
}

// Bytes estimates the memory the compiled snapshot occupies, without the
// parsed demands it was compiled from.
func (s *Snapshot) Bytes() int {
	n := 4*cap(s.first) + 4*cap(s.entryEnd) + cap(s.entryText)
	for k := range s.sets {
		for t := range s.sets[k] {
			n += s.sets[k][t].Bytes()
		}
	}
	return n
}

// Summary describes the snapshot in one line for logs and `lists check`.
func (s *Snapshot) Summary() string {
	active := 0
	for _, a := range s.active {
		if a {
			active++
		}
	}
	return fmt.Sprintf("%d demands (%d active), %d entries, lists version %s", len(s.demands), active, s.Entries(), s.version)
}
