package report

import (
	"reflect"
	"testing"

	"flagstream/matchers"
)

func TestListedDemands(t *testing.T) {
	d := matchers.Demand{ID: "IN-MEITY-2021-02-04", Authority: "MeitY", Jurisdictions: []string{"IN"}, LegalBasis: "IT Act 69A", Reference: "lumen:1"}
	for _, e := range []matchers.Entry{
		{Kind: matchers.EntryHandle, Value: "@one"}, {Kind: matchers.EntryHandle, Value: "two"},
		{Kind: matchers.EntryUserID, Value: "123"}, {Kind: matchers.EntryHashtag, Value: "#Tag"},
		{Kind: matchers.EntryPhrase, Value: "farmer genocide"}, {Kind: matchers.EntryDomain, Value: "example.org"},
	} {
		d.Entries.Add(e)
	}
	got := ListedDemands([]matchers.Demand{d, {ID: "EMPTY"}})
	want := []ListedDemand{
		{ID: "IN-MEITY-2021-02-04", Authority: "MeitY", Jurisdictions: []string{"IN"}, LegalBasis: "IT Act 69A", Reference: "lumen:1", AccountEntries: 3},
		{ID: "EMPTY"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListedDemands = %+v, want %+v", got, want)
	}
}
