// Package synth generates synthetic tweet traffic for the demo, benchmarks
// and tests: API v1.1 tweets of realistic shape and size (about 750 bytes),
// some API v2 responses, a chosen share naming listed handles or hashtags
// (some in evasive spellings), and a few malformed records. Output is
// deterministic for a seed.
//
// synth knows nothing of demand files: it names the entries it is given
// (demo.NameEntries gives it those of demand lists), so that it, and the
// test kit built on it, import no other flagstream package.
package synth

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Kind says what a generated record is.
type Kind uint8

// The kinds of record.
const (
	Clean     Kind = iota // names nothing listed
	Flagged               // names a listed handle or hashtag plainly
	Evasive               // names one in an evasive spelling
	Malformed             // not a valid tweet record
)

func (k Kind) String() string {
	return [...]string{"clean", "flagged", "evasive", "malformed"}[k]
}

// Config tunes a Generator.
type Config struct {
	Seed uint64
	// Handles, Hashtags, Phrases and Domains are the listed entries that
	// flagged records name (handles and hashtags without @ or #).
	Handles, Hashtags, Phrases, Domains []string
	// FlagRate, EvasiveRate and MalformedRate are the shares of records of
	// those kinds; the rest are clean.
	FlagRate, EvasiveRate, MalformedRate float64
	// V2Rate is the share of well-formed records written as API v2
	// responses instead of v1.1 tweets.
	V2Rate float64
	// Start is the first tweet's creation time; each next one is 1ms later.
	Start time.Time
	// FirstID is the first tweet's id (default 1355000000000000001); give
	// generators whose tweets meet different ones.
	FirstID uint64
	// Rename makes the account of a listed handle post under another
	// handle from a record on: a listed account that renamed itself, still
	// the same user id (HandleUserID of the listed handle).
	Rename Rename
	// Takeover makes another account post under a listed handle from a
	// record on: a released handle taken over by someone else.
	Takeover Takeover
	// Introduce are listed handles whose accounts post first, one record
	// each under the handle, before any other record: flagstream binds
	// them at once (the demo introduces the accounts it renames and whose
	// handle it hands over).
	Introduce []string
}

// Rename is a listed account renamed: from record At (counting from 1)
// on, its posts as an author appear under To, and Share of the records
// besides are posts by it.
type Rename struct {
	Handle, To string
	At         uint64
	Share      float64
}

// Takeover is a listed handle taken over: from record At on, its posts as
// an author come from another account (TakeoverUserID), and Share of the
// records besides are posts by that account under the handle.
type Takeover struct {
	Handle string
	At     uint64
	Share  float64
}

// HandleUserID returns the user id of the account that a listed handle
// names in generated traffic: the same for every post, so that flagstream
// can bind the handle to it; far from the ids of other generated users.
func HandleUserID(handle string) string {
	h := uint64(14695981039346656037)
	for i := 0; i < len(handle); i++ {
		c := handle[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint64(c)) * 1099511628211
	}
	return strconv.FormatUint(900_000_000_000+h%1_000_000_000, 10)
}

// TakeoverUserID returns the user id of the account that takes a listed
// handle over (Config.Takeover).
func TakeoverUserID(handle string) string {
	id, _ := strconv.ParseUint(HandleUserID(handle), 10, 64)
	return strconv.FormatUint(id+1_000_000_000, 10)
}

// AccountPost is a generated record that names a listed handle, as its
// author or in a mention: evidence for the handle's case when flagstream
// runs with cases on.
type AccountPost struct {
	TweetID string `json:"tweet_id"`
	Handle  string `json:"handle"` // the listed handle, as listed
	// Mention is true when the handle is mentioned, false when it is the
	// author.
	Mention bool `json:"mention,omitempty"`
	// UserID is the author's id, or the mention entity's (empty for a
	// mention typed into the text, without an entity).
	UserID string `json:"user_id,omitempty"`
	// Renamed: the listed account posting, or mentioned, under its new
	// handle (Rename).
	Renamed bool `json:"renamed,omitempty"`
	// TakenOver: another account posting, or mentioned, under the listed
	// handle (Takeover); it is not the listed account.
	TakenOver bool `json:"taken_over,omitempty"`
}

// Generator produces records. It is not safe for concurrent use.
type Generator struct {
	cfg Config
	rng *rand.Rand
	n   uint64
	// account is what the last record named of a listed handle, if any.
	account    AccountPost
	hasAccount bool
	changed    []string // accounts to post next, after ChangeNow
}

