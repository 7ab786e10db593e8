package matchers_test

import (
	"slices"
	"testing"

	. "flagstream/matchers"
)

// fakeBindings binds user ids to handle keys, as the bindings table does.
type fakeBindings map[string][][]byte

func (f fakeBindings) BoundHandles(userID []byte, fn func(handleKey []byte)) {
	for _, h := range f[string(userID)] {
		fn(h)
	}
}

func bind(pairs ...string) fakeBindings {
	f := fakeBindings{}
	for i := 0; i+1 < len(pairs); i += 2 {
		f[pairs[i]] = append(f[pairs[i]], []byte(pairs[i+1]))
	}
	return f
}

var bindingLists = map[string]string{
	"in.yaml": `id: IN-1
jurisdiction: IN
scope: user
handles: ["@Listed_One", other_one]
accounts:
  - {handle: pinned_one, user_id: "0077"}
hashtags: ["#FarmerGenocide"]
`,
	"ts.yaml": `id: TS-2
jurisdiction: US
scope: tweet
handles: [listed_one]
`,
	"old.yaml": `id: OLD-3
jurisdiction: DE
expires: 2020-01-01
handles: [listed_one]
`,
}

// bhit is a hit as the binding tests compare it.
type bhit struct {
	kind   HitKind
	in     Where
	value  string
	entry  string
	demand string
	via    bool
}

func describeBound(s *Snapshot, hits []Hit) []bhit {
	out := []bhit{}
	for _, h := range hits {
		v := string(h.Value)
		if h.Sigil != 0 {
			v = string(h.Sigil) + v
		}
		out = append(out, bhit{h.Kind, h.In, v, string(s.EntryValue(h.Entry)), s.Demands()[s.Demand(h.Entry)].ID, h.ViaBinding})
	}
	return out
}

