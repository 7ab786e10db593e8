package decode

import "encoding/binary"

// field is a member name that the on-demand reader knows: one it reads,
// or another common member of tweets, users, entities and responses. For
// a known name, the reader's dispatch is a switch on integers and its check
// for a repeat is a bit; only other names go to a nameSet.
type field uint8

// The member names the on-demand reader reads.
const (
	fieldOther field = iota // a name not in fieldTable
	fieldID
	fieldIDStr
	fieldCreatedAt
	fieldLang
	fieldText
	fieldFullText
	fieldExtendedTweet
	fieldEntities
	fieldUser
	fieldRetweetedStatus
	fieldQuotedStatus
	fieldInReplyToScreenName
	fieldInReplyToUserIDStr
	fieldData
	fieldStatuses
	fieldIncludes
	fieldScreenName
	fieldHashtags
	fieldUserMentions
	fieldURLs
	fieldExpandedURL
	fieldUnwoundURL
	fieldURL
	fieldTag
	fieldMentions
	fieldUsername
	fieldAuthorID
	fieldNoteTweet
	fieldReferencedTweets
	fieldInReplyToUserID
	fieldType
	fieldUsers
	fieldTweets
	fieldSearchMetadata
	fieldMeta
	fieldErrors
	fieldsRead // the first of the names only checked for repeats

	// fieldEnd is what member returns at the end of an object.
	fieldEnd field = 255
)

// readNames are the names of the fields the on-demand reader reads.
var readNames = [fieldsRead]string{
	fieldID: "id", fieldIDStr: "id_str", fieldCreatedAt: "created_at", fieldLang: "lang",
	fieldText: "text", fieldFullText: "full_text", fieldExtendedTweet: "extended_tweet",
	fieldEntities: "entities", fieldUser: "user", fieldRetweetedStatus: "retweeted_status",
	fieldQuotedStatus: "quoted_status", fieldInReplyToScreenName: "in_reply_to_screen_name",
	fieldInReplyToUserIDStr: "in_reply_to_user_id_str", fieldData: "data", fieldStatuses: "statuses",
	fieldIncludes: "includes", fieldScreenName: "screen_name", fieldHashtags: "hashtags",
	fieldUserMentions: "user_mentions", fieldURLs: "urls", fieldExpandedURL: "expanded_url",
	fieldUnwoundURL: "unwound_url", fieldURL: "url", fieldTag: "tag", fieldMentions: "mentions",
	fieldUsername: "username", fieldAuthorID: "author_id", fieldNoteTweet: "note_tweet",
	fieldReferencedTweets: "referenced_tweets", fieldInReplyToUserID: "in_reply_to_user_id",
	fieldType: "type", fieldUsers: "users", fieldTweets: "tweets",
	fieldSearchMetadata: "search_metadata", fieldMeta: "meta", fieldErrors: "errors",
}