// New returns a generator.
func New(cfg Config) *Generator {
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2021, 2, 4, 9, 0, 0, 0, time.UTC)
	}
	if cfg.FirstID == 0 {
		cfg.FirstID = 1355000000000000001
	}
	return &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
}

var (
	words = strings.Fields(`the farmers march to the capital again today and nobody in the
		government wants to talk about prices harvest rain delhi punjab tractors
		market reform protest support village families winter news morning people
		road police border camp water food tea music cricket match weather city`)
	tags  = []string{"news", "india", "cricket", "weather", "music", "delhi", "travel", "food", "tech", "sports"}
	langs = []string{"en", "hi", "pa", "ta", "en", "en"}
)

// Next appends the next record (one JSON line, without a newline) to dst
// and says what kind it is.
func (g *Generator) Next(dst []byte) ([]byte, Kind) {
	g.n++
	g.hasAccount = false
	if g.n <= uint64(len(g.cfg.Introduce)) {
		return g.accountPost(dst, g.cfg.Introduce[g.n-1])
	}
	if len(g.changed) > 0 {
		h := g.changed[0]
		g.changed = g.changed[1:]
		return g.accountPost(dst, h)
	}
	if r := g.cfg.Rename; r.Share > 0 && g.renamed(r.Handle) && g.rng.Float64() < r.Share {
		return g.accountPost(dst, r.Handle)
	}
	if o := g.cfg.Takeover; o.Share > 0 && g.takenOver(o.Handle) && g.rng.Float64() < o.Share {
		return g.accountPost(dst, o.Handle)
	}
	r := g.rng.Float64()
	kind := Clean
	switch {
	case r < g.cfg.MalformedRate:
		kind = Malformed
	case r < g.cfg.MalformedRate+g.cfg.FlagRate && g.listed():
		kind = Flagged
	case r < g.cfg.MalformedRate+g.cfg.FlagRate+g.cfg.EvasiveRate && g.listed():
		kind = Evasive
	}
	if kind == Malformed {
		return append(dst, g.malformed()...), kind
	}
	t := g.tweet(kind)
	if g.hasAccount {
		g.account.TweetID = strconv.FormatUint(t.id, 10)
	}
	if g.rng.Float64() < g.cfg.V2Rate {
		return append(dst, t.v2()...), kind
	}
	return append(dst, t.v1()...), kind
}

// accountPost appends a v1.1 post by the account of listed handle h, as
// it stands (renamed, taken over or not).
func (g *Generator) accountPost(dst []byte, h string) ([]byte, Kind) {
	t := g.plainTweet()
	g.author(&t, h)
	t.text += " " + words[g.rng.IntN(len(words))]
	g.account.TweetID = strconv.FormatUint(t.id, 10)
	return append(dst, t.v1()...), Flagged
}

// author makes the account of listed handle h the author of t.
func (g *Generator) author(t *tweet, h string) {
	g.hasAccount = true
	g.account = AccountPost{Handle: h, UserID: HandleUserID(h)}
	t.handle = h
	switch {
	case g.renamed(h):
		t.handle, g.account.Renamed = g.cfg.Rename.To, true
	case g.takenOver(h):
		g.account.UserID, g.account.TakenOver = TakeoverUserID(h), true
	}
	t.userID, _ = strconv.ParseUint(g.account.UserID, 10, 64)
	t.name = strings.ToUpper(t.handle[:1]) + t.handle[1:]
}

// Records returns how many records the generator has made.
func (g *Generator) Records() uint64 { return g.n }

// ChangeNow makes the configured rename and takeover (those with a handle)
// start at the next record, whatever their At, and makes the next records
// a post by each account as it now is: the demo starts them once
// flagstream has bound the handles.
func (g *Generator) ChangeNow() {
	g.changed = g.changed[:0]
	if g.cfg.Rename.Handle != "" {
		g.cfg.Rename.At = g.n + 1
		g.changed = append(g.changed, g.cfg.Rename.Handle)
	}
	if g.cfg.Takeover.Handle != "" {
		g.cfg.Takeover.At = g.n + 1
		g.changed = append(g.changed, g.cfg.Takeover.Handle)
	}
}

