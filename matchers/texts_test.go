package matchers_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	. "flagstream/matchers"
)

// textCorpus is the near-duplicate test corpus: claims, each with its
// rewrites on the same topic.
type textCorpus struct {
	claims   []string
	rewrites [][]string
}

func loadTextCorpus(t testing.TB) textCorpus {
	t.Helper()
	f, err := os.Open("testdata/texts/claims.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var c textCorpus
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "> "):
			c.rewrites[len(c.rewrites)-1] = append(c.rewrites[len(c.rewrites)-1], line[2:])
		default:
			c.claims = append(c.claims, line)
			c.rewrites = append(c.rewrites, nil)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return c
}

// textDemand is a demand listing texts, at threshold similarity (0: the
// default).
func textDemand(id string, similarity float64, texts ...string) Demand {
	d := Demand{ID: id, Jurisdictions: []string{"IN"}, Tiers: DefaultTiers, TextSimilarity: similarity, File: id + ".yaml", Line: 1}
	for i, text := range texts {
		d.Entries.Add(Entry{Kind: EntryText, Value: text, File: id + ".txt", Line: i + 1})
	}
	return d
}

func compileDemands(t testing.TB, ds ...Demand) *Snapshot {
	t.Helper()
	s, _, err := Compile(ds, time.Time{})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

// fillers replace words in edited copies.
var fillers = strings.Fields("really now totally secret official urgent new many some everyone truth shocking huge")

// editKinds are the edits a copy of a known text gets as it spreads.
var editKinds = []struct {
	name string
	edit func(r *rand.Rand, words []string) []string
}{
	{"upper case", func(r *rand.Rand, w []string) []string { return mapWords(w, strings.ToUpper) }},
	{"lower case", func(r *rand.Rand, w []string) []string { return mapWords(w, strings.ToLower) }},
	{"title case", func(r *rand.Rand, w []string) []string { return mapWords(w, titleCase) }},
	{"punctuation removed", func(r *rand.Rand, w []string) []string { return mapWords(w, stripPunct) }},
	{"punctuation added", func(r *rand.Rand, w []string) []string {
		w = slices.Clone(w)
		for range 3 {
			w[r.IntN(len(w))] += [...]string{",", "!", "...", ":", "?!"}[r.IntN(5)]
		}
		w[len(w)-1] += "!!!"
		return w
	}},
	{"RT prefix", func(r *rand.Rand, w []string) []string {
		return append([]string{"RT", fmt.Sprintf("@fict_user_%d:", r.IntN(1000))}, w...)
	}},
	{"emoji appended", func(r *rand.Rand, w []string) []string { return append(slices.Clone(w), "🔥🔥", "🙏") }},
	{"link appended", func(r *rand.Rand, w []string) []string {
		return append(slices.Clone(w), fmt.Sprintf("https://t.co/%x", r.Uint32()))
	}},
	{"one word changed", func(r *rand.Rand, w []string) []string { return changeWords(r, w, 1) }},
	{"one word deleted", func(r *rand.Rand, w []string) []string { return deleteWords(r, w, 1) }},
	{"two words changed", func(r *rand.Rand, w []string) []string { return changeWords(r, w, 2) }},
	{"two words deleted", func(r *rand.Rand, w []string) []string { return deleteWords(r, w, 2) }},
	{"word changed and word deleted", func(r *rand.Rand, w []string) []string { return deleteWords(r, changeWords(r, w, 1), 1) }},
	{"RT prefix, link, lower case", func(r *rand.Rand, w []string) []string {
		w = mapWords(w, strings.ToLower)
		return append(append([]string{"RT", "@fict_news:"}, w...), "https://t.co/AbC123")
	}},
	{"emoji, punctuation, one word changed", func(r *rand.Rand, w []string) []string {
		w = changeWords(r, mapWords(w, stripPunct), 1)
		return append(w, "‼️", "😡")
	}},
	{"RT prefix, two words changed", func(r *rand.Rand, w []string) []string {
		return append([]string{"RT", "@someone:"}, changeWords(r, w, 2)...)
	}},
}

func mapWords(w []string, f func(string) string) []string {
	out := make([]string, len(w))
	for i := range w {
		out[i] = f(w[i])
	}
	return out
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func stripPunct(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) {
			return -1
		}
		return r
	}, s)
}

func changeWords(r *rand.Rand, w []string, n int) []string {
	w = slices.Clone(w)
	for _, i := range r.Perm(len(w))[:n] {
		w[i] = fillers[r.IntN(len(fillers))]
	}
	return w
}

func deleteWords(r *rand.Rand, w []string, n int) []string {
	w = slices.Clone(w)
	for range n {
		i := r.IntN(len(w))
		w = slices.Delete(w, i, i+1)
	}
	return w
}

// editedCopy is a claim as a copy that spread changed it.
type editedCopy struct {
	claim int
	kind  string
	text  string
}

