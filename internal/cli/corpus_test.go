package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"flagstream/internal/testkit"
)

// The entries of the corpus test's demand, drawn from the corpora: hashtags
// of both API versions, mentioned and authoring accounts, link domains.
var (
	corpusHashtags = []string{"#LEDカツカツ選手権", "#Reliance", "#ClimateEmergency"}
	corpusHandles  = []string{
		"@POTENZA_SUPERGT", "@climatemorgan", // mentioned
		"@grapeforest", "@_addisababa", "@rahul89gupta", // authors in the twarc v2 file
	}
	corpusDomains = []string{"instagram.com", "moneycontrol.com"}
)

// TestScanCorpora scans the real tweet corpora against a demand of entries
// found in them and checks, against an independent reading of the same
// files with encoding/json, that exactly the tweets naming an entry get a
// task, with that entry among its matches.
func TestScanCorpora(t *testing.T) {
	search := testkit.SharedPath(t, "corpora/simdjson_twitter_v1.1_search.json")
	retweet := testkit.SharedPath(t, "corpora/tweet-updates_v1.1_retweet_extended.json")
	twarc := testkit.SharedPath(t, "corpora/twarc-csv_withheld_v2.jsonl")

	dir := t.TempDir()
	// The v1.1 files are pretty-printed: one JSON value over many lines.
	// Compacted, each is one NDJSON line.
	var inputs []string
	for _, f := range []string{search, retweet} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			t.Fatalf("compact %s: %v", f, err)
		}
		compact.WriteByte('\n')
		path := filepath.Join(dir, filepath.Base(f)+".ndjson")
		if err := os.WriteFile(path, compact.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, path)
	}
	inputs = append(inputs, twarc)

	listsDir := filepath.Join(dir, "lists")
	if err := os.Mkdir(listsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	demand := fmt.Sprintf(`id: CORPUS-TEST
authority: Test Authority
jurisdiction: IN
legal_basis: Test Act
hashtags: %s
handles: %s
domains: %s
`, yamlList(corpusHashtags), yamlList(corpusHandles), yamlList(corpusDomains))
	if err := os.WriteFile(filepath.Join(listsDir, "corpus.yaml"), []byte(demand), 0o644); err != nil {
		t.Fatal(err)
	}

	// The expectation, from the files alone.
	want := map[string][]string{} // tweet key → entries it names
	tweets := 0
	usedEntries := map[string]bool{}
	for _, in := range inputs {
		for key, b := range readCorpus(t, in) {
			tweets++
			if names := b.names(); len(names) > 0 {
				want[key] = names
				for _, n := range names {
					usedEntries[n] = true
				}
			}
		}
	}
	for _, e := range slices.Concat(corpusHashtags, corpusHandles, corpusDomains) {
		if !usedEntries[e] {
			t.Errorf("entry %s names no tweet of the corpora: the test would prove nothing for it", e)
		}
	}
	if tweets < 300 || len(want) < 10 || len(want) > tweets/2 {
		t.Fatalf("expectation: %d of %d tweets flagged; the corpora are not what the test expects", len(want), tweets)
	}

	r := runMain(t, nil, append([]string{"scan", "--lists", listsDir, "--at", scanAt}, inputs...)...)
	if r.code != ExitOK {
		t.Fatalf("scan: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "rejected (") {
		t.Errorf("scan rejected corpus records:\n%s", r.stderr)
	}
	got := map[string][]string{}
	for i, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		if line == "" {
			continue
		}
		var task struct {
			Tweet struct {
				ID string `json:"id"`
			} `json:"tweet"`
			Matches []struct {
				Entry string `json:"entry"`
			} `json:"matches"`
			Source struct {
				File string `json:"file"`
				Line int64  `json:"line"`
			} `json:"source"`
		}
		if err := json.Unmarshal([]byte(line), &task); err != nil {
			t.Fatalf("task %d: %v", i, err)
		}
		key := fmt.Sprintf("%s:%d/%s", filepath.Base(task.Source.File), task.Source.Line, task.Tweet.ID)
		if _, dup := got[key]; dup {
			t.Errorf("two tasks for %s", key)
		}
		var entries []string
		for _, m := range task.Matches {
			if !slices.Contains(entries, m.Entry) {
				entries = append(entries, m.Entry)
			}
		}
		sort.Strings(entries)
		got[key] = entries
	}
	for key, entries := range want {
		if g, ok := got[key]; !ok {
			t.Errorf("%s names %v but got no task", key, entries)
		} else if !slices.Equal(g, entries) {
			t.Errorf("%s: task matches entries %v, want %v", key, g, entries)
		}
	}
	for key, entries := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("%s got a task (entries %v) but names no entry", key, entries)
		}
	}
	t.Logf("%d tweets, %d flagged", tweets, len(got))
}

