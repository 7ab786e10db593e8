package review_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"flagstream/matchers"
	"flagstream/pipeline/review"
)

// encodingJSON is how Task.Append wrote a task before it was written by
// hand, kept as the oracle it is checked against: encoding/json with HTML
// escaping off, one line with a trailing newline, dst as it was on an
// error.
func encodingJSON(dst []byte, t *review.Task) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(t); err != nil {
		return dst, fmt.Errorf("encode review task: %w", err)
	}
	return buf.Bytes(), nil
}

// checkAppend fails t unless task.Append, after a prefix, writes exactly
// what encodingJSON writes, or fails as it does: the same message, an
// *json.UnsupportedValueError, and the prefix left as it was.
func checkAppend(t *testing.T, task *review.Task) {
	t.Helper()
	prefix := []byte("key\t")
	got, gotErr := task.Append(bytes.Clone(prefix))
	want, wantErr := encodingJSON(bytes.Clone(prefix), task)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("Append: error %v, encoding/json: error %v\ntask: %+v", gotErr, wantErr, task)
	}
	if gotErr != nil {
		if gotErr.Error() != wantErr.Error() {
			t.Errorf("Append: error %q, want %q", gotErr, wantErr)
		}
		var uve *json.UnsupportedValueError
		if !errors.As(gotErr, &uve) {
			t.Errorf("Append: error %v is not an *json.UnsupportedValueError", gotErr)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Append wrote\n%q\nencoding/json writes\n%q\ntask: %+v", got, want, task)
	}
}

// specialStrings are strings whose escaping differs from byte to byte:
// JSON's short escapes, other control bytes, HTML characters (not
// escaped), U+2028 and U+2029 (escaped), invalid UTF-8 of every kind and
// runes of every length.
var specialStrings = []string{
	"", "plain", `quote " and \ backslash`, `\"`, "<html> & 'apostrophe'",
	"tab\tnewline\nreturn\r", "\b\f", "\x00\x01\x07\x0b\x0e\x1f\x7f",
	"कि\u200dसान", "emoji 🌾 and ñ", "\u2028line\u2029para", "\u2027\u202a", "\ufffd literal",
	"bad \xff byte", "\x80 lone continuation", "\xc0\x80 overlong NUL", "\xed\xa0\x80 surrogate",
	"\xf4\x90\x80\x80 above U+10FFFF", "trailing \xe2\x82", "\xe2\x80", "\xe2\x80\xa8\xe2",
	"\xf0\x9f\x8c", strings.Repeat("long ", 100), "\U0010ffff", "\u0080\u07ff\u0800\uffff\U00010000",
}

// allBytes is every byte 0x00-0xff, in order, as one string.
var allBytes = func() string {
	var b [256]byte
	for i := range b {
		b[i] = byte(i)
	}
	return string(b[:])
}()

// similarities are floats on both sides of encoding/json's cutoffs between
// 'f' and 'e' formats, with exponents of one, two and three digits.
var similarities = []float64{
	0, math.Copysign(0, -1), 1, 0.5, 0.33, 0.1, 0.01, 0.99, 1.0 / 3, -0.25, -1,
	1e-6, 9.99e-7, 1e-7, -1e-7, 1.5e-9, 1e-10, 1e-100, 5e-324, math.SmallestNonzeroFloat64,
	1e20, 999999999999999999999, 1e21, -1e21, 1.5e21, 1e100, 1.7976931348623157e308, math.MaxFloat64,
	123456789, 1234567890123456789, 0.000001234, float64(float32(0.1)),
}

