package matchers

import (
	"fmt"
	"slices"
	"strings"
)

// SelectDemands returns the demands whose ids are among ids, in the order
// of demands, or an error naming every id that no demand has (with the ids
// there are). Their entry lists are shared with demands.
func SelectDemands(demands []Demand, ids []string) ([]Demand, error) {
	known := make(map[string]bool, len(demands))
	for i := range demands {
		known[demands[i].ID] = true
	}
	var unknown []string
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !known[id] && !slices.Contains(unknown, id) {
			unknown = append(unknown, id)
		}
		want[id] = true
	}
	if len(unknown) > 0 {
		have := make([]string, 0, len(demands))
		for i := range demands {
			have = append(have, demands[i].ID)
		}
		slices.Sort(have)
		return nil, fmt.Errorf("unknown demand id %s: the lists have %s", quoteList(unknown), describeIDs(have))
	}
	var out []Demand
	for i := range demands {
		if want[demands[i].ID] {
			out = append(out, demands[i])
		}
	}
	return out, nil
}

func quoteList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}

// describeIDs lists at most 20 ids.
func describeIDs(ids []string) string {
	switch {
	case len(ids) == 0:
		return "no demands"
	case len(ids) > 20:
		return strings.Join(ids[:20], ", ") + fmt.Sprintf(" and %d more", len(ids)-20)
	}
	return strings.Join(ids, ", ")
}

// AddedEntries returns the demands of cur restricted to the entries that
// old lacks. An entry of cur is added when old has no demand of the same id
// with an entry of the same kind and key (EntryKey), so an entry whose
// spelling changed but that matches the same things ("@Example" for
// "example") is not added, and every entry of a demand that old does not
// have is. A pinned account (Pins) that old lacks is added with its handle
// entry, since it makes the account's posts match under any handle. Demands
// left without entries, and rescinded ones, are dropped; the others keep
// their metadata, and the pins of the handles they keep. The result shares
// nothing with cur.
func AddedEntries(old, cur []Demand) []Demand {
	type entryKey struct {
		kind EntryKind
		key  string
	}
	var n Normalizer
	var buf []byte
	key := func(kind EntryKind, value []byte) (entryKey, bool) {
		var err error
		buf, err = AppendEntryKey(buf[:0], &n, kind, value)
		return entryKey{kind, string(buf)}, err == nil
	}
	pinKey := func(p *Pin) (string, bool) {
		h, ok := key(EntryHandle, []byte(p.Handle))
		id, ok2 := key(EntryUserID, []byte(p.UserID))
		return h.key + "\x00" + id.key, ok && ok2
	}
	before := make(map[string]map[entryKey]bool, len(old))
	pinsBefore := make(map[string]map[string]bool, len(old))
	for i := range old {
		d := &old[i]
		if d.Status == StatusRescinded {
			continue // its entries matched nothing
		}
		keys := before[d.ID]
		if keys == nil {
			keys = make(map[entryKey]bool, d.Entries.Len())
			before[d.ID] = keys
		}
		for j := 0; j < d.Entries.Len(); j++ {
			if k, ok := key(d.Entries.Kind(j), d.Entries.Value(j)); ok {
				keys[k] = true
			}
		}
		for j := range d.Pins {
			if k, ok := pinKey(&d.Pins[j]); ok {
				if pinsBefore[d.ID] == nil {
					pinsBefore[d.ID] = map[string]bool{}
				}
				pinsBefore[d.ID][k] = true
			}
		}
	}
	var out []Demand
	for i := range cur {
		d := &cur[i]
		if d.Status == StatusRescinded {
			continue
		}
		keys := before[d.ID]
		pinned := map[string]bool{} // handle keys of new pins
		for j := range d.Pins {
			if k, ok := pinKey(&d.Pins[j]); ok && !pinsBefore[d.ID][k] {
				h, _ := key(EntryHandle, []byte(d.Pins[j].Handle))
				pinned[h.key] = true
			}
		}
		handles := map[string]bool{} // handle keys kept
		added := d.Entries.Select(func(j int) bool {
			k, ok := key(d.Entries.Kind(j), d.Entries.Value(j))
			keep := ok && (!keys[k] || (k.kind == EntryHandle && pinned[k.key]))
			if keep && k.kind == EntryHandle {
				handles[k.key] = true
			}
			return keep
		})
		if added.Len() == 0 {
			continue
		}
		nd := *d
		nd.Jurisdictions = slices.Clone(d.Jurisdictions)
		nd.Entries = added
		nd.Pins = KeepPins(d.Pins, handles)
		out = append(out, nd)
	}
	return out
}

// KeepPins returns the pins whose handle's key (EntryKey) is in handles.
func KeepPins(pins []Pin, handles map[string]bool) []Pin {
	var out []Pin
	for _, p := range pins {
		if k, err := EntryKey(EntryHandle, p.Handle); err == nil && handles[k] {
			out = append(out, p)
		}
	}
	return out
}

// Select returns a new list of the entries i of l for which keep(i) is
// true, in order, with their files and lines.
func (l *EntryList) Select(keep func(i int) bool) EntryList {
	var out EntryList
	for i := 0; i < l.Len(); i++ {
		if keep(i) {
			out.Append(l.kinds[i], l.Value(i), l.fileNames[l.files[i]], int(l.lines[i]))
		}
	}
	return out
}

// Restrict returns the lists of demands (a selection of l's, such as
// SelectDemands or AddedEntries give) with l's exemptions, each restricted
// to the demands it applies to among them: an exemption of every demand
// stays so, one left applying to none is dropped. A selection so matches
// with the exemptions that the whole lists would apply.
func (l Lists) Restrict(demands []Demand) Lists {
	ids := make(map[string]bool, len(demands))
	for i := range demands {
		ids[demands[i].ID] = true
	}
	out := Lists{Demands: demands}
	for _, e := range l.Exemptions {
		if !e.AllDemands {
			e.AppliesTo = slices.DeleteFunc(slices.Clone(e.AppliesTo), func(id string) bool { return !ids[id] })
			if len(e.AppliesTo) == 0 {
				continue
			}
		}
		out.Exemptions = append(out.Exemptions, e)
	}
	return out
}
