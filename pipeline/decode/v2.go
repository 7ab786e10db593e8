package decode

import (
	"bytes"
	"slices"

	"github.com/valyala/fastjson"

	"flagstream/matchers"
)

// decodeV2 decodes an API v2 response: data is one tweet or an array of
// them; includes.users give authors' handles and includes.tweets the
// referenced (retweeted, quoted, replied-to) tweets.
func (d *Decoder) decodeV2(v *fastjson.Value) {
	if inc := d.object(v.Get("includes"), at("includes")); inc != nil {
		var f [2]*fastjson.Value
		d.lookup(inc, at("includes"), includesNames[:], f[:])
		d.users.values = append(d.users.values, d.array(f[0], at("includes.users"))...)
		d.tweetV.values = append(d.tweetV.values, d.array(f[1], at("includes.tweets"))...)
		// Lookups by id read every included object.
		d.checkIncluded(d.users.values, at("includes.users[]"))
		d.checkIncluded(d.tweetV.values, at("includes.tweets[]"))
	}
	data := v.Get("data")
	switch data.Type() {
	case fastjson.TypeObject:
		if d.newPost() {
			d.tweetV2(data, matchers.InTweet, 0)
		}
	case fastjson.TypeArray:
		arr, _ := data.Array()
		if len(arr) == 0 {
			d.fail(ReasonNotATweet, "v2 response with an empty data array")
			return
		}
		for _, t := range arr {
			// A null item would make a post with no parts.
			if t.Type() != fastjson.TypeObject {
				d.fail(ReasonWrongType, "data[]: expected a tweet object, got %s", t.Type())
				return
			}
			if !d.newPost() {
				return
			}
			d.tweetV2(t, matchers.InTweet, 0)
		}
	case fastjson.TypeNull:
		d.fail(ReasonNotATweet, "v2 response with null data")
	default:
		d.fail(ReasonWrongType, "data: expected a tweet object or an array, got %s", data.Type())
	}
}

// tweetV2 decodes one v2 tweet object into a part of the current post,
// followed by the parts of the tweets it references that includes holds.
func (d *Decoder) tweetV2(v *fastjson.Value, in matchers.Where, depth int) {
	o := d.object(v, at("data[]"))
	if o == nil {
		return
	}
	t := d.newPart(in)
	var (
		text, noteText         []byte
		entities, noteEntities *fastjson.Value
		refs                   *fastjson.Value
		replyUserID            []byte
	)
	keys := &d.tweetKeys
	keys.start(o.Len())
	o.Visit(func(key []byte, f *fastjson.Value) {
		keys.add(key)
		switch string(key) {
		case "id":
			t.ID = d.id(f, at("id"))
		case "created_at":
			t.CreatedAt = d.str(f, at("created_at"))
		case "lang":
			t.Lang = d.str(f, at("lang"))
		case "text":
			text = d.str(f, at("text"))
		case "author_id":
			t.AuthorID = d.id(f, at("author_id"))
		case "entities":
			entities = f
		case "note_tweet":
			noteText, noteEntities = d.longText(f, "note_tweet", &noteTweetNames, ".text")
		case "referenced_tweets":
			refs = f
		case "in_reply_to_user_id":
			replyUserID = d.id(f, at("in_reply_to_user_id"))
		}
	})
	if dup := keys.finish(); dup != nil {
		d.duplicateKey(at("data[]"), dup)
		return
	}
	if len(t.ID) == 0 && d.err == nil {
		d.fail(ReasonMissingID, "tweet has no id")
		return
	}
	if noteText != nil {
		t.Text = d.text(noteText, at("note_tweet.text"))
	} else {
		t.Text = d.text(text, at("text"))
	}
	if u := d.user(t.AuthorID); u != nil {
		t.AuthorHandle = d.str(u.Get("username"), at("includes.users[].username"))
	}
	d.entities(t, entities, "entities", &entitiesV2)
	d.entities(t, noteEntities, "note_tweet.entities", &entitiesV2)

	// References are followed one level, as the API's expansions
	// provide them; a referenced tweet's own references are not.
	if depth > 0 {
		refs = nil
	}
	repliedFound := false
	for _, r := range d.array(refs, at("referenced_tweets")) {
		ro := d.object(r, at("referenced_tweets[]"))
		if ro == nil {
			continue
		}
		var f [2]*fastjson.Value
		d.lookup(ro, at("referenced_tweets[]"), referenceNames[:], f[:])
		where, ok := referenceType(d.str(f[0], at("referenced_tweets[].type")))
		if !ok {
			continue
		}
		ref := d.includedTweet(d.id(f[1], at("referenced_tweets[].id")))
		if ref == nil {
			continue
		}
		if where == matchers.InRepliedTo {
			repliedFound = true
		}
		d.tweetV2(ref, where, depth+1)
	}
	if !repliedFound && len(replyUserID) > 0 && depth == 0 {
		r := d.newPart(matchers.InRepliedTo)
		r.AuthorID = replyUserID
		if u := d.user(replyUserID); u != nil {
			r.AuthorHandle = d.str(u.Get("username"), at("includes.users[].username"))
		}
	}
}