// fullTask is a task with every field set, optional ones included.
func fullTask() review.Task {
	partition, offset := int32(3), int64(1234)
	sim := 0.87
	return review.Task{
		Schema: review.SchemaID, TaskID: "9852c391d55f342c7e9b6657f819c5e4", CreatedAt: "2026-01-02T03:04:05.6Z",
		Priority: "critical", Action: "withhold", Jurisdictions: []string{"AT", "DE", "IN"}, ListsVersion: "c84341cb7accbcc8",
		Tweet: review.Tweet{
			ID: "1357254297624866818", CreatedAt: "2021-02-04T09:00:00Z", Lang: "en",
			Text:   `RT @Kisan_Ekta: Stop the #Farmer_Genocide <now> & tell "them"`,
			Author: review.Author{ID: "1111", Handle: "someone"}, URL: "https://twitter.com/someone/status/1357254297624866818",
		},
		Matches: []review.Match{
			{
				Kind: "text", In: "tweet", Value: "farmers are told", Entry: "Farmers are told", Tier: "near", Similarity: &sim,
				Via: "binding", DemandID: "IN-MEITY-2021-02-04", Jurisdiction: "IN", Jurisdictions: []string{"IN"},
				Authority: "MeitY", LegalBasis: "IT Act 2000, s. 69A", Reference: "lumen:00000000",
				Action: "withhold", Scope: "user", Priority: "high",
			},
			{
				Kind: "hashtag", In: "retweeted", Value: "#Farmer_Genocide", Entry: "#FarmerGenocide", Tier: "loose",
				DemandID: "DE-NETZDG-7", Jurisdiction: "DE,AT,IN", Jurisdictions: []string{"DE", "AT", "IN"},
				Authority: "Bundesamt für Justiz", LegalBasis: "NetzDG § 3", Action: "review", Scope: "tweet", Priority: "critical",
			},
		},
		Source:    review.Source{Topic: "tweets", Partition: &partition, Offset: &offset, File: "tweets.jsonl", Line: 7},
		Exemption: &review.Exemption{ID: "EX-1", Category: "journalist", Reason: "press"},
		Shadow:    true,
		Tripped:   true,
		Retro:     review.NewRetro("job-1", time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 2, 5, 0, 0, 0, 0, time.UTC)),
	}
}

// setStrings sets every string field of task, its matches', exemption's
// and retro's included, to s.
func setStrings(task *review.Task, s string) {
	task.Schema, task.TaskID, task.CreatedAt, task.Priority, task.Action, task.ListsVersion = s, s, s, s, s, s
	for i := range task.Jurisdictions {
		task.Jurisdictions[i] = s
	}
	tw := &task.Tweet
	tw.ID, tw.CreatedAt, tw.Lang, tw.Text, tw.Author.ID, tw.Author.Handle, tw.URL = s, s, s, s, s, s, s
	for i := range task.Matches {
		m := &task.Matches[i]
		m.Kind, m.In, m.Value, m.Entry, m.Tier, m.Via, m.DemandID, m.Jurisdiction = s, s, s, s, s, s, s, s
		m.Authority, m.LegalBasis, m.Reference, m.Action, m.Scope, m.Priority = s, s, s, s, s, s
		for j := range m.Jurisdictions {
			m.Jurisdictions[j] = s
		}
	}
	task.Source.Topic, task.Source.File = s, s
	if task.Exemption != nil {
		task.Exemption.ID, task.Exemption.Category, task.Exemption.Reason = s, s, s
	}
	if task.Retro != nil {
		task.Retro.Job, task.Retro.Since, task.Retro.Until = s, s, s
	}
}

func ptr[T any](v T) *T { return &v }