// commonNames are other members that tweets of API v1.1 and v2, their
// users, entities and media, and responses commonly carry; they get the
// fields after fieldsRead. At most fieldEnd-fieldsRead of them.
var commonNames = []string{
	// v1.1 tweets
	"truncated", "source", "in_reply_to_status_id", "in_reply_to_status_id_str", "geo", "coordinates",
	"place", "contributors", "is_quote_status", "quote_count", "reply_count", "retweet_count",
	"favorite_count", "favorited", "retweeted", "filter_level", "timestamp_ms", "possibly_sensitive",
	"display_text_range", "extended_entities", "quoted_status_id", "quoted_status_id_str",
	"quoted_status_permalink", "withheld_in_countries", "withheld_copyright", "withheld_scope",
	"metadata", "matching_rules", "scopes", "current_user_retweet", "self_thread",
	// v1.1 users
	"name", "location", "description", "protected", "verified", "followers_count", "friends_count",
	"listed_count", "favourites_count", "statuses_count", "utc_offset", "time_zone", "geo_enabled",
	"contributors_enabled", "is_translator", "is_translation_enabled", "translator_type",
	"profile_background_color", "profile_background_image_url", "profile_background_image_url_https",
	"profile_background_tile", "profile_banner_url", "profile_image_url", "profile_image_url_https",
	"profile_link_color", "profile_sidebar_border_color", "profile_sidebar_fill_color",
	"profile_text_color", "profile_use_background_image", "profile_location", "has_extended_profile",
	"default_profile", "default_profile_image", "following", "follow_request_sent", "notifications",
	"withheld_in_countries", "lang", "url",
	// v1.1 entities and media
	"symbols", "indices", "display_url", "media", "polls", "media_url", "media_url_https", "sizes",
	"thumb", "small", "medium", "large", "w", "h", "resize", "video_info", "variants", "bitrate",
	"content_type", "aspect_ratio", "duration_millis", "additional_media_info", "ext_alt_text",
	"source_status_id", "source_status_id_str", "source_user_id", "source_user_id_str", "iso_language_code",
	"result_type", "options", "position", "end_datetime", "duration_minutes", "title", "status",
	"unwound", "bbox", "country", "country_code", "full_name", "place_type", "attributes", "bounding_box",
	// v2 tweets, users, media, responses
	"public_metrics", "conversation_id", "edit_history_tweet_ids", "edit_controls", "edits_remaining",
	"editable_until", "is_edit_eligible", "reply_settings", "withheld", "context_annotations",
	"attachments", "media_keys", "poll_ids", "start", "end", "like_count", "impression_count",
	"bookmark_count", "followers_count", "following_count", "tweet_count", "pinned_tweet_id",
	"profile_image_url", "annotations", "probability", "normalized_text", "domain", "entity",
	"images", "width", "height", "media_key", "preview_image_url", "duration_ms", "view_count",
	"places", "place_id", "country_codes", "geo", "result_count", "newest_id", "oldest_id",
	"next_token", "previous_token", "detail", "value", "parameter", "resource_type", "resource_id",
	"completed_in", "max_id", "max_id_str", "next_results", "query", "refresh_url", "count",
	"since_id", "since_id_str", "copyright", "country_code", "properties", "cashtags",
}

// fieldTable finds the field of a member name: an open-addressing table
// built once from readNames and commonNames, read-only afterwards. A slot
// keeps a name as its length and its first and last eight bytes (which
// are the whole name up to 16 bytes), so that looking one up compares
// words, and strings only for longer names.
var fieldTable = newFieldTable()

// fieldSlots is the size of fieldTable, a power of two several times the
// number of names, so that a lookup probes about once.
const fieldSlots = 1024

type fieldSlot struct {
	first, last uint64 // nameWords
	n           uint32 // the name's length
	f           field  // fieldOther: an empty slot
	name        string
}

type fieldTableT [fieldSlots]fieldSlot

func newFieldTable() *fieldTableT {
	t := new(fieldTableT)
	next := fieldsRead
	add := func(name string, f field) {
		first, last := nameWords([]byte(name))
		i := nameHash(first, last, len(name))
		for t[i].f != fieldOther {
			i = (i + 1) % fieldSlots
		}
		t[i] = fieldSlot{first: first, last: last, n: uint32(len(name)), f: f, name: name}
		fieldPatterns[f] = newMemberPattern(name)
	}
	for f, name := range readNames {
		if name != "" {
			add(name, field(f))
		}
	}
	for _, name := range commonNames {
		if t.lookup([]byte(name)) != fieldOther {
			continue // listed twice
		}
		if next == fieldEnd {
			panic("decode: too many common member names")
		}
		add(name, next)
		next++
	}
	return t
}

// nameWords returns the first and the last eight bytes of a name, as
// little-endian words: the first zero-padded when the name is shorter,
// the last zero when it is no longer than eight.
func nameWords(name []byte) (first, last uint64) {
	if len(name) < 8 {
		for i, c := range name {
			first |= uint64(c) << (8 * i)
		}
		return first, 0
	}
	first = binary.LittleEndian.Uint64(name)
	if len(name) > 8 {
		last = binary.LittleEndian.Uint64(name[len(name)-8:])
	}
	return first, last
}

