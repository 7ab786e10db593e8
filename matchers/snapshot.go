package matchers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// Snapshot is a compiled, immutable set of demands as active at one
// instant: the hashed lookup sets of every entry, which demands are active,
// and the lists version that identifies them. Workers share one Snapshot
// without locks; a reload compiles a new one and swaps a pointer.
//
// The lookup sets hold the entries of every demand that is not rescinded,
// pending and expired ones included; a hit counts only when its demand is
// active. So a demand starting or expiring needs no recompilation: At
// returns a view of the same sets for another instant, in time linear in
// the number of demands.
type Snapshot struct {
	*compiled
	states     []State // of each demand at the instant at
	version    string
	at         time.Time
	nextChange time.Time
}

// compiled is what the views of one compilation share.
type compiled struct {
	// demands are sorted by id, without their entries (their counts are
	// in counts).
	demands []Demand
	// hashes[d] identifies demand d's metadata and entries, whatever
	// their order.
	hashes [][sha256.Size]byte
	// changes are the instants at which some demand starts or expires,
	// sorted.
	changes []time.Time

	// Entries, grouped by demand: demand d's entries are first[d] to
	// first[d+1]-1. Entry e's text as written ends at entryEnd[e] in
	// entryText.
	first     []uint32
	entryEnd  []uint32
	entryText []byte
	// kinds[e] is the kind of entry e.
	kinds []EntryKind

	// pinnedIDs maps each pinned user id (digits without leading zeros)
	// to the handle entries pinned to it; pinned[e] is the user id pinned
	// to handle entry e.
	pinnedIDs *Set
	pinned    map[uint32]string

	// sets[kind][tier] maps normalized keys to entry indexes. The exact set
	// holds every entry; the loose set only entries whose loose key differs
	// from their exact key (the rest are found in the exact set); the
	// lookalike set every entry of demands with that tier.
	sets [numEntryKinds][numTiers]*Set
	// tiers[kind] is the union of the tiers of demands with such entries.
	tiers [numEntryKinds]TierSet

	// texts is the index of the listed texts, nil when there are none.
	texts *textIndex

	// phraseTags[tier] holds, for the loose and lookalike tiers, the
	// phrases of several space-separated words under their words run
	// together ("farmergenocide"): words inside one hashtag may match
	// them so, words elsewhere never.
	phraseTags [numTiers]*Set

	// Phrase matching bounds and prefilter: the longest phrase in words and
	// in exact-key bytes, and a bitmap of the first two bytes of the
	// run-together key of every phrase.
	maxPhraseWords     int
	maxPhraseBytes     int
	maxPhraseLookBytes int // the longest lookalike key
	phraseStarts       *[1 << 16 / 64]uint64

	counts  [][numEntryKinds]int // per demand, entries (repeats counted once)
	entries int                  // in the sets, repeats counted once

	// exempt holds the exemptions; nil when there are none.
	exempt *exemptions

	// use is what Match looks up, derived from the sets once they are
	// built.
	use matchUse
}

// matchUse says which parts of a post Match looks up: those that entries
// in the sets can match.
type matchUse struct {
	handles, ids, hashtags, domains, phrases bool
	phraseTags                               bool // phrases run together in hashtags
	pinned                                   bool // pinnedIDs has user ids
}

// uses returns what Match looks up in c's sets.
func (c *compiled) uses() matchUse {
	phrases := c.sets[EntryPhrase][TierExact].Len() > 0
	return matchUse{
		handles:    c.sets[EntryHandle][TierExact].Len() > 0,
		ids:        c.sets[EntryUserID][TierExact].Len() > 0,
		hashtags:   c.sets[EntryHashtag][TierExact].Len() > 0,
		domains:    c.sets[EntryDomain][TierExact].Len() > 0,
		phrases:    phrases,
		phraseTags: phrases && (c.phraseTags[TierLoose].Len() > 0 || c.phraseTags[TierLookalike].Len() > 0),
		pinned:     c.pinnedIDs.Len() > 0,
	}
}

// CheckIDs reports every demand whose id an earlier one already uses, as a
// *ListError at the later one's id, joined; nil when the ids are unique.
func CheckIDs(demands []Demand) error {
	return checkIDs(demands, "demand", func(d *Demand) (string, string, int) { return d.ID, d.File, d.Line })
}

