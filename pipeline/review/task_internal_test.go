package review

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// normalizeTimeByParse is normalizeTime as it was before parseV1Time, kept
// as its oracle: time.Parse of the v1.1 format, else of RFC 3339.
func normalizeTimeByParse(s string) string {
	if t, err := time.Parse(v1CreatedAt, s); err == nil {
		return t.UTC().Format(time.RFC3339)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return s
}

// timeCases are v1.1 times as the API writes them and every way of
// writing one that time.Parse reads differently or not at all, with v2
// times and others.
var timeCases = []string{
	// As the API writes them.
	"Thu Feb 04 09:00:00 +0000 2021", "Thu Feb 04 14:30:00 +0530 2021", "Wed Feb 03 23:00:00 -0800 2021",
	"Sun Jan 01 00:00:00 +0000 2006", "Mon Dec 31 23:59:59 +0000 2029", "Sat Jun 15 12:34:56 -0330 1999",
	"Tue Mar 09 08:07:06 +1400 2021", "Fri Aug 21 01:02:03 -1200 2020",
	// The weekday is not checked against the date; case is ignored.
	"Mon Feb 04 09:00:00 +0000 2021", "thu feb 04 09:00:00 +0000 2021", "THU FEB 04 09:00:00 +0000 2021",
	"tHu fEb 04 09:00:00 +0000 2021", "Xyz Feb 04 09:00:00 +0000 2021", "Thu Fbe 04 09:00:00 +0000 2021",
	"Thursday Feb 04 09:00:00 +0000 2021", "Thu February 04 09:00:00 +0000 2021",
	// Days of each month, leap years, and days out of range.
	"Thu Feb 29 09:00:00 +0000 2020", "Thu Feb 29 09:00:00 +0000 2021", "Thu Feb 29 09:00:00 +0000 1900",
	"Thu Feb 29 09:00:00 +0000 2000", "Thu Feb 28 09:00:00 +0000 2021", "Thu Feb 30 09:00:00 +0000 2020",
	"Thu Apr 30 09:00:00 +0000 2021", "Thu Apr 31 09:00:00 +0000 2021", "Thu Jan 31 09:00:00 +0000 2021",
	"Thu Jan 32 09:00:00 +0000 2021", "Thu Jan 00 09:00:00 +0000 2021", "Thu Dec 31 09:00:00 +0000 2021",
	"Thu Nov 31 09:00:00 +0000 2021", "Thu Jul 31 09:00:00 +0000 2021", "Thu Sep 31 09:00:00 +0000 2021",
	// Clock fields at and past their ranges.
	"Thu Feb 04 23:59:59 +0000 2021", "Thu Feb 04 24:00:00 +0000 2021", "Thu Feb 04 09:60:00 +0000 2021",
	"Thu Feb 04 09:00:60 +0000 2021", "Thu Feb 04 99:99:99 +0000 2021",
	// Offsets at and past what time.Parse allows, and bad signs.
	"Thu Feb 04 09:00:00 +2400 2021", "Thu Feb 04 09:00:00 -2460 2021", "Thu Feb 04 09:00:00 +2500 2021",
	"Thu Feb 04 09:00:00 +0061 2021", "Thu Feb 04 09:00:00 +0060 2021", "Thu Feb 04 09:00:00 -0000 2021",
	"Thu Feb 04 09:00:00 0000 2021", "Thu Feb 04 09:00:00 *0000 2021", "Thu Feb 04 09:00:00 Z 2021",
	"Thu Feb 04 09:00:00 +00:00 2021", "Thu Feb 04 09:00:00 UTC 2021",
	// Years at the ends, where the offset moves the year out of 0-9999.
	"Sat Jan 01 00:00:00 +0100 0000", "Fri Dec 31 23:00:00 -0200 9999", "Sat Jan 01 00:00:00 +0000 0000",
	"Thu Feb 04 09:00:00 +0000 0001", "Thu Feb 04 09:00:00 +0000 21", "Thu Feb 04 09:00:00 +0000 20210",
	"Thu Feb 04 09:00:00 +0000 -021", "Thu Feb 04 09:00:00 +0000 +021", "Thu Feb 04 09:00:00 +0000 2O21",
	// Forms time.Parse reads that the API does not write.
	"Thu Feb 4 09:00:00 +0000 2021", "Thu Feb 04 9:00:00 +0000 2021", "Thu Feb 04 9:0:00 +0000 2021",
	"Thu  Feb 04 09:00:00 +0000 2021", "Thu Feb  04 09:00:00 +0000 2021", "Thu Feb 04 09:00:00  +0000  2021",
	"Thu Feb 04 09:00:00.123 +0000 2021", "Thu Feb 04 09:00:00,5 +0000 2021", "Thu Feb 04 09:00:00.1234567891 +0000 2021",
	"Thu\tFeb 04 09:00:00 +0000 2021", "Thu Feb 04 09:00:00 +0000 2021 ", " Thu Feb 04 09:00:00 +0000 2021",
	"Thu Feb 04 09:00:00 +0000 2021\n", "Thu Feb 04 09-00-00 +0000 2021", "Thu Feb 04 09:00:00 +000a 2021",
	"Thu Feb 0\xff 09:00:00 +0000 2021", "Thu Feb 04 09:00:00 +0000", "Thu Feb 04",
	// v2 times, others, and nothing.
	"2021-02-04T09:00:00.000Z", "2021-02-04T14:30:00.250+05:30", "2021-02-04T09:00:00Z", "2021-02-04T09:00:00",
	"2021-02-30T09:00:00Z", "04/02/2021 09:00", "", " ", "T", "Z", "\x00", "1357254297624866818",
}

func TestNormalizeTimeIsTimeParse(t *testing.T) {
	for _, s := range timeCases {
		if got, want := normalizeTime([]byte(s)), normalizeTimeByParse(s); got != want {
			t.Errorf("normalizeTime(%q) = %q, time.Parse gives %q", s, got, want)
		}
	}
}

// TestParseV1TimeTakesTheAPIForm checks that parseV1Time, not time.Parse,
// reads the v1.1 times the API writes, and leaves what it does not read
// exactly to time.Parse.
func TestParseV1TimeTakesTheAPIForm(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"Thu Feb 04 09:00:00 +0000 2021", true},
		{"Thu Feb 04 14:30:00 +0530 2021", true},
		{"Wed Feb 03 23:00:00 -0800 2021", true},
		{"Thu Feb 29 09:00:00 +0000 2020", true},
		{"Tue Feb 29 09:00:00 +0000 2000", true},
		{"Thu Feb 29 09:00:00 +0000 1900", false},
		{"Thu Feb 04 09:00:00 +2400 2021", true},
		{"thu Feb 04 09:00:00 +0000 2021", false},
		{"Thu Feb 4 09:00:00 +0000 2021", false},
		{"Thu Feb 04 09:00:00.123 +0000 2021", false},
		{"Thu Feb 29 09:00:00 +0000 2021", false},
		{"Thu Feb 04 24:00:00 +0000 2021", false},
		{"Thu Feb 04 09:00:00 +2500 2021", false},
		{"2021-02-04T09:00:00.000Z", false},
	} {
		if _, ok := parseV1Time([]byte(tc.in)); ok != tc.want {
			t.Errorf("parseV1Time(%q) ok = %v, want %v", tc.in, ok, tc.want)
		}
	}
}