func TestMatchViaBinding(t *testing.T) {
	s := compileAt(t, feb2021, bindingLists)
	learned := bind("42", "listed_one")
	author := func(id, handle string) *Tweet {
		return &Tweet{AuthorID: []byte(id), AuthorHandle: []byte(handle), Text: []byte("hello")}
	}
	tests := []struct {
		name     string
		post     *Post
		bindings Bindings
		want     []bhit
	}{
		{
			name:     "renamed author",
			post:     tweetPost(author("42", "Renamed_Now")),
			bindings: learned,
			want: []bhit{
				{HitAuthorID, InTweet, "@Renamed_Now", "@Listed_One", "IN-1", true},
				{HitAuthorID, InTweet, "@Renamed_Now", "listed_one", "TS-2", true},
			},
		},
		{
			name:     "leading zeros of the id",
			post:     tweetPost(author("0042", "renamed_now")),
			bindings: learned,
			want: []bhit{
				{HitAuthorID, InTweet, "@renamed_now", "@Listed_One", "IN-1", true},
				{HitAuthorID, InTweet, "@renamed_now", "listed_one", "TS-2", true},
			},
		},
		{
			name:     "no bindings",
			post:     tweetPost(author("42", "renamed_now")),
			bindings: nil,
			want:     []bhit{},
		},
		{
			name:     "author under the listed handle: the handle's hit only",
			post:     tweetPost(author("42", "listed_one")),
			bindings: learned,
			want: []bhit{
				{HitAuthor, InTweet, "@listed_one", "@Listed_One", "IN-1", false},
				{HitAuthor, InTweet, "@listed_one", "listed_one", "TS-2", false},
			},
		},
		{
			name:     "author without a handle",
			post:     tweetPost(&Tweet{AuthorID: []byte("42")}),
			bindings: learned,
			want: []bhit{
				{HitAuthorID, InTweet, "42", "@Listed_One", "IN-1", true},
				{HitAuthorID, InTweet, "42", "listed_one", "TS-2", true},
			},
		},
		{
			name: "renamed author of the retweeted tweet",
			post: &Post{Parts: []Part{
				{In: InTweet, Tweet: author("1", "someone")},
				{In: InRetweeted, Tweet: author("42", "renamed_now")},
			}},
			bindings: learned,
			want: []bhit{
				{HitAuthorID, InRetweeted, "@renamed_now", "@Listed_One", "IN-1", true},
				{HitAuthorID, InRetweeted, "@renamed_now", "listed_one", "TS-2", true},
			},
		},
		{
			name: "mention entity of a bound account",
			post: tweetPost(&Tweet{AuthorID: []byte("1"), AuthorHandle: []byte("someone"), Text: []byte("hi @renamed_now"),
				Mentions: []Mention{{Handle: []byte("renamed_now"), ID: []byte("42")}}}),
			bindings: learned,
			want: []bhit{
				{HitMention, InTweet, "@renamed_now", "@Listed_One", "IN-1", true},
				{HitMention, InTweet, "@renamed_now", "listed_one", "TS-2", true},
			},
		},
		{
			name: "mention entity by id alone",
			post: tweetPost(&Tweet{AuthorID: []byte("1"), Text: []byte("hi"),
				Mentions: []Mention{{ID: []byte("42")}}}),
			bindings: learned,
			want: []bhit{
				{HitMention, InTweet, "42", "@Listed_One", "IN-1", true},
				{HitMention, InTweet, "42", "listed_one", "TS-2", true},
			},
		},
		{
			name: "mention of the listed handle with its bound id: once",
			post: tweetPost(&Tweet{AuthorID: []byte("1"), Text: []byte("hi"),
				Mentions: []Mention{{Handle: []byte("Listed_One"), ID: []byte("42")}}}),
			bindings: learned,
			want: []bhit{
				{HitMention, InTweet, "@Listed_One", "@Listed_One", "IN-1", false},
				{HitMention, InTweet, "@Listed_One", "listed_one", "TS-2", false},
			},
		},
		{
			name:     "pinned account under another handle, without bindings",
			post:     tweetPost(author("77", "pin_renamed")),
			bindings: nil,
			want:     []bhit{{HitAuthorID, InTweet, "@pin_renamed", "pinned_one", "IN-1", true}},
		},
		{
			name:     "pinned and learned bind the same: one hit",
			post:     tweetPost(author("77", "pin_renamed")),
			bindings: bind("77", "pinned_one"),
			want:     []bhit{{HitAuthorID, InTweet, "@pin_renamed", "pinned_one", "IN-1", true}},
		},
		{
			name:     "a bound key that no demand lists",
			post:     tweetPost(author("9", "x")),
			bindings: bind("9", "unlisted"),
			want:     []bhit{},
		},
		{
			name:     "binding hits beside other hits",
			post:     tweetPost(&Tweet{AuthorID: []byte("42"), AuthorHandle: []byte("renamed_now"), Text: []byte("#FarmerGenocide @other_one")}),
			bindings: learned,
			want: []bhit{
				{HitAuthorID, InTweet, "@renamed_now", "@Listed_One", "IN-1", true},
				{HitAuthorID, InTweet, "@renamed_now", "listed_one", "TS-2", true},
				{HitHashtag, InTweet, "#FarmerGenocide", "#FarmerGenocide", "IN-1", false},
				{HitMention, InTweet, "@other_one", "other_one", "IN-1", false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Matcher
			got := describeBound(s, m.Match(s, tt.post, tt.bindings))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Match:\ngot  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestSnapshotAccountEntries(t *testing.T) {
	s := compileAt(t, feb2021, bindingLists)
	type entry struct {
		demand, value string
		kind          EntryKind
		caseEntry     bool
		pinned        string
	}
	var got []entry
	for e := uint32(0); int(e) < entryCount(s); e++ {
		got = append(got, entry{s.Demands()[s.Demand(e)].ID, string(s.EntryValue(e)), s.EntryKind(e), s.CaseEntry(e), s.PinnedUserID(e)})
	}
	want := []entry{
		{"IN-1", "@Listed_One", EntryHandle, true, ""},
		{"IN-1", "other_one", EntryHandle, true, ""},
		{"IN-1", "#FarmerGenocide", EntryHashtag, false, ""},
		{"IN-1", "pinned_one", EntryHandle, true, "77"},
		{"OLD-3", "listed_one", EntryHandle, false, ""},
		{"TS-2", "listed_one", EntryHandle, false, ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries:\ngot  %v\nwant %v", got, want)
	}
}

// entryCount returns the number of entry references of s, repeats and
// inactive demands' included.
func entryCount(s *Snapshot) int {
	n := 0
	for d := range s.Demands() {
		for _, c := range s.Counts(d) {
			n += c
		}
	}
	return n
}

func TestPinsInListsVersion(t *testing.T) {
	base := "id: P-1\njurisdiction: IN\nscope: user\nhandles: [one]\n"
	version := func(demand string) string {
		return compileAt(t, feb2021, map[string]string{"p.yaml": demand}).Version()
	}
	plain := version(base)
	pinned := version(base + "accounts: [{handle: one, user_id: 1}]\n")
	repinned := version(base + "accounts: [{handle: one, user_id: 2}]\n")
	if plain == pinned || pinned == repinned {
		t.Errorf("versions %s (no pin), %s (pinned to 1), %s (pinned to 2): a pin must change the version", plain, pinned, repinned)
	}
	if again := version(base + "accounts:\n  - {handle: \"@ONE\", user_id: \"001\"}\n"); again != pinned {
		t.Errorf("the same pin written otherwise gives version %s, want %s", again, pinned)
	}
}

func TestCompilePinErrors(t *testing.T) {
	d := Demand{ID: "X", Jurisdictions: []string{"IN"}, Tiers: DefaultTiers, File: "x.yaml", Line: 1,
		Pins: []Pin{{Handle: "not_listed", UserID: "1", File: "x.yaml", Line: 3}}}
	d.Entries.Add(Entry{Kind: EntryHandle, Value: "listed", File: "x.yaml", Line: 2})
	if _, _, err := Compile([]Demand{d}, feb2021); err == nil || err.Error() != `x.yaml:3: accounts: handle "not_listed" is not a handle entry of demand X` {
		t.Errorf("Compile of a pin of an unlisted handle: %v", err)
	}
	d.Pins = []Pin{{Handle: "listed", UserID: "1", File: "x.yaml", Line: 3}, {Handle: "@Listed", UserID: "2", File: "x.yaml", Line: 4}}
	if _, _, err := Compile([]Demand{d}, feb2021); err == nil || err.Error() != `x.yaml:4: accounts: handle "@Listed" is pinned to 2 here and to 1 at x.yaml:3` {
		t.Errorf("Compile of a handle pinned twice: %v", err)
	}
}

func TestMatchAllocsWithBindings(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	s := compileAt(t, feb2021, bindingLists)
	b := bind("42", "listed_one", "43", "other_one")
	post := &Post{Parts: []Part{
		{In: InTweet, Tweet: &Tweet{AuthorID: []byte("42"), AuthorHandle: []byte("renamed_now"), Text: []byte("#FarmerGenocide @x"),
			Mentions: []Mention{{Handle: []byte("x"), ID: []byte("43")}}}},
		{In: InQuoted, Tweet: &Tweet{AuthorID: []byte("77"), AuthorHandle: []byte("pin_renamed")}},
	}}
	var m Matcher
	if hits := m.Match(s, post, b); len(hits) != 5 {
		t.Fatalf("Match: %d hits %v, want 5", len(hits), describeBound(s, hits))
	}
	if allocs := testing.AllocsPerRun(100, func() { m.Match(s, post, b) }); allocs != 0 {
		t.Errorf("Match with bindings allocates %v times per call after warm-up, want 0", allocs)
	}
}

// BenchmarkMatchBindings measures the cost of a bindings view: the bench
// posts of BenchmarkMatch with a table that binds none of their ids, and a
// post by a bound account under a new handle.
func BenchmarkMatchBindings(b *testing.B) {
	s := compileAt(b, feb2021, benchLists())
	table := bind("99", "fict_user_0042", "98", "fict_user_0007")
	for _, bp := range benchPosts[:1] {
		b.Run(bp.name+"/no binding hit", func(b *testing.B) {
			var m Matcher
			b.ReportAllocs()
			for b.Loop() {
				m.Match(s, bp.post, table)
			}
		})
	}
	renamed := tweetPost(&Tweet{AuthorID: []byte("99"), AuthorHandle: []byte("new_name_42"),
		Text:     []byte("same account, new name; hello @somebody"),
		Mentions: []Mention{{Handle: []byte("other_name"), ID: []byte("98")}}})
	b.Run("renamed", func(b *testing.B) {
		var m Matcher
		if hits := m.Match(s, renamed, table); len(hits) != 2 {
			b.Fatalf("%d hits, want 2", len(hits))
		}
		b.ReportAllocs()
		for b.Loop() {
			m.Match(s, renamed, table)
		}
	})
}