func editedCopies(claims []string, variants int) []editedCopy {
	r := rand.New(rand.NewPCG(1, 2))
	var out []editedCopy
	for ci, c := range claims {
		words := strings.Fields(c)
		for _, k := range editKinds {
			for range variants {
				out = append(out, editedCopy{ci, k.name, strings.Join(k.edit(r, words), " ")})
			}
		}
	}
	return out
}

// TestTextRecall: edited copies of listed texts match them at the default
// similarity, at least 95% of them, through the whole matcher (filter,
// MinHash bands and the exact check).
func TestTextRecall(t *testing.T) {
	c := loadTextCorpus(t)
	s := compileDemands(t, textDemand("TEXTS-1", 0, c.claims...))
	var m Matcher
	type tally struct{ copies, found int }
	byKind := map[string]*tally{}
	var all tally
	minSim := 1.0
	for _, e := range editedCopies(c.claims, 4) {
		tl := byKind[e.kind]
		if tl == nil {
			tl = &tally{}
			byKind[e.kind] = tl
		}
		tl.copies++
		all.copies++
		for _, h := range m.Match(s, textPost(e.text), nil) {
			if h.Kind != HitText {
				continue
			}
			if got := string(s.EntryValue(h.Entry)); got != c.claims[e.claim] {
				t.Errorf("copy %q (%s) matched another claim %q", e.text, e.kind, got)
				continue
			}
			tl.found++
			all.found++
			minSim = min(minSim, h.Similarity)
		}
	}
	for _, k := range editKinds {
		tl := byKind[k.name]
		t.Logf("%-40s %3d/%3d found", k.name, tl.found, tl.copies)
	}
	recall := float64(all.found) / float64(all.copies)
	t.Logf("recall %.3f (%d of %d edited copies of %d claims), lowest similarity found %.2f", recall, all.found, all.copies, len(c.claims), minSim)
	if recall < 0.95 {
		t.Errorf("recall %.3f on edited copies, want at least 0.95", recall)
	}
	for _, k := range editKinds[:8] { // the edits that change no word
		if tl := byKind[k.name]; tl.found != tl.copies {
			t.Errorf("%s: %d of %d copies found, want all", k.name, tl.found, tl.copies)
		}
	}
}

// TestTextRewrites: texts on the same topic written differently never
// match a listed text at the default similarity, nor does any claim match
// another one.
func TestTextRewrites(t *testing.T) {
	c := loadTextCorpus(t)
	s := compileDemands(t, textDemand("TEXTS-1", 0, c.claims...))
	var m Matcher
	sets := make([][]uint64, len(c.claims))
	for i, claim := range c.claims {
		sets[i] = SortedShingles(claim)
	}
	maxSim, rewrites := 0.0, 0
	for ci, rs := range c.rewrites {
		for _, text := range rs {
			rewrites++
			if hits := m.Match(s, textPost(text), nil); len(hits) != 0 {
				t.Errorf("rewrite %q matches %v", text, describeHits(s, hits))
			}
			a := SortedShingles(text)
			inter, union := Jaccard(a, sets[ci])
			maxSim = max(maxSim, float64(inter)/float64(union))
		}
	}
	for i := range c.claims {
		for j := range c.claims {
			if i != j {
				inter, union := Jaccard(sets[i], sets[j])
				maxSim = max(maxSim, float64(inter)/float64(union))
			}
		}
	}
	for ci, rs := range c.rewrites {
		if len(rs) == 0 {
			t.Errorf("claim %q has no rewrite", c.claims[ci])
		}
	}
	t.Logf("%d rewrites of %d claims: highest similarity to a claim %.2f", rewrites, len(c.claims), maxSim)
	if maxSim >= MinTextSimilarity {
		t.Errorf("a rewrite or another claim is %.2f similar to a claim, at or above the lowest threshold %.2f", maxSim, MinTextSimilarity)
	}
}

// TestTextIndexAgainstBruteForce compares the matcher's text hits with the
// exact similarity of every pair, at the lowest threshold: the filter and
// the bands may lose at most a sliver of the pairs (MinHash banding is
// probabilistic), and no hit may be below its threshold.
func TestTextIndexAgainstBruteForce(t *testing.T) {
	c := loadTextCorpus(t)
	s := compileDemands(t, textDemand("LOW-1", MinTextSimilarity, c.claims...))
	var m Matcher
	sets := make([][]uint64, len(c.claims))
	for i, claim := range c.claims {
		sets[i] = SortedShingles(claim)
	}
	texts := []string{}
	for _, e := range editedCopies(c.claims, 2) {
		texts = append(texts, e.text)
	}
	for _, rs := range c.rewrites {
		texts = append(texts, rs...)
	}
	pairs, found := 0, 0
	for _, text := range texts {
		a := SortedShingles(text)
		want := map[string]float64{}
		for i := range c.claims {
			if inter, union := Jaccard(a, sets[i]); Similar(inter, union, MinTextSimilarity) {
				want[c.claims[i]] = float64(inter) / float64(union)
			}
		}
		pairs += len(want)
		for _, h := range m.Match(s, textPost(text), nil) {
			entry := string(s.EntryValue(h.Entry))
			sim, ok := want[entry]
			if !ok {
				t.Errorf("%q matched %q, which is below the threshold", text, entry)
				continue
			}
			if h.Similarity != sim {
				t.Errorf("%q matched %q at %v, want %v", text, entry, h.Similarity, sim)
			}
			found++
		}
	}
	t.Logf("%d of %d pairs at or above %.2f found", found, pairs, MinTextSimilarity)
	if found < pairs*995/1000 {
		t.Errorf("found %d of %d pairs, want at least 99.5%%", found, pairs)
	}
}

