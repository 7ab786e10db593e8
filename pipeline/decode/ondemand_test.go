package decode_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"flagstream/internal/dev/synth"
	"flagstream/matchers"
	"flagstream/pipeline/decode"
)

// postsDiff describes how two decodings differ, byte for byte and in
// whether each field is nil; "" when they are the same.
func postsDiff(a, b []matchers.Post) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d posts, then %d", len(a), len(b))
	}
	field := func(where, name string, x, y []byte) string {
		if !bytes.Equal(x, y) || (x == nil) != (y == nil) {
			return fmt.Sprintf("%s %s: %q (nil %t), then %q (nil %t)", where, name, x, x == nil, y, y == nil)
		}
		return ""
	}
	list := func(where, name string, x, y [][]byte) string {
		if len(x) != len(y) {
			return fmt.Sprintf("%s %s: %q, then %q", where, name, x, y)
		}
		for i := range x {
			if d := field(where, fmt.Sprintf("%s[%d]", name, i), x[i], y[i]); d != "" {
				return d
			}
		}
		return ""
	}
	for i := range a {
		if len(a[i].Parts) != len(b[i].Parts) {
			return fmt.Sprintf("post %d: %d parts, then %d", i, len(a[i].Parts), len(b[i].Parts))
		}
		for j := range a[i].Parts {
			where := fmt.Sprintf("post %d part %d", i, j)
			pa, pb := a[i].Parts[j], b[i].Parts[j]
			if pa.In != pb.In {
				return fmt.Sprintf("%s: in %s, then %s", where, pa.In, pb.In)
			}
			x, y := pa.Tweet, pb.Tweet
			for _, d := range []string{
				field(where, "id", x.ID, y.ID),
				field(where, "created_at", x.CreatedAt, y.CreatedAt),
				field(where, "lang", x.Lang, y.Lang),
				field(where, "text", x.Text, y.Text),
				field(where, "author_id", x.AuthorID, y.AuthorID),
				field(where, "author_handle", x.AuthorHandle, y.AuthorHandle),
				list(where, "hashtags", x.Hashtags, y.Hashtags),
				list(where, "urls", x.URLs, y.URLs),
			} {
				if d != "" {
					return d
				}
			}
			if len(x.Mentions) != len(y.Mentions) {
				return fmt.Sprintf("%s mentions: %d, then %d", where, len(x.Mentions), len(y.Mentions))
			}
			for k := range x.Mentions {
				if d := field(where, "mention handle", x.Mentions[k].Handle, y.Mentions[k].Handle); d != "" {
					return d
				}
				if d := field(where, "mention id", x.Mentions[k].ID, y.Mentions[k].ID); d != "" {
					return d
				}
			}
		}
	}
	return ""
}

// readers are three decoders of one record: on demand alone, the full
// parse alone, and Decode as the pipeline uses it (both).
type readers struct{ onDemand, full, both *decode.Decoder }

func newReaders(l decode.Limits) readers {
	r := readers{&decode.Decoder{Limits: l}, &decode.Decoder{Limits: l}, &decode.Decoder{Limits: l}}
	decode.OnDemandOnly(r.onDemand)
	decode.FullParseOnly(r.full)
	return r
}

// compare decodes record with each reader and fails t unless whatever the
// on-demand reader reads, the full parse reads the same, and Decode gives
// the full parse's posts or its very error. It reports whether the
// on-demand reader read the record.
func (r readers) compare(t *testing.T, record []byte) (onDemand bool) {
	t.Helper()
	full, fullErr := r.full.Decode(record)
	both, bothErr := r.both.Decode(record)
	switch {
	case (fullErr == nil) != (bothErr == nil):
		t.Fatalf("Decode(%q): error %v, the full parse's %v", record, bothErr, fullErr)
	case fullErr != nil && fullErr.Error() != bothErr.Error():
		t.Fatalf("Decode(%q): error %q, the full parse's %q", record, bothErr, fullErr)
	case fullErr == nil:
		if d := postsDiff(full, both); d != "" {
			t.Fatalf("Decode(%q) differs from the full parse: %s", record, d)
		}
	}
	od, odErr := r.onDemand.Decode(record)
	if odErr != nil {
		if !errors.Is(odErr, decode.ErrNotOnDemand) && odErr.Error() != fullErr.Error() {
			t.Fatalf("on demand (%q): error %v, the full parse's %v", record, odErr, fullErr)
		}
		return false
	}
	if fullErr != nil {
		t.Fatalf("on demand (%q) read %d posts; the full parse rejects it: %v", record, len(od), fullErr)
	}
	if d := postsDiff(full, od); d != "" {
		t.Fatalf("on demand (%q) differs from the full parse: %s", record, d)
	}
	return true
}