// referenceType returns where a referenced tweet of a referenced_tweets
// type is, and false for a type that is none the decoder follows.
func referenceType(typ []byte) (matchers.Where, bool) {
	switch string(typ) {
	case "retweeted":
		return matchers.InRetweeted, true
	case "quoted":
		return matchers.InQuoted, true
	case "replied_to":
		return matchers.InRepliedTo, true
	}
	return 0, false
}

// checkIncluded checks the objects among an includes array for repeated
// member names; other values are skipped, as lookups skip them.
func (d *Decoder) checkIncluded(values []*fastjson.Value, field path) {
	for _, v := range values {
		if o, err := v.Object(); err == nil {
			d.checkKeys(o, field)
		}
	}
}

// user returns the includes.users object with the given id.
func (d *Decoder) user(id []byte) *fastjson.Object {
	v := d.users.find(id)
	if v == nil {
		return nil
	}
	o, _ := v.Object()
	return o
}

// includedTweet returns the includes.tweets tweet with the given id.
func (d *Decoder) includedTweet(id []byte) *fastjson.Value {
	return d.tweetV.find(id)
}

// included is one includes array (users or tweets) of the record being
// decoded, with an index by id built on the first lookup of a long array:
// a v2 page carries up to hundreds of users and as many tweets, each of
// which looks up its author.
type included struct {
	values  []*fastjson.Value
	index   []idRef // sorted by id
	indexed bool
}

type idRef struct {
	id []byte
	v  *fastjson.Value
}

func (in *included) reset() {
	in.values, in.index, in.indexed = in.values[:0], in.index[:0], false
}

// find returns the object whose "id" is id, or nil.
func (in *included) find(id []byte) *fastjson.Value {
	if len(id) == 0 {
		return nil
	}
	if len(in.values) <= 8 {
		for _, v := range in.values {
			if b := stringID(v); b != nil && bytes.Equal(b, id) {
				return v
			}
		}
		return nil
	}
	if !in.indexed {
		for _, v := range in.values {
			if b := stringID(v); b != nil {
				in.index = append(in.index, idRef{b, v})
			}
		}
		slices.SortStableFunc(in.index, func(a, b idRef) int { return bytes.Compare(a.id, b.id) })
		in.indexed = true
	}
	i, ok := slices.BinarySearchFunc(in.index, id, func(r idRef, id []byte) int { return bytes.Compare(r.id, id) })
	if !ok {
		return nil
	}
	return in.index[i].v
}

// stringID returns the "id" string of an object value, or nil.
func stringID(v *fastjson.Value) []byte {
	o, err := v.Object()
	if err != nil {
		return nil
	}
	idv := o.Get("id")
	if idv == nil || idv.Type() != fastjson.TypeString {
		return nil
	}
	b, _ := idv.StringBytes()
	return b
}