// randomV1Time returns a v1.1 time: as the API writes it, with random
// values (some days past their month's end), or, half the time, with some
// fields as the API does not write them: past their range, in another
// case or width, with another separator, with a fraction of a second.
func randomV1Time(r *rand.Rand) string {
	wild := r.IntN(2) == 0
	odd := func() bool { return wild && r.IntN(6) == 0 } // this field written otherwise
	pick := func(ss ...string) string { return ss[r.IntN(len(ss))] }
	num := func(end int) string {
		if odd() {
			return pick(fmt.Sprint(r.IntN(10)), fmt.Sprintf("%02d", end+r.IntN(3)), fmt.Sprintf("%03d", r.IntN(end)))
		}
		return fmt.Sprintf("%02d", r.IntN(end))
	}
	sep := func() string {
		if odd() {
			return pick("  ", "\t", "", "x")
		}
		return " "
	}
	day, month := pick(v1Days[:]...), pick(v1Months[:]...)
	if odd() {
		day = pick(strings.ToLower(day), strings.ToUpper(day), "Xyz", "Thursday")
	}
	if odd() {
		month = pick(strings.ToLower(month), strings.ToUpper(month), "Fbe", "February")
	}
	dayOfMonth := fmt.Sprintf("%02d", pickInt(r, 1+r.IntN(28), 29, 30, 31))
	if odd() {
		dayOfMonth = pick("00", "32", "4", "99")
	}
	clock := num(24) + ":" + num(60) + ":" + num(60)
	if odd() {
		clock += pick(".5", ",123", ".1234567891")
	}
	sign := "+-"[r.IntN(2):][:1]
	if odd() {
		sign = pick("*", "", "0")
	}
	zone := sign + fmt.Sprintf("%02d%02d", r.IntN(15), pickInt(r, 0, 30, 45))
	if odd() {
		zone = sign + fmt.Sprintf("%02d%02d", pickInt(r, 24, 25, 99), pickInt(r, 59, 60, 61))
	}
	year := fmt.Sprintf("%04d", pickInt(r, r.IntN(10000), 1900+r.IntN(200), 2000, 1900, 0, 9999))
	if odd() {
		year = pick("21", "20210", "-021", "2O21")
	}
	end := ""
	if odd() {
		end = pick(" ", "x", "\n")
	}
	return day + sep() + month + sep() + dayOfMonth + sep() + clock + sep() + zone + sep() + year + end
}

