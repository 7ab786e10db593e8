package decode

import (
	"github.com/valyala/fastjson"

	"flagstream/matchers"
)

// decodeV1 decodes an API v1.1 tweet object into a part of the current
// post, followed by the parts of the tweets it embeds.
func (d *Decoder) decodeV1(v *fastjson.Value, in matchers.Where, depth int) {
	if depth > d.Limits.MaxEmbedDepth {
		d.fail(ReasonTooDeep, "embedded tweets nest deeper than %d", d.Limits.MaxEmbedDepth)
		return
	}
	o := d.object(v, at(embedField[in]))
	if o == nil {
		return
	}
	t := d.newPart(in)
	var (
		text, fullText, extText  []byte
		entities, extEntities    *fastjson.Value
		retweeted, quoted        *fastjson.Value
		replyHandle, replyUserID []byte
		idStr, idNum             []byte
	)
	o.Visit(func(key []byte, f *fastjson.Value) {
		switch string(key) {
		case "id_str":
			idStr = d.id(f, at("id_str"))
		case "id":
			idNum = d.id(f, at("id"))
		case "created_at":
			t.CreatedAt = d.str(f, at("created_at"))
		case "lang":
			t.Lang = d.str(f, at("lang"))
		case "text":
			text = d.str(f, at("text"))
		case "full_text":
			fullText = d.str(f, at("full_text"))
		case "extended_tweet":
			if et := d.object(f, at("extended_tweet")); et != nil {
				extText = d.str(et.Get("full_text"), at("extended_tweet.full_text"))
				extEntities = et.Get("entities")
			}
		case "entities":
			entities = f
		case "user":
			if u := d.object(f, at("user")); u != nil {
				t.AuthorHandle = d.str(u.Get("screen_name"), at("user.screen_name"))
				t.AuthorID = d.id(u.Get("id_str"), at("user.id_str"))
				if len(t.AuthorID) == 0 {
					t.AuthorID = d.id(u.Get("id"), at("user.id"))
				}
			}
		case "retweeted_status":
			retweeted = f
		case "quoted_status":
			quoted = f
		case "in_reply_to_screen_name":
			replyHandle = d.str(f, at("in_reply_to_screen_name"))
		case "in_reply_to_user_id_str":
			replyUserID = d.id(f, at("in_reply_to_user_id_str"))
		}
	})
	t.ID = idStr
	if len(t.ID) == 0 {
		t.ID = idNum
	}
	if len(t.ID) == 0 && d.err == nil {
		d.fail(ReasonMissingID, "tweet has no id_str or id")
		return
	}
	switch {
	case extText != nil:
		t.Text = d.text(extText, at("extended_tweet.full_text"))
	case fullText != nil:
		t.Text = d.text(fullText, at("full_text"))
	default:
		t.Text = d.text(text, at("text"))
	}
	d.entities(t, entities, "entities", &v1Entities)
	d.entities(t, extEntities, "extended_tweet.entities", &v1Entities)
	if len(replyHandle) > 0 || len(replyUserID) > 0 {
		r := d.newPart(matchers.InRepliedTo)
		r.AuthorHandle, r.AuthorID = replyHandle, replyUserID
	}
	if retweeted != nil && retweeted.Type() != fastjson.TypeNull {
		d.decodeV1(retweeted, matchers.InRetweeted, depth+1)
	}
	if quoted != nil && quoted.Type() != fastjson.TypeNull {
		d.decodeV1(quoted, matchers.InQuoted, depth+1)
	}
}

// embedField names the field that holds a tweet embedded at each place,
// for messages.
var embedField = [...]string{
	matchers.InTweet:     "tweet",
	matchers.InRetweeted: "retweeted_status",
	matchers.InQuoted:    "quoted_status",
	matchers.InRepliedTo: "tweet",
}

// entityKeys name the members of an entities object, which the API
// versions name differently, each with its path for messages.
type entityKeys struct {
	hashtags, hashtagsAt, hashtagAt string // the array, the items
	tag, tagAt                      string // a hashtag's text
	mentions, mentionsAt, mentionAt string
	handle, handleAt                string
	id, idAt                        string
	numericID, numericIDAt          string // v1.1's number id, when id_str is absent; "" in v2
}

// v1Entities are the members of a v1.1 entities object.
var v1Entities = entityKeys{
	hashtags: "hashtags", hashtagsAt: ".hashtags", hashtagAt: ".hashtags[]", tag: "text", tagAt: ".hashtags[].text",
	mentions: "user_mentions", mentionsAt: ".user_mentions", mentionAt: ".user_mentions[]",
	handle: "screen_name", handleAt: ".user_mentions[].screen_name",
	id: "id_str", idAt: ".user_mentions[].id_str", numericID: "id", numericIDAt: ".user_mentions[].id",
}

// entities adds the hashtags, mentions and URLs of an entities object
// (field) whose members k names.
func (d *Decoder) entities(t *matchers.Tweet, v *fastjson.Value, field string, k *entityKeys) {
	o := d.object(v, at(field))
	if o == nil {
		return
	}
	for _, h := range d.array(o.Get(k.hashtags), path{field, k.hashtagsAt}) {
		if tag := d.str(d.field(h, k.tag, path{field, k.hashtagAt}), path{field, k.tagAt}); len(tag) > 0 {
			t.Hashtags = append(t.Hashtags, tag)
		}
	}
	for _, m := range d.array(o.Get(k.mentions), path{field, k.mentionsAt}) {
		mo := d.object(m, path{field, k.mentionAt})
		if mo == nil {
			continue
		}
		mn := matchers.Mention{
			Handle: d.str(mo.Get(k.handle), path{field, k.handleAt}),
			ID:     d.id(mo.Get(k.id), path{field, k.idAt}),
		}
		if len(mn.ID) == 0 && k.numericID != "" {
			mn.ID = d.id(mo.Get(k.numericID), path{field, k.numericIDAt})
		}
		if len(mn.Handle) > 0 || len(mn.ID) > 0 {
			t.Mentions = append(t.Mentions, mn)
		}
	}
	d.urls(t, o.Get("urls"), field)
}

// urlFields are the forms of a link in a urls entity, in both API versions.
var urlFields = [...]struct{ key, name string }{
	{"expanded_url", ".urls[].expanded_url"},
	{"unwound_url", ".urls[].unwound_url"},
	{"url", ".urls[].url"},
}

// urls adds the URL forms of a v1.1 or v2 urls entity array.
func (d *Decoder) urls(t *matchers.Tweet, v *fastjson.Value, field string) {
	for _, u := range d.array(v, path{field, ".urls"}) {
		uo := d.object(u, path{field, ".urls[]"})
		if uo == nil {
			continue
		}
		for _, f := range urlFields {
			if s := d.str(uo.Get(f.key), path{field, f.name}); len(s) > 0 {
				t.URLs = append(t.URLs, s)
			}
		}
	}
}

// field returns key of an object value, failing the record when v is not
// an object.
func (d *Decoder) field(v *fastjson.Value, key string, where path) *fastjson.Value {
	o := d.object(v, where)
	if o == nil {
		return nil
	}
	return o.Get(key)
}
