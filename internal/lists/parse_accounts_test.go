package lists

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"flagstream/matchers"
)

func TestParseAccounts(t *testing.T) {
	const demand = `id: IN-PINS
authority: Test Ministry
legal_basis: Test Act
jurisdiction: IN
scope: user
handles: ["@Kisan_Ekta", other_handle]
accounts:
  - {handle: kisan_ekta, user_id: "1234567890"}
  - handle: "@New_Handle"
    user_id: 0042
  - {handle: 12345, user_id: 77}
`
	demands, warnings, err := ParseLists(mapFS(map[string]string{"d.yaml": demand}), "lists")
	if err != nil {
		t.Fatalf("ParseLists: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %v, want none", warnings)
	}
	d := demands[0]
	want := []matchers.Pin{
		{Handle: "kisan_ekta", UserID: "1234567890", File: "lists/d.yaml", Line: 8},
		{Handle: "@New_Handle", UserID: "42", File: "lists/d.yaml", Line: 9},
		{Handle: "12345", UserID: "77", File: "lists/d.yaml", Line: 11},
	}
	if !slices.Equal(d.Pins, want) {
		t.Errorf("pins =\n%+v\nwant\n%+v", d.Pins, want)
	}
	// A pinned handle that the demand already lists is not added again; the
	// others become handle entries at their pin's line.
	var entries []string
	for i := 0; i < d.Entries.Len(); i++ {
		e := d.Entries.At(i)
		entries = append(entries, e.Kind.String()+" "+e.Value+" "+e.File+":"+itoa(e.Line))
	}
	wantEntries := []string{
		"handle @Kisan_Ekta lists/d.yaml:6",
		"handle other_handle lists/d.yaml:6",
		"handle @New_Handle lists/d.yaml:9",
		"handle 12345 lists/d.yaml:11",
	}
	if !slices.Equal(entries, wantEntries) {
		t.Errorf("entries =\n%q\nwant\n%q", entries, wantEntries)
	}

	// The pins compile: each pinned handle entry knows its id.
	s, _, err := matchers.Compile(demands, d.Received)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	pinned := map[string]string{}
	for e := uint32(0); e < uint32(d.Entries.Len()); e++ {
		if id := s.PinnedUserID(e); id != "" {
			pinned[string(s.EntryValue(e))] = id
		}
	}
	if want := map[string]string{"@Kisan_Ekta": "1234567890", "@New_Handle": "42", "12345": "77"}; !maps.Equal(pinned, want) {
		t.Errorf("pinned ids = %v, want %v", pinned, want)
	}
}

func TestParseAccountsOnly(t *testing.T) {
	// accounts: alone names entries: the pinned handles.
	demands, _, err := ParseLists(mapFS(map[string]string{"d.yaml": "id: X\njurisdiction: IN\naccounts: [{handle: a, user_id: 1}]\n"}), "")
	if err != nil {
		t.Fatalf("ParseLists: %v", err)
	}
	if n := demands[0].Entries.Len(); n != 1 {
		t.Errorf("%d entries, want 1", n)
	}
}

func TestParseAccountsWarnsOnRepeat(t *testing.T) {
	_, warnings, err := ParseLists(mapFS(map[string]string{"d.yaml": "id: X\njurisdiction: IN\naccounts:\n  - {handle: a, user_id: 1}\n  - {handle: \"@A\", user_id: \"001\"}\n"}), "lists")
	if err != nil {
		t.Fatalf("ParseLists: %v", err)
	}
	if len(warnings) == 0 || !strings.Contains(warnings[0].Error(), "lists/d.yaml:5: ") || !strings.Contains(warnings[0].Error(), "pinned to 1 again (line 4)") {
		t.Errorf("warnings = %v, want one at line 5 naming line 4", warnings)
	}
}

func TestParseAccountsErrors(t *testing.T) {
	const head = "id: X\njurisdiction: IN\n"
	for _, tt := range []struct {
		name, file string
		want       []string
	}{
		{"not a list", head + "accounts: {handle: a, user_id: 1}\n", []string{"lists/d.yaml:3: ", "accounts must be a list"}},
		{"item not a mapping", head + "accounts: [a]\n", []string{"lists/d.yaml:3: ", "each item must be a mapping"}},
		{"no user id", head + "accounts:\n  - {handle: one}\n", []string{"lists/d.yaml:4: ", "needs both handle and user_id"}},
		{"no handle", head + "accounts:\n  - {user_id: \"1\"}\n", []string{"lists/d.yaml:4: ", "needs both handle and user_id"}},
		{"unknown key", head + "accounts:\n  - {handle: one, user_id: 1, name: x}\n", []string{"lists/d.yaml:4: ", `unknown key "name"`}},
		{"bad handle", head + "accounts:\n  - handle: bad-one\n    user_id: 1\n", []string{"lists/d.yaml:4: ", `handle "bad-one" is not a Twitter handle`}},
		{"bad id", head + "accounts:\n  - handle: one\n    user_id: 12a\n", []string{"lists/d.yaml:5: ", `user id "12a" is not a numeric account id`}},
		{"zero id", head + "accounts:\n  - {handle: one, user_id: 0}\n", []string{"lists/d.yaml:4: ", "is not a numeric account id"}},
		{"list as handle", head + "accounts:\n  - {handle: [a], user_id: 1}\n", []string{"lists/d.yaml:4: ", "handle must be a single value"}},
		{"pinned twice", head + "accounts:\n  - {handle: one, user_id: 1}\n  - {handle: \"@ONE\", user_id: 2}\n",
			[]string{"lists/d.yaml:5: ", `handle "@ONE" is pinned to 2 here and to 1 on line 4`}},
		{"repeated key", head + "accounts:\n  - handle: one\n    handle: two\n    user_id: 1\n", []string{"lists/d.yaml:5: ", `key "handle" repeats`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseLists(mapFS(map[string]string{"d.yaml": tt.file}), "lists")
			if err == nil {
				t.Fatal("ParseLists accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
