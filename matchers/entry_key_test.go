package matchers

import "testing"

func TestEntryKey(t *testing.T) {
	tests := []struct {
		kind EntryKind
		a, b string
		same bool
	}{
		{EntryHandle, "@Example_One", "example_one", true},
		{EntryHandle, "@example_one", "@example_two", false},
		{EntryHashtag, "#FarmerGenocide", "farmergenocide", true},
		{EntryHashtag, "#Farmer_Genocide", "#FarmerGenocide", false}, // the loose tier joins them, not the key
		{EntryPhrase, "Farmer  Genocide", "farmer genocide", true},
		{EntryDomain, "Example.ORG", "example.org", true},
		{EntryUserID, "0012", "12", true},
	}
	for _, tc := range tests {
		a, err := EntryKey(tc.kind, tc.a)
		if err != nil {
			t.Fatalf("EntryKey(%s, %q): %v", tc.kind, tc.a, err)
		}
		b, err := EntryKey(tc.kind, tc.b)
		if err != nil {
			t.Fatalf("EntryKey(%s, %q): %v", tc.kind, tc.b, err)
		}
		if (a == b) != tc.same {
			t.Errorf("EntryKey(%s, %q) = %q, EntryKey(%q) = %q; want same = %v", tc.kind, tc.a, a, tc.b, b, tc.same)
		}
	}
	if _, err := EntryKey(EntryHandle, "not a handle"); err == nil {
		t.Error(`EntryKey(handle, "not a handle") gave no error`)
	}
}