// LastAccount returns what the record Next returned last names of a
// listed handle; ok is false when it names none.
func (g *Generator) LastAccount() (a AccountPost, ok bool) { return g.account, g.hasAccount }

func (g *Generator) listed() bool {
	return len(g.cfg.Handles)+len(g.cfg.Hashtags)+len(g.cfg.Phrases)+len(g.cfg.Domains) > 0
}

type tweet struct {
	id, userID           uint64
	created              time.Time
	handle, name, text   string
	lang                 string
	hashtags             []string
	mentions             []mention
	retweets, favourites int
}

// mention is a mention entity: a handle and its account's id.
type mention struct {
	handle, id string
}

// tweet builds a tweet's fields; a flagged or evasive one names a listed
// entry as its author, in a mention or in a hashtag.
func (g *Generator) tweet(kind Kind) tweet {
	t := g.plainTweet()
	var sb strings.Builder
	sb.WriteString(t.text)
	if kind == Flagged || kind == Evasive {
		g.name(&t, &sb, kind)
	}
	t.text = sb.String()
	return t
}

// plainTweet builds a tweet that names nothing listed.
func (g *Generator) plainTweet() tweet {
	t := tweet{
		id:         g.cfg.FirstID + g.n - 1,
		userID:     100000 + g.rng.Uint64N(5_000_000),
		created:    g.cfg.Start.Add(time.Duration(g.n) * time.Millisecond),
		lang:       langs[g.rng.IntN(len(langs))],
		retweets:   g.rng.IntN(500),
		favourites: g.rng.IntN(2000),
	}
	t.handle = "user" + strconv.FormatUint(t.userID, 36)
	t.name = strings.ToUpper(t.handle[:1]) + t.handle[1:]
	var sb strings.Builder
	n := 6 + g.rng.IntN(10)
	for i := range n {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(words[g.rng.IntN(len(words))])
	}
	tag := tags[g.rng.IntN(len(tags))]
	t.hashtags = append(t.hashtags, tag)
	sb.WriteString(" #" + tag)
	if g.rng.IntN(3) == 0 {
		n := g.rng.IntN(100000)
		m := "friend" + strconv.Itoa(n)
		t.mentions = append(t.mentions, mention{m, strconv.Itoa(200_000_000 + n)})
		sb.WriteString(" @" + m)
	}
	t.text = sb.String()
	return t
}

// name makes t name one listed entry, plainly or evasively.
func (g *Generator) name(t *tweet, sb *strings.Builder, kind Kind) {
	var kinds []int
	for i, l := range [][]string{g.cfg.Handles, g.cfg.Hashtags, g.cfg.Phrases, g.cfg.Domains} {
		if len(l) > 0 {
			kinds = append(kinds, i)
		}
	}
	pick := func(l []string) string { return l[g.rng.IntN(len(l))] }
	evasive := kind == Evasive
	switch kinds[g.rng.IntN(len(kinds))] {
	case 0:
		h := pick(g.cfg.Handles)
		g.hasAccount = true
		g.account = AccountPost{Handle: h}
		switch {
		case !evasive && g.rng.IntN(2) == 0:
			g.author(t, h)
		case evasive:
			// Evasive mentions are typed into the text; the platform
			// would not link them, so they have no entity.
			g.account.Mention = true
			sb.WriteString(" " + Evade(g.rng, "@"+h))
		default:
			// A mention entity names whoever holds the handle when the
			// post is made: the renamed account under its new handle, the
			// new holder of a handle taken over.
			g.account.Mention, g.account.UserID = true, HandleUserID(h)
			switch {
			case g.renamed(h):
				h, g.account.Renamed = g.cfg.Rename.To, true
			case g.takenOver(h):
				g.account.UserID, g.account.TakenOver = TakeoverUserID(h), true
			}
			t.mentions = append(t.mentions, mention{h, g.account.UserID})
			sb.WriteString(" @" + h)
		}
	case 1:
		h := pick(g.cfg.Hashtags)
		if evasive {
			sb.WriteString(" " + Evade(g.rng, "#"+h))
		} else {
			t.hashtags = append(t.hashtags, h)
			sb.WriteString(" #" + h)
		}
	case 2:
		p := pick(g.cfg.Phrases)
		if evasive {
			p = strings.ToUpper(p[:1]) + strings.ReplaceAll(p[1:], " ", "-\u200b")
		}
		sb.WriteString(" " + p + "!")
	case 3:
		d := pick(g.cfg.Domains)
		if evasive {
			d = "www." + strings.ReplaceAll(strings.ToUpper(d), ".", "．")
		}
		sb.WriteString(" https://" + d + "/story/" + strconv.Itoa(g.rng.IntN(1e6)))
	}
}

