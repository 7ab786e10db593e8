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
