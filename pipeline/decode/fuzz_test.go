package decode_test

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
	"unicode/utf8"

	"flagstream/internal/dev/synth"
	"flagstream/matchers"
	"flagstream/pipeline/decode"
)

// fuzzSeeds are small hand-written records covering each shape the
// decoder reads.
var fuzzSeeds = []string{
	`{"id_str":"1","text":"Q&amp;A #tag @who","user":{"id_str":"2","screen_name":"me"},"entities":{"hashtags":[{"text":"tag"}],"user_mentions":[{"screen_name":"who","id_str":"3"}],"urls":[{"url":"https://t.co/x","expanded_url":"https://example.org"}]}}`,
	`{"id":1355000000000000001,"full_text":"&#64;x","extended_tweet":{"full_text":"long &lt;3","entities":{"hashtags":[{"text":"h"}]}}}`,
	`{"id_str":"3","text":"RT","in_reply_to_screen_name":"bob","in_reply_to_user_id_str":"4","retweeted_status":{"id_str":"1","text":"orig","quoted_status":{"id_str":"0","text":"q"}}}`,
	`{"statuses":[{"id_str":"1","text":"a"},{"id":2,"text":"b"}],"search_metadata":{}}`,
	`{"data":{"id":"9","text":"t","author_id":"1","entities":{"hashtags":[{"tag":"x"}],"mentions":[{"username":"y","id":"2"}]},"note_tweet":{"text":"long","entities":{"urls":[{"unwound_url":"https://e.org"}]}},"referenced_tweets":[{"type":"quoted","id":"5"},{"type":"replied_to","id":"6"}],"in_reply_to_user_id":"7"},"includes":{"users":[{"id":"1","username":"u"},{"id":"7","username":"r"}],"tweets":[{"id":"5","text":"q","author_id":"7"}]}}`,
	`{"data":[{"id":"1","text":"a"},{"id":"2","text":"b","referenced_tweets":[{"type":"retweeted","id":"1"}]}],"includes":{"tweets":[{"id":"1","text":"a"}]}}`,
	`{"data":[]}`, `{"data":null}`, `{"statuses":[]}`, `{}`, `[]`, `"x"`, `null`, `{"id":{}}`, `{"id":1.5}`,
	`{"id_str":"1","text":"\ud83d\ude00 \ud800 \u0026amp;"}`,
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	g := synth.New(synth.Config{Seed: 7, Handles: []string{"kisan_x"}, Hashtags: []string{"FarmerGenocide"},
		FlagRate: 0.3, EvasiveRate: 0.3, MalformedRate: 0.2, V2Rate: 0.4})
	for range 24 {
		rec, _ := g.Next(nil)
		f.Add(rec)
	}
	for _, tc := range hostileCases() {
		if len(tc.record) < 1024 {
			f.Add([]byte(tc.record))
		}
	}
	small := decode.Limits{MaxTweets: 4, MaxEmbedDepth: 2, MaxTextBytes: 64}
	var (
		dflt = &decode.Decoder{}
		tiny = &decode.Decoder{Limits: small}
	)
	f.Fuzz(func(t *testing.T, record []byte) {
		for _, d := range []*decode.Decoder{dflt, tiny} {
			posts, err := d.Decode(record)
			checkDecoded(t, d.Limits, record, posts, err)
			if err != nil {
				continue
			}
			first := flatten(posts)
			// Decoding another record in between, then this one again,
			// gives the same posts: nothing of one record leaks into
			// the next.
			d.Decode([]byte(fuzzSeeds[4]))
			posts, err = d.Decode(record)
			if err != nil {
				t.Fatalf("second Decode(%q): %v, first succeeded", record, err)
			}
			if again := flatten(posts); !reflect.DeepEqual(first, again) {
				t.Fatalf("Decode(%q) differs the second time:\nfirst %s\nthen  %s", record, show(first), show(again))
			}
		}
	})
}

// repeatsAName reports whether some object in a JSON value repeats a
// member name, as encoding/json reads the names; ok is false when
// encoding/json cannot read the value (fastjson accepts a few invalid
// escapes that it refuses).
func repeatsAName(record []byte) (repeats, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(record))
	type frame struct {
		object bool
		names  map[string]bool
		key    bool // the next string token is a member name
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return false, true
		}
		if err != nil {
			return false, false
		}
		top := len(stack) - 1
		isKey := top >= 0 && stack[top].object && stack[top].key
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, frame{object: true, names: map[string]bool{}, key: true})
				continue
			case '[':
				stack = append(stack, frame{})
				continue
			default:
				stack = stack[:top]
			}
		case string:
			if isKey {
				if stack[top].names[v] {
					return true, true
				}
				stack[top].names[v] = true
				stack[top].key = false
				continue
			}
		}
		if top := len(stack) - 1; top >= 0 && stack[top].object {
			stack[top].key = true // a value ended: a name comes next
		}
	}
}

// checkDecoded checks the properties every Decode result has.
func checkDecoded(t *testing.T, limits decode.Limits, record []byte, posts []matchers.Post, err error) {
	t.Helper()
	if err != nil {
		if posts != nil {
			t.Errorf("Decode(%q) returned %d posts with error %v", record, len(posts), err)
		}
		if decode.ReasonOf(err) == "" {
			t.Fatalf("Decode(%q): error %v has no reason", record, err)
		}
		if repeats, ok := repeatsAName(record); decode.ReasonOf(err) == decode.ReasonDuplicateKey && ok && !repeats {
			t.Fatalf("Decode(%q): %v, but encoding/json finds no object repeating a name", record, err)
		}
		return
	}
	if len(posts) == 0 {
		t.Fatalf("Decode(%q) returned no posts and no error", record)
	}
	if len(posts) > limits.MaxTweets {
		t.Errorf("Decode(%q) returned %d posts, more than MaxTweets %d", record, len(posts), limits.MaxTweets)
	}
	for i, p := range posts {
		if len(p.Parts) == 0 {
			t.Fatalf("Decode(%q): post %d has no parts", record, i)
		}
		if p.Parts[0].In != matchers.InTweet {
			t.Errorf("Decode(%q): post %d's first part is in %s, want tweet", record, i, p.Parts[0].In)
		}
		if len(p.Main().ID) == 0 {
			t.Errorf("Decode(%q): post %d has an empty id", record, i)
		}
		for j, pt := range p.Parts {
			tw := pt.Tweet
			if tw == nil {
				t.Fatalf("Decode(%q): post %d part %d has no tweet", record, i, j)
			}
			if j > 0 && pt.In == matchers.InTweet {
				t.Errorf("Decode(%q): post %d part %d is in tweet, want an embedded place", record, i, j)
			}
			if len(tw.Text) > limits.MaxTextBytes {
				t.Errorf("Decode(%q): post %d part %d text of %d bytes, over MaxTextBytes", record, i, j, len(tw.Text))
			}
			for _, b := range [][]byte{tw.ID, tw.Text, tw.AuthorID, tw.AuthorHandle, tw.Lang, tw.CreatedAt} {
				if !utf8.Valid(b) {
					t.Errorf("Decode(%q): post %d part %d holds invalid UTF-8 %q", record, i, j, b)
				}
			}
		}
	}
}