// renamed reports whether the account of listed handle h has renamed
// itself by the current record.
func (g *Generator) renamed(h string) bool {
	return g.cfg.Rename.Handle == h && g.cfg.Rename.At > 0 && g.n >= g.cfg.Rename.At
}

// takenOver reports whether another account holds listed handle h by the
// current record.
func (g *Generator) takenOver(h string) bool {
	return g.cfg.Takeover.Handle == h && g.cfg.Takeover.At > 0 && g.n >= g.cfg.Takeover.At
}

// Evade respells a #hashtag or @handle the way people dodge filters: an
// invisible character inside, fullwidth or styled letters, an underscore
// between its halves, or a different letter case.
func Evade(rng *rand.Rand, s string) string {
	sigil, name := s[:1], s[1:]
	mid := len(name) / 2
	switch rng.IntN(5) {
	case 0:
		return sigil + name[:mid] + "\u200b" + name[mid:]
	case 1:
		return fullwidth(sigil + name)
	case 2:
		if sigil == "#" {
			return sigil + mathBold(name)
		}
		return sigil + strings.ToUpper(name)
	case 3:
		if sigil == "#" && mid > 0 && name[mid-1] != '_' && name[mid] != '_' {
			return sigil + name[:mid] + "_" + name[mid:]
		}
		return "\u2060" + sigil + "\u00ad" + name
	default:
		return sigil + strings.ToUpper(name[:1]) + strings.ToLower(name[1:])
	}
}

// fullwidth maps ASCII letters, digits and signs to their fullwidth forms.
func fullwidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r < 0x7F {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mathBold maps ASCII letters and digits to mathematical bold ones.
func mathBold(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case 'A' <= r && r <= 'Z':
			r = 0x1D400 + (r - 'A')
		case 'a' <= r && r <= 'z':
			r = 0x1D41A + (r - 'a')
		case '0' <= r && r <= '9':
			r = 0x1D7CE + (r - '0')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (g *Generator) malformed() string {
	switch g.rng.IntN(5) {
	case 0:
		return `{"id_str": "13550000000", "text": "cut off in the mid`
	case 1:
		return `{"text": "a tweet without an id", "user": {"screen_name": "someone"}}`
	case 2:
		return `{"id_str": 12, "text": ["wrong", "types"]}`
	case 3:
		return `["not", "a", "tweet"]`
	default:
		return "{\"id_str\": \"1\", \"text\": \"invalid \xff\xfe utf-8\"}"
	}
}

// v1 writes the tweet as an API v1.1 object.
func (t tweet) v1() string {
	var b strings.Builder
	created := t.created.Format("Mon Jan 02 15:04:05 -0700 2006")
	fmt.Fprintf(&b, `{"created_at":%q,"id":%d,"id_str":"%d","text":%s,"truncated":false,`, created, t.id, t.id, jsonString(t.text))
	b.WriteString(`"entities":{"hashtags":[`)
	for i, h := range t.hashtags {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"text":%s,"indices":[0,0]}`, jsonString(h))
	}
	b.WriteString(`],"symbols":[],"user_mentions":[`)
	for i, m := range t.mentions {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"screen_name":%s,"name":%s,"id":%s,"id_str":"%s","indices":[0,0]}`, jsonString(m.handle), jsonString(m.handle), m.id, m.id)
	}
	b.WriteString(`],"urls":[]},`)
	b.WriteString(`"source":"\u003ca href=\"http://twitter.com/download/android\" rel=\"nofollow\"\u003eTwitter for Android\u003c/a\u003e",`)
	b.WriteString(`"in_reply_to_status_id_str":null,"in_reply_to_screen_name":null,`)
	fmt.Fprintf(&b, `"user":{"id":%d,"id_str":"%d","name":%s,"screen_name":%s,"location":"India","followers_count":%d,"friends_count":%d,"created_at":"Sat Feb 16 13:40:25 +0000 2013","statuses_count":%d},`,
		t.userID, t.userID, jsonString(t.name), jsonString(t.handle), t.favourites*3, t.retweets*2, t.favourites*7)
	fmt.Fprintf(&b, `"retweet_count":%d,"favorite_count":%d,"lang":%q}`,
		t.retweets, t.favourites, t.lang)
	return b.String()
}

