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
	alphabet := []byte{'a', '\\', '"'}
	var b []byte
	var walk func(n int)
	walk = func(n int) {
		for i := 0; i <= len(b); i++ {
			if got, want := stringEnd(b, i), byByte(b, i); got != want {
				t.Fatalf("stringEnd(%q, %d) = %d, want %d", b, i, got, want)
			}
		}
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			b = append(b, c)
			walk(n - 1)
			b = b[:len(b)-1]
		}
	}
	walk(9)
}