// onDemandCases are good records in the shapes and member orders that the
// on-demand reader must read itself, the same as the full parse.
var onDemandCases = map[string]string{
	"embedded tweets before entities, quoted first, with a reply": `{"quoted_status":{"id_str":"3","text":"q #qt",
		"retweeted_status":{"id_str":"4","text":"inner"},"in_reply_to_screen_name":"qr"},
		"retweeted_status":{"id_str":"2","text":"rt","entities":{"hashtags":[{"text":"rt"}]}},
		"in_reply_to_user_id_str":"9","in_reply_to_screen_name":"bob","id_str":"1","text":"t",
		"entities":{"hashtags":[{"text":"a"}],"urls":[{"url":"u1","expanded_url":"e1","unwound_url":"w1"}]}}`,
	"extended_tweet before entities": `{"id_str":"1","text":"short","extended_tweet":{"entities":{"hashtags":[{"text":"two"}],
		"user_mentions":[{"id":5,"screen_name":"m2"}]},"full_text":"long"},
		"entities":{"hashtags":[{"text":"one"}],"user_mentions":[{"screen_name":"m1","id_str":"4"}]}}`,
	"escapes in read strings": `{"id_str":"1","text":"a\"b\\c\/d\b\f\n\r\t \u00e9 \u0915\u093f \ud83d\ude00 \u0026amp;",
		"lang":"e\u006e","user":{"screen_name":"j\u0061ck","id":12},"entities":{"hashtags":[{"text":"t\u0061g"}]}}`,
	"pretty-printed": "{\n  \"id_str\" : \"1\" ,\r\n\t\"text\" : \"x\",\n  \"user\" : { \"screen_name\" : \"u\" } ,\n" +
		"  \"entities\" : { \"hashtags\" : [ { \"text\" : \"h\" } , null ] }\n}\n",
	"numbers, literals and nesting skipped": `{"id":1355000000000000001,"a":[1,-2.5e+10,true,false,null,{"b":[[],{}]}],
		"c":{"d":{"e":"\u003c\"}"}},"text":"x","f":0.5E-3}`,
	"empty strings and nulls": `{"id_str":"1","text":"","lang":"","created_at":null,"full_text":null,"user":{"screen_name":"","id_str":""},
		"extended_tweet":{"full_text":""},"entities":{"hashtags":[{"text":""}],"user_mentions":[{"screen_name":""}],"urls":[{"url":""}]}}`,
	"search response": `{"search_metadata":{"count":2},"statuses":[{"id_str":"1","text":"a"},
		{"id":2,"text":"b","retweeted_status":{"id_str":"3","text":"c"}}]}`,
	"v2, data before includes": `{"data":[{"id":"1","text":"t","author_id":"10","in_reply_to_user_id":"11",
		"referenced_tweets":[{"type":"quoted","id":"5"},{"type":"retweeted","id":"6"},{"type":"other","id":"5"},{"type":"quoted","id":"404"}],
		"entities":{"hashtags":[{"tag":"a"}],"mentions":[{"username":"m","id":"12"}],"urls":[{"unwound_url":"w"}]},
		"note_tweet":{"entities":{"hashtags":[{"tag":"b"}]},"text":"long"}},{"id":"2","text":"u","author_id":"11"}],
		"includes":{"users":[{"id":"10","username":"ten"},{"id":"11","username":"eleven"},{"name":"no id"},7],
			"tweets":[{"id":"5","text":"q","author_id":"11","referenced_tweets":[{"type":"quoted","id":"6"}]},{"id":"6","text":"r"}]},
		"meta":{"result_count":2}}`,
	"v2, includes before data, replied-to found": `{"includes":{"tweets":[{"id":"7","text":"parent","author_id":"2"}],
		"users":[{"id":"1","username":"me"},{"id":"2","username":"you"}]},
		"data":{"id":"8","text":"reply","author_id":"1","in_reply_to_user_id":"2","referenced_tweets":[{"type":"replied_to","id":"7"}]}}`,
	"v2 with many users": func() string {
		var b strings.Builder
		b.WriteString(`{"data":[`)
		for i := range 20 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"%d","text":"t","author_id":"%d"}`, 100+i, 19-i)
		}
		b.WriteString(`],"includes":{"users":[`)
		for i := range 20 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"%d","username":"u%d"},{"id":"%d","username":"second%d"}`, i, i, i, i)
		}
		b.WriteString(`]}}`)
		return b.String()
	}(),
	"embedded as deep as the limit": nestedRetweets(decode.DefaultLimits.MaxEmbedDepth),
}

