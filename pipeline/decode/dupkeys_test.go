package decode_test

import (
	"fmt"
	"strings"
	"testing"

	"flagstream/pipeline/decode"
)

// dupKeyCases repeat a member name in each object the decoder reads. With
// the repeat taken out (the "unique" record) each decodes.
var dupKeyCases = []struct {
	name, record, unique, field string
}{
	{"author handle", `{"id_str":"1","text":"hi","user":{"screen_name":"benign","screen_name":"listed_one"}}`,
		`{"id_str":"1","text":"hi","user":{"screen_name":"listed_one"}}`, "user"},
	{"top-level text", `{"id_str":"1","text":"harmless","text":"#FarmerGenocide"}`,
		`{"id_str":"1","text":"#FarmerGenocide"}`, "tweet"},
	{"escaped repeat", `{"id_str":"1","te\u0078t":"harmless","text":"#FarmerGenocide"}`,
		`{"id_str":"1","text":"#FarmerGenocide"}`, "tweet"},
	{"top-level id", `{"id_str":"1","id_str":"2","text":"x"}`, `{"id_str":"2","text":"x"}`, "tweet"},
	{"user id", `{"id_str":"1","user":{"id_str":"5","id_str":"6"}}`, `{"id_str":"1","user":{"id_str":"6"}}`, "user"},
	{"entities", `{"id_str":"1","entities":{"hashtags":[],"hashtags":[{"text":"FarmerGenocide"}]}}`,
		`{"id_str":"1","entities":{"hashtags":[{"text":"FarmerGenocide"}]}}`, "entities"},
	{"hashtag entity", `{"id_str":"1","entities":{"hashtags":[{"text":"a","text":"FarmerGenocide"}]}}`,
		`{"id_str":"1","entities":{"hashtags":[{"text":"FarmerGenocide"}]}}`, "entities.hashtags[]"},
	{"mention entity", `{"id_str":"1","entities":{"user_mentions":[{"screen_name":"a","screen_name":"listed_one"}]}}`,
		`{"id_str":"1","entities":{"user_mentions":[{"screen_name":"listed_one"}]}}`, "entities.user_mentions[]"},
	{"url entity", `{"id_str":"1","entities":{"urls":[{"expanded_url":"https://a.org","expanded_url":"https://example.org"}]}}`,
		`{"id_str":"1","entities":{"urls":[{"expanded_url":"https://example.org"}]}}`, "entities.urls[]"},
	{"extended tweet", `{"id_str":"1","extended_tweet":{"full_text":"a","full_text":"#FarmerGenocide"}}`,
		`{"id_str":"1","extended_tweet":{"full_text":"#FarmerGenocide"}}`, "extended_tweet"},
	{"retweeted status", `{"id_str":"1","retweeted_status":{"id_str":"2","text":"a","text":"#FarmerGenocide"}}`,
		`{"id_str":"1","retweeted_status":{"id_str":"2","text":"#FarmerGenocide"}}`, "retweeted_status"},
	{"quoted status user", `{"id_str":"1","quoted_status":{"id_str":"2","user":{"screen_name":"a","screen_name":"listed_one"}}}`,
		`{"id_str":"1","quoted_status":{"id_str":"2","user":{"screen_name":"listed_one"}}}`, "user"},
	{"search status", `{"statuses":[{"id_str":"1","text":"ok"},{"id_str":"2","text":"a","text":"#FarmerGenocide"}]}`,
		`{"statuses":[{"id_str":"1","text":"ok"},{"id_str":"2","text":"#FarmerGenocide"}]}`, "tweet"},
	{"search response", `{"statuses":[{"id_str":"1"}],"statuses":[{"id_str":"2","text":"#FarmerGenocide"}]}`,
		`{"statuses":[{"id_str":"2","text":"#FarmerGenocide"}]}`, "record"},
	{"v2 data", `{"data":{"id":"1","text":"a","text":"#FarmerGenocide"}}`, `{"data":{"id":"1","text":"#FarmerGenocide"}}`, "data[]"},
	{"v2 response", `{"data":{"id":"1","text":"a"},"data":{"id":"2","text":"#FarmerGenocide"}}`, `{"data":{"id":"2","text":"#FarmerGenocide"}}`, "record"},
	{"v2 author", `{"data":{"id":"1","author_id":"7","author_id":"8"},"includes":{"users":[{"id":"7","username":"a"},{"id":"8","username":"listed_one"}]}}`,
		`{"data":{"id":"1","author_id":"8"},"includes":{"users":[{"id":"7","username":"a"},{"id":"8","username":"listed_one"}]}}`, "data[]"},
	{"v2 included user", `{"data":{"id":"1","author_id":"7"},"includes":{"users":[{"id":"7","username":"a","username":"listed_one"}]}}`,
		`{"data":{"id":"1","author_id":"7"},"includes":{"users":[{"id":"7","username":"listed_one"}]}}`, "includes.users[]"},
	{"v2 included user id", `{"data":{"id":"1","author_id":"7"},"includes":{"users":[{"id":"9","id":"7","username":"listed_one"}]}}`,
		`{"data":{"id":"1","author_id":"7"},"includes":{"users":[{"id":"7","username":"listed_one"}]}}`, "includes.users[]"},
	{"v2 included tweet", `{"data":{"id":"1"},"includes":{"tweets":[{"id":"5","text":"a","text":"b"}]}}`,
		`{"data":{"id":"1"},"includes":{"tweets":[{"id":"5","text":"b"}]}}`, "includes.tweets[]"},
	{"v2 includes", `{"data":{"id":"1"},"includes":{"users":[],"users":[{"id":"1"}]}}`, `{"data":{"id":"1"},"includes":{"users":[{"id":"1"}]}}`, "includes"},
	{"v2 reference", `{"data":{"id":"1","referenced_tweets":[{"type":"quoted","type":"retweeted","id":"5"}]},"includes":{"tweets":[{"id":"5"}]}}`,
		`{"data":{"id":"1","referenced_tweets":[{"type":"retweeted","id":"5"}]},"includes":{"tweets":[{"id":"5"}]}}`, "referenced_tweets[]"},
	{"v2 note tweet", `{"data":{"id":"1","note_tweet":{"text":"a","text":"b"}}}`, `{"data":{"id":"1","note_tweet":{"text":"b"}}}`, "note_tweet"},
	{"v2 mention", `{"data":{"id":"1","entities":{"mentions":[{"username":"a","username":"b"}]}}}`,
		`{"data":{"id":"1","entities":{"mentions":[{"username":"b"}]}}}`, "entities.mentions[]"},
	{"large object", `{"id_str":"1",` + manyKeys(300) + `,"k17":0}`, `{"id_str":"1",` + manyKeys(300) + `}`, "tweet"},
	{"large user", `{"id_str":"1","user":{` + manyKeys(40) + `,"k3":1}}`, `{"id_str":"1","user":{` + manyKeys(40) + `}}`, "user"},
	{"names that collide", `{"id_str":"1","user":{` + collidingKeys(200) + `,"aaaaaaaa150bbbbbbbb":1}}`,
		`{"id_str":"1","user":{` + collidingKeys(200) + `}}`, "user"},
}

