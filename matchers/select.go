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
// have is. Demands left without entries, and rescinded ones, are dropped;
// the others keep their metadata. The result shares nothing with cur.
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
	before := make(map[string]map[entryKey]bool, len(old))
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
	}
	var out []Demand
	for i := range cur {
		d := &cur[i]
		if d.Status == StatusRescinded {
			continue
		}
		keys := before[d.ID]
		added := d.Entries.Select(func(j int) bool {
			k, ok := key(d.Entries.Kind(j), d.Entries.Value(j))
			return ok && !keys[k]
		})
		if added.Len() == 0 {
			continue
		}
		nd := *d
		nd.Jurisdictions = slices.Clone(d.Jurisdictions)
		nd.Entries = added
		out = append(out, nd)
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
