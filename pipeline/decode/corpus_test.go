package decode_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"flagstream/internal/testkit"
	"flagstream/pipeline/decode"
)

// corpus is one file of real tweets from ../shared/corpora.
type corpus struct {
	name string
	// lines says whether each line is a record (NDJSON); otherwise the
	// file is one pretty-printed record, compacted before decoding.
	lines bool
}

var corpora = []corpus{
	{name: "simdjson_twitter_v1.1_search.json"},
	{name: "twarc-csv_withheld_v2.jsonl", lines: true},
	{name: "tweet-updates_v1.1_retweet_extended.json"},
}

// corpusRecords returns the records of c, or skips when it is absent.
func corpusRecords(tb testing.TB, c corpus) [][]byte {
	tb.Helper()
	data, err := os.ReadFile(testkit.SharedPath(tb, "corpora/"+c.name))
	if err != nil {
		tb.Fatalf("read corpus: %v", err)
	}
	if !c.lines {
		var buf bytes.Buffer
		if err := json.Compact(&buf, data); err != nil {
			tb.Fatalf("compact %s: %v", c.name, err)
		}
		return [][]byte{buf.Bytes()}
	}
	var records [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			records = append(records, bytes.Clone(line))
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read %s: %v", c.name, err)
	}
	return records
}

// obj is a JSON object as encoding/json reads it (numbers as json.Number).
type obj = map[string]any

func readJSON(t *testing.T, record []byte) obj {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(record))
	dec.UseNumber()
	var o obj
	if err := dec.Decode(&o); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return o
}

func getObj(o obj, keys ...string) obj {
	for _, k := range keys {
		next, _ := o[k].(obj)
		o = next
	}
	return o
}

