package decode_test

import (
	"reflect"
	"strings"
	"testing"

	"flagstream/pipeline/decode"
)

type hostileCase struct {
	name   string
	record string
	limits decode.Limits // zero: DefaultLimits
	reason decode.Reason
	// field, when set, must appear in the error message.
	field string
}

// hostileCases are records the decoder must reject, each for a known
// reason and, where a field is at fault, naming it.
func hostileCases() []hostileCase {
	small := decode.Limits{MaxTweets: 2, MaxEmbedDepth: 1, MaxTextBytes: 8}
	return []hostileCase{
		// Not JSON.
		{name: "empty", record: ``, reason: decode.ReasonInvalidJSON},
		{name: "blank", record: " \n\t", reason: decode.ReasonInvalidJSON},
		{name: "broken JSON", record: `{"id_str":"1",,"text":"x"}`, reason: decode.ReasonInvalidJSON},
		{name: "unquoted key", record: `{id_str:"1"}`, reason: decode.ReasonInvalidJSON},
		{name: "truncated in a string", record: `{"id_str":"1","text":"cut off in the mid`, reason: decode.ReasonInvalidJSON},
		{name: "truncated after a value", record: `{"id_str":"1","text":"x"`, reason: decode.ReasonInvalidJSON},
		{name: "trailing garbage", record: `{"id_str":"1","text":"x"} {"id_str":"2"}`, reason: decode.ReasonInvalidJSON},
		{name: "100000-deep arrays", record: strings.Repeat("[", 100000) + strings.Repeat("]", 100000), reason: decode.ReasonInvalidJSON},
		{name: "100000-deep arrays, unclosed", record: strings.Repeat("[", 100000), reason: decode.ReasonInvalidJSON},
		{name: "100000-deep arrays inside a tweet", record: `{"id_str":"1","text":"x","junk":` +
			strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`, reason: decode.ReasonInvalidJSON},
		{name: "100000-deep objects", record: strings.Repeat(`{"a":`, 100000) + `1` + strings.Repeat("}", 100000), reason: decode.ReasonInvalidJSON},

		// Not UTF-8.
		{name: "invalid UTF-8 in a string", record: "{\"id_str\":\"1\",\"text\":\"invalid \xff\xfe utf-8\"}", reason: decode.ReasonInvalidUTF8},
		{name: "truncated UTF-8 sequence", record: "{\"id_str\":\"1\",\"text\":\"\xe0\xa4\"}", reason: decode.ReasonInvalidUTF8},
		{name: "encoded surrogate", record: "{\"id_str\":\"1\",\"text\":\"\xed\xa0\x80\"}", reason: decode.ReasonInvalidUTF8},
		{name: "invalid UTF-8 in an ignored field", record: "{\"id_str\":\"1\",\"source\":\"\xc0\xaf\"}", reason: decode.ReasonInvalidUTF8},

		// Not a tweet.
		{name: "top-level array", record: `[{"id_str":"1","text":"x"}]`, reason: decode.ReasonNotATweet, field: "array"},
		{name: "top-level string", record: `"a tweet"`, reason: decode.ReasonNotATweet, field: "string"},
		{name: "top-level number", record: `1355000000000000001`, reason: decode.ReasonNotATweet, field: "number"},
		{name: "top-level null", record: `null`, reason: decode.ReasonNotATweet, field: "null"},
		{name: "empty object", record: `{}`, reason: decode.ReasonNotATweet},
		{name: "object of something else", record: `{"errors":[{"message":"Rate limit exceeded"}]}`, reason: decode.ReasonNotATweet},
		{name: "empty statuses", record: `{"statuses":[],"search_metadata":{}}`, reason: decode.ReasonNotATweet, field: "statuses"},
		{name: "empty data array", record: `{"data":[],"meta":{"result_count":0}}`, reason: decode.ReasonNotATweet, field: "data"},
		{name: "data null", record: `{"data":null}`, reason: decode.ReasonNotATweet, field: "data"},

		// Missing id.
		{name: "v1 without id", record: `{"text":"a tweet without an id","user":{"screen_name":"someone"},"id_str":null}`, reason: decode.ReasonMissingID},
		{name: "v1 with null ids", record: `{"id":null,"id_str":null,"text":"x"}`, reason: decode.ReasonMissingID},
		{name: "v1 with an empty id_str", record: `{"id_str":"","text":"x"}`, reason: decode.ReasonMissingID},
		{name: "status without id", record: `{"statuses":[{"id_str":"1"},{"text":"x"}]}`, reason: decode.ReasonMissingID},
		{name: "retweeted status without id", record: `{"id_str":"1","retweeted_status":{"text":"x"}}`, reason: decode.ReasonMissingID},
		{name: "v2 without id", record: `{"data":{"text":"x","author_id":"1"}}`, reason: decode.ReasonMissingID},
		{name: "v2 array item without id", record: `{"data":[{"id":"1"},{"text":"x"}]}`, reason: decode.ReasonMissingID},

		// Wrong types in v1.1 fields.
		{name: "id as object", record: `{"id":{"$numberLong":"1"},"text":"x"}`, reason: decode.ReasonWrongType, field: "id"},
		{name: "id as array", record: `{"id_str":"1","id":[1]}`, reason: decode.ReasonWrongType, field: "id"},
		{name: "id as boolean", record: `{"id_str":true}`, reason: decode.ReasonWrongType, field: "id_str"},
		{name: "id as a fraction", record: `{"id":1.5}`, reason: decode.ReasonWrongType, field: "id"},
		{name: "id in exponent form", record: `{"id":1.355e18}`, reason: decode.ReasonWrongType, field: "id"},
		{name: "id negative", record: `{"id":-1}`, reason: decode.ReasonWrongType, field: "id"},
		{name: "id_str as object", record: `{"id_str":{}}`, reason: decode.ReasonWrongType, field: "id_str"},
		{name: "text as number", record: `{"id_str":"1","text":42}`, reason: decode.ReasonWrongType, field: "text"},
		{name: "text as array", record: `{"id_str":12,"text":["wrong","types"]}`, reason: decode.ReasonWrongType, field: "text"},
		{name: "full_text as object", record: `{"id_str":"1","full_text":{}}`, reason: decode.ReasonWrongType, field: "full_text"},
		{name: "created_at as number", record: `{"id_str":"1","created_at":1612429200}`, reason: decode.ReasonWrongType, field: "created_at"},
		{name: "lang as boolean", record: `{"id_str":"1","lang":false}`, reason: decode.ReasonWrongType, field: "lang"},
		{name: "extended_tweet as string", record: `{"id_str":"1","extended_tweet":"long"}`, reason: decode.ReasonWrongType, field: "extended_tweet"},
		{name: "extended_tweet.full_text as number", record: `{"id_str":"1","extended_tweet":{"full_text":1}}`, reason: decode.ReasonWrongType, field: "extended_tweet.full_text"},
		{name: "extended_tweet.entities as array", record: `{"id_str":"1","extended_tweet":{"entities":[]}}`, reason: decode.ReasonWrongType, field: "extended_tweet.entities"},
		{name: "entities as string", record: `{"id_str":"1","entities":"#tag"}`, reason: decode.ReasonWrongType, field: "entities"},
		{name: "hashtags as object", record: `{"id_str":"1","entities":{"hashtags":{"text":"tag"}}}`, reason: decode.ReasonWrongType, field: "entities.hashtags"},
		{name: "hashtags items as strings", record: `{"id_str":"1","entities":{"hashtags":["tag"]}}`, reason: decode.ReasonWrongType, field: "entities.hashtags[]"},
		{name: "hashtag text as number", record: `{"id_str":"1","entities":{"hashtags":[{"text":7}]}}`, reason: decode.ReasonWrongType, field: "entities.hashtags[].text"},
		{name: "user_mentions as string", record: `{"id_str":"1","entities":{"user_mentions":"@x"}}`, reason: decode.ReasonWrongType, field: "entities.user_mentions"},
		{name: "user_mentions items as numbers", record: `{"id_str":"1","entities":{"user_mentions":[1,2]}}`, reason: decode.ReasonWrongType, field: "entities.user_mentions[]"},
		{name: "mention screen_name as array", record: `{"id_str":"1","entities":{"user_mentions":[{"screen_name":["x"]}]}}`, reason: decode.ReasonWrongType, field: "entities.user_mentions[].screen_name"},
		{name: "mention id_str as object", record: `{"id_str":"1","entities":{"user_mentions":[{"screen_name":"x","id_str":{}}]}}`, reason: decode.ReasonWrongType, field: "entities.user_mentions[].id_str"},
		{name: "urls as object", record: `{"id_str":"1","entities":{"urls":{}}}`, reason: decode.ReasonWrongType, field: "entities.urls"},
		{name: "urls items as strings", record: `{"id_str":"1","entities":{"urls":["https://example.org"]}}`, reason: decode.ReasonWrongType, field: "entities.urls[]"},
		{name: "expanded_url as number", record: `{"id_str":"1","entities":{"urls":[{"expanded_url":1}]}}`, reason: decode.ReasonWrongType, field: "entities.urls[].expanded_url"},
		{name: "extended hashtags as string", record: `{"id_str":"1","extended_tweet":{"entities":{"hashtags":"x"}}}`, reason: decode.ReasonWrongType, field: "extended_tweet.entities.hashtags"},
		{name: "user as array", record: `{"id_str":"1","user":["jack"]}`, reason: decode.ReasonWrongType, field: "user"},
		{name: "user as string", record: `{"id_str":"1","user":"jack"}`, reason: decode.ReasonWrongType, field: "user"},
		{name: "user.screen_name as number", record: `{"id_str":"1","user":{"screen_name":1}}`, reason: decode.ReasonWrongType, field: "user.screen_name"},
		{name: "user.id_str as array", record: `{"id_str":"1","user":{"id_str":["1"]}}`, reason: decode.ReasonWrongType, field: "user.id_str"},
		{name: "user.id in exponent form", record: `{"id_str":"1","user":{"id":1e3}}`, reason: decode.ReasonWrongType, field: "user.id"},
		{name: "retweeted_status as string", record: `{"id_str":"1","retweeted_status":"2"}`, reason: decode.ReasonWrongType, field: "retweeted_status"},
		{name: "quoted_status as array", record: `{"id_str":"1","quoted_status":[]}`, reason: decode.ReasonWrongType, field: "quoted_status"},
		{name: "wrong type inside a retweeted status", record: `{"id_str":"1","retweeted_status":{"id_str":"2","text":false}}`, reason: decode.ReasonWrongType, field: "text"},
		{name: "in_reply_to_screen_name as number", record: `{"id_str":"1","in_reply_to_screen_name":5}`, reason: decode.ReasonWrongType, field: "in_reply_to_screen_name"},
		{name: "in_reply_to_user_id_str as boolean", record: `{"id_str":"1","in_reply_to_user_id_str":true}`, reason: decode.ReasonWrongType, field: "in_reply_to_user_id_str"},

		// Wrong types in search responses.
		{name: "statuses as object", record: `{"statuses":{"id_str":"1"}}`, reason: decode.ReasonWrongType, field: "statuses"},
		{name: "statuses as null", record: `{"statuses":null}`, reason: decode.ReasonWrongType, field: "statuses"},
		{name: "statuses items as strings", record: `{"statuses":["1"]}`, reason: decode.ReasonWrongType, field: "statuses[0]"},
		{name: "second status not an object", record: `{"statuses":[{"id_str":"1"},42]}`, reason: decode.ReasonWrongType, field: "statuses[1]"},

		// Wrong types in v2 fields.
		{name: "data as number", record: `{"data":1}`, reason: decode.ReasonWrongType, field: "data"},
		{name: "data as string", record: `{"data":"tweet"}`, reason: decode.ReasonWrongType, field: "data"},
		{name: "data items as numbers", record: `{"data":[1]}`, reason: decode.ReasonWrongType, field: "data[]"},
		{name: "v2 id as object", record: `{"data":{"id":{}}}`, reason: decode.ReasonWrongType, field: "id"},
		{name: "v2 text as number", record: `{"data":{"id":"1","text":1}}`, reason: decode.ReasonWrongType, field: "text"},
		{name: "v2 author_id as array", record: `{"data":{"id":"1","author_id":[]}}`, reason: decode.ReasonWrongType, field: "author_id"},
		{name: "v2 entities as string", record: `{"data":{"id":"1","entities":"x"}}`, reason: decode.ReasonWrongType, field: "entities"},
		{name: "v2 hashtags as object", record: `{"data":{"id":"1","entities":{"hashtags":{}}}}`, reason: decode.ReasonWrongType, field: "entities.hashtags"},
		{name: "v2 hashtag items as numbers", record: `{"data":{"id":"1","entities":{"hashtags":[1]}}}`, reason: decode.ReasonWrongType, field: "entities.hashtags[]"},
		{name: "v2 hashtag tag as object", record: `{"data":{"id":"1","entities":{"hashtags":[{"tag":{}}]}}}`, reason: decode.ReasonWrongType, field: "entities.hashtags[].tag"},
		{name: "v2 mentions items as numbers", record: `{"data":{"id":"1","entities":{"mentions":[1]}}}`, reason: decode.ReasonWrongType, field: "entities.mentions[]"},
		{name: "v2 mention username as number", record: `{"data":{"id":"1","entities":{"mentions":[{"username":1}]}}}`, reason: decode.ReasonWrongType, field: "entities.mentions[].username"},
		{name: "v2 urls as string", record: `{"data":{"id":"1","entities":{"urls":"x"}}}`, reason: decode.ReasonWrongType, field: "entities.urls"},
		{name: "note_tweet as string", record: `{"data":{"id":"1","note_tweet":"long"}}`, reason: decode.ReasonWrongType, field: "note_tweet"},
		{name: "note_tweet.text as number", record: `{"data":{"id":"1","note_tweet":{"text":1}}}`, reason: decode.ReasonWrongType, field: "note_tweet.text"},
		{name: "note_tweet.entities as array", record: `{"data":{"id":"1","note_tweet":{"text":"x","entities":[]}}}`, reason: decode.ReasonWrongType, field: "note_tweet.entities"},
		{name: "includes as array", record: `{"data":{"id":"1"},"includes":[]}`, reason: decode.ReasonWrongType, field: "includes"},
		{name: "includes.users as string", record: `{"data":{"id":"1"},"includes":{"users":"jack"}}`, reason: decode.ReasonWrongType, field: "includes.users"},
		{name: "includes.tweets as object", record: `{"data":{"id":"1"},"includes":{"tweets":{}}}`, reason: decode.ReasonWrongType, field: "includes.tweets"},
		{name: "includes user username as number", record: `{"data":{"id":"1","author_id":"2"},"includes":{"users":[{"id":"2","username":3}]}}`,
			reason: decode.ReasonWrongType, field: "includes.users[].username"},
		{name: "referenced_tweets as object", record: `{"data":{"id":"1","referenced_tweets":{}}}`, reason: decode.ReasonWrongType, field: "referenced_tweets"},
		{name: "referenced_tweets items as strings", record: `{"data":{"id":"1","referenced_tweets":["2"]}}`, reason: decode.ReasonWrongType, field: "referenced_tweets[]"},
		{name: "referenced tweet type as number", record: `{"data":{"id":"1","referenced_tweets":[{"type":1,"id":"2"}]}}`, reason: decode.ReasonWrongType, field: "referenced_tweets[].type"},
		{name: "referenced tweet id as array", record: `{"data":{"id":"1","referenced_tweets":[{"type":"quoted","id":[]}]}}`, reason: decode.ReasonWrongType, field: "referenced_tweets[].id"},
		{name: "in_reply_to_user_id as object", record: `{"data":{"id":"1","in_reply_to_user_id":{}}}`, reason: decode.ReasonWrongType, field: "in_reply_to_user_id"},
		{name: "wrong type inside an included tweet", record: `{"data":{"id":"1","referenced_tweets":[{"type":"quoted","id":"2"}]},"includes":{"tweets":[{"id":"2","text":[]}]}}`,
			reason: decode.ReasonWrongType, field: "text"},

		// Limits.
		{name: "text longer than MaxTextBytes", limits: small, record: `{"id_str":"1","text":"123456789"}`, reason: decode.ReasonTextTooLong, field: "text"},
		{name: "full_text longer than MaxTextBytes", limits: small, record: `{"id_str":"1","full_text":"123456789"}`, reason: decode.ReasonTextTooLong, field: "full_text"},
		{name: "extended text longer than MaxTextBytes", limits: small, record: `{"id_str":"1","text":"short","extended_tweet":{"full_text":"123456789"}}`,
			reason: decode.ReasonTextTooLong, field: "extended_tweet.full_text"},
		{name: "note_tweet text longer than MaxTextBytes", limits: small, record: `{"data":{"id":"1","text":"short","note_tweet":{"text":"123456789"}}}`,
			reason: decode.ReasonTextTooLong, field: "note_tweet.text"},
		{name: "retweeted text longer than MaxTextBytes", limits: small, record: `{"id_str":"1","text":"RT","retweeted_status":{"id_str":"2","text":"123456789"}}`,
			reason: decode.ReasonTextTooLong, field: "text"},
		{name: "text longer than the default limit", record: `{"id_str":"1","text":"` + strings.Repeat("a", decode.DefaultLimits.MaxTextBytes+1) + `"}`,
			reason: decode.ReasonTextTooLong, field: "text"},
		{name: "more statuses than MaxTweets", limits: small, record: `{"statuses":[{"id_str":"1"},{"id_str":"2"},{"id_str":"3"}]}`, reason: decode.ReasonTooManyTweets},
		{name: "more v2 tweets than MaxTweets", limits: small, record: `{"data":[{"id":"1"},{"id":"2"},{"id":"3"}]}`, reason: decode.ReasonTooManyTweets},
		{name: "more statuses than the default limit", record: manyStatuses(decode.DefaultLimits.MaxTweets + 1), reason: decode.ReasonTooManyTweets},
		{name: "retweets nested deeper than MaxEmbedDepth", limits: small, record: nestedRetweets(2), reason: decode.ReasonTooDeep},
		{name: "quotes nested deeper than MaxEmbedDepth", limits: small, record: `{"id_str":"1","quoted_status":{"id_str":"2","quoted_status":{"id_str":"3"}}}`, reason: decode.ReasonTooDeep},
		{name: "retweets nested deeper than the default limit", record: nestedRetweets(decode.DefaultLimits.MaxEmbedDepth + 1), reason: decode.ReasonTooDeep},
		{name: "retweets nested 250 deep", record: nestedRetweets(250), reason: decode.ReasonTooDeep},

		// Ambiguous: a repeated member name.
		{name: "repeated screen_name", record: `{"id_str":"1","user":{"screen_name":"benign","screen_name":"listed_one"}}`,
			reason: decode.ReasonDuplicateKey, field: "user"},
		{name: "repeated text", record: `{"id_str":"1","text":"a","text":"b"}`, reason: decode.ReasonDuplicateKey},
		{name: "repeated v2 username", record: `{"data":{"id":"1","author_id":"2"},"includes":{"users":[{"id":"2","username":"a","username":"b"}]}}`,
			reason: decode.ReasonDuplicateKey, field: "includes.users[]"},
	}
}

func manyStatuses(n int) string {
	var b strings.Builder
	b.WriteString(`{"statuses":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id_str":"1","text":"t"}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

func TestDecodeHostile(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			d := decode.Decoder{Limits: tc.limits}
			posts, err := d.Decode([]byte(tc.record))
			if err == nil {
				t.Fatalf("Decode = %s, want a %s error", show(flatten(posts)), tc.reason)
			}
			if posts != nil {
				t.Errorf("Decode returned %d posts with its error, want none", len(posts))
			}
			if got := decode.ReasonOf(err); got != tc.reason {
				t.Errorf("ReasonOf(%v) = %q, want %q", err, got, tc.reason)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %q", err, tc.field)
			}
		})
	}
}

// TestDecodeHostileThenGood runs every hostile record through one decoder,
// each followed by a good record that must decode as if it came first.
func TestDecodeHostileThenGood(t *testing.T) {
	// good fits the smallest limits of hostileCases.
	good := `{"id_str":"5","text":"a&amp;b","user":{"id_str":"50","screen_name":"ok"},
		"entities":{"hashtags":[{"text":"h"}],"user_mentions":[{"screen_name":"m"}]},
		"retweeted_status":{"id_str":"4","text":"orig"}}`
	var fresh decode.Decoder
	posts, err := fresh.Decode([]byte(good))
	if err != nil {
		t.Fatalf("Decode(good): %v", err)
	}
	want := flatten(posts)
	for _, tc := range hostileCases() {
		d := decode.Decoder{Limits: tc.limits}
		if tc.limits == (decode.Limits{}) {
			d.Limits = decode.DefaultLimits
		}
		if _, err := d.Decode([]byte(good)); err != nil {
			t.Fatalf("%s: Decode(good) before: %v", tc.name, err)
		}
		if _, err := d.Decode([]byte(tc.record)); err == nil {
			t.Fatalf("%s: Decode succeeded, want an error", tc.name)
		}
		posts, err := d.Decode([]byte(good))
		if err != nil {
			t.Fatalf("%s: Decode(good) after: %v", tc.name, err)
		}
		if got := flatten(posts); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Decode(good) after it:\ngot  %s\nwant %s", tc.name, show(got), show(want))
		}
	}
}
