package decode_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"flagstream/matchers"
	"flagstream/pipeline/decode"
)

// part is a matchers.Part written out in strings, for comparing.
type part struct {
	In        string   `json:"in"`
	ID        string   `json:"id,omitempty"`
	CreatedAt string   `json:"created_at,omitempty"`
	Lang      string   `json:"lang,omitempty"`
	Text      string   `json:"text,omitempty"`
	AuthorID  string   `json:"author_id,omitempty"`
	Handle    string   `json:"handle,omitempty"`
	Hashtags  []string `json:"hashtags,omitempty"`
	Mentions  []string `json:"mentions,omitempty"` // "handle/id"
	URLs      []string `json:"urls,omitempty"`
}

// flatten writes posts out as parts of strings.
func flatten(posts []matchers.Post) [][]part {
	out := make([][]part, 0, len(posts))
	for _, p := range posts {
		var parts []part
		for _, pt := range p.Parts {
			t := pt.Tweet
			parts = append(parts, part{
				In:        pt.In.String(),
				ID:        string(t.ID),
				CreatedAt: string(t.CreatedAt),
				Lang:      string(t.Lang),
				Text:      string(t.Text),
				AuthorID:  string(t.AuthorID),
				Handle:    string(t.AuthorHandle),
				Hashtags:  stringsOf(t.Hashtags),
				Mentions:  mentionsOf(t.Mentions),
				URLs:      stringsOf(t.URLs),
			})
		}
		out = append(out, parts)
	}
	return out
}

func stringsOf(bs [][]byte) []string {
	var out []string
	for _, b := range bs {
		out = append(out, string(b))
	}
	return out
}

func mentionsOf(ms []matchers.Mention) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Handle)+"/"+string(m.ID))
	}
	return out
}

// show writes v as indented JSON for failure messages.
func show(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// nestedRetweets returns a v1.1 tweet whose retweeted_status nests n deep.
func nestedRetweets(n int) string {
	s := fmt.Sprintf(`{"id_str":"%d","text":"innermost"}`, n+1)
	for i := n; i >= 1; i-- {
		s = fmt.Sprintf(`{"id_str":"%d","text":"RT","retweeted_status":%s}`, i, s)
	}
	return s
}

type decodeCase struct {
	name   string
	record string
	want   [][]part
}

func runDecodeCases(t *testing.T, cases []decodeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var d decode.Decoder
			posts, err := d.Decode([]byte(tc.record))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := flatten(posts); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Decode(%s):\ngot  %s\nwant %s", tc.record, show(got), show(tc.want))
			}
		})
	}
}