// giveUpCases are records that the on-demand reader leaves to the full
// parse, good ones among them: their escapes, forms or member names are
// read in a way of fastjson's own.
var giveUpCases = map[string]string{
	"escaped member name":           `{"id_str":"1","te\u0078t":"x"}`,
	"lone high surrogate":           `{"id_str":"1","text":"\ud800 x"}`,
	"lone low surrogate":            `{"id_str":"1","text":"\udc00\udc00"}`,
	"unknown escape":                `{"id_str":"1","text":"\q"}`,
	"short \\u escape":              `{"id_str":"1","text":"\u12"}`,
	"NaN in a skipped member":       `{"id_str":"1","text":"x","n":NaN}`,
	"-Inf in a skipped member":      `{"id_str":"1","text":"x","n":-Inf}`,
	"escaped id in includes":        `{"data":{"id":"1","author_id":"2"},"includes":{"users":[{"id":"\u0032","username":"u"}]}}`,
	"a v1.1 tweet with data":        `{"id_str":"1","text":"x","data":{"id":"2"}}`,
	"statuses before data":          `{"statuses":[{"id_str":"1"}],"data":{"id":"2"}}`,
	"deeply nested skipped member":  `{"id_str":"1","x":` + strings.Repeat("[", 290) + strings.Repeat("]", 290) + `}`,
	"a response that is no tweet":   `{"errors":[{"message":"x"}],"id_str":"1"}`,
	"search response with includes": `{"statuses":[{"id_str":"1"}],"includes":{"users":{}}}`,
}

func TestOnDemandMatchesFullParse(t *testing.T) {
	sets := map[string][][]byte{
		"synth v1.1": synthRecords(500, 0),
		"synth v2":   synthRecords(500, 1),
	}
	g := synth.New(synth.Config{Seed: 3, Handles: []string{"kisan_x", "farm_y"}, Hashtags: []string{"FarmerGenocide"},
		FlagRate: 0.3, EvasiveRate: 0.3, V2Rate: 0.3})
	for range 500 {
		rec, kind := g.Next(nil)
		if kind != synth.Malformed {
			sets["synth flagged and evasive"] = append(sets["synth flagged and evasive"], rec)
		}
	}
	for _, c := range corpora {
		sets[c.name] = corpusRecords(t, c)
	}
	for name, record := range onDemandCases {
		sets[name] = [][]byte{[]byte(record)}
	}
	for name, records := range sets {
		t.Run(name, func(t *testing.T) {
			r := newReaders(decode.Limits{})
			for _, record := range records {
				if !r.compare(t, record) {
					t.Errorf("the on-demand reader gave up on %.200q; want it read", record)
				}
			}
		})
	}
}