func yamlList(l []string) string {
	quoted := make([]string, len(l))
	for i, s := range l {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// bag holds what one top-level tweet and the tweets it embeds or
// references name: hashtags and handles from the platform's entities, link
// hosts, and texts (for names typed but not linked).
type bag struct {
	hashtags, handles, hosts []string
	texts                    []string
}

// loose folds a hashtag the way the loose tier compares them: letter case
// and the separators _ · - . ' ignored.
func loose(s string) string {
	s = strings.ToLower(strings.TrimLeft(s, "#＃"))
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("_·-.'", r) {
			return -1
		}
		return r
	}, s)
}

// names returns the corpus entries that b names, sorted.
func (b *bag) names() []string {
	var out []string
	for _, e := range corpusHashtags {
		// In the text, a hashtag starts after a non-word character and
		// ends before one.
		re := regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{M}\p{N}_&])[#＃]` + regexp.QuoteMeta(strings.TrimPrefix(e, "#")) + `(?:$|[^\p{L}\p{M}\p{N}_])`)
		if slices.ContainsFunc(b.hashtags, func(h string) bool { return loose(h) == loose(e) }) || b.textHas(re) {
			out = append(out, e)
		}
	}
	for _, e := range corpusHandles {
		h := strings.TrimPrefix(e, "@")
		re := regexp.MustCompile(`(?i)(?:^|[^A-Za-z0-9_!#$%&*@＠])[@＠]` + regexp.QuoteMeta(h) + `(?:$|[^A-Za-z0-9_@＠])`)
		if slices.ContainsFunc(b.handles, func(x string) bool { return strings.EqualFold(x, h) }) || b.textHas(re) {
			out = append(out, e)
		}
	}
	for _, d := range corpusDomains {
		re := regexp.MustCompile(`(?i)(?:^|[^A-Za-z0-9.-])(?:[A-Za-z0-9-]+\.)*` + regexp.QuoteMeta(d) + `(?:$|[^A-Za-z0-9.-])`)
		if slices.ContainsFunc(b.hosts, func(h string) bool { h = strings.ToLower(h); return h == d || strings.HasSuffix(h, "."+d) }) || b.textHas(re) {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

func (b *bag) textHas(re *regexp.Regexp) bool {
	return slices.ContainsFunc(b.texts, re.MatchString)
}

// addEntities adds the hashtags, mentions and links of an entities object
// whose members the API version names: the hashtag's text, the mentions
// array and a mention's handle.
func (b *bag) addEntities(ent map[string]any, tag, mentions, handle string) {
	for _, h := range arr(ent, "hashtags") {
		b.hashtags = append(b.hashtags, str(h, tag))
	}
	for _, m := range arr(ent, mentions) {
		b.handles = append(b.handles, str(m, handle))
	}
	for _, u := range arr(ent, "urls") {
		b.addURL(str(u, "expanded_url"))
		b.addURL(str(u, "unwound_url"))
	}
}

func (b *bag) addURL(s string) {
	if u, err := url.Parse(s); err == nil && u.Hostname() != "" {
		b.hosts = append(b.hosts, u.Hostname())
	}
}

func (b *bag) addText(s string) {
	if s != "" {
		b.texts = append(b.texts, html.UnescapeString(s))
	}
}

// JSON access helpers over encoding/json's generic values.
func obj(v any, key string) map[string]any {
	m, _ := v.(map[string]any)
	o, _ := m[key].(map[string]any)
	return o
}

func str(v any, key string) string {
	m, _ := v.(map[string]any)
	s, _ := m[key].(string)
	return s
}

func arr(v any, key string) []any {
	m, _ := v.(map[string]any)
	a, _ := m[key].([]any)
	return a
}

// readCorpus reads an NDJSON file of v1.1 tweets, v1.1 search responses or
// v2 pages and returns a bag per top-level tweet, keyed FILE:LINE/ID.
func readCorpus(t *testing.T, path string) map[string]*bag {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*bag{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		key := func(id string) string { return fmt.Sprintf("%s:%d/%s", filepath.Base(path), line, id) }
		switch {
		case rec["statuses"] != nil:
			for _, s := range arr(rec, "statuses") {
				b := &bag{}
				v1Names(s, b, 0)
				out[key(str(s, "id_str"))] = b
			}
		case rec["data"] != nil:
			users := map[string]string{}
			for _, u := range arr(obj(rec, "includes"), "users") {
				users[str(u, "id")] = str(u, "username")
			}
			included := map[string]any{}
			for _, tw := range arr(obj(rec, "includes"), "tweets") {
				included[str(tw, "id")] = tw
			}
			data := arr(rec, "data")
			if data == nil {
				data = []any{rec["data"]}
			}
			for _, tw := range data {
				b := &bag{}
				v2Names(tw, users, included, b, 0)
				out[key(str(tw, "id"))] = b
			}
		default:
			b := &bag{}
			v1Names(rec, b, 0)
			out[key(str(rec, "id_str"))] = b
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// v1Names adds what an API v1.1 tweet names, with its retweeted and quoted
// tweets, to b.
func v1Names(tw any, b *bag, depth int) {
	if tw == nil || depth > 4 {
		return
	}
	b.addText(str(tw, "text"))
	b.addText(str(tw, "full_text"))
	b.addText(str(obj(tw, "extended_tweet"), "full_text"))
	if h := str(obj(tw, "user"), "screen_name"); h != "" {
		b.handles = append(b.handles, h)
	}
	if h := str(tw, "in_reply_to_screen_name"); h != "" {
		b.handles = append(b.handles, h)
	}
	b.addEntities(obj(tw, "entities"), "text", "user_mentions", "screen_name")
	b.addEntities(obj(obj(tw, "extended_tweet"), "entities"), "text", "user_mentions", "screen_name")
	if rt, ok := tw.(map[string]any)["retweeted_status"]; ok {
		v1Names(rt, b, depth+1)
	}
	if q, ok := tw.(map[string]any)["quoted_status"]; ok {
		v1Names(q, b, depth+1)
	}
}

// v2Names adds what an API v2 tweet names, with the tweets it references
// (found in the page's includes), to b.
func v2Names(tw any, users map[string]string, included map[string]any, b *bag, depth int) {
	if tw == nil || depth > 4 {
		return
	}
	b.addText(str(tw, "text"))
	b.addText(str(obj(tw, "note_tweet"), "text"))
	for _, id := range []string{str(tw, "author_id"), str(tw, "in_reply_to_user_id")} {
		if h := users[id]; h != "" {
			b.handles = append(b.handles, h)
		}
	}
	b.addEntities(obj(tw, "entities"), "tag", "mentions", "username")
	b.addEntities(obj(obj(tw, "note_tweet"), "entities"), "tag", "mentions", "username")
	for _, ref := range arr(tw, "referenced_tweets") {
		v2Names(included[str(ref, "id")], users, included, b, depth+1)
	}
}