func TestDecodeV1(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{
			name: "id_str, text, user, lang, created_at",
			record: `{"created_at":"Tue Mar 21 20:50:14 +0000 2006","id":20,"id_str":"20","text":"just setting up my twttr",
				"lang":"en","user":{"id":12,"id_str":"12","screen_name":"jack","name":"jack"},"retweet_count":5}`,
			want: [][]part{{{In: "tweet", ID: "20", CreatedAt: "Tue Mar 21 20:50:14 +0000 2006", Lang: "en",
				Text: "just setting up my twttr", AuthorID: "12", Handle: "jack"}}},
		},
		{
			name:   "numeric id above 2^53 keeps every digit",
			record: `{"id":1355000000000000001,"text":"x"}`,
			want:   [][]part{{{In: "tweet", ID: "1355000000000000001", Text: "x"}}},
		},
		{
			name:   "id_str wins over id",
			record: `{"id":1355000000000000000,"id_str":"1355000000000000001","text":"x"}`,
			want:   [][]part{{{In: "tweet", ID: "1355000000000000001", Text: "x"}}},
		},
		{
			name:   "empty id_str falls back to id",
			record: `{"id_str":"","id":1355000000000000001,"text":"x","user":{"id_str":"","id":7}}`,
			want:   [][]part{{{In: "tweet", ID: "1355000000000000001", Text: "x", AuthorID: "7"}}},
		},
		{
			name:   "id_str given as a number",
			record: `{"id_str":9007199254740993,"text":"x"}`,
			want:   [][]part{{{In: "tweet", ID: "9007199254740993", Text: "x"}}},
		},
		{
			name:   "user id as a number when id_str is absent",
			record: `{"id_str":"1","text":"x","user":{"id":9007199254740993,"screen_name":"big"}}`,
			want:   [][]part{{{In: "tweet", ID: "1", Text: "x", AuthorID: "9007199254740993", Handle: "big"}}},
		},
		{
			name:   "user id_str wins over id",
			record: `{"id_str":"1","text":"x","user":{"id":5,"id_str":"6","screen_name":"u"}}`,
			want:   [][]part{{{In: "tweet", ID: "1", Text: "x", AuthorID: "6", Handle: "u"}}},
		},
		{
			name:   "full_text wins over text",
			record: `{"id_str":"1","text":"short…","full_text":"the whole text"}`,
			want:   [][]part{{{In: "tweet", ID: "1", Text: "the whole text"}}},
		},
		{
			name: "extended_tweet.full_text wins over full_text and text",
			record: `{"id_str":"1","text":"short…","full_text":"middle","truncated":true,
				"extended_tweet":{"full_text":"the whole long text"}}`,
			want: [][]part{{{In: "tweet", ID: "1", Text: "the whole long text"}}},
		},
		{
			name:   "extended_tweet without full_text falls back to text",
			record: `{"id_str":"1","text":"short","extended_tweet":{"display_text_range":[0,5]}}`,
			want:   [][]part{{{In: "tweet", ID: "1", Text: "short"}}},
		},
		{
			name:   "text unescaped from JSON, then from HTML",
			record: `{"id_str":"1","text":"A \u0026amp; B &lt;3 &gt; C \"q\" \\ &amp;lt;"}`,
			want:   [][]part{{{In: "tweet", ID: "1", Text: `A & B <3 > C "q" \ &lt;`}}},
		},
		{
			name:   "extended text is unescaped too",
			record: `{"id_str":"1","text":"x","extended_tweet":{"full_text":"Q&amp;A &lt;b&gt; &#64;x"}}`,
			want:   [][]part{{{In: "tweet", ID: "1", Text: "Q&A <b> @x"}}},
		},
		{
			name: "entities and extended_tweet.entities, united in that order",
			record: `{"id_str":"1","text":"t",
				"entities":{"hashtags":[{"text":"One","indices":[0,4]}],"symbols":[],
					"user_mentions":[{"screen_name":"m1","id_str":"5","id":5}],
					"urls":[{"url":"https://t.co/a","expanded_url":"https://example.org/a","display_url":"example.org/a"}]},
				"extended_tweet":{"full_text":"long",
					"entities":{"hashtags":[{"text":"Two"}],
						"user_mentions":[{"screen_name":"m2","id":6}],
						"urls":[{"url":"https://t.co/b","unwound_url":"https://example.net/b"}]}}}`,
			want: [][]part{{{In: "tweet", ID: "1", Text: "long",
				Hashtags: []string{"One", "Two"},
				Mentions: []string{"m1/5", "m2/6"},
				URLs:     []string{"https://example.org/a", "https://t.co/a", "https://example.net/b", "https://t.co/b"}}}},
		},
		{
			name: "empty entity values are dropped; a mention by id alone is kept",
			record: `{"id_str":"1","text":"t","entities":{"hashtags":[{"text":""},{"indices":[0,1]}],
				"user_mentions":[{"id_str":"77"},{"name":"no handle or id"}],"urls":[{"url":""},{}]}}`,
			want: [][]part{{{In: "tweet", ID: "1", Text: "t", Mentions: []string{"/77"}}}},
		},
		{
			name: "null fields are absent fields",
			record: `{"id_str":"1","text":"t","lang":null,"created_at":null,"user":null,"entities":null,
				"extended_tweet":null,"retweeted_status":null,"quoted_status":null,
				"in_reply_to_screen_name":null,"in_reply_to_user_id_str":null,"full_text":null}`,
			want: [][]part{{{In: "tweet", ID: "1", Text: "t"}}},
		},
		{
			name: "reply: a replied_to part with only the author",
			record: `{"id_str":"2","text":"@bob hi","in_reply_to_status_id_str":"1","in_reply_to_user_id":77,
				"in_reply_to_user_id_str":"77","in_reply_to_screen_name":"bob"}`,
			want: [][]part{{
				{In: "tweet", ID: "2", Text: "@bob hi"},
				{In: "replied_to", AuthorID: "77", Handle: "bob"},
			}},
		},
		{
			name:   "empty reply fields make no part",
			record: `{"id_str":"2","text":"hi","in_reply_to_screen_name":"","in_reply_to_user_id_str":""}`,
			want:   [][]part{{{In: "tweet", ID: "2", Text: "hi"}}},
		},
		{
			name:   "reply naming only the handle",
			record: `{"id_str":"2","text":"hi","in_reply_to_screen_name":"bob"}`,
			want: [][]part{{
				{In: "tweet", ID: "2", Text: "hi"},
				{In: "replied_to", Handle: "bob"},
			}},
		},
		{
			name: "retweet",
			record: `{"id_str":"3","text":"RT @src: original &amp; more","user":{"id_str":"30","screen_name":"rter"},
				"retweeted_status":{"id_str":"1","text":"original &amp; more","user":{"id_str":"10","screen_name":"src"},
					"entities":{"hashtags":[{"text":"Tag"}]}}}`,
			want: [][]part{{
				{In: "tweet", ID: "3", Text: "RT @src: original & more", AuthorID: "30", Handle: "rter"},
				{In: "retweeted", ID: "1", Text: "original & more", AuthorID: "10", Handle: "src", Hashtags: []string{"Tag"}},
			}},
		},
		{
			name: "quote",
			record: `{"id_str":"4","text":"look","is_quote_status":true,"quoted_status_id_str":"1",
				"quoted_status":{"id_str":"1","text":"quoted","user":{"id_str":"10","screen_name":"src"}}}`,
			want: [][]part{{
				{In: "tweet", ID: "4", Text: "look"},
				{In: "quoted", ID: "1", Text: "quoted", AuthorID: "10", Handle: "src"},
			}},
		},
		{
			name: "retweet of a quote",
			record: `{"id_str":"5","text":"RT","retweeted_status":{"id_str":"4","text":"look",
				"quoted_status":{"id_str":"1","text":"quoted","user":{"screen_name":"src"}}}}`,
			want: [][]part{{
				{In: "tweet", ID: "5", Text: "RT"},
				{In: "retweeted", ID: "4", Text: "look"},
				{In: "quoted", ID: "1", Text: "quoted", Handle: "src"},
			}},
		},
		{
			name: "reply, retweet and quote: reply first, then retweeted, then quoted",
			record: `{"quoted_status":{"id_str":"8","text":"q"},"retweeted_status":{"id_str":"7","text":"r",
				"in_reply_to_screen_name":"deep"},"id_str":"9","text":"t","in_reply_to_screen_name":"top"}`,
			want: [][]part{{
				{In: "tweet", ID: "9", Text: "t"},
				{In: "replied_to", Handle: "top"},
				{In: "retweeted", ID: "7", Text: "r"},
				{In: "replied_to", Handle: "deep"},
				{In: "quoted", ID: "8", Text: "q"},
			}},
		},
		{
			name:   "retweets nested as deep as the limit",
			record: nestedRetweets(decode.DefaultLimits.MaxEmbedDepth),
			want: [][]part{{
				{In: "tweet", ID: "1", Text: "RT"},
				{In: "retweeted", ID: "2", Text: "RT"},
				{In: "retweeted", ID: "3", Text: "RT"},
				{In: "retweeted", ID: "4", Text: "RT"},
				{In: "retweeted", ID: "5", Text: "innermost"},
			}},
		},
		{
			name:   "unknown fields of any type are skipped",
			record: `{"id_str":"1","text":"t","place":{"bounding_box":[[1,2]]},"x":[null,true,{"a":"b"}],"coordinates":null}`,
			want:   [][]part{{{In: "tweet", ID: "1", Text: "t"}}},
		},
	})
}

