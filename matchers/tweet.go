package matchers

// Tweet is what matching reads of one tweet. Its byte slices may point into
// a decoder's buffers and are valid only until that decoder's next record.
type Tweet struct {
	ID, CreatedAt, Lang []byte
	// Text is the full text, HTML entities unescaped.
	Text                   []byte
	AuthorID, AuthorHandle []byte
	// Hashtags, Mentions and URLs are the platform's entities; they are
	// matched together with what extraction finds in Text.
	Hashtags [][]byte // without '#'
	Mentions []Mention
	URLs     [][]byte // expanded, unwound and t.co forms
}

// Mention is a mention entity: a handle, an account id, or both.
type Mention struct {
	Handle, ID []byte
}

// Reset empties t, keeping its slices' capacity.
func (t *Tweet) Reset() {
	*t = Tweet{Hashtags: t.Hashtags[:0], Mentions: t.Mentions[:0], URLs: t.URLs[:0]}
}

// Where says in which part of a post a match was found.
type Where uint8

// The places a match can be found.
const (
	InTweet Where = iota
	InRetweeted
	InQuoted
	InRepliedTo
)

var whereNames = enum{"tweet", "retweeted", "quoted", "replied_to"}

// String returns the name used in review tasks' "in" field.
func (w Where) String() string { return whereNames.name(uint8(w)) }

// Post is a tweet together with the tweets it embeds or references: the
// retweeted, quoted and replied-to tweets contribute their matches to the
// post's review task. Parts[0] is the tweet itself.
type Post struct {
	Parts []Part
}

// Part is one tweet of a post and where it stands in it. A replied-to part
// may know only its author.
type Part struct {
	In    Where
	Tweet *Tweet
}

// Main returns the post's own tweet.
func (p *Post) Main() *Tweet { return p.Parts[0].Tweet }