func pickInt(r *rand.Rand, ns ...int) int { return ns[r.IntN(len(ns))] }

func TestNormalizeTimeIsTimeParseRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fast := 0
	for range 100000 {
		s := randomV1Time(r)
		if _, ok := parseV1Time([]byte(s)); ok {
			fast++
		}
		if got, want := normalizeTime([]byte(s)), normalizeTimeByParse(s); got != want {
			t.Fatalf("normalizeTime(%q) = %q, time.Parse gives %q", s, got, want)
		}
	}
	if fast < 10000 {
		t.Errorf("only %d of the random times took parseV1Time; the test does not test it", fast)
	}
}

func FuzzNormalizeTime(f *testing.F) {
	for _, s := range timeCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := normalizeTime([]byte(s)), normalizeTimeByParse(s); got != want {
			t.Fatalf("normalizeTime(%q) = %q, time.Parse gives %q", s, got, want)
		}
	})
}

func TestNormalizeTimeAllocations(t *testing.T) {
	b := []byte("Thu Feb 04 14:30:00 +0530 2021")
	if n := testing.AllocsPerRun(100, func() { normalizeTime(b) }); n > 1 {
		t.Errorf("normalizeTime of a v1.1 time allocates %v times, want 1 (the result)", n)
	}
}

// taskIDByWrites is taskID as it was, kept as its oracle: the fields
// written one by one to a hash.Hash.
func taskIDByWrites(tweetID string, matches []Match) string {
	h := sha256.New()
	h.Write([]byte(SchemaID + "\x00" + tweetID + "\x00"))
	for _, m := range matches {
		for _, f := range [...]string{m.Kind, m.In, m.Value, m.Entry, m.DemandID} {
			h.Write([]byte(f))
			h.Write([]byte{0})
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// TestTaskIDIsUnchanged compares taskID with the way it was computed,
// over matches that fit its stack buffer and matches that do not.
func TestTaskIDIsUnchanged(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	str := func() string {
		b := make([]byte, r.IntN(4)*r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	for i := range 2000 {
		var matches []Match
		for range r.IntN(6) {
			matches = append(matches, Match{Kind: str(), In: str(), Value: str(), Entry: str(), DemandID: str(), Authority: str()})
		}
		id := str()
		if i == 0 {
			id, matches = "", nil
		}
		if got, want := taskID(id, matches), taskIDByWrites(id, matches); got != want {
			t.Fatalf("taskID(%q, %+v) = %s, want %s", id, matches, got, want)
		}
	}
}