func TestDecodeSearch(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{
			name: "each status is a post",
			record: `{"statuses":[{"id_str":"1","text":"one","user":{"id_str":"10","screen_name":"a"}},
				{"id":2,"text":"two &amp; more","entities":{"hashtags":[{"text":"h"}]}}],
				"search_metadata":{"count":2,"max_id":2}}`,
			want: [][]part{
				{{In: "tweet", ID: "1", Text: "one", AuthorID: "10", Handle: "a"}},
				{{In: "tweet", ID: "2", Text: "two & more", Hashtags: []string{"h"}}},
			},
		},
		{
			name: "a status's retweet stays in its post",
			record: `{"statuses":[{"id_str":"3","text":"RT","retweeted_status":{"id_str":"1","text":"orig"}},
				{"id_str":"4","text":"plain"}]}`,
			want: [][]part{
				{{In: "tweet", ID: "3", Text: "RT"}, {In: "retweeted", ID: "1", Text: "orig"}},
				{{In: "tweet", ID: "4", Text: "plain"}},
			},
		},
	})
}

func TestDecodeV2(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{
			name: "data object with its author from includes.users",
			record: `{"data":{"id":"20","text":"hello &amp; bye","author_id":"12","lang":"en","created_at":"2021-02-04T09:00:00.000Z",
				"entities":{"hashtags":[{"start":0,"end":4,"tag":"Tag"}],
					"mentions":[{"start":5,"end":9,"username":"bob","id":"77"}],
					"urls":[{"url":"https://t.co/a","expanded_url":"https://example.org/a","unwound_url":"https://example.org/b"}]}},
				"includes":{"users":[{"id":"11","username":"other"},{"id":"12","username":"jack","name":"Jack"}]}}`,
			want: [][]part{{{In: "tweet", ID: "20", CreatedAt: "2021-02-04T09:00:00.000Z", Lang: "en", Text: "hello & bye",
				AuthorID: "12", Handle: "jack", Hashtags: []string{"Tag"}, Mentions: []string{"bob/77"},
				URLs: []string{"https://example.org/a", "https://example.org/b", "https://t.co/a"}}}},
		},
		{
			name: "data array",
			record: `{"data":[{"id":"1","text":"one","author_id":"10"},{"id":"2","text":"two","author_id":"20"}],
				"includes":{"users":[{"id":"20","username":"b"},{"id":"10","username":"a"}]},"meta":{"result_count":2}}`,
			want: [][]part{
				{{In: "tweet", ID: "1", Text: "one", AuthorID: "10", Handle: "a"}},
				{{In: "tweet", ID: "2", Text: "two", AuthorID: "20", Handle: "b"}},
			},
		},
		{
			name:   "author missing from includes",
			record: `{"data":{"id":"1","text":"t","author_id":"10"},"includes":{"users":[{"id":"11","username":"x"}]}}`,
			want:   [][]part{{{In: "tweet", ID: "1", Text: "t", AuthorID: "10"}}},
		},
		{
			name:   "no includes at all",
			record: `{"data":{"id":"1","text":"t","author_id":"10"}}`,
			want:   [][]part{{{In: "tweet", ID: "1", Text: "t", AuthorID: "10"}}},
		},
		{
			name: "note_tweet text wins; its entities are added",
			record: `{"data":{"id":"1","text":"short… https://t.co/x","entities":{"hashtags":[{"tag":"Short"}]},
				"note_tweet":{"text":"the long &amp; whole text #Long @n","entities":{"hashtags":[{"tag":"Long"}],
					"mentions":[{"username":"n"}],"urls":[{"expanded_url":"https://example.org/n"}]}}}}`,
			want: [][]part{{{In: "tweet", ID: "1", Text: "the long & whole text #Long @n",
				Hashtags: []string{"Short", "Long"}, Mentions: []string{"n/"}, URLs: []string{"https://example.org/n"}}}},
		},
		{
			name: "referenced tweets from includes.tweets",
			record: `{"data":{"id":"9","text":"RT @a: x","author_id":"90","referenced_tweets":[
					{"type":"retweeted","id":"1"},{"type":"quoted","id":"2"},{"type":"replied_to","id":"3"}],
					"in_reply_to_user_id":"30"},
				"includes":{"users":[{"id":"10","username":"a"},{"id":"20","username":"b"},{"id":"30","username":"c"},{"id":"90","username":"me"}],
					"tweets":[{"id":"3","text":"replied","author_id":"30"},{"id":"1","text":"x &lt;3","author_id":"10",
						"entities":{"hashtags":[{"tag":"RtTag"}]}},{"id":"2","text":"quoted","author_id":"20"}]}}`,
			want: [][]part{{
				{In: "tweet", ID: "9", Text: "RT @a: x", AuthorID: "90", Handle: "me"},
				{In: "retweeted", ID: "1", Text: "x <3", AuthorID: "10", Handle: "a", Hashtags: []string{"RtTag"}},
				{In: "quoted", ID: "2", Text: "quoted", AuthorID: "20", Handle: "b"},
				{In: "replied_to", ID: "3", Text: "replied", AuthorID: "30", Handle: "c"},
			}},
		},
		{
			name: "replied-to tweet not included: a part with the author of in_reply_to_user_id",
			record: `{"data":{"id":"9","text":"@c hi","referenced_tweets":[{"type":"replied_to","id":"3"}],"in_reply_to_user_id":"30"},
				"includes":{"users":[{"id":"30","username":"c"}]}}`,
			want: [][]part{{
				{In: "tweet", ID: "9", Text: "@c hi"},
				{In: "replied_to", AuthorID: "30", Handle: "c"},
			}},
		},
		{
			name:   "replied-to author unknown too",
			record: `{"data":{"id":"9","text":"hi","in_reply_to_user_id":"30"}}`,
			want: [][]part{{
				{In: "tweet", ID: "9", Text: "hi"},
				{In: "replied_to", AuthorID: "30"},
			}},
		},
		{
			name: "referenced tweets not included and unknown types are skipped",
			record: `{"data":{"id":"9","text":"t","referenced_tweets":[{"type":"retweeted","id":"404"},
				{"type":"mystery","id":"1"},{"type":"quoted"}]},"includes":{"tweets":[{"id":"1","text":"x"}]}}`,
			want: [][]part{{{In: "tweet", ID: "9", Text: "t"}}},
		},
		{
			name: "references are followed one level only",
			record: `{"data":{"id":"9","text":"t","referenced_tweets":[{"type":"quoted","id":"2"}]},
				"includes":{"tweets":[{"id":"2","text":"q","referenced_tweets":[{"type":"quoted","id":"1"}],"in_reply_to_user_id":"5"},
					{"id":"1","text":"deeper"}]}}`,
			want: [][]part{{
				{In: "tweet", ID: "9", Text: "t"},
				{In: "quoted", ID: "2", Text: "q"},
			}},
		},
		{
			name: "a tweet referencing itself is read once more, not forever",
			record: `{"data":{"id":"1","text":"t","referenced_tweets":[{"type":"quoted","id":"1"}]},
				"includes":{"tweets":[{"id":"1","text":"t","referenced_tweets":[{"type":"quoted","id":"1"}]}]}}`,
			want: [][]part{{
				{In: "tweet", ID: "1", Text: "t"},
				{In: "quoted", ID: "1", Text: "t"},
			}},
		},
		{
			name: "each tweet of a data array gets its references",
			record: `{"data":[{"id":"1","text":"a","referenced_tweets":[{"type":"retweeted","id":"5"}]},
				{"id":"2","text":"b","referenced_tweets":[{"type":"retweeted","id":"5"}]}],
				"includes":{"tweets":[{"id":"5","text":"orig"}]}}`,
			want: [][]part{
				{{In: "tweet", ID: "1", Text: "a"}, {In: "retweeted", ID: "5", Text: "orig"}},
				{{In: "tweet", ID: "2", Text: "b"}, {In: "retweeted", ID: "5", Text: "orig"}},
			},
		},
		{
			name:   "data wins over statuses and id",
			record: `{"id_str":"7","statuses":[{"id_str":"8"}],"data":{"id":"9","text":"v2"}}`,
			want:   [][]part{{{In: "tweet", ID: "9", Text: "v2"}}},
		},
	})
}