// checkIDs is CheckIDs of demands or exemptions (what), whose id and place
// at gives.
func checkIDs[T any](items []T, what string, at func(*T) (id, file string, line int)) error {
	var errs []error
	type place struct {
		file string
		line int
	}
	first := make(map[string]place, len(items))
	for i := range items {
		id, file, line := at(&items[i])
		if prev, ok := first[id]; ok {
			errs = append(errs, &ListError{File: file, Line: line,
				Msg: fmt.Sprintf("%s id %q is already used by %s:%d", what, id, prev.file, prev.line)})
			continue
		}
		first[id] = place{file, line}
	}
	return errors.Join(errs...)
}

// Compile builds the snapshot of demands as active at time at, without
// exemptions: CompileLists(Lists{Demands: demands}, at).
func Compile(demands []Demand, at time.Time) (*Snapshot, []Warning, error) {
	return CompileLists(Lists{Demands: demands}, at)
}

// CompileLists builds the snapshot of the demands and exemptions of l as
// active at time at. Demand ids must be unique (CheckIDs), exemption ids
// too (CheckExemptionIDs), and every demand an exemption applies to must
// be among the demands. Entries that repeat within a demand are counted
// once and reported as warnings. The entry lists are copied; the caller
// may drop them.
func CompileLists(l Lists, at time.Time) (*Snapshot, []Warning, error) {
	demands := l.Demands
	if err := CheckIDs(demands); err != nil {
		return nil, nil, err
	}
	ds := slices.Clone(demands)
	sort.Slice(ds, func(i, j int) bool { return ds[i].ID < ds[j].ID })
	c := &compiled{
		demands: ds,
		hashes:  make([][sha256.Size]byte, len(ds)),
		first:   make([]uint32, len(ds)+1),
		counts:  make([][numEntryKinds]int, len(ds)),
	}
	var (
		builders [numEntryKinds][numTiers]SetBuilder
		tagSets  [numTiers]SetBuilder
		texts    textPool
		n        Normalizer
		words    Words
		exact    []byte
		loose    []byte
		look     []byte
		hashBuf  []byte
		warnings []Warning
	)
	// Size everything up front: filling without copying keeps the time
	// linear and the memory free of slack. The loose sets are sized from
	// the entries that have a byte the loose tier may drop: an upper
	// bound of their keys.
	total, text, textShingles := 0, 0, 0
	var perKind, keyBytes, looseKeys, looseBytes [numEntryKinds]int
	for i := range ds {
		d := &ds[i]
		if d.Status == StatusRescinded {
			continue
		}
		l := &d.Entries
		total += l.Len()
		text += l.TextBytes()
		loose := d.Tiers.Has(TierLoose)
		for j := range l.Len() {
			k, v := l.Kind(j), l.Value(j)
			perKind[k]++
			if k == EntryText {
				keyBytes[k] += textKeyBytes // a fingerprint, however long the text
				textShingles += maxTextShingles(v)
			} else {
				keyBytes[k] += len(v)
			}
			if loose && mayLoosen(v) {
				looseKeys[k]++
				looseBytes[k] += len(v)
			}
		}
	}
	c.entryEnd = make([]uint32, 0, total)
	c.kinds = make([]EntryKind, 0, total)
	c.entryText = make([]byte, 0, text)
	for k, n := range perKind {
		if n > 0 {
			builders[k][TierExact].Grow(n, keyBytes[k])
		}
	}
	texts.grow(perKind[EntryText], textShingles)
	for k, n := range looseKeys {
		if n > 0 {
			builders[k][TierLoose].Grow(n, looseBytes[k])
		}
	}
	sums := make([]uint64, len(ds)) // order-independent hash of each demand's entries
	entryHash := func(kind EntryKind, value []byte) uint64 {
		hashBuf = append(append(append(hashBuf[:0], kind.String()...), 0), value...)
		return xxhash.Sum64(hashBuf)
	}
	// Every entry gets a reference and its text stored; repeats within a
	// demand are found when the sets are built, then left out of the sets
	// and the counts.
	for di := range ds {
		d := &ds[di]
		c.first[di] = uint32(len(c.entryEnd))
		for _, t := range []time.Time{d.Received, d.Expires} {
			if !t.IsZero() {
				c.changes = append(c.changes, t)
			}
		}
		if d.Status == StatusRescinded {
			c.counts[di] = d.Entries.Counts()
			continue
		}
		for i := 0; i < d.Entries.Len(); i++ {
			kind, value := d.Entries.Kind(i), d.Entries.Value(i)
			var err error
			exact, err = AppendEntryKey(exact[:0], &n, kind, value)
			if err != nil {
				e := d.Entries.At(i)
				return nil, nil, &ListError{File: e.File, Line: e.Line, Msg: err.Error()}
			}
			ref := uint32(len(c.entryEnd))
			if err := builders[kind][TierExact].Add(exact, ref); err != nil {
				e := d.Entries.At(i)
				return nil, nil, &ListError{File: e.File, Line: e.Line, Msg: err.Error()}
			}
			c.entryText = append(c.entryText, value...)
			c.entryEnd = append(c.entryEnd, uint32(len(c.entryText)))
			c.kinds = append(c.kinds, kind)
			c.counts[di][kind]++
			c.tiers[kind] |= d.Tiers
			sums[di] += entryHash(kind, value)

			var err2 error
			switch {
			case kind == EntryPhrase:
				err2 = c.addPhrase(&n, &words, &builders[EntryPhrase], &tagSets, d.Tiers, value, ref)
			case kind == EntryText:
				// Texts match by their shingles (buildTextIndex), at
				// the exact tier's normalization; appendEntryKey has
				// left the text's word hashes in n's text scratch.
				texts.add(ref, n.texts.distinct())
			case kind == EntryDomain:
				// Domains have no loose tier: a host's separators
				// are part of its name.
				if d.Tiers.Has(TierLookalike) {
					look = n.AppendHostLookalike(look[:0], exact)
					err2 = builders[kind][TierLookalike].Add(look, ref)
				}
			case d.Tiers.Has(TierLoose) || d.Tiers.Has(TierLookalike):
				loose = n.Loose(loose[:0], exact)
				if d.Tiers.Has(TierLoose) && !bytes.Equal(loose, exact) && len(loose) > 0 {
					err2 = builders[kind][TierLoose].Add(loose, ref)
				}
				if d.Tiers.Has(TierLookalike) && len(loose) > 0 && err2 == nil {
					look = n.Lookalike(look[:0], loose)
					err2 = builders[kind][TierLookalike].Add(look, ref)
				}
			}
			if err2 != nil {
				e := d.Entries.At(i)
				return nil, nil, &ListError{File: e.File, Line: e.Line, Msg: err2.Error()}
			}
		}
	}
	c.first[len(ds)] = uint32(len(c.entryEnd))

	sameDemand := func(ref, prev uint32) bool { return prev >= c.first[c.Demand(ref)] }
	var repeated []bool // by reference
	for k := range builders {
		var dups []Dup
		c.sets[k][TierExact], dups = builders[k][TierExact].BuildGrouped(sameDemand, nil)
		for _, dup := range dups {
			di := c.Demand(dup.Ref)
			d := &ds[di]
			e := d.Entries.At(int(dup.Ref - c.first[di]))
			warnings = append(warnings, Warning{File: e.File, Line: e.Line,
				Msg: fmt.Sprintf("%s %q repeats %q of this demand; counted once", e.Kind, e.Value, c.entryValue(dup.Prev))})
			c.counts[di][k]--
			sums[di] -= entryHash(e.Kind, c.EntryValue(dup.Ref))
			if repeated == nil {
				repeated = make([]bool, len(c.entryEnd))
			}
			repeated[dup.Ref] = true
		}
	}
	var skip func(uint32) bool
	if repeated != nil {
		skip = func(ref uint32) bool { return repeated[ref] }
		slices.SortFunc(warnings, func(a, b Warning) int {
			if a.File != b.File {
				return strings.Compare(a.File, b.File)
			}
			return a.Line - b.Line
		})
	}
	for k := range builders {
		for t := TierLoose; t < numTiers; t++ {
			c.sets[k][t], _ = builders[k][t].BuildGrouped(nil, skip)
		}
	}
	for t := TierLoose; t < numTiers; t++ {
		c.phraseTags[t], _ = tagSets[t].BuildGrouped(nil, skip)
	}
	pinSums, err := c.compilePins(ds, &n)
	if err != nil {
		return nil, nil, err
	}
	if len(texts.refs) > 0 {
		c.texts = buildTextIndex(&texts, skip, func(ref uint32) float64 { return ds[c.Demand(ref)].TextThreshold() })
	}
	for di := range ds {
		d := &ds[di]
		if d.Status == StatusRescinded {
			c.hashes[di] = demandHash(d, 0, 0, 0)
		} else {
			total := 0
			for _, n := range c.counts[di] {
				total += n
			}
			c.hashes[di] = demandHash(d, uint32(total), sums[di], pinSums[di])
			c.entries += total
		}
		d.Entries = EntryList{}
	}
	slices.SortFunc(c.changes, time.Time.Compare)
	c.changes = slices.CompactFunc(c.changes, time.Time.Equal)
	if c.exempt, err = compileExemptions(l.Exemptions, ds); err != nil {
		return nil, nil, err
	}
	c.use = c.uses()
	return c.at(at), warnings, nil
}

