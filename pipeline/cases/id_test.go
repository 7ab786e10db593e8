package cases_test

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"testing"

	"flagstream/matchers"
	"flagstream/pipeline/cases"
)

func TestEntryKey(t *testing.T) {
	for _, tc := range []struct {
		kind    cases.EntryKind
		value   string
		want    string
		wantErr bool
	}{
		{cases.EntryHandle, "@Kisan_Ekta", "@kisan_ekta", false},
		{cases.EntryHandle, "Kisan_Ekta", "@kisan_ekta", false},
		{cases.EntryHandle, "KISAN_EKTA", "@kisan_ekta", false},
		{cases.EntryHandle, "＠ｋｉｓａｎ", "@kisan", false},                // fullwidth, as a tweet's text may spell it
		{cases.EntryHandle, "kisan\u200b_ekta", "@kisan_ekta", false}, // an invisible character
		{cases.EntryHandle, "1234567890", "@1234567890", false},       // a handle of digits is not a user id
		{cases.EntryHandle, "@", "", true},
		{cases.EntryHandle, "", "", true},
		{cases.EntryHandle, "a_handle_too_long", "", true},
		{cases.EntryHandle, "kisan-ekta", "", true},
		{cases.EntryHandle, "@@kisan", "", true},
		{cases.EntryUserID, "1234567890", "1234567890", false},
		{cases.EntryUserID, "0001234567890", "1234567890", false},
		{cases.EntryUserID, "18446744073709551615", "18446744073709551615", false},
		{cases.EntryUserID, "18446744073709551616", "", true},
		{cases.EntryUserID, "0", "", true},
		{cases.EntryUserID, "000", "", true},
		{cases.EntryUserID, "12a", "", true},
		{cases.EntryUserID, "-12", "", true},
		{cases.EntryUserID, "+12", "", true},
		{cases.EntryUserID, "", "", true},
		{"hashtag", "#FarmerGenocide", "", true},
	} {
		t.Run(string(tc.kind)+"/"+tc.value, func(t *testing.T) {
			got, err := cases.EntryKey(tc.kind, tc.value)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("EntryKey(%s, %q) = %q, %v; want %q, error %v", tc.kind, tc.value, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestCaseIDContract pins the case id: scripts and other tools may compute
// it, and a change would start every case anew.
func TestCaseIDContract(t *testing.T) {
	sum := sha256.Sum256([]byte("flagstream.case/v1\x00IN-MEITY-2021-02-04\x00@kisan_ekta"))
	want := hex.EncodeToString(sum[:16])
	if got := cases.CaseID("IN-MEITY-2021-02-04", "@kisan_ekta"); got != want {
		t.Errorf("CaseID = %s, want %s", got, want)
	}
	// The same, computed by sha256sum:
	// printf 'flagstream.case/v1\0IN-MEITY-2021-02-04\0@kisan_ekta' | sha256sum | cut -c1-32
	if want != "49466ec9db82bc9769979fbacb716e2f" {
		t.Errorf("SHA-256 prefix = %s, want 49466ec9db82bc9769979fbacb716e2f", want)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(want) {
		t.Errorf("case id %q is not 32 lowercase hex digits", want)
	}
}

func TestCaseOf(t *testing.T) {
	base, err := cases.CaseOf("IN-MEITY-2021-02-04", cases.EntryHandle, "@Kisan_Ekta")
	if err != nil {
		t.Fatal(err)
	}
	same := []struct {
		demand string
		kind   cases.EntryKind
		entry  string
	}{
		{"IN-MEITY-2021-02-04", cases.EntryHandle, "kisan_ekta"},
		{"IN-MEITY-2021-02-04", cases.EntryHandle, "@KISAN_EKTA"},
	}
	for _, s := range same {
		if got, _ := cases.CaseOf(s.demand, s.kind, s.entry); got != base {
			t.Errorf("CaseOf(%s, %s, %q) = %s, want the case of @Kisan_Ekta, %s", s.demand, s.kind, s.entry, got, base)
		}
	}
	other := []struct {
		demand string
		kind   cases.EntryKind
		entry  string
	}{
		{"DE-NETZDG-7", cases.EntryHandle, "@Kisan_Ekta"},         // another demand: another case
		{"IN-MEITY-2021-02-04", cases.EntryHandle, "@Kisan"},      // another handle
		{"in-meity-2021-02-04", cases.EntryHandle, "@Kisan_Ekta"}, // demand ids are case-sensitive
		{"IN-MEITY-2021-02-0", cases.EntryHandle, "4@Kisan_Ekta"}, // no two fields run together
	}
	for _, o := range other {
		got, err := cases.CaseOf(o.demand, o.kind, o.entry)
		if err != nil {
			if o.entry == "4@Kisan_Ekta" {
				continue // not a handle: it cannot collide
			}
			t.Fatal(err)
		}
		if got == base {
			t.Errorf("CaseOf(%s, %s, %q) = %s, the same as @Kisan_Ekta of IN-MEITY", o.demand, o.kind, o.entry, got)
		}
	}
	digitsHandle, _ := cases.CaseOf("D", cases.EntryHandle, "1234567890")
	digitsID, _ := cases.CaseOf("D", cases.EntryUserID, "1234567890")
	if digitsHandle == digitsID {
		t.Errorf("a handle of digits and the same user id share case %s", digitsID)
	}
}

// TestNormalizeHandleAgreesWithMatchers checks that a handle is keyed as
// the matchers key it: the case of an entry is found from any spelling the
// matcher matches at the exact tier.
func TestNormalizeHandleAgreesWithMatchers(t *testing.T) {
	var n matchers.Normalizer
	for _, h := range []string{"Kisan_Ekta", "KISAN_ekta", "ｋｉｓａｎ", "kisan\u00ad", "x_1"} {
		got, err := cases.NormalizeHandle(h)
		if err != nil {
			t.Fatalf("NormalizeHandle(%q): %v", h, err)
		}
		if want := string(n.Exact(nil, []byte(h))); got != want {
			t.Errorf("NormalizeHandle(%q) = %q, the matchers' exact key is %q", h, got, want)
		}
	}
}

func TestEntryKindOf(t *testing.T) {
	for k, want := range map[matchers.EntryKind]cases.EntryKind{
		matchers.EntryHandle: cases.EntryHandle, matchers.EntryUserID: cases.EntryUserID,
		matchers.EntryHashtag: "", matchers.EntryPhrase: "", matchers.EntryDomain: "",
	} {
		got, ok := cases.EntryKindOf(k)
		if got != want || ok != (want != "") {
			t.Errorf("EntryKindOf(%s) = %q, %v; want %q", k, got, ok, want)
		}
	}
}

func FuzzNormalizeHandle(f *testing.F) {
	for _, s := range []string{"@Kisan_Ekta", "＠ｋｉｓａｎ", "a\u200bb", "", "@", "\xff", "ǅ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		key, err := cases.NormalizeHandle(h)
		if err != nil {
			return
		}
		if !regexp.MustCompile(`^[a-z0-9_]{1,15}$`).MatchString(key) {
			t.Fatalf("NormalizeHandle(%q) = %q, not a lowercase handle", h, key)
		}
		again, err := cases.NormalizeHandle(key)
		if err != nil || again != key {
			t.Fatalf("NormalizeHandle is not idempotent: %q -> %q -> %q, %v", h, key, again, err)
		}
		if at, err := cases.NormalizeHandle("@" + key); err != nil || at != key {
			t.Fatalf("NormalizeHandle(@%s) = %q, %v", key, at, err)
		}
	})
}