// manyKeys returns n distinct members k0 … k(n-1).
func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + itoa(i) + `":0`)
	}
	return b.String()
}

// collidingKeys returns n distinct members that differ only in their
// middle bytes, as a record crafted to make hashes collide would.
func collidingKeys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"aaaaaaaa` + fmt.Sprintf("%03d", i) + `bbbbbbbb":0`)
	}
	return b.String()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestDecodeDuplicateKeys(t *testing.T) {
	var d decode.Decoder
	for _, tc := range dupKeyCases {
		t.Run(tc.name, func(t *testing.T) {
			posts, err := d.Decode([]byte(tc.record))
			if got := decode.ReasonOf(err); got != decode.ReasonDuplicateKey {
				t.Fatalf("Decode(%s) = %s, %v; want a duplicate_key error", tc.record, show(flatten(posts)), err)
			}
			if !strings.Contains(err.Error(), tc.field+":") {
				t.Errorf("error %q does not name %q", err, tc.field)
			}
			if _, err := d.Decode([]byte(tc.unique)); err != nil {
				t.Errorf("Decode(%s) without the repeat: %v", tc.unique, err)
			}
		})
	}
}

// TestDecodeIgnoresRepeatsInUnreadObjects: objects the decoder never reads
// (a place, a user's profile entities) may repeat a name.
func TestDecodeIgnoresRepeatsInUnreadObjects(t *testing.T) {
	var d decode.Decoder
	for _, rec := range []string{
		`{"id_str":"1","place":{"name":"a","name":"b"}}`,
		`{"id_str":"1","user":{"screen_name":"x","entities":{"url":{},"url":{}}}}`,
		`{"id_str":"1","entities":{"media":[{"id":1,"id":2}]}}`,
		`{"data":{"id":"1","public_metrics":{"like_count":1,"like_count":2}}}`,
		`{"data":{"id":"1"},"meta":{"a":1,"a":2}}`,
	} {
		if _, err := d.Decode([]byte(rec)); err != nil {
			t.Errorf("Decode(%s): %v", rec, err)
		}
	}
}

func TestRepeatsAName(t *testing.T) {
	for _, tc := range dupKeyCases {
		if repeats, ok := repeatsAName([]byte(tc.record)); !repeats || !ok {
			t.Errorf("repeatsAName(%s) = %v, %v; want true, true", tc.record, repeats, ok)
		}
		if repeats, ok := repeatsAName([]byte(tc.unique)); repeats || !ok {
			t.Errorf("repeatsAName(%s) = %v, %v; want false, true", tc.unique, repeats, ok)
		}
	}
}