func TestAppendIsEncodingJSON(t *testing.T) {
	type edit func(*review.Task)
	cases := []struct {
		name string
		edit edit
	}{
		{"full", func(*review.Task) {}},
		{"zero", func(task *review.Task) { *task = review.Task{} }},
		{"no optional fields", func(task *review.Task) {
			task.Exemption, task.Shadow, task.Tripped, task.Retro = nil, false, false, nil
			task.Source = review.Source{}
			for i := range task.Matches {
				task.Matches[i].Similarity, task.Matches[i].Via, task.Matches[i].Reference = nil, "", ""
			}
		}},
		{"nil jurisdictions", func(task *review.Task) { task.Jurisdictions = nil }},
		{"empty jurisdictions", func(task *review.Task) { task.Jurisdictions = []string{} }},
		{"nil matches", func(task *review.Task) { task.Matches = nil }},
		{"empty matches", func(task *review.Task) { task.Matches = []review.Match{} }},
		{"one match", func(task *review.Task) { task.Matches = task.Matches[:1] }},
		{"match with nil jurisdictions", func(task *review.Task) { task.Matches[0].Jurisdictions = nil }},
		{"match with empty jurisdictions", func(task *review.Task) { task.Matches[1].Jurisdictions = []string{} }},
		{"empty strings in slices", func(task *review.Task) { task.Jurisdictions = []string{"", ""} }},
		{"exemption only", func(task *review.Task) { task.Shadow, task.Tripped, task.Retro = false, false, nil }},
		{"zero exemption", func(task *review.Task) { task.Exemption = &review.Exemption{} }},
		{"shadow only", func(task *review.Task) { task.Exemption, task.Tripped, task.Retro = nil, false, nil }},
		{"tripped only", func(task *review.Task) { task.Exemption, task.Shadow, task.Retro = nil, false, nil }},
		{"retro only", func(task *review.Task) { task.Exemption, task.Shadow, task.Tripped = nil, false, false }},
		{"zero retro", func(task *review.Task) { task.Retro = &review.Retro{} }},
		{"kafka source at zero", func(task *review.Task) { task.Source = review.KafkaSource("tweets", 0, 0) }},
		{"kafka source at the extremes", func(task *review.Task) {
			task.Source = review.KafkaSource("t", math.MinInt32, math.MinInt64)
		}},
		{"kafka source at the maxima", func(task *review.Task) {
			task.Source = review.KafkaSource("t", math.MaxInt32, math.MaxInt64)
		}},
		{"file source", func(task *review.Task) { task.Source = review.Source{File: "stdin", Line: 1} }},
		{"file source at line zero", func(task *review.Task) { task.Source = review.Source{File: "stdin"} }},
		{"negative line", func(task *review.Task) { task.Source = review.Source{Line: -1} }},
		{"partition without offset", func(task *review.Task) { task.Source = review.Source{Partition: ptr(int32(-7))} }},
		{"offset without partition", func(task *review.Task) { task.Source = review.Source{Offset: ptr(int64(0))} }},
		{"NaN similarity", func(task *review.Task) { task.Matches[1].Similarity = ptr(math.NaN()) }},
		{"+Inf similarity", func(task *review.Task) { task.Matches[0].Similarity = ptr(math.Inf(1)) }},
		{"-Inf similarity", func(task *review.Task) { task.Matches[0].Similarity = ptr(math.Inf(-1)) }},
	}
	for _, f := range similarities {
		cases = append(cases, struct {
			name string
			edit edit
		}{fmt.Sprintf("similarity %g", f), func(task *review.Task) { task.Matches[0].Similarity = ptr(f) }})
	}
	for _, s := range append(specialStrings, allBytes) {
		cases = append(cases, struct {
			name string
			edit edit
		}{fmt.Sprintf("strings %q", s), func(task *review.Task) { setStrings(task, s) }})
	}
	for b := range 256 {
		s := string([]byte{byte(b)})
		cases = append(cases, struct {
			name string
			edit edit
		}{fmt.Sprintf("byte %#02x", b), func(task *review.Task) { setStrings(task, "a"+s+"z") }})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			task := fullTask()
			tc.edit(&task)
			checkAppend(t, &task)
		})
	}
}

// TestAppendWritesEveryField sets every field of a task, nested ones
// included, by reflection, and compares Append with encoding/json: a field
// added to a struct of the task and not to Append fails it, omitempty or
// not.
func TestAppendWritesEveryField(t *testing.T) {
	var task review.Task
	fillNonZero(t, reflect.ValueOf(&task).Elem())
	checkAppend(t, &task)
}

// fillNonZero sets v, and each field of it, to a value that is not zero:
// a string "x", true, 1, a pointer to a filled value, a slice of one.
func fillNonZero(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(0.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillNonZero(t, v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fillNonZero(t, v.Index(0))
	case reflect.Struct:
		for i := range v.NumField() {
			fillNonZero(t, v.Field(i))
		}
	default:
		t.Fatalf("fillNonZero: a field of kind %s; teach the test (and Append) about it", v.Kind())
	}
}

// TestAppendNilTask checks that a nil task writes null, as encoding/json
// writes a nil pointer.
func TestAppendNilTask(t *testing.T) {
	var task *review.Task
	checkAppend(t, task)
}

// TestAppendErrorLeavesDst checks that a task Append cannot write (a NaN
// similarity) leaves dst as it was, its bytes beyond its length included.
func TestAppendErrorLeavesDst(t *testing.T) {
	task := fullTask()
	task.Matches[1].Similarity = ptr(math.NaN())
	dst := make([]byte, 3, 64)
	copy(dst, "key")
	out, err := task.Append(dst)
	if err == nil {
		t.Fatal("Append of a NaN similarity: no error")
	}
	if !bytes.Equal(out, []byte("key")) || cap(out) != cap(dst) || &out[0] != &dst[0] {
		t.Errorf("Append on an error returned %q (cap %d), want dst as it was", out, cap(out))
	}
	if rest := dst[3:cap(dst)]; !bytes.Equal(rest, make([]byte, len(rest))) {
		t.Errorf("Append on an error wrote %q beyond dst's length", rest)
	}
}

// randomString returns a string of up to 12 pieces: special strings,
// random bytes, random runes.
func randomString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(12) {
		switch r.IntN(4) {
		case 0:
			b.WriteString(specialStrings[r.IntN(len(specialStrings))])
		case 1:
			b.WriteByte(byte(r.IntN(256)))
		case 2:
			b.WriteRune(rune(r.IntN(0x110000)))
		default:
			b.WriteString("ascii ")
		}
	}
	return b.String()
}

