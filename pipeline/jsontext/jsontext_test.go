package jsontext

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// marshalString is what encoding/json writes of s with HTML escaping off.
func marshalString(t testing.TB, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

var stringCases = []string{
	"", "plain", `quote " and \ backslash`, "<html> & 'apostrophe'", "tab\tnewline\nreturn\r",
	"\b\f\x00\x01\x1f\x7f", "कि\u200dसान", "emoji 🌾", "\u2028line\u2029para", "bad \xff byte", "\xed\xa0\x80 surrogate",
	"trailing \xe2\x82", strings.Repeat("long ", 100),
}

func TestAppendStringIsEncodingJSON(t *testing.T) {
	for _, s := range stringCases {
		if got, want := AppendString([]byte("x"), s), append([]byte("x"), marshalString(t, s)...); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := AppendString(nil, s), marshalString(t, s); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAppendStringAllocatesNothing(t *testing.T) {
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = AppendString(buf[:0], "कि\u200dसान \"x\"\n\u2028") }); n != 0 {
		t.Errorf("AppendString allocates %v times", n)
	}
}

func TestAppendStringsIsEncodingJSON(t *testing.T) {
	for _, ss := range [][]string{nil, {}, {"IN"}, {"IN", "quote \" \\", "\u2028"}} {
		want, err := json.Marshal(ss)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendStrings(nil, ss); !bytes.Equal(got, want) {
			t.Errorf("AppendStrings(%q) = %s, want %s", ss, got, want)
		}
	}
}

func TestAppendFloatIsEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, 1, 0.5, 0.33, 1.0 / 3, -0.25, 1e-6, 1e-7, 9.99e-7, 1e20, 1e21, 1.5e300, -1e-9, math.SmallestNonzeroFloat64, math.MaxFloat64} {
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendFloat(nil, f); !bytes.Equal(got, want) {
			t.Errorf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func FuzzAppendFloat(f *testing.F) {
	for _, x := range []float64{0, 0.33, 1e-7, 1e21} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return // encoding/json refuses them; AppendFloat's callers check
		}
		want, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendFloat(nil, x); !bytes.Equal(got, want) {
			t.Fatalf("AppendFloat(%v) = %s, want %s", x, got, want)
		}
	})
}
