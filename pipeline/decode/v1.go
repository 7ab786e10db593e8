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
	keys := &d.tweetKeys
	keys.start(o.Len())
	o.Visit(func(key []byte, f *fastjson.Value) {
		keys.add(key)
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
				var v [2]*fastjson.Value
				d.lookup(et, at("extended_tweet"), extendedNames[:], v[:])
				extText = d.str(v[0], at("extended_tweet.full_text"))
				extEntities = v[1]
			}
		case "entities":
			entities = f
		case "user":
			if u := d.object(f, at("user")); u != nil {
				var v [3]*fastjson.Value
				d.lookup(u, at("user"), userNames[:], v[:])
				t.AuthorHandle = d.str(v[0], at("user.screen_name"))
				t.AuthorID = d.id(v[1], at("user.id_str"))
				if len(t.AuthorID) == 0 {
					t.AuthorID = d.id(v[2], at("user.id"))
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
	if dup := keys.finish(); dup != nil {
		d.duplicateKey(at(embedField[in]), dup)
		return
	}
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
	d.entitiesV1(t, entities, "entities")
	d.entitiesV1(t, extEntities, "extended_tweet.entities")
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

// The members the decoder reads of each kind of object (v1.1 and v2), in
// the order of the values lookup gives.
var (
	extendedNames   = [...]string{"full_text", "entities"}
	userNames       = [...]string{"screen_name", "id_str", "id"}
	entitiesV1Names = [...]string{"hashtags", "user_mentions", "urls"}
	hashtagV1Names  = [...]string{"text"}
	mentionV1Names  = [...]string{"screen_name", "id_str", "id"}
	urlNames        = [...]string{"expanded_url", "unwound_url", "url"}
	hashtagV2Names  = [...]string{"tag"}
	mentionV2Names  = [...]string{"username", "id"}
	entitiesV2Names = [...]string{"hashtags", "mentions", "urls"}
	noteTweetNames  = [...]string{"text", "entities"}
	referenceNames  = [...]string{"type", "id"}
	includesNames   = [...]string{"users", "tweets"}
)

// entitiesV1 adds a v1.1 entities object's hashtags, mentions and URLs.
func (d *Decoder) entitiesV1(t *matchers.Tweet, v *fastjson.Value, field string) {
	o := d.object(v, at(field))
	if o == nil {
		return
	}
	var e [3]*fastjson.Value
	if d.lookup(o, at(field), entitiesV1Names[:], e[:]); d.err != nil {
		return
	}
	var f [3]*fastjson.Value
	for _, h := range d.array(e[0], path{field, ".hashtags"}) {
		if ho := d.object(h, path{field, ".hashtags[]"}); ho != nil {
			d.lookup(ho, path{field, ".hashtags[]"}, hashtagV1Names[:], f[:1])
			if tag := d.str(f[0], path{field, ".hashtags[].text"}); len(tag) > 0 {
				t.Hashtags = append(t.Hashtags, tag)
			}
		}
	}
	for _, m := range d.array(e[1], path{field, ".user_mentions"}) {
		mo := d.object(m, path{field, ".user_mentions[]"})
		if mo == nil {
			continue
		}
		d.lookup(mo, path{field, ".user_mentions[]"}, mentionV1Names[:], f[:])
		mn := matchers.Mention{
			Handle: d.str(f[0], path{field, ".user_mentions[].screen_name"}),
			ID:     d.id(f[1], path{field, ".user_mentions[].id_str"}),
		}
		if len(mn.ID) == 0 {
			mn.ID = d.id(f[2], path{field, ".user_mentions[].id"})
		}
		if len(mn.Handle) > 0 || len(mn.ID) > 0 {
			t.Mentions = append(t.Mentions, mn)
		}
	}
	d.urls(t, e[2], field)
}

// urlFields name the forms of a link in a urls entity (urlNames), in both
// API versions, for messages.
var urlFields = [...]string{".urls[].expanded_url", ".urls[].unwound_url", ".urls[].url"}

// urls adds the URL forms of a v1.1 or v2 urls entity array.
func (d *Decoder) urls(t *matchers.Tweet, v *fastjson.Value, field string) {
	var f [len(urlNames)]*fastjson.Value
	for _, u := range d.array(v, path{field, ".urls"}) {
		uo := d.object(u, path{field, ".urls[]"})
		if uo == nil {
			continue
		}
		d.lookup(uo, path{field, ".urls[]"}, urlNames[:], f[:])
		for i, name := range urlFields {
			if s := d.str(f[i], path{field, name}); len(s) > 0 {
				t.URLs = append(t.URLs, s)
			}
		}
	}
}