func getStr(o obj, key string) string {
	switch v := o[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

func getArr(o obj, key string) []any {
	a, _ := o[key].([]any)
	return a
}

// entityValues returns field of each object in the array at key of each
// entities object.
func entityValues(key, field string, entities ...obj) []string {
	var out []string
	for _, e := range entities {
		for _, item := range getArr(e, key) {
			if o, ok := item.(obj); ok {
				if s := getStr(o, field); s != "" {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// expectV1 is the independent reading of a v1.1 tweet and what it embeds.
func expectV1(tw obj, in string) []part {
	id := getStr(tw, "id_str")
	if id == "" {
		id = getStr(tw, "id")
	}
	text := getStr(tw, "text")
	if s := getStr(tw, "full_text"); s != "" {
		text = s
	}
	ext := getObj(tw, "extended_tweet")
	if s := getStr(ext, "full_text"); s != "" {
		text = s
	}
	user := getObj(tw, "user")
	authorID := getStr(user, "id_str")
	if authorID == "" {
		authorID = getStr(user, "id")
	}
	entities := []obj{getObj(tw, "entities"), getObj(ext, "entities")}
	parts := []part{{
		In:       in,
		ID:       id,
		Text:     string(refUnescape([]byte(text))),
		AuthorID: authorID,
		Handle:   getStr(user, "screen_name"),
		Hashtags: entityValues("hashtags", "text", entities...),
		Mentions: entityValues("user_mentions", "screen_name", entities...),
	}}
	if h, u := getStr(tw, "in_reply_to_screen_name"), getStr(tw, "in_reply_to_user_id_str"); h != "" || u != "" {
		parts = append(parts, part{In: "replied_to", Handle: h, AuthorID: u})
	}
	if rt := getObj(tw, "retweeted_status"); rt != nil {
		parts = append(parts, expectV1(rt, "retweeted")...)
	}
	if q := getObj(tw, "quoted_status"); q != nil {
		parts = append(parts, expectV1(q, "quoted")...)
	}
	return parts
}

// expectV2 is the independent reading of a v2 tweet of a page and the
// referenced tweets that the page includes.
func expectV2(page, tw obj, in string) []part {
	includes := getObj(page, "includes")
	handle := func(id string) string {
		for _, u := range getArr(includes, "users") {
			if uo, _ := u.(obj); getStr(uo, "id") == id && id != "" {
				return getStr(uo, "username")
			}
		}
		return ""
	}
	text := getStr(tw, "text")
	note := getObj(tw, "note_tweet")
	if s := getStr(note, "text"); s != "" {
		text = s
	}
	entities := []obj{getObj(tw, "entities"), getObj(note, "entities")}
	author := getStr(tw, "author_id")
	parts := []part{{
		In:       in,
		ID:       getStr(tw, "id"),
		Text:     string(refUnescape([]byte(text))),
		AuthorID: author,
		Handle:   handle(author),
		Hashtags: entityValues("hashtags", "tag", entities...),
		Mentions: entityValues("mentions", "username", entities...),
	}}
	if in != "tweet" {
		return parts
	}
	replied := false
	for _, r := range getArr(tw, "referenced_tweets") {
		ro, _ := r.(obj)
		for _, inc := range getArr(includes, "tweets") {
			if io, _ := inc.(obj); getStr(io, "id") == getStr(ro, "id") {
				parts = append(parts, expectV2(page, io, getStr(ro, "type"))...)
				replied = replied || getStr(ro, "type") == "replied_to"
				break
			}
		}
	}
	if u := getStr(tw, "in_reply_to_user_id"); u != "" && !replied {
		parts = append(parts, part{In: "replied_to", AuthorID: u, Handle: handle(u)})
	}
	return parts
}

// essentials keeps the fields the independent reading gives, with the
// entities as sorted sets: entities and extended (or note) entities are
// united, and may repeat each other.
func essentials(p part) part {
	set := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		s = slices.Clone(s)
		slices.Sort(s)
		return slices.Compact(s)
	}
	handles := make([]string, 0, len(p.Mentions))
	for _, m := range p.Mentions {
		handle, _, _ := strings.Cut(m, "/")
		handles = append(handles, handle)
	}
	return part{In: p.In, ID: p.ID, Text: p.Text, AuthorID: p.AuthorID, Handle: p.Handle,
		Hashtags: set(p.Hashtags), Mentions: set(handles)}
}

func TestDecodeCorpora(t *testing.T) {
	for _, c := range corpora {
		t.Run(c.name, func(t *testing.T) {
			var (
				d                 decode.Decoder
				tweets, posts     int
				parts, referenced int
				withheld, inIndia int
				withEmbeds        int
			)
			for i, record := range corpusRecords(t, c) {
				got, err := d.Decode(record)
				if err != nil {
					t.Fatalf("record %d: Decode: %v", i+1, err)
				}
				page := readJSON(t, record)
				var want [][]part
				switch {
				case page["data"] != nil:
					data := getArr(page, "data")
					if data == nil {
						data = []any{page["data"]}
					}
					for _, tw := range data {
						tw, _ := tw.(obj)
						want = append(want, expectV2(page, tw, "tweet"))
						if w := getObj(tw, "withheld"); w != nil {
							withheld++
							if slices.Contains(getArr(w, "country_codes"), any("IN")) {
								inIndia++
							}
						}
						referenced += len(getArr(tw, "referenced_tweets"))
					}
				case page["statuses"] != nil:
					for _, tw := range getArr(page, "statuses") {
						tw, _ := tw.(obj)
						want = append(want, expectV1(tw, "tweet"))
					}
				default:
					want = append(want, expectV1(page, "tweet"))
				}
				tweets += len(want)
				posts += len(got)
				if len(got) != len(want) {
					t.Errorf("record %d: %d posts, want %d (one per tweet)", i+1, len(got), len(want))
					continue
				}
				for j, gotParts := range flatten(got) {
					g := make([]part, len(gotParts))
					for k, p := range gotParts {
						g[k] = essentials(p)
					}
					w := make([]part, len(want[j]))
					for k, p := range want[j] {
						w[k] = essentials(p)
					}
					parts += len(g)
					if len(w) > 1 {
						withEmbeds++
					}
					if !reflect.DeepEqual(g, w) {
						t.Errorf("record %d, post %d:\ngot  %s\nwant %s", i+1, j, show(g), show(w))
					}
				}
			}
			t.Logf("%d tweets, %d posts, %d parts (%d posts with embedded or referenced tweets); v2: %d references, %d withheld, %d in IN",
				tweets, posts, parts, withEmbeds, referenced, withheld, inIndia)
			if tweets == 0 {
				t.Error("corpus holds no tweets")
			}
		})
	}
}

// TestDecodeCorporaCounts pins what SOURCES.md says about the corpora, so
// that a reading that silently skips tweets fails.
func TestDecodeCorporaCounts(t *testing.T) {
	for _, tc := range []struct {
		corpus           corpus
		posts, retweeted int
	}{
		{corpus: corpora[0], posts: 100, retweeted: 73},
		{corpus: corpora[1], posts: 215, retweeted: 45}, // retweets whose original the page includes
		{corpus: corpora[2], posts: 1, retweeted: 1},
	} {
		t.Run(tc.corpus.name, func(t *testing.T) {
			var d decode.Decoder
			posts, retweeted := 0, 0
			for i, record := range corpusRecords(t, tc.corpus) {
				got, err := d.Decode(record)
				if err != nil {
					t.Fatalf("record %d: Decode: %v", i+1, err)
				}
				posts += len(got)
				for _, p := range got {
					for _, pt := range p.Parts {
						if pt.In.String() == "retweeted" {
							retweeted++
						}
					}
				}
			}
			if got, want := posts, tc.posts; got != want {
				t.Errorf("posts = %d, want %d", got, want)
			}
			if got, want := retweeted, tc.retweeted; got != want {
				t.Errorf("retweeted parts = %d, want %d", got, want)
			}
		})
	}
}
