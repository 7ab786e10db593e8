package matchers

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// Exemption protects accounts (journalists, politicians, news media…) from
// automatic action on some demands: a task or case whose account it names
// still reaches humans, never less, but escalated (action escalate,
// priority critical) instead of withheld. It is the parsed form of an
// exemption file (kind: exemption) of a lists directory.
type Exemption struct {
	ID       string
	Category ExemptionCategory
	Reason   string
	// AppliesTo are the ids of the demands the exemption applies to;
	// AllDemands is set instead for "*".
	AppliesTo  []string
	AllDemands bool
	// Entries are the exempt accounts: handle and user id entries only.
	Entries EntryList

	File string // where it was read, for messages
	Line int    // line of its id
}

// Applies reports whether the exemption applies to the demand with id.
func (e *Exemption) Applies(id string) bool {
	return e.AllDemands || slices.Contains(e.AppliesTo, id)
}

// ExemptionCategory says why accounts are exempt.
type ExemptionCategory uint8

// The categories.
const (
	CategoryJournalist ExemptionCategory = iota
	CategoryPolitician
	CategoryNewsMedia
	CategoryCivilSociety
	CategoryPublicInterest
	CategoryOther
)

var categoryNames = enum{"journalist", "politician", "news_media", "civil_society", "public_interest", "other"}

func (c ExemptionCategory) String() string { return categoryNames.name(uint8(c)) }

// ParseExemptionCategory returns the category named s.
func ParseExemptionCategory(s string) (ExemptionCategory, error) {
	return parseEnum[ExemptionCategory](categoryNames, s)
}

// Lists are the parsed files of a lists directory.
type Lists struct {
	Demands    []Demand
	Exemptions []Exemption
}

// CheckExemptionIDs reports every exemption whose id an earlier one already
// uses, as a *ListError at the later one's id, joined; nil when the ids are
// unique. Exemption ids and demand ids are apart: one may equal the other.
func CheckExemptionIDs(exemptions []Exemption) error {
	return checkIDs(exemptions, "exemption", func(e *Exemption) (string, string, int) { return e.ID, e.File, e.Line })
}

// exemptions is the compiled form of a snapshot's exemptions.
type exemptions struct {
	// list is sorted by id, without entries; an account exempt under
	// several exemptions gets the first that applies.
	list []Exemption
	// handles and ids map an account's exact-tier handle key and its user
	// id to the indexes of the exemptions naming it.
	handles, ids *Set
	// demands[e] is the set of demand indexes exemption e applies to, a
	// bitmap; nil for AllDemands.
	demands [][]uint64
	counts  [][2]int // per exemption, handles and user ids
	hash    [sha256.Size]byte
}

