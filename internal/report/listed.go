package report

import "flagstream/matchers"

// ListedDemands returns the report's view of the demands of a lists
// directory (matchers.Snapshot.Demands). A demand's account entries are
// its handle and user id entries: one case each.
func ListedDemands(demands []matchers.Demand) []ListedDemand {
	out := make([]ListedDemand, len(demands))
	for i := range demands {
		d := &demands[i]
		n := 0
		for j := range d.Entries.Len() {
			if k := d.Entries.Kind(j); k == matchers.EntryHandle || k == matchers.EntryUserID {
				n++
			}
		}
		out[i] = ListedDemand{
			ID: d.ID, Authority: d.Authority, Jurisdictions: d.Jurisdictions,
			LegalBasis: d.LegalBasis, Reference: d.Reference, AccountEntries: n,
		}
	}
	return out
}