// TestTextIndexSkipsRepeats: a text repeated within a demand is left out
// of the index, which is compacted where it lies; every text after the
// repeat still matches itself, and only itself.
func TestTextIndexSkipsRepeats(t *testing.T) {
	texts := []string{
		"Banks will freeze all savings accounts over ten thousand on Monday morning, withdraw your money today",
		"The moon landing footage was filmed in a studio and the shadows prove it beyond any doubt",
		"Drinking hot water with lemon every hour cures the new virus within three days say doctors",
		"The election machines in three counties flipped forty thousand votes overnight according to insiders",
	}
	s := compileDemands(t,
		textDemand("A-1", 0, texts[0], texts[0], texts[1], texts[1], texts[2]),
		textDemand("B-2", 0, texts[0], texts[3], texts[3]),
	)
	if got := s.Counts(0)[EntryText] + s.Counts(1)[EntryText]; got != 5 {
		t.Errorf("%d texts counted, want 5 (each repeat once)", got)
	}
	want := map[string][]string{texts[0]: {"A-1", "B-2"}, texts[1]: {"A-1"}, texts[2]: {"A-1"}, texts[3]: {"B-2"}}
	var m Matcher
	for text, ids := range want {
		var got []string
		for _, h := range m.Match(s, textPost(text), nil) {
			if h.Similarity != 1 || string(s.EntryValue(h.Entry)) != text {
				t.Errorf("%.30q: hit %+v of %q, want only the text itself at similarity 1", text, h, s.EntryValue(h.Entry))
			}
			got = append(got, s.Demands()[s.Demand(h.Entry)].ID)
		}
		if slices.Sort(got); !slices.Equal(got, ids) {
			t.Errorf("%.30q matched %v, want %v", text, got, ids)
		}
	}
}

func TestTextMatchDetails(t *testing.T) {
	claim := "Banks will freeze all savings accounts over ten thousand on Monday morning, withdraw your money today"
	other := "The moon landing footage was filmed in a studio and the shadows prove it beyond any doubt"
	s := compileDemands(t,
		textDemand("A-1", 0, claim, other, claim), // the repeat counts once
		textDemand("B-2", 0.95, claim),
	)
	if got := s.Counts(0)[EntryText]; got != 2 {
		t.Errorf("A-1 has %d texts, want 2 (the repeat once)", got)
	}
	var m Matcher
	copy := "RT @fict_news: BANKS will freeze all savings accounts over ten thousand on Monday morning!! withdraw your cash today 🔥 https://t.co/x"
	retweet := &Post{Parts: []Part{
		{In: InTweet, Tweet: &Tweet{Text: []byte("wow")}},
		{In: InRetweeted, Tweet: &Tweet{Text: []byte(copy)}},
	}}
	hits := m.Match(s, retweet, nil)
	if len(hits) != 1 {
		t.Fatalf("Match = %v, want one hit of A-1 (B-2's threshold is 0.95)", describeHits(s, hits))
	}
	h := hits[0]
	if h.Kind != HitText || h.In != InRetweeted || string(h.Value) != copy || string(s.EntryValue(h.Entry)) != claim ||
		s.Demands()[s.Demand(h.Entry)].ID != "A-1" || h.Tier != TierExact {
		t.Errorf("hit = %+v (%v), want the retweeted text matching A-1's claim", h, describeHits(s, hits))
	}
	if h.Similarity < 0.7 || h.Similarity >= 1 {
		t.Errorf("similarity %v, want in [0.7, 1)", h.Similarity)
	}
	if hits := m.Match(s, textPost(claim), nil); len(hits) != 2 || hits[0].Similarity != 1 || hits[1].Similarity != 1 {
		t.Errorf("the claim itself: %v, want A-1 and B-2 at similarity 1", describeHits(s, hits))
	}
	inactive := textDemand("C-3", 0, other)
	inactive.Expires = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	s = compileDemands(t, inactive)
	if hits := m.Match(s.At(time.Now()), textPost(other), nil); len(hits) != 0 {
		t.Errorf("expired demand: %v, want no hits", describeHits(s, hits))
	}
}