// compileExemptions compiles exemptions against the demands (sorted by id)
// they apply to: every id of an AppliesTo must be one of theirs.
func compileExemptions(list []Exemption, demands []Demand) (*exemptions, error) {
	if len(list) == 0 {
		return nil, nil
	}
	if err := CheckExemptionIDs(list); err != nil {
		return nil, err
	}
	x := &exemptions{
		list:    slices.Clone(list),
		demands: make([][]uint64, len(list)),
		counts:  make([][2]int, len(list)),
	}
	slices.SortFunc(x.list, func(a, b Exemption) int { return strings.Compare(a.ID, b.ID) })
	index := make(map[string]int, len(demands))
	for i := range demands {
		index[demands[i].ID] = i
	}
	var (
		handles, ids SetBuilder
		n            Normalizer
		key          []byte
		errs         []error
		hashBuf      []byte
	)
	h := sha256.New()
	for ei := range x.list {
		e := &x.list[ei]
		if !e.AllDemands {
			bits := make([]uint64, (len(demands)+63)/64)
			for _, id := range e.AppliesTo {
				d, ok := index[id]
				if !ok {
					errs = append(errs, &ListError{File: e.File, Line: e.Line,
						Msg: fmt.Sprintf("exemption %s applies to demand %q, which no demand file defines", e.ID, id)})
					continue
				}
				bits[d/64] |= 1 << (d % 64)
			}
			x.demands[ei] = bits
		}
		var sum uint64
		seen := make(map[string]bool, e.Entries.Len())
		for i := range e.Entries.Len() {
			kind, value := e.Entries.Kind(i), e.Entries.Value(i)
			var err error
			if kind != EntryHandle && kind != EntryUserID {
				err = fmt.Errorf("an exemption names accounts (handles, user ids), not a %s", kind)
			} else {
				key, err = AppendEntryKey(key[:0], &n, kind, value)
			}
			if err == nil {
				b := &handles
				if kind == EntryUserID {
					b = &ids
				}
				err = b.Add(key, uint32(ei))
			}
			if err != nil {
				at := e.Entries.At(i)
				errs = append(errs, &ListError{File: at.File, Line: at.Line, Msg: err.Error()})
				continue
			}
			hashBuf = append(append(append(hashBuf[:0], kind.String()...), 0), key...)
			if seen[string(hashBuf)] {
				continue // a repeat: stored once, counted once
			}
			seen[string(hashBuf)] = true
			sum += xxhash.Sum64(hashBuf)
			x.counts[ei][kind]++
		}
		applies := "*"
		if !e.AllDemands {
			sorted := slices.Clone(e.AppliesTo)
			slices.Sort(sorted)
			applies = strings.Join(slices.Compact(sorted), ",")
		}
		fmt.Fprintf(h, "exemption\x00%s\x00%s\x00%s\x00%s\x00%016x\x00", e.ID, e.Category, e.Reason, applies, sum)
		e.Entries = EntryList{}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	x.handles, _ = handles.BuildGrouped(nil, nil)
	x.ids, _ = ids.BuildGrouped(nil, nil)
	h.Sum(x.hash[:0])
	return x, nil
}

// appliesTo reports whether exemption e applies to demand d.
func (x *exemptions) appliesTo(e uint32, d int) bool {
	bits := x.demands[e]
	return bits == nil || bits[d/64]&(1<<(d%64)) != 0
}

// Exemptions returns the exemptions, sorted by id, without their entries
// (see ExemptionCounts). The slice belongs to the snapshot.
func (s *Snapshot) Exemptions() []Exemption {
	if s.exempt == nil {
		return nil
	}
	return s.exempt.list
}

// ExemptionCounts returns the number of handles and user ids exemption e
// (an index into Exemptions) names, repeats counted once.
func (s *Snapshot) ExemptionCounts(e int) (handles, userIDs int) {
	c := s.exempt.counts[e]
	return c[EntryHandle], c[EntryUserID]
}

// ExemptionFor returns the index (into Exemptions) of the first exemption
// that exempts the account with handle (as a post shows it, '@' optional)
// or userID from demand d (an index into Demands), or -1 when none does.
// Either may be empty. It allocates nothing.
func (s *Snapshot) ExemptionFor(handle, userID []byte, d int) int {
	x := s.exempt
	if x == nil {
		return -1
	}
	best := -1
	consider := func(refs Refs) {
		for i := range refs.Len() {
			e := refs.At(i)
			if (best < 0 || int(e) < best) && x.appliesTo(e, d) {
				best = int(e)
			}
		}
	}
	if len(handle) > 0 && handle[0] == '@' {
		handle = handle[1:]
	}
	if x.handles.Len() > 0 && isHandle(handle) {
		// The handle's key, as AppendEntryKey makes it.
		var buf [maxHandleRunes]byte
		consider(x.handles.Lookup(appendLowerASCII(buf[:0], handle)))
	}
	for len(userID) > 1 && userID[0] == '0' {
		userID = userID[1:]
	}
	if len(userID) > 0 && x.ids.Len() > 0 {
		consider(x.ids.Lookup(userID))
	}
	return best
}
