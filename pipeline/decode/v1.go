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
			extText, extEntities = d.longText(f, "extended_tweet", &extendedNames, ".full_text")
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
	d.entities(t, entities, "entities", &entitiesV1)
	d.entities(t, extEntities, "extended_tweet.entities", &entitiesV1)
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

// longText reads a v1.1 extended_tweet or a v2 note_tweet object, whose
// members names are its text's and its entities': it returns the text
// (textAt its path below field) and the entities object.
func (d *Decoder) longText(v *fastjson.Value, field string, names *[2]string, textAt string) ([]byte, *fastjson.Value) {
	o := d.object(v, at(field))
	if o == nil {
		return nil, nil
	}
	var f [2]*fastjson.Value
	d.lookup(o, at(field), names[:], f[:])
	return d.str(f[0], path{field, textAt}), f[1]
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
	extendedNames  = [...]string{"full_text", "entities"}
	userNames      = [...]string{"screen_name", "id_str", "id"}
	urlNames       = [...]string{"expanded_url", "unwound_url", "url"}
	noteTweetNames = [...]string{"text", "entities"}
	referenceNames = [...]string{"type", "id"}
	includesNames  = [...]string{"users", "tweets"}

	entitiesV1 = newEntityNames("user_mentions", "text", "screen_name", "id_str", "id")
	entitiesV2 = newEntityNames("mentions", "tag", "username", "id")
)

// entityNames are the members of an entities object, and of its hashtags
// and mentions, in one API version, with their paths below the entities
// object for messages.
type entityNames struct {
	entities [3]string // hashtags, mentions, urls
	hashtag  [1]string // the tag
	mention  []string  // the handle, the id (v1.1: id_str, then id)

	hashtagsAt, hashtagAt, tagAt, mentionsAt, mentionAt string
	mentionFieldAt                                      []string
}

func newEntityNames(mentions, tag string, mention ...string) entityNames {
	n := entityNames{
		entities:   [3]string{"hashtags", mentions, "urls"},
		hashtag:    [1]string{tag},
		mention:    mention,
		hashtagsAt: ".hashtags", hashtagAt: ".hashtags[]", tagAt: ".hashtags[]." + tag,
		mentionsAt: "." + mentions, mentionAt: "." + mentions + "[]",
	}
	for _, m := range mention {
		n.mentionFieldAt = append(n.mentionFieldAt, n.mentionAt+"."+m)
	}
	return n
}

// entities adds an entities object's hashtags, mentions and URLs, its
// members named as n says.
func (d *Decoder) entities(t *matchers.Tweet, v *fastjson.Value, field string, n *entityNames) {
	o := d.object(v, at(field))
	if o == nil {
		return
	}
	var e [3]*fastjson.Value
	if d.lookup(o, at(field), n.entities[:], e[:]); d.err != nil {
		return
	}
	var f [3]*fastjson.Value
	for _, h := range d.array(e[0], path{field, n.hashtagsAt}) {
		if ho := d.object(h, path{field, n.hashtagAt}); ho != nil {
			d.lookup(ho, path{field, n.hashtagAt}, n.hashtag[:], f[:1])
			if tag := d.str(f[0], path{field, n.tagAt}); len(tag) > 0 {
				t.Hashtags = append(t.Hashtags, tag)
			}
		}
	}
	for _, m := range d.array(e[1], path{field, n.mentionsAt}) {
		mo := d.object(m, path{field, n.mentionAt})
		if mo == nil {
			continue
		}
		d.lookup(mo, path{field, n.mentionAt}, n.mention, f[:len(n.mention)])
		mn := matchers.Mention{
			Handle: d.str(f[0], path{field, n.mentionFieldAt[0]}),
			ID:     d.id(f[1], path{field, n.mentionFieldAt[1]}),
		}
		if len(mn.ID) == 0 && len(n.mention) > 2 {
			mn.ID = d.id(f[2], path{field, n.mentionFieldAt[2]})
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