// TestDecodeReuse checks that a rejected record, even one rejected after
// some of its posts were decoded, leaves nothing behind for the next.
func TestDecodeReuse(t *testing.T) {
	var d decode.Decoder
	good1 := `{"statuses":[{"id_str":"1","text":"one","entities":{"hashtags":[{"text":"a"},{"text":"b"}]},
		"retweeted_status":{"id_str":"2","text":"two"}},{"id_str":"3","text":"three"}]}`
	bad := []string{
		`{"statuses":[{"id_str":"4","text":"four","entities":{"hashtags":[{"text":"c"}]}},{"id_str":"5","text":5}]}`,
		`{"id_str":"6","text":"six","retweeted_status":{"id_str":"7","text":"seven","user":[]}}`,
		`{"data":[{"id":"8","text":"eight"},{"text":"no id"}]}`,
		`{"id_str":"9","text":"cut`,
		"{\"id_str\":\"9\",\"text\":\"\xff\"}",
	}
	good2 := `{"id_str":"10","text":"ten &amp; more","entities":{"hashtags":[{"text":"z"}]}}`
	want2 := [][]part{{{In: "tweet", ID: "10", Text: "ten & more", Hashtags: []string{"z"}}}}

	if _, err := d.Decode([]byte(good1)); err != nil {
		t.Fatalf("Decode(good1): %v", err)
	}
	for _, b := range bad {
		if posts, err := d.Decode([]byte(b)); err == nil {
			t.Fatalf("Decode(%s) = %d posts, want an error", b, len(posts))
		}
		posts, err := d.Decode([]byte(good2))
		if err != nil {
			t.Fatalf("Decode(good2) after %s: %v", b, err)
		}
		if got := flatten(posts); !reflect.DeepEqual(got, want2) {
			t.Errorf("Decode(good2) after %s:\ngot  %s\nwant %s", b, show(got), show(want2))
		}
	}
}

