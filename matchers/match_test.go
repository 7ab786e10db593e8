package matchers_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	. "flagstream/matchers"
)

// matchLists are the demand files of the matching tests, by snapshot name.
var matchLists = map[string]map[string]string{
	"main": {
		"in.yaml": `id: IN-1
authority: Ministry of Electronics and Information Technology
jurisdiction: IN
legal_basis: IT Act 2000, s. 69A
action: withhold
scope: user
handles: ["@BadUser", fict_farmer_01]
user_ids: ["1234567890"]
hashtags: ["#FarmerGenocide", "#किसानआंदोलन"]
domains: [example.org]
`,
		"de.yaml": `id: DE-2
jurisdiction: DE
tiers: [exact]
handles: [strict_user]
hashtags: ["#ExactOnlyTag"]
`,
		"tr.yaml": `id: TR-3
jurisdiction: TR
tiers: [exact, lookalike]
hashtags: ["#GovernmentLies"]
`,
	},
	"phrases": {
		"in.yaml": `id: IN-4
jurisdiction: IN
phrases: ["farmer genocide", "किसान विरोधी"]
`,
		"de.yaml": `id: DE-5
jurisdiction: DE
tiers: [exact]
phrases: ["stolen election"]
`,
	},
}

// hit is a Hit as the tests compare it, with its entry and demand resolved.
type hit struct {
	kind         HitKind
	in           Where
	tier         Tier
	value        string // with the sigil, if any
	entry        string
	demand       string
	jurisdiction string
}

func (h hit) String() string {
	return fmt.Sprintf("{%v in %v %v %+q → %q of %s}", h.kind, h.in, h.tier, h.value, h.entry, h.demand)
}

func describeHits(s *Snapshot, hits []Hit) []hit {
	out := []hit{}
	for _, h := range hits {
		v := string(h.Value)
		if h.Sigil != 0 {
			v = string(h.Sigil) + v
		}
		d := &s.Demands()[s.Demand(h.Entry)]
		out = append(out, hit{h.Kind, h.In, h.Tier, v, string(s.EntryValue(h.Entry)), d.ID, d.JurisdictionList()})
	}
	return out
}

// tweetPost returns a post of one tweet.
func tweetPost(t *Tweet) *Post { return &Post{Parts: []Part{{In: InTweet, Tweet: t}}} }