// randomStrings returns nil, an empty slice or a few random strings.
func randomStrings(r *rand.Rand) []string {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	ss := make([]string, 1+r.IntN(3))
	for i := range ss {
		ss[i] = randomString(r)
	}
	return ss
}

// randomFloat returns one of similarities, a random one in [0, 1] to two
// decimals, or any float64 (NaN and infinities included).
func randomFloat(r *rand.Rand) float64 {
	switch r.IntN(3) {
	case 0:
		return similarities[r.IntN(len(similarities))]
	case 1:
		return math.Round(r.Float64()*100) / 100
	}
	return math.Float64frombits(r.Uint64())
}

// randomTask returns a task whose every optional field is set or not, at
// random, and whose strings, slices and numbers are random.
func randomTask(r *rand.Rand) review.Task {
	rs := func() string { return randomString(r) }
	task := review.Task{
		Schema: rs(), TaskID: rs(), CreatedAt: rs(), Priority: rs(), Action: rs(),
		Jurisdictions: randomStrings(r), ListsVersion: rs(),
		Tweet:  review.Tweet{ID: rs(), CreatedAt: rs(), Lang: rs(), Text: rs(), Author: review.Author{ID: rs(), Handle: rs()}, URL: rs()},
		Shadow: r.IntN(2) == 0, Tripped: r.IntN(2) == 0,
	}
	if r.IntN(4) != 0 {
		task.Matches = make([]review.Match, r.IntN(4))
	}
	for i := range task.Matches {
		m := review.Match{
			Kind: rs(), In: rs(), Value: rs(), Entry: rs(), Tier: rs(), DemandID: rs(), Jurisdiction: rs(),
			Jurisdictions: randomStrings(r), Authority: rs(), LegalBasis: rs(), Action: rs(), Scope: rs(), Priority: rs(),
		}
		if r.IntN(2) == 0 {
			m.Similarity = ptr(randomFloat(r))
		}
		if r.IntN(2) == 0 {
			m.Via = rs()
		}
		if r.IntN(2) == 0 {
			m.Reference = rs()
		}
		task.Matches[i] = m
	}
	if r.IntN(2) == 0 {
		task.Source.Topic = rs()
	}
	if r.IntN(2) == 0 {
		task.Source.Partition = ptr(int32(r.Uint32()))
	}
	if r.IntN(2) == 0 {
		task.Source.Offset = ptr(int64(r.Uint64()) >> r.IntN(64))
	}
	if r.IntN(2) == 0 {
		task.Source.File = rs()
	}
	if r.IntN(2) == 0 {
		task.Source.Line = int64(r.Uint64()) >> r.IntN(64)
	}
	if r.IntN(2) == 0 {
		task.Exemption = &review.Exemption{ID: rs(), Category: rs(), Reason: rs()}
	}
	if r.IntN(2) == 0 {
		task.Retro = &review.Retro{Job: rs(), Since: rs(), Until: rs()}
	}
	return task
}

// TestAppendIsEncodingJSONRandom compares Append with encoding/json over
// random tasks.
func TestAppendIsEncodingJSONRandom(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range n {
		task := randomTask(r)
		checkAppend(t, &task)
	}
}

// TestAppendBuiltTasks compares Append with encoding/json on the tasks of
// the golden cases, as Build makes them.
func TestAppendBuiltTasks(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.snapshot(t)
			task := review.Build(s, tc.post, match(t, s, tc.post), tc.src, now)
			checkAppend(t, &task)
		})
	}
}