func TestOnDemandGivesUp(t *testing.T) {
	cases := map[string]string{}
	for name, record := range giveUpCases {
		cases[name] = record
	}
	for _, tc := range hostileCases() {
		if tc.limits == (decode.Limits{}) {
			cases["hostile: "+tc.name] = tc.record
		}
	}
	cases["null item in data"] = `{"data":[{"id":"1"},null]}`
	for name, record := range cases {
		t.Run(name, func(t *testing.T) {
			if newReaders(decode.Limits{}).compare(t, []byte(record)) {
				t.Errorf("the on-demand reader read %q; want it to give up", record)
			}
		})
	}
	// Limits are the full parse's to enforce.
	small := decode.Limits{MaxTweets: 4, MaxEmbedDepth: 2, MaxTextBytes: 8}
	for _, tc := range hostileCases() {
		if tc.limits == small {
			t.Run("limits: "+tc.name, func(t *testing.T) {
				if newReaders(small).compare(t, []byte(tc.record)) {
					t.Errorf("the on-demand reader read %q within %+v; want it to give up", tc.record, small)
				}
			})
		}
	}
}

// FuzzOnDemand is the differential test of the two readers: on every
// input, what the on-demand reader reads the full parse reads the same
// way, and Decode gives the full parse's result, posts or error.
func FuzzOnDemand(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, s := range onDemandCases {
		f.Add([]byte(s))
	}
	for _, s := range giveUpCases {
		f.Add([]byte(s))
	}
	for _, tc := range hostileCases() {
		if len(tc.record) < 1024 {
			f.Add([]byte(tc.record))
		}
	}
	g := synth.New(synth.Config{Seed: 11, Handles: []string{"kisan_x"}, Hashtags: []string{"FarmerGenocide"},
		FlagRate: 0.3, EvasiveRate: 0.3, MalformedRate: 0.2, V2Rate: 0.4})
	for range 16 {
		rec, _ := g.Next(nil)
		f.Add(rec)
	}
	dflt := newReaders(decode.Limits{})
	tiny := newReaders(decode.Limits{MaxTweets: 2, MaxEmbedDepth: 1, MaxTextBytes: 16})
	f.Fuzz(func(t *testing.T, record []byte) {
		dflt.compare(t, record)
		tiny.compare(t, record)
	})
}

// TestOnDemandGuessedNames reads, with one reader, records whose member
// order changes from one to the next, so that the name the reader guesses
// from the record before is sometimes wrong, a prefix of the right one,
// repeated, spaced out or escaped: each must read as the full parse reads
// it, and a repeated name must still be refused.
func TestOnDemandGuessedNames(t *testing.T) {
	records := []string{
		`{"id_str":"1","id":1,"text":"a #x","user":{"id_str":"7","screen_name":"u"},"lang":"en"}`,
		`{"id_str":"1","id":1,"text":"a #x","user":{"id_str":"7","screen_name":"u"},"lang":"en"}`,
		`{"id":1,"id_str":"1","lang":"en","text":"b","user":{"screen_name":"u","id_str":"7"}}`,
		`{"id_str":"1","id":1,"text":"c","user":{"id_str":"7","screen_name":"v","screen_name":"w"},"lang":"en"}`,
		`{"id_str":"1","id_str":"2","text":"d","user":{"id_str":"7","screen_name":"u"}}`,
		`{"id_str":"1","id":1,"text" :"e","user":{"id_str" : "7","screen_name":"u"},"lang":"en"}`,
		`{"id_str":"1","id":1,"text":"f","user":{"id_str":"7","screen_nam":"u","screen_name":"x"},"lang":"en"}`,
		`{"id_str":"1","id":1,"te\u0078t":"g","user":{"id_str":"7","screen_name":"u"},"lang":"en"}`,
		`{"id_str":"1","id":1,"text":"h","user":{"id_str":"7","screen_name":"u"},"lang":"en"}`,
		`{"id_str":"1","id":1,"in_reply_to_screen_name":"r","in_reply_to_screen_name":"s","text":"i"}`,
	}
	r := newReaders(decode.Limits{})
	for _, rec := range records {
		r.compare(t, []byte(rec))
	}
	for _, rec := range []string{records[3], records[4], records[9]} {
		if _, err := r.both.Decode([]byte(rec)); err == nil || !strings.Contains(err.Error(), "duplicate_key") {
			t.Errorf("Decode(%q) = %v, want a duplicate_key rejection", rec, err)
		}
	}
}