func textPost(text string) *Post { return tweetPost(&Tweet{Text: []byte(text)}) }

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func TestMatch(t *testing.T) {
	snapshots := map[string]*Snapshot{}
	for name, files := range matchLists {
		snapshots[name] = compileAt(t, feb2021, files)
	}
	badUser := func(kind HitKind, in Where, tier Tier, value string) hit {
		return hit{kind, in, tier, value, "@BadUser", "IN-1", "IN"}
	}
	farmerTag := func(in Where, tier Tier, value string) hit {
		return hit{HitHashtag, in, tier, value, "#FarmerGenocide", "IN-1", "IN"}
	}
	farmerPhrase := func(tier Tier, value string) hit {
		return hit{HitPhrase, InTweet, tier, value, "farmer genocide", "IN-4", "IN"}
	}
	domain := func(value string) hit {
		return hit{HitDomain, InTweet, TierExact, value, "example.org", "IN-1", "IN"}
	}
	tests := []struct {
		name  string
		lists string // key of matchLists; "main" when empty
		post  *Post
		want  []hit
	}{
		{
			name: "nothing",
			post: textPost("Farmers march peacefully to the capital today."),
		},
		{
			name: "author handle ignores case",
			post: tweetPost(&Tweet{AuthorHandle: []byte("BADUSER"), Text: []byte("hello")}),
			want: []hit{badUser(HitAuthor, InTweet, TierExact, "@BADUSER")},
		},
		{
			name: "mention entity",
			post: tweetPost(&Tweet{Mentions: []Mention{{Handle: []byte("baduser")}}}),
			want: []hit{badUser(HitMention, InTweet, TierExact, "@baduser")},
		},
		{
			// The text's tokens that are the entities, byte for byte, make
			// no hit of their own; one spelled otherwise does.
			name: "entities and the same names in the text",
			post: tweetPost(&Tweet{Text: []byte("#FarmerGenocide @baduser #farmergenocide"),
				Hashtags: bs("FarmerGenocide"), Mentions: []Mention{{Handle: []byte("baduser")}}}),
			want: []hit{
				badUser(HitMention, InTweet, TierExact, "@baduser"),
				farmerTag(InTweet, TierExact, "#FarmerGenocide"),
				farmerTag(InTweet, TierExact, "#farmergenocide"),
			},
		},
		{
			name: "mention in text",
			post: textPost("thanks @BadUser!"),
			want: []hit{badUser(HitMention, InTweet, TierExact, "@BadUser")},
		},
		{
			name: "mention with zero width space is exact",
			post: textPost("thanks @bad\u200buser!"),
			want: []hit{badUser(HitMention, InTweet, TierExact, "@bad\u200buser")},
		},
		{
			name: "fullwidth mention is exact",
			post: textPost("ｔｈａｎｋｓ ＠ＢａｄＵｓｅｒ"),
			want: []hit{badUser(HitMention, InTweet, TierExact, "＠ＢａｄＵｓｅｒ")},
		},
		{
			name: "mathematical bold mention is exact",
			post: textPost("thanks @𝐛𝐚𝐝𝐮𝐬𝐞𝐫"),
			want: []hit{badUser(HitMention, InTweet, TierExact, "@𝐛𝐚𝐝𝐮𝐬𝐞𝐫")},
		},
		{
			name: "list owner",
			post: textPost("see @baduser/farm-list"),
			want: []hit{badUser(HitMention, InTweet, TierExact, "@baduser")},
		},
		{
			name: "mention with separator is loose",
			post: textPost("cc @bad_user"),
			want: []hit{badUser(HitMention, InTweet, TierLoose, "@bad_user")},
		},
		{
			name: "hashtag",
			post: textPost("#FarmerGenocide now"),
			want: []hit{farmerTag(InTweet, TierExact, "#FarmerGenocide")},
		},
		{
			name: "hashtag with underscore is loose",
			post: textPost("#Farmer_Genocide now"),
			want: []hit{farmerTag(InTweet, TierLoose, "#Farmer_Genocide")},
		},
		{
			name: "hashtag with middle dot is loose",
			post: textPost("#Farmer·Genocide now"),
			want: []hit{farmerTag(InTweet, TierLoose, "#Farmer·Genocide")},
		},
		{
			name: "hashtag with zero width space is exact",
			post: textPost("#Farmer\u200bGenocide"),
			want: []hit{farmerTag(InTweet, TierExact, "#Farmer\u200bGenocide")},
		},
		{
			name: "fullwidth hashtag is exact",
			post: textPost("＃ＦａｒｍｅｒＧｅｎｏｃｉｄｅ"),
			want: []hit{farmerTag(InTweet, TierExact, "＃ＦａｒｍｅｒＧｅｎｏｃｉｄｅ")},
		},
		{
			name: "hashtag entity",
			post: tweetPost(&Tweet{Hashtags: bs("farmergenocide")}),
			want: []hit{farmerTag(InTweet, TierExact, "#farmergenocide")},
		},
		{
			name: "exact-only demand matches exactly",
			post: textPost("#exactonlytag and @STRICT_USER"),
			want: []hit{
				{HitHashtag, InTweet, TierExact, "#exactonlytag", "#ExactOnlyTag", "DE-2", "DE"},
				{HitMention, InTweet, TierExact, "@STRICT_USER", "strict_user", "DE-2", "DE"},
			},
		},
		{
			name: "exact-only demand does not match loosely",
			post: textPost("#Exact_Only_Tag and @strictuser and @strict__user"),
		},
		{
			name: "lookalike where the demand enables it",
			post: textPost("#G0vernmentLies #Gоvernment_Lies"), // digit zero; Cyrillic о
			want: []hit{
				{HitHashtag, InTweet, TierLookalike, "#G0vernmentLies", "#GovernmentLies", "TR-3", "TR"},
				{HitHashtag, InTweet, TierLookalike, "#Gоvernment_Lies", "#GovernmentLies", "TR-3", "TR"},
			},
		},
		{
			name: "no lookalike where the demand does not enable it",
			post: textPost("#FarrnerGenocide #F\u0430rmerGenocide #FarmerGen0cide"),
		},
		{
			name: "user id of the author",
			post: tweetPost(&Tweet{AuthorID: []byte("1234567890"), AuthorHandle: []byte("renamed_acct")}),
			want: []hit{{HitAuthorID, InTweet, TierExact, "1234567890", "1234567890", "IN-1", "IN"}},
		},
		{
			name: "user id with leading zeros",
			post: tweetPost(&Tweet{AuthorID: []byte("001234567890")}),
			want: []hit{{HitAuthorID, InTweet, TierExact, "001234567890", "1234567890", "IN-1", "IN"}},
		},
		{
			name: "user id of a mention",
			post: tweetPost(&Tweet{Mentions: []Mention{{ID: []byte("1234567890")}, {Handle: []byte("renamed_acct"), ID: []byte("1234567890")}}}),
			want: []hit{
				{HitMention, InTweet, TierExact, "1234567890", "1234567890", "IN-1", "IN"},
				{HitMention, InTweet, TierExact, "@renamed_acct", "1234567890", "IN-1", "IN"},
			},
		},
		{
			name: "other user id",
			post: tweetPost(&Tweet{AuthorID: []byte("12345678901"), Mentions: []Mention{{ID: []byte("123456789")}}}),
		},
		{
			name: "replied-to author",
			post: &Post{Parts: []Part{
				{In: InTweet, Tweet: &Tweet{AuthorHandle: []byte("someone"), Text: []byte("I agree")}},
				{In: InRepliedTo, Tweet: &Tweet{AuthorHandle: []byte("BadUser")}},
			}},
			want: []hit{badUser(HitAuthor, InRepliedTo, TierExact, "@BadUser")},
		},
		{
			name: "retweeted and quoted parts",
			post: &Post{Parts: []Part{
				{In: InTweet, Tweet: &Tweet{AuthorHandle: []byte("someone"), Text: []byte("RT @baduser: #FarmerGenocide")}},
				{In: InRetweeted, Tweet: &Tweet{AuthorHandle: []byte("baduser"), Text: []byte("#FarmerGenocide")}},
				{In: InQuoted, Tweet: &Tweet{AuthorHandle: []byte("other"), Text: []byte("see #Farmer_Genocide news.example.org/x")}},
			}},
			want: []hit{
				badUser(HitMention, InTweet, TierExact, "@baduser"),
				farmerTag(InTweet, TierExact, "#FarmerGenocide"),
				badUser(HitAuthor, InRetweeted, TierExact, "@baduser"),
				farmerTag(InRetweeted, TierExact, "#FarmerGenocide"),
				farmerTag(InQuoted, TierLoose, "#Farmer_Genocide"),
				{HitDomain, InQuoted, TierExact, "news.example.org/x", "example.org", "IN-1", "IN"},
			},
		},
		{
			name:  "phrase across punctuation",
			lists: "phrases",
			post:  textPost("Stop the Farmer-Genocide!!"),
			want:  []hit{farmerPhrase(TierExact, "Farmer-Genocide")},
		},
		{
			name:  "phrase as a hashtag is loose",
			lists: "phrases",
			post:  textPost("#FarmerGenocide is trending"),
			want:  []hit{farmerPhrase(TierLoose, "FarmerGenocide")},
		},
		{
			name:  "phrase with invisible characters and fullwidth",
			lists: "phrases",
			post:  textPost("ＦＡＲＭＥＲ geno\u200bcide"),
			want:  []hit{farmerPhrase(TierExact, "ＦＡＲＭＥＲ geno\u200bcide")},
		},
		{
			name:  "phrase twice",
			lists: "phrases",
			post:  textPost("farmer genocide, farmer genocide"),
			want:  []hit{farmerPhrase(TierExact, "farmer genocide")},
		},
		{
			name:  "Devanagari phrase",
			lists: "phrases",
			post:  textPost("यह किसान विरोधी क़ानून है"),
			want:  []hit{{HitPhrase, InTweet, TierExact, "किसान विरोधी", "किसान विरोधी", "IN-4", "IN"}},
		},
		{
			name:  "exact-only phrase",
			lists: "phrases",
			post:  textPost("a Stolen Election? #StolenElection"),
			want:  []hit{{HitPhrase, InTweet, TierExact, "Stolen Election", "stolen election", "DE-5", "DE"}},
		},
		{
			name:  "phrase near misses",
			lists: "phrases",
			post:  textPost("farmer genocidal farmers genocide farmer, the genocide कसान विरोधी"),
		},
		{
			name: "Devanagari hashtag",
			post: textPost("#किसानआंदोलन"),
			want: []hit{{HitHashtag, InTweet, TierExact, "#किसानआंदोलन", "#किसानआंदोलन", "IN-1", "IN"}},
		},
		{
			name: "Devanagari hashtag with underscore is loose",
			post: textPost("#किसान_आंदोलन"),
			want: []hit{{HitHashtag, InTweet, TierLoose, "#किसान_आंदोलन", "#किसानआंदोलन", "IN-1", "IN"}},
		},
		{
			name: "near misses",
			post: textPost("#FarmerGenocides #FarmerGenocide2 @baduser1 @baduse @bad @user #कसानआंदोलन #किसानआदोलन"),
		},
		{
			name: "e-mail address is not a mention",
			post: textPost("write to baduser@example.net"),
		},
		{
			name: "domain in a URL entity",
			post: tweetPost(&Tweet{URLs: bs("https://news.example.org/story?id=1")}),
			want: []hit{domain("https://news.example.org/story?id=1")},
		},
		{
			name: "domains in text",
			post: textPost("see https://Example.ORG/a and news.example.org/b, www．example．org"),
			want: []hit{domain("https://Example.ORG/a"), domain("news.example.org/b"), domain("www．example．org")},
		},
		{
			name: "domain near misses",
			post: textPost("example.org.evil.com notexample.org example.organic.com example.net evil.com/example.org"),
		},
		{
			name: "domain near miss in a URL entity",
			post: tweetPost(&Tweet{URLs: bs("https://example.org.evil.com/", "https://notexample.org/", "https://evil.com/example.org")}),
		},
		{
			name: "same thing in entities and text is reported once",
			post: tweetPost(&Tweet{
				Text:     []byte("@baduser #FarmerGenocide https://news.example.org/x"),
				Mentions: []Mention{{Handle: []byte("baduser")}},
				Hashtags: bs("FarmerGenocide"),
				URLs:     bs("https://news.example.org/x"),
			}),
			want: []hit{
				badUser(HitMention, InTweet, TierExact, "@baduser"),
				farmerTag(InTweet, TierExact, "#FarmerGenocide"),
				domain("https://news.example.org/x"),
			},
		},
		{
			name: "same text twice is reported once",
			post: textPost("#FarmerGenocide #FarmerGenocide @baduser @baduser"),
			want: []hit{
				farmerTag(InTweet, TierExact, "#FarmerGenocide"),
				badUser(HitMention, InTweet, TierExact, "@baduser"),
			},
		},
		{
			name: "different spellings are reported apart",
			post: textPost("#FarmerGenocide #farmergenocide"),
			want: []hit{
				farmerTag(InTweet, TierExact, "#FarmerGenocide"),
				farmerTag(InTweet, TierExact, "#farmergenocide"),
			},
		},
		{
			name: "author and mention of the same account",
			post: tweetPost(&Tweet{AuthorHandle: []byte("baduser"), Text: []byte("I am @baduser")}),
			want: []hit{
				badUser(HitAuthor, InTweet, TierExact, "@baduser"),
				badUser(HitMention, InTweet, TierExact, "@baduser"),
			},
		},
	}
	var m Matcher
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lists := tt.lists
			if lists == "" {
				lists = "main"
			}
			s := snapshots[lists]
			got := describeHits(s, m.Match(s, tt.post, nil))
			want := tt.want
			if want == nil {
				want = []hit{}
			}
			if !slices.Equal(got, want) {
				t.Errorf("Match:\ngot  %v\nwant %v", got, want)
			}
		})
	}
}