// nameHash hashes a name's words and length into an index of fieldTable.
func nameHash(first, last uint64, n int) uint32 {
	return uint32((first^last*0xFF51AFD7ED558CCD^uint64(n)<<56)*0x9E3779B97F4A7C15>>54) % fieldSlots
}

// lookup returns the field of name, or fieldOther.
func (t *fieldTableT) lookup(name []byte) field {
	first, last := nameWords(name)
	return t.find(first, last, name)
}

// find returns the field of name, whose words are first and last.
func (t *fieldTableT) find(first, last uint64, name []byte) field {
	for i := nameHash(first, last, len(name)); ; i = (i + 1) % fieldSlots {
		s := &t[i]
		if s.f == fieldOther {
			return fieldOther
		}
		if s.first == first && s.last == last && s.n == uint32(len(name)) && (len(name) <= 16 || s.name == string(name)) {
			return s.f
		}
	}
}

// memberNames is what an object being read has had of member names: a
// bit per known field, and a set of the other names, taken from the
// reader's level lvl when the first comes.
type memberNames struct {
	known [4]uint64
	other *nameSet
	lvl   int
	prev  field // the last member's field; before the first, the object's kind (member's firstGuess), fieldOther for none
	kind  field // prev before the first member

	// seq is the sequence of the object's kind that member follows, and k
	// how many of its members the object has had, -1 once it has left it:
	// known holds those only from then on.
	seq *memberSeq
	k   int
}

// repeated notes known field f as read and reports whether the object had
// already had it.
func (m *memberNames) repeated(f field) bool {
	word, bit := f>>6, uint64(1)<<(f&63)
	if m.known[word]&bit != 0 {
		return true
	}
	m.known[word] |= bit
	return false
}

// memberPattern is a field's name as compact JSON writes it as a member,
// `"name":`, for member's guess: its first 32 bytes as four little-endian
// words with the masks of the bytes it has (zero past its end), and the
// whole of it.
type memberPattern struct {
	w, m [4]uint64
	n    int
	pat  string
}

// fieldPatterns holds the pattern of every field of fieldTable; it is
// written once, with the table, and read-only afterwards.
var fieldPatterns [int(fieldEnd) + 1]memberPattern

func newMemberPattern(name string) memberPattern {
	pat := `"` + name + `":`
	var b [32]byte
	copy(b[:], pat)
	p := memberPattern{n: len(pat), pat: pat}
	for k := range p.w {
		p.w[k] = binary.LittleEndian.Uint64(b[8*k:])
	}
	for k := range min(len(pat), 32) {
		p.m[k/8] |= 0xFF << (8 * (k % 8))
	}
	return p
}

// headAt reports whether b holds the pattern's first 16 bytes at i, with
// 16 bytes or more from i. Patterns of up to 16 bytes, most, take its two
// loads alone; b holds a longer one when longAt reports true as well.
func (p *memberPattern) headAt(b []byte, i int) bool {
	w := (*[16]byte)(b[i : i+16])
	return binary.LittleEndian.Uint64(w[:8])&p.m[0] == p.w[0] && binary.LittleEndian.Uint64(w[8:])&p.m[1] == p.w[1]
}

// at reports whether b holds the pattern at i, however close to b's end:
// by words with 16 bytes or more from i, else as a string.
func (p *memberPattern) at(b []byte, i int) bool {
	if i+16 > len(b) {
		return i+p.n <= len(b) && string(b[i:i+p.n]) == p.pat
	}
	return p.headAt(b, i) && (p.n <= 16 || p.longAt(b, i))
}

// longAt reports whether b holds the pattern's bytes past the first 16
// at i.
func (p *memberPattern) longAt(b []byte, i int) bool {
	if i+32 > len(b) {
		return i+p.n <= len(b) && string(b[i+16:i+p.n]) == p.pat[16:]
	}
	w := (*[16]byte)(b[i+16 : i+32])
	return binary.LittleEndian.Uint64(w[:8])&p.m[2] == p.w[2] && binary.LittleEndian.Uint64(w[8:])&p.m[3] == p.w[3] &&
		(p.n <= 32 || i+p.n <= len(b) && string(b[i+32:i+p.n]) == p.pat[32:])
}
