package decode

import (
	"strings"
	"testing"
)

func TestFieldTable(t *testing.T) {
	for f, name := range readNames {
		if name == "" {
			continue
		}
		if got := fieldTable.lookup([]byte(name)); got != field(f) {
			t.Errorf("lookup(%q) = %d, want %d", name, got, f)
		}
	}
	seen := map[field]string{}
	for _, name := range commonNames {
		f := fieldTable.lookup([]byte(name))
		if f == fieldOther {
			t.Errorf("lookup(%q) = fieldOther, want a field", name)
		}
		if other, ok := seen[f]; ok && other != name {
			t.Errorf("lookup(%q) = %d, the field of %q too", name, f, other)
		}
		seen[f] = name
	}
	// Names that are not in the table, however close to some that are:
	// prefixes, longer names, other bytes in the middle of a long name
	// (whose first and last eight bytes are a listed one's).
	for _, name := range []string{"", "i", "idd", "id_st", "id_strr", "Text", "text ", "in_reply_to_screen_nam",
		"in_reply_to_XXXXXX_name", "in_reply_to_screen_name_", "retweeted_statu", "profile_background_image_url_http",
		"profile_XXXXXXXXXX_image_url_https", "user\x00", "\x00user", strings.Repeat("a", 300)} {
		if got := fieldTable.lookup([]byte(name)); got != fieldOther {
			t.Errorf("lookup(%q) = %d, want fieldOther", name, got)
		}
	}
}

// TestMemberPatterns checks every field's pattern against its own member
// written at every distance from the end of a buffer, and against every
// one-byte change of it: at holds exactly when the bytes are `"name":`,
// by words or, near the end, as a string.
func TestMemberPatterns(t *testing.T) {
	names := append(readNames[:], commonNames...)
	for _, name := range names {
		if name == "" {
			continue
		}
		f := fieldTable.lookup([]byte(name))
		p := &fieldPatterns[f]
		member := `"` + name + `":`
		if p.n != len(member) {
			t.Errorf("%q: n = %d, want %d", name, p.n, len(member))
		}
		if p.pat != member {
			t.Errorf("%q: pat = %q", name, p.pat)
		}
		for tail := 0; tail <= 40; tail++ {
			b := []byte("xx" + member + strings.Repeat("0", tail))
			if !p.at(b, 2) {
				t.Errorf("%q with %d bytes after: does not hold", name, tail)
			}
			for k := 2; k < 2+len(member); k++ {
				changed := append([]byte(nil), b...)
				changed[k] ^= 0x20
				if p.at(changed, 2) {
					t.Errorf("%q with byte %d changed (%q), %d bytes after: holds", name, k-2, changed, tail)
				}
			}
			if short := b[:len(b)-tail-1]; p.at(short, 2) {
				t.Errorf("%q cut short by a byte: holds", name)
			}
		}
	}
}