// mayLoosen reports whether the loose key of an entry written v may differ
// from its exact key: v has an ASCII separator or a non-ASCII byte.
func mayLoosen(v []byte) bool {
	for _, c := range v {
		if c >= utf8.RuneSelf || (c != '@' && c != '#' && isASCIISeparator(c)) {
			return true
		}
	}
	return false
}

// compilePins builds the pinned user id set of the demands' pins and
// returns, per demand, an order-independent sum of its pins for the lists
// version. A pin must name a handle entry of its demand; a handle pinned to
// two ids is an error at the later pin.
func (c *compiled) compilePins(ds []Demand, n *Normalizer) ([]uint64, error) {
	sums := make([]uint64, len(ds))
	var (
		b        SetBuilder
		key, id  []byte
		errs     []error
		hashBuf  []byte
		pinnedAt map[uint32]*Pin
	)
	for di := range ds {
		d := &ds[di]
		if d.Status == StatusRescinded {
			continue
		}
		for pi := range d.Pins {
			pin := &d.Pins[pi]
			var err error
			if key, err = AppendEntryKey(key[:0], n, EntryHandle, []byte(pin.Handle)); err != nil {
				errs = append(errs, &ListError{File: pin.File, Line: pin.Line, Msg: err.Error()})
				continue
			}
			if id, err = AppendEntryKey(id[:0], n, EntryUserID, []byte(pin.UserID)); err != nil {
				errs = append(errs, &ListError{File: pin.File, Line: pin.Line, Msg: err.Error()})
				continue
			}
			ref, ok := c.demandEntry(EntryHandle, key, di)
			if !ok {
				errs = append(errs, &ListError{File: pin.File, Line: pin.Line,
					Msg: fmt.Sprintf("accounts: handle %q is not a handle entry of demand %s", pin.Handle, d.ID)})
				continue
			}
			if prev, ok := c.pinned[ref]; ok {
				if prev != string(id) {
					first := pinnedAt[ref]
					errs = append(errs, &ListError{File: pin.File, Line: pin.Line,
						Msg: fmt.Sprintf("accounts: handle %q is pinned to %s here and to %s at %s:%d", pin.Handle, id, prev, first.File, first.Line)})
				}
				continue
			}
			if c.pinned == nil {
				c.pinned, pinnedAt = map[uint32]string{}, map[uint32]*Pin{}
			}
			c.pinned[ref], pinnedAt[ref] = string(id), pin
			if err := b.Add(id, ref); err != nil {
				errs = append(errs, &ListError{File: pin.File, Line: pin.Line, Msg: err.Error()})
				continue
			}
			hashBuf = append(append(append(append(hashBuf[:0], "pin\x00"...), key...), 0), id...)
			sums[di] += xxhash.Sum64(hashBuf)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.pinnedIDs = b.Build()
	return sums, nil
}

// demandEntry returns the entry of demand d whose exact key of kind is
// key.
func (c *compiled) demandEntry(kind EntryKind, key []byte, d int) (uint32, bool) {
	refs := c.sets[kind][TierExact].Lookup(key)
	for i := range refs.Len() {
		if e := refs.At(i); c.Demand(e) == d {
			return e, true
		}
	}
	return 0, false
}

// demandHash identifies a demand's metadata, its entries' count and
// order-independent sum, and the sum of its pins (0 without pins).
func demandHash(d *Demand, entries uint32, entrySum, pinSum uint64) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "demand\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00entries\x00%d\x00%016x\x00",
		d.ID, d.JurisdictionList(), d.Authority, d.LegalBasis, d.Reference,
		d.Action, d.Scope, d.Priority, d.Tiers, entries, entrySum)
	if d.TextThreshold() != DefaultTextSimilarity {
		// Only a threshold other than the default is hashed, so
		// versions of lists from before texts stay as they were.
		fmt.Fprintf(h, "text_similarity\x00%g\x00", d.TextThreshold())
	}
	// Likewise the governance fields, only when set.
	if d.Mode != ModeLive {
		fmt.Fprintf(h, "mode\x00%s\x00", d.Mode)
	}
	if d.MaxTasksPerMinute != 0 {
		fmt.Fprintf(h, "max_tasks_per_minute\x00%d\x00", d.MaxTasksPerMinute)
	}
	if len(d.Pins) > 0 {
		// Likewise pins: only demands that have some hash them.
		fmt.Fprintf(h, "pins\x00%d\x00%016x\x00", len(d.Pins), pinSum)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// addPhrase adds the loose-tier, lookalike-tier and hashtag keys of the
// phrase entry value (reference ref, of a demand with tiers) and widens the
// phrase bounds and prefilter for it.
func (c *compiled) addPhrase(n *Normalizer, words *Words, b *[numTiers]SetBuilder, tags *[numTiers]SetBuilder, tiers TierSet, value []byte, ref uint32) error {
	words.Split(n, value)
	nw := words.Len()
	loose := words.Loose(0, nw)
	joined := words.AppendJoined(nil, 0, nw)
	c.notePhrase(len(words.Exact(0, nw)), nw, joined)
	add := func(b *SetBuilder, key []byte) error {
		if len(key) == 0 {
			return nil
		}
		return b.Add(key, ref)
	}
	var errs []error
	if tiers.Has(TierLoose) {
		if !bytes.Equal(loose, words.Exact(0, nw)) {
			errs = append(errs, add(&b[TierLoose], loose))
		}
		if !bytes.Equal(joined, loose) {
			errs = append(errs, add(&tags[TierLoose], joined))
		}
	}
	if tiers.Has(TierLookalike) {
		look := n.Lookalike(nil, loose)
		errs = append(errs, add(&b[TierLookalike], look))
		c.maxPhraseLookBytes = max(c.maxPhraseLookBytes, len(look))
		if !bytes.Equal(joined, loose) {
			look = n.Lookalike(nil, joined)
			errs = append(errs, add(&tags[TierLookalike], look))
			c.maxPhraseLookBytes = max(c.maxPhraseLookBytes, len(look))
		}
	}
	return errors.Join(errs...)
}

// notePhrase widens the phrase bounds and prefilter for a phrase whose
// exact key has exactLen bytes, of words words, run together joined.
func (c *compiled) notePhrase(exactLen, words int, joined []byte) {
	c.maxPhraseWords = max(c.maxPhraseWords, words)
	c.maxPhraseBytes = max(c.maxPhraseBytes, exactLen)
	if c.phraseStarts == nil {
		c.phraseStarts = new([1 << 16 / 64]uint64)
	}
	if len(joined) == 1 { // any second byte may follow in a text
		for b := range uint32(256) {
			b |= uint32(joined[0]) << 8
			c.phraseStarts[b/64] |= 1 << (b % 64)
		}
		return
	}
	b := prefix16(joined)
	c.phraseStarts[b/64] |= 1 << (b % 64)
}

// at returns the view of c at time t.
func (c *compiled) at(t time.Time) *Snapshot {
	s := &Snapshot{compiled: c, states: make([]State, len(c.demands)), at: t}
	version := sha256.New()
	for i := range c.demands {
		s.states[i] = c.demands[i].StateAt(t)
		if s.states[i] == StateActive {
			version.Write(c.hashes[i][:])
		}
	}
	if c.exempt != nil {
		// Exemptions change what happens to matches, so they are part
		// of the version; lists without any keep theirs.
		version.Write(c.exempt.hash[:])
	}
	s.version = hex.EncodeToString(version.Sum(nil)[:8])
	if i, _ := slices.BinarySearchFunc(c.changes, t, func(a, b time.Time) int {
		if !a.After(b) {
			return -1
		}
		return 1
	}); i < len(c.changes) {
		s.nextChange = c.changes[i]
	}
	return s
}

// At returns a view of the snapshot's demands as active at time t. It
// shares the lookup sets; only activity and the version are computed.
func (s *Snapshot) At(t time.Time) *Snapshot { return s.compiled.at(t) }

func prefix16(b []byte) uint32 {
	switch len(b) {
	case 0:
		return 0
	case 1:
		return uint32(b[0]) << 8
	}
	return uint32(b[0])<<8 | uint32(b[1])
}

// Version returns the lists version: a stable hash of the active demands'
// metadata and entries, the same whatever the order of files or entries.
func (s *Snapshot) Version() string { return s.version }

// Time returns the instant the snapshot's activity is evaluated at.
func (s *Snapshot) Time() time.Time { return s.at }

// NextChange returns the next instant after Time at which a demand starts
// or expires, when the view of At(NextChange()) should replace this one;
// zero when there is none.
func (s *Snapshot) NextChange() time.Time { return s.nextChange }

// Demands returns every demand, active or not, sorted by id, without their
// entry lists (see Counts). The slice belongs to the snapshot.
func (s *Snapshot) Demands() []Demand { return s.demands }

// Active reports whether demand d (an index into Demands) is active.
func (s *Snapshot) Active(d int) bool { return s.states[d] == StateActive }

// State returns the state of demand d (an index into Demands) at Time.
func (s *Snapshot) State(d int) State { return s.states[d] }

// DemandHash identifies demand d's metadata and entries, whatever their
// order: it changes when the demand's file (or an entry file of it) says
// something else, and only then.
func (s *Snapshot) DemandHash(d int) [sha256.Size]byte { return s.hashes[d] }

// Counts returns the number of entries of each kind of demand d, repeats
// counted once.
func (s *Snapshot) Counts(d int) [numEntryKinds]int { return s.counts[d] }

// Entries returns the number of entries in the lookup sets, of active and
// inactive demands, repeats counted once.
func (s *Snapshot) Entries() int { return s.entries }

// ActiveEntries returns the number of entries of active demands.
func (s *Snapshot) ActiveEntries() int {
	n := 0
	for d, st := range s.states {
		if st == StateActive {
			for _, k := range s.counts[d] {
				n += k
			}
		}
	}
	return n
}

// Demand returns the index of the demand that entry e belongs to.
func (c *compiled) Demand(e uint32) int {
	// first is sorted; rescinded demands have empty ranges.
	return sort.Search(len(c.demands), func(d int) bool { return c.first[d+1] > e })
}

// EntryKind returns the kind of entry e.
func (c *compiled) EntryKind(e uint32) EntryKind { return c.kinds[e] }

// PinnedUserID returns the user id (digits without leading zeros) that the
// demand's `accounts:` pins to handle entry e; "" when none.
func (c *compiled) PinnedUserID(e uint32) string { return c.pinned[e] }

// CaseEntry reports whether entry e is an account entry (a handle, pinned
// or not, or a user id) of a demand with scope user: its matches are
// evidence for the entry's case, not parts of a review task.
func (c *compiled) CaseEntry(e uint32) bool {
	k := c.kinds[e]
	return (k == EntryHandle || k == EntryUserID) && c.demands[c.Demand(e)].Scope == ScopeUser
}

// EntryValue returns entry e as written in its demand.
func (c *compiled) EntryValue(e uint32) []byte {
	start, end := packedSpan(c.entryEnd, e)
	return c.entryText[start:end]
}

func (c *compiled) entryValue(e uint32) string { return string(c.EntryValue(e)) }

// Bytes estimates the memory the compiled snapshot occupies, without the
// parsed demands it was compiled from.
func (s *Snapshot) Bytes() int {
	n := 4*cap(s.first) + 4*cap(s.entryEnd) + cap(s.entryText) + cap(s.kinds) + s.pinnedIDs.Bytes()
	for k := range s.sets {
		for t := range s.sets[k] {
			n += s.sets[k][t].Bytes()
		}
	}
	for t := range s.phraseTags {
		n += s.phraseTags[t].Bytes()
	}
	if s.texts != nil {
		n += s.texts.Bytes()
	}
	if s.exempt != nil {
		n += s.exempt.handles.Bytes() + s.exempt.ids.Bytes()
	}
	return n
}

// Summary describes the snapshot in one line for logs and `lists check`.
func (s *Snapshot) Summary() string {
	active := 0
	for _, st := range s.states {
		if st == StateActive {
			active++
		}
	}
	exempt := ""
	switch n := len(s.Exemptions()); n {
	case 0:
	case 1:
		exempt = ", 1 exemption"
	default:
		exempt = fmt.Sprintf(", %d exemptions", n)
	}
	return fmt.Sprintf("%d demands (%d active), %d entries (%d active)%s, lists version %s",
		len(s.demands), active, s.Entries(), s.ActiveEntries(), exempt, s.version)
}
