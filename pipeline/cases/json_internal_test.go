package cases

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
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
		if got, want := appendString([]byte("x"), s), append([]byte("x"), marshalString(t, s)...); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendString(nil, s), marshalString(t, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestJSONWriterTime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2021, 2, 4, 9, 0, 0, 0, time.UTC),
		time.Date(2021, 2, 4, 9, 0, 0, 120_000_000, time.UTC),
		time.Date(2021, 2, 4, 9, 0, 0, 1, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		var w jsonWriter
		w.time(tm)
		want, err := json.Marshal(tm)
		if err != nil {
			t.Fatal(err)
		}
		if w.err != nil || !bytes.Equal(w.b, want) {
			t.Errorf("time(%v) = %s, %v; want %s", tm, w.b, w.err, want)
		}
	}
	var w jsonWriter
	w.time(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	if w.err == nil {
		t.Error("time in the year 10000: no error")
	}
}

func TestAppendStringAllocatesNothing(t *testing.T) {
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = appendString(buf[:0], "कि\u200dसान \"x\"\n\u2028") }); n != 0 {
		t.Errorf("appendString allocates %v times", n)
	}
}