// TestOnDemandSequences reads, with one reader, records that follow the
// member sequences it learns (a tweet's, its user's, its hashtags'),
// then records that leave them: by a member more after the whole
// sequence, by another member in the middle, by ending early, and by
// repeating a name along or after the sequence, near the record's end
// too. Each must read as the full parse reads it, and every repeat must
// be refused, however far along its sequence the object was.
func TestOnDemandSequences(t *testing.T) {
	const learn = `{"id_str":"1","id":1,"text":"a #x","entities":{"hashtags":[{"text":"x","indices":[2,4]}]},"user":{"id_str":"7","screen_name":"u","name":"n"},"lang":"en"}`
	records := []struct {
		record string
		dup    bool
	}{
		{learn, false},
		{learn, false},
		// A member more after the whole sequence: new, or a repeat.
		{`{"id_str":"1","id":1,"text":"b","entities":{"hashtags":[]},"user":{"id_str":"7","screen_name":"u","name":"n"},"lang":"en","source":"s"}`, false},
		{learn, false},
		{`{"id_str":"1","id":1,"text":"c","entities":{"hashtags":[]},"user":{"id_str":"7","screen_name":"u","name":"n"},"lang":"en","id":2}`, true},
		{learn, false},
		{`{"id_str":"1","id":1,"text":"d","entities":{"hashtags":[]},"user":{"id_str":"7","screen_name":"u","name":"n"},"lang":"en","id_str":"2"}`, true},
		{learn, false},
		{`{"id_str":"1","id":1,"text":"e","entities":{"hashtags":[]},"user":{"id_str":"7","screen_name":"u","name":"n","screen_name":"v"},"lang":"en"}`, true},
		{learn, false},
		// Another member in the middle, then a repeat of one before it.
		{`{"id_str":"1","id":1,"text":"f","id":3,"entities":{"hashtags":[]},"user":{"id_str":"7","screen_name":"u","name":"n"},"lang":"en"}`, true},
		{learn, false},
		{`{"id_str":"1","id":1,"truncated":false,"text":"g","entities":{"hashtags":[]},"user":{"id_str":"7","screen_name":"u","name":"n"},"lang":"en","text":"h"}`, true},
		{learn, false},
		// Ending early, then the shorter sequence followed and repeated.
		{`{"id_str":"1","id":1,"text":"i","entities":{"hashtags":[{"text":"y","indices":[0,2]},{"text":"z"}]},"user":{"id_str":"7","screen_name":"u"}}`, false},
		{`{"id_str":"1","id":1,"text":"j","entities":{"hashtags":[{"text":"y","indices":[0,2]}]},"user":{"id_str":"7","screen_name":"u","id_str":"8"}}`, true},
		{`{"id_str":"1","id":1,"text":"k","entities":{"hashtags":[{"text":"y","text":"w"}]},"user":{"id_str":"7","screen_name":"u"}}`, true},
		{`{"id_str":"1","id":1,"text":"l","entities":{"hashtags":[{"text":"y","indices":[0,2],"text":"w"}]},"user":{"id_str":"7","screen_name":"u"}}`, true},
		// Along the sequence to its last member, then one repeated.
		{`{"id_str":"1","id":1,"text":"m","entities":{"hashtags":[]},"user":{"id_str":"7","screen_name":"u","name":"n"},"lang":"en","lang":"fr"}`, true},
		{learn, false},
		// A name the reader does not know ends sequences.
		{`{"id_str":"1","id":1,"text":"n","entities":{"hashtags":[]},"user":{"id_str":"7","screen_name":"u","name":"n","zz_unknown":1},"lang":"en"}`, false},
		{`{"id_str":"1","id":1,"text":"o","entities":{"hashtags":[]},"user":{"id_str":"7","screen_name":"u","name":"n","zz_unknown":1,"zz_unknown":2},"lang":"en"}`, true},
		{learn, false},
		{learn, false},
	}
	r := newReaders(decode.Limits{})
	for _, tc := range records {
		if read := r.compare(t, []byte(tc.record)); read == tc.dup {
			t.Errorf("on demand (%q): read %v, want %v", tc.record, read, !tc.dup)
		}
		_, err := r.both.Decode([]byte(tc.record))
		if got := err != nil && strings.Contains(err.Error(), "duplicate_key"); got != tc.dup {
			t.Errorf("Decode(%q) = %v; want a duplicate_key rejection: %v", tc.record, err, tc.dup)
		}
	}
}