// TestDecodeLimits checks each limit at its edge.
func TestDecodeLimits(t *testing.T) {
	limits := decode.Limits{MaxTweets: 3, MaxEmbedDepth: 2, MaxTextBytes: 16}
	statuses := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"statuses":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id_str":"%d","text":"t"}`, i+1)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	for _, tc := range []struct {
		name   string
		record string
		want   decode.Reason // "" for accepted
	}{
		{"tweets at the limit", statuses(3), ""},
		{"tweets over the limit", statuses(4), decode.ReasonTooManyTweets},
		{"v2 tweets over the limit", `{"data":[{"id":"1"},{"id":"2"},{"id":"3"},{"id":"4"}]}`, decode.ReasonTooManyTweets},
		{"depth at the limit", nestedRetweets(2), ""},
		{"depth over the limit", nestedRetweets(3), decode.ReasonTooDeep},
		{"text at the limit", `{"id_str":"1","text":"0123456789abcdef"}`, ""},
		{"text over the limit", `{"id_str":"1","text":"0123456789abcdefg"}`, decode.ReasonTextTooLong},
		{"escaped text measured unescaped", `{"id_str":"1","text":"\u0030123456789abcdef"}`, ""},
		{"HTML references count before unescaping", `{"id_str":"1","text":"0123456789ab&amp;"}`, decode.ReasonTextTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decode.Decoder{Limits: limits}
			_, err := d.Decode([]byte(tc.record))
			if got := decode.ReasonOf(err); got != tc.want {
				t.Errorf("Decode: reason %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

func TestZeroDecoderUsesDefaultLimits(t *testing.T) {
	var d decode.Decoder
	if _, err := d.Decode([]byte(`{"id_str":"1","text":"t"}`)); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got, want := d.Limits, decode.DefaultLimits; got != want {
		t.Errorf("Limits = %+v, want %+v", got, want)
	}
}

func TestErrorAndReasonOf(t *testing.T) {
	var d decode.Decoder
	_, err := d.Decode([]byte(`[]`))
	if err == nil {
		t.Fatal("Decode([]) succeeded, want an error")
	}
	wrapped := fmt.Errorf("record 3: %w", err)
	if got, want := decode.ReasonOf(wrapped), decode.ReasonNotATweet; got != want {
		t.Errorf("ReasonOf(wrapped) = %q, want %q", got, want)
	}
	if got := decode.ReasonOf(fmt.Errorf("other")); got != "" {
		t.Errorf("ReasonOf(other error) = %q, want empty", got)
	}
	if got := decode.ReasonOf(nil); got != "" {
		t.Errorf("ReasonOf(nil) = %q, want empty", got)
	}
	if got, want := err.Error(), "not_a_tweet: record is a JSON array, not an object"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