// v2 writes the tweet as an API v2 response with its author in includes.
func (t tweet) v2() string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"data":{"id":"%d","text":%s,"author_id":"%d","created_at":%q,"lang":%q,"entities":{"hashtags":[`,
		t.id, jsonString(t.text), t.userID, t.created.Format(time.RFC3339Nano), t.lang)
	for i, h := range t.hashtags {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"start":0,"end":0,"tag":%s}`, jsonString(h))
	}
	b.WriteString(`],"mentions":[`)
	for i, m := range t.mentions {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"start":0,"end":0,"username":%s,"id":"%s"}`, jsonString(m.handle), m.id)
	}
	fmt.Fprintf(&b, `]},"public_metrics":{"retweet_count":%d,"like_count":%d}},"includes":{"users":[{"id":"%d","username":%s,"name":%s}]}}`,
		t.retweets, t.favourites, t.userID, jsonString(t.handle), jsonString(t.name))
	return b.String()
}

// jsonString quotes s as a JSON string, escaping as the platform does:
// HTML-sensitive characters as &amp; &lt; &gt; in text are already escaped
// by callers that need them.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Handles returns n distinct fictional handles, deterministic for seed.
func Handles(seed uint64, n int) []string {
	rng := rand.New(rand.NewPCG(seed, 1))
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	for len(out) < n {
		var b strings.Builder
		b.WriteString([]string{"kisan", "farm", "punjab", "desi", "real", "the", "voice", "free"}[rng.IntN(8)])
		if rng.IntN(2) == 0 {
			b.WriteByte('_')
		}
		b.WriteString(strconv.FormatUint(rng.Uint64N(1<<40), 36))
		h := b.String()
		if len(h) > 15 {
			h = h[:15]
		}
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// TweetID returns the id of a generated well-formed record: id_str of a
// v1.1 tweet or data.id of a v2 response.
func TweetID(record []byte) (string, error) {
	var v struct {
		IDStr string `json:"id_str"`
		Data  struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(record, &v); err != nil {
		return "", fmt.Errorf("synth: not a generated tweet: %w", err)
	}
	if v.IDStr != "" {
		return v.IDStr, nil
	}
	if v.Data.ID != "" {
		return v.Data.ID, nil
	}
	return "", fmt.Errorf("synth: record has no tweet id")
}

// Expectation is what generated records must lead to: how many records of
// each kind there were, and the ids of the tweets that name a listed entry,
// each of which must get a review task. `flagstream generate --expect`
// writes it as JSON; tests keep one beside what they produce.
type Expectation struct {
	Kinds   map[string]int `json:"kinds"`
	Flagged []string       `json:"flagged"`
	// Accounts are the flagged records that name a listed handle (each
	// flagged record names one listed entry): with cases on, they are
	// evidence for the handle's case instead of a review task.
	Accounts []AccountPost `json:"accounts,omitempty"`

	flagged map[string]bool // index of Flagged
}

// NoteAccount adds what a generated record names of a listed handle (see
// Generator.LastAccount).
func (e *Expectation) NoteAccount(a AccountPost) { e.Accounts = append(e.Accounts, a) }

// Note adds a generated record of the given kind.
func (e *Expectation) Note(record []byte, kind Kind) error {
	if e.Kinds == nil {
		e.Kinds = map[string]int{}
	}
	e.Kinds[kind.String()]++
	if kind != Flagged && kind != Evasive {
		return nil
	}
	id, err := TweetID(record)
	if err != nil {
		return err
	}
	e.Flagged = append(e.Flagged, id)
	if e.flagged != nil {
		e.flagged[id] = true
	}
	return nil
}

// IsFlagged reports whether the tweet with this id names a listed entry.
func (e *Expectation) IsFlagged(id string) bool {
	if e.flagged == nil {
		e.flagged = make(map[string]bool, len(e.Flagged))
		for _, f := range e.Flagged {
			e.flagged[f] = true
		}
	}
	return e.flagged[id]
}

// Malformed returns the number of malformed records.
func (e *Expectation) Malformed() int { return e.Kinds[Malformed.String()] }

// Records returns the number of records noted.
func (e *Expectation) Records() int {
	n := 0
	for _, k := range e.Kinds {
		n += k
	}
	return n
}
