package decode

import "testing"

// TestStringEnd compares stringEnd, which looks for quotes and counts the
// backslashes before them, with the reading it replaced, a quote or a
// backslash at a time (a backslash escapes the byte after it), over every
// string of up to 9 bytes of a, backslash and quote, from every start.
func TestStringEnd(t *testing.T) {
	byByte := func(b []byte, i int) int {
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				return i
			case '\\':
				i++
			}
		}
		return -1
	}
	eachString([]byte{'a', '\\', '"'}, nil, 9, func(b []byte) {
		for i := 0; i <= len(b); i++ {
			if got, want := stringEnd(b, i), byByte(b, i); got != want {
				t.Fatalf("stringEnd(%q, %d) = %d, want %d", b, i, got, want)
			}
		}
	})
}

// TestSkipNumbers compares skipNumbers with skipValue over every array of
// up to 6 bytes after its bracket from an alphabet of digits, signs,
// separators and brackets, at levels around the limit.
func TestSkipNumbers(t *testing.T) {
	eachString([]byte("0 9,]-[.e}\""), []byte{'['}, 6, func(b []byte) {
		for _, level := range []int{0, maxScanLevel - 2, maxScanLevel - 1, maxScanLevel} {
			if got, want := skipNumbers(b, 0, level), skipValue(b, 0, level); got != want {
				t.Fatalf("skipNumbers(%q, 0, %d) = %d, skipValue %d", b, level, got, want)
			}
		}
	})
}

// eachString calls f with prefix followed by every string of up to n
// bytes of alphabet; f must not keep its argument.
func eachString(alphabet, prefix []byte, n int, f func([]byte)) {
	f(prefix)
	if n == 0 {
		return
	}
	for _, c := range alphabet {
		eachString(alphabet, append(prefix, c), n-1, f)
	}
}

// FuzzSkipNumbers checks skipNumbers against skipValue on any bytes
// after a bracket.
func FuzzSkipNumbers(f *testing.F) {
	for _, s := range []string{"]", "0,0]", "12,345]", "1,]", "0 ,1]", "[1]]", "1e5,-2]", "0]x"} {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, s string, level int) {
		if level < 0 || level > maxScanLevel {
			return
		}
		b := []byte("[" + s)
		if got, want := skipNumbers(b, 0, level), skipValue(b, 0, level); got != want {
			t.Fatalf("skipNumbers(%q, 0, %d) = %d, skipValue %d", b, level, got, want)
		}
	})
}