func TestMatchEmpty(t *testing.T) {
	var m Matcher
	post := textPost("#FarmerGenocide @baduser")
	if hits := m.Match(nil, post, nil); len(hits) != 0 {
		t.Errorf("Match(nil snapshot) = %d hits, want 0", len(hits))
	}
	s, _, err := Compile(nil, feb2021)
	if err != nil {
		t.Fatal(err)
	}
	if hits := m.Match(s, post, nil); len(hits) != 0 {
		t.Errorf("Match(empty snapshot) = %d hits, want 0", len(hits))
	}
	if hits := m.Match(s, &Post{}, nil); len(hits) != 0 {
		t.Errorf("Match(empty post) = %d hits, want 0", len(hits))
	}
}

// TestMatchConcurrent runs one Matcher per goroutine over a shared
// snapshot; with -race it checks that matching does not write to it.
func TestMatchConcurrent(t *testing.T) {
	s := compileAt(t, feb2021, matchLists["main"])
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var m Matcher
			for range 200 {
				hits := m.Match(s, textPost("@bad\u200buser #Farmer_Genocide https://news.example.org/x"), nil)
				if len(hits) != 3 {
					t.Errorf("Match: %d hits, want 3", len(hits))
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestHitNames(t *testing.T) {
	var names []string
	for _, k := range HitKinds() {
		names = append(names, k.String())
	}
	if want := []string{"hashtag", "mention", "author", "author_id", "phrase", "domain", "text"}; !slices.Equal(names, want) {
		t.Errorf("hit kinds = %q, want %q", names, want)
	}
	if len(HitKinds()) != NumHitKinds || HitKind(NumHitKinds).String() != "unknown" {
		t.Errorf("HitKinds() lists %d kinds, want NumHitKinds = %d, and the next kind unknown", len(HitKinds()), NumHitKinds)
	}
	names = names[:0]
	for _, w := range []Where{InTweet, InRetweeted, InQuoted, InRepliedTo} {
		names = append(names, w.String())
	}
	if want := []string{"tweet", "retweeted", "quoted", "replied_to"}; !slices.Equal(names, want) {
		t.Errorf("places = %q, want %q", names, want)
	}
}

// benchLists is a demand of 1,000 handles, a few hashtags, a phrase and a
// domain, like the lists in the allocation test and BenchmarkMatch.
func benchLists() map[string]string {
	var b strings.Builder
	b.WriteString("id: IN-BENCH\njurisdiction: IN\nhashtags: [\"#FarmerGenocide\", \"#ModiPlanningFarmerGenocide\", \"#किसानआंदोलन\", \"#விவசாயி\"]\n")
	b.WriteString("phrases: [\"farmer genocide\"]\ndomains: [example.org]\nhandles_file: handles.txt\n")
	var h strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&h, "fict_user_%04d\n", i)
	}
	return map[string]string{"bench.yaml": b.String(), "handles.txt": h.String()}
}

var benchPosts = []struct {
	name string
	post *Post
	hits int
}{
	{"English", tweetPost(&Tweet{
		AuthorHandle: []byte("fict_user_0042"),
		AuthorID:     []byte("1357924680"),
		Text:         []byte("@fict_user_0007 Farmers from Punjab and Haryana march on the capital today; police closed the border roads again. #FarmerGenocide https://t.co/abc123"),
		Mentions:     []Mention{{Handle: []byte("fict_user_0007"), ID: []byte("24680")}},
		Hashtags:     bs("FarmerGenocide"),
		URLs:         bs("https://news.example.org/2021/02/farmers"),
	}), 5},
	{"Devanagari", textPost("किसान आंदोलन जारी है, दिल्ली की सीमाओं पर हज़ारों किसान #किसानआंदोलन @fict_user_0100"), 2},
	{"Tamil", textPost("விவசாயிகள் போராட்டம் தொடர்கிறது @fict_user_0007 #விவசாயி"), 2},
	{"fullwidth", textPost("＠ｆｉｃｔ＿ｕｓｅｒ＿０００１ ＃ＦａｒｍｅｒＧｅｎｏｃｉｄｅ ｆａｒｍｅｒ ｇｅｎｏｃｉｄｅ"), 4},
	{"evasive", textPost("@fict\u200b_user_0001 #Farmer\u200bGenocide #Farmer_Genocide farmer-genocide"), 6},
	{"styled", textPost("Ｈｅｌｌｏ #𝐅𝐚𝐫𝐦𝐞𝐫𝐆𝐞𝐧𝐨𝐜𝐢𝐝𝐞 café ﹫fict_user_0001 #\u095Bमीन #क़ानून déjà-vu ẛ"), 3},
	{"other scripts", textPost("농민 시위 #농민 今日は ＃農民 です Фермеры протестуют #фермеры @fict_user_0002"), 1},
}

func TestMatchAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	s := compileAt(t, feb2021, benchLists())
	for _, bp := range benchPosts {
		t.Run(bp.name, func(t *testing.T) {
			var m Matcher
			if hits := m.Match(s, bp.post, nil); len(hits) != bp.hits {
				t.Fatalf("Match: %d hits %v, want %d", len(hits), describeHits(s, hits), bp.hits)
			}
			allocs := testing.AllocsPerRun(100, func() { m.Match(s, bp.post, nil) })
			if allocs != 0 {
				t.Errorf("Match allocates %v times per call after warm-up, want 0", allocs)
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	s := compileAt(b, feb2021, benchLists())
	for _, bp := range benchPosts {
		b.Run(bp.name, func(b *testing.B) {
			var m Matcher
			b.ReportAllocs()
			b.SetBytes(int64(len(bp.post.Main().Text)))
			for b.Loop() {
				m.Match(s, bp.post, nil)
			}
		})
	}
}