func TestAppendAllocatesNothing(t *testing.T) {
	task := fullTask()
	setStrings(&task, "कि\u200dसान \"x\"\n\u2028 \xff <&>")
	buf := make([]byte, 0, 64<<10)
	var err error
	if n := testing.AllocsPerRun(100, func() { buf, err = task.Append(buf[:0]) }); n != 0 {
		t.Errorf("Append into a buffer large enough allocates %v times", n)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzTaskAppend builds a task from fuzzed strings, flags and numbers and
// compares Append with encoding/json byte for byte. Bits of flags choose
// the optional fields, nil or empty slices, and which string goes where.
func FuzzTaskAppend(f *testing.F) {
	for i, s := range append(specialStrings, allBytes) {
		f.Add(s, "IN", "#FarmerGenocide", uint64(i)*0x9e3779b97f4a7c15, similarities[i%len(similarities)], int64(i)-3)
	}
	f.Add("", "", "", uint64(0), 0.0, int64(0))
	f.Add("a", "b", "c", ^uint64(0), math.NaN(), int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, a, b, c string, flags uint64, sim float64, n int64) {
		task := fuzzTask(a, b, c, flags, sim, n)
		checkAppend(t, &task)
	})
}

// fuzzTask is the task FuzzTaskAppend checks.
func fuzzTask(a, b, c string, flags uint64, sim float64, n int64) review.Task {
	bit := func(i uint) bool { return flags>>i&1 == 1 }
	strs := [...]string{a, b, c}
	next := 0
	pick := func() string { // a, b, c in turn, a turn skipped when bit 40+
		next++
		if bit(40 + uint(next%20)) {
			next++
		}
		return strs[next%3]
	}
	slice := func(i uint) []string {
		switch {
		case bit(i):
			return nil
		case bit(i + 1):
			return []string{}
		}
		return []string{pick(), pick()}[:1+int(flags>>(i+2)&1)]
	}
	task := review.Task{
		Schema: pick(), TaskID: pick(), CreatedAt: pick(), Priority: pick(), Action: pick(),
		Jurisdictions: slice(0), ListsVersion: pick(),
		Tweet: review.Tweet{ID: pick(), CreatedAt: pick(), Lang: pick(), Text: pick(),
			Author: review.Author{ID: pick(), Handle: pick()}, URL: pick()},
		Shadow: bit(3), Tripped: bit(4),
	}
	if !bit(5) {
		task.Matches = make([]review.Match, flags>>6&3)
	}
	for i := range task.Matches {
		m := review.Match{
			Kind: pick(), In: pick(), Value: pick(), Entry: pick(), Tier: pick(), DemandID: pick(), Jurisdiction: pick(),
			Jurisdictions: slice(8 + 3*uint(i)), Authority: pick(), LegalBasis: pick(), Action: pick(), Scope: pick(), Priority: pick(),
		}
		if bit(17 + uint(i)) {
			m.Similarity = ptr(sim)
		}
		if bit(20 + uint(i)) {
			m.Via = pick()
		}
		if bit(23 + uint(i)) {
			m.Reference = pick()
		}
		task.Matches[i] = m
	}
	if bit(26) {
		task.Source.Topic = pick()
	}
	if bit(27) {
		task.Source.Partition = ptr(int32(n))
	}
	if bit(28) {
		task.Source.Offset = ptr(n)
	}
	if bit(29) {
		task.Source.File = pick()
	}
	if bit(30) {
		task.Source.Line = n
	}
	if bit(31) {
		task.Exemption = &review.Exemption{ID: pick(), Category: pick(), Reason: pick()}
	}
	if bit(32) {
		task.Retro = &review.Retro{Job: pick(), Since: pick(), Until: pick()}
	}
	return task
}

// typicalFiles are the demands of a typical task: one demand, whose
// hashtag the tweet names.
var typicalFiles = map[string]string{"in-meity.yaml": demandFiles["in-meity.yaml"]}

// typicalPost is the tweet of a typical task: a v1.1 tweet with one
// hashtag of the one demand.
func typicalPost() *matchers.Post {
	return post(tweet{
		id: "1357254297624866818", createdAt: "Thu Feb 04 09:00:00 +0000 2021", lang: "en",
		text:     "Stop the #FarmerGenocide now, and tell them what you saw",
		authorID: "1111", handle: "someone", hashtags: []string{"FarmerGenocide"},
	})
}

// typicalTask returns the task of typicalPost and checks that it has one
// match.
func typicalTask(b *testing.B) review.Task {
	s := snapshotOf(b, typicalFiles)
	p := typicalPost()
	task := review.Build(s, p, match(b, s, p), review.KafkaSource("tweets", 3, 1234), now)
	if len(task.Matches) != 1 {
		b.Fatalf("typical task has %d matches, want 1", len(task.Matches))
	}
	return task
}

// BenchmarkTaskAppend writes a typical task (one hashtag match of one
// demand) by Append, and by encoding/json as Append did before it was
// written by hand.
func BenchmarkTaskAppend(b *testing.B) {
	task := typicalTask(b)
	for _, enc := range []struct {
		name   string
		encode func([]byte, *review.Task) ([]byte, error)
	}{
		{"Append", func(dst []byte, t *review.Task) ([]byte, error) { return t.Append(dst) }},
		{"encoding_json", encodingJSON},
	} {
		b.Run(enc.name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			var err error
			b.ReportAllocs()
			for b.Loop() {
				if buf, err = enc.encode(buf[:0], &task); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}
