package review_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"flagstream/internal/lists"
	"flagstream/internal/testkit"
	"flagstream/matchers"
	"flagstream/pipeline/review"
)

// demandFiles are the demands of the test snapshot, as list files.
var demandFiles = map[string]string{
	"in-meity.yaml": `
id: IN-MEITY-2021-02-04
authority: Ministry of Electronics and Information Technology, Government of India
jurisdiction: IN
legal_basis: Information Technology Act 2000, section 69A
reference: lumen:00000000
received: 2021-02-04
action: withhold
scope: user
priority: high
handles: ["@Kisan_Ekta"]
user_ids: ["1234567890"]
hashtags: ["#FarmerGenocide"]
`,
	"in-misinfo.yaml": `
id: IN-MISINFO-1
authority: Press Information Bureau Fact Check
jurisdiction: IN
legal_basis: IT Rules 2021, rule 3(1)(b)(v)
action: review
scope: tweet
priority: low
phrases: ["farmer genocide"]
domains: ["example.org"]
`,
	"de-netzdg.yaml": `
id: DE-NETZDG-7
authority: Bundesamt für Justiz
jurisdiction: [DE, AT, IN]
legal_basis: NetzDG § 3
action: review
scope: tweet
priority: critical
hashtags: ["#FarmerGenocide"]
`,
}

// compiledAt is when the test snapshot is compiled; every demand is active.
var compiledAt = time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)

// now is the fixed creation time of the tasks built in tests.
var now = time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC)

func testSnapshot(t testing.TB) *matchers.Snapshot {
	t.Helper()
	return snapshotOf(t, demandFiles)
}

func snapshotOf(t testing.TB, files map[string]string) *matchers.Snapshot {
	t.Helper()
	noFiles := func(rel string) ([]byte, string, error) {
		return nil, rel, errors.New("entry files are not used in these tests")
	}
	var demands []matchers.Demand
	for _, name := range slices.Sorted(maps.Keys(files)) {
		d, _, err := lists.ParseDemand(name, []byte(files[name]), noFiles)
		if err != nil {
			t.Fatalf("ParseDemand(%s): %v", name, err)
		}
		demands = append(demands, d)
	}
	s, _, err := matchers.Compile(demands, compiledAt)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

// tweet is a matchers.Tweet written with strings.
type tweet struct {
	id, createdAt, lang, text, authorID, handle string
	hashtags                                    []string
	mentions                                    []string
	urls                                        []string
}

func (tw tweet) build() *matchers.Tweet {
	t := &matchers.Tweet{
		ID: []byte(tw.id), CreatedAt: []byte(tw.createdAt), Lang: []byte(tw.lang), Text: []byte(tw.text),
		AuthorID: []byte(tw.authorID), AuthorHandle: []byte(tw.handle),
	}
	for _, h := range tw.hashtags {
		t.Hashtags = append(t.Hashtags, []byte(h))
	}
	for _, m := range tw.mentions {
		t.Mentions = append(t.Mentions, matchers.Mention{Handle: []byte(m)})
	}
	for _, u := range tw.urls {
		t.URLs = append(t.URLs, []byte(u))
	}
	return t
}

func post(main tweet, embedded ...matchers.Part) *matchers.Post {
	return &matchers.Post{Parts: append([]matchers.Part{{In: matchers.InTweet, Tweet: main.build()}}, embedded...)}
}

func part(in matchers.Where, tw tweet) matchers.Part { return matchers.Part{In: in, Tweet: tw.build()} }

// match returns the hits of p against s, copied out of the matcher.
func match(t testing.TB, s *matchers.Snapshot, p *matchers.Post) []matchers.Hit {
	t.Helper()
	var m matchers.Matcher
	hits := slices.Clone(m.Match(s, p, nil))
	if len(hits) == 0 {
		t.Fatal("post matches nothing; the test needs a flagged post")
	}
	return hits
}

// goldenCase is a post whose task is kept in testdata/<name>.golden.
type goldenCase struct {
	name string
	post *matchers.Post
	src  review.Source
	// files are the demands it is matched against; nil: demandFiles.
	files map[string]string
}

// snapshot returns the snapshot the case is matched against.
func (c goldenCase) snapshot(t testing.TB) *matchers.Snapshot {
	if c.files == nil {
		return testSnapshot(t)
	}
	return snapshotOf(t, c.files)
}

// textDemandFiles list a known text.
var textDemandFiles = map[string]string{
	"in-pib-texts.yaml": `
id: IN-PIB-TEXTS-1
authority: Press Information Bureau Fact Check
jurisdiction: IN
legal_basis: IT Rules 2021, rule 3(1)(b)(v)
action: review
scope: tweet
texts: ["Farmers are being told to burn their harvest because a new law will make it illegal to sell grain to anyone except three big companies from next month"]
`,
}

// pinnedDemandFiles pin an account of a tweet-scope demand.
var pinnedDemandFiles = map[string]string{
	"us-pinned.yaml": `
id: US-PINNED-1
authority: Trust and Safety
jurisdiction: US
legal_basis: Platform policy
action: review
scope: tweet
accounts: [{handle: "@Fict_Source", user_id: "4444"}]
`,
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{
			name: "v1_withhold_kafka",
			post: post(tweet{
				id: "1357254297624866818", createdAt: "Thu Feb 04 09:00:00 +0000 2021", lang: "en",
				text:     `RT @Kisan_Ekta: Stop the #Farmer_Genocide <now> & tell "them"`,
				authorID: "1111", handle: "someone",
				mentions: []string{"Kisan_Ekta"},
			}, part(matchers.InRetweeted, tweet{
				id: "1357254297624866000", createdAt: "Thu Feb 04 08:59:00 +0000 2021", lang: "en",
				text:     `Stop the #Farmer_Genocide <now> & tell "them"`,
				authorID: "1234567890", handle: "Kisan_Ekta",
				hashtags: []string{"Farmer_Genocide"},
			})),
			src: review.KafkaSource("tweets", 3, 1234),
		},
		{
			name: "v2_review_file",
			post: post(tweet{
				id: "1357300000000000001", createdAt: "2021-02-04T14:30:00.123+05:30", lang: "hi",
				text:     "They say a farmer genocide is planned: https://news.example.org/a?b=1&c=2 <read>",
				authorID: "2222", handle: "reader",
				urls: []string{"https://news.example.org/a?b=1&c=2"},
			}),
			src: review.Source{File: "tweets.jsonl", Line: 7},
		},
		{
			name: "text_near_duplicate",
			post: post(tweet{
				id: "1357300000000000003", createdAt: "Thu Feb 04 10:00:00 +0000 2021", lang: "en",
				text:     "RT @fict_news: FARMERS are being told to burn their harvest because the new law will make it illegal to sell grain to anyone except 3 big companies from next month!! 🔥 https://t.co/AbC123",
				authorID: "3333", handle: "sharer",
			}),
			src:   review.KafkaSource("tweets", 1, 99),
			files: textDemandFiles,
		},
		{
			name: "pinned_via_binding",
			post: post(tweet{
				id: "1357300000000000004", createdAt: "Thu Feb 04 11:00:00 +0000 2021", lang: "en",
				text: "new name, same account", authorID: "4444", handle: "fict_source_2",
			}),
			src:   review.KafkaSource("tweets", 2, 5),
			files: pinnedDemandFiles,
		},
		{
			name: "author_id_no_handle",
			post: post(tweet{id: "1357300000000000002", text: "nothing to see", authorID: "1234567890"},
				part(matchers.InRepliedTo, tweet{handle: "kisan_ekta"})),
			src: review.KafkaSource("tweets", 0, 0),
		},
	}
}

func TestBuildGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.snapshot(t)
			task := review.Build(s, tc.post, match(t, s, tc.post), tc.src, now)
			got, err := task.Append(nil)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			testkit.Golden(t, filepath.Join("testdata", tc.name+".golden"), got)
		})
	}
}

func indent(b []byte) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return string(b)
	}
	return buf.String()
}

// firstCase returns the golden case with the most matches, its snapshot
// and its hits.
func firstCase(t *testing.T) (*matchers.Snapshot, goldenCase, []matchers.Hit) {
	t.Helper()
	s := testSnapshot(t)
	c := goldenCases()[0]
	return s, c, match(t, s, c.post)
}

var regexpTaskID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestBuildTaskIDDeterministic(t *testing.T) {
	s, c, hits := firstCase(t)
	if len(hits) < 3 {
		t.Fatalf("%d hits, want at least 3 for this test", len(hits))
	}
	base := review.Build(s, c.post, hits, c.src, now)

	reversed := slices.Clone(hits)
	slices.Reverse(reversed)
	rotated := append(slices.Clone(hits[1:]), hits[0])
	for _, tc := range []struct {
		name string
		hits []matchers.Hit
		src  review.Source
		now  time.Time
	}{
		{"same input", hits, c.src, now},
		{"hits reversed", reversed, c.src, now},
		{"hits rotated", rotated, c.src, now},
		{"built later", hits, c.src, now.Add(48 * time.Hour)},
		{"read elsewhere", hits, review.Source{File: "replay.jsonl", Line: 99}, now},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := review.Build(s, c.post, tc.hits, tc.src, tc.now).TaskID, base.TaskID; got != want {
				t.Errorf("TaskID = %s, want %s", got, want)
			}
		})
	}

	other := post(tweet{id: "1357254297624866819", text: "#FarmerGenocide"})
	for _, tc := range []struct {
		name string
		task review.Task
	}{
		{"one match fewer", review.Build(s, c.post, hits[1:], c.src, now)},
		{"one match more", review.Build(s, c.post, append(slices.Clone(hits), hits[0]), c.src, now)},
		{"another tweet", review.Build(s, other, match(t, s, other), c.src, now)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.task.TaskID == base.TaskID {
				t.Errorf("TaskID = %s, the same as the base task's", tc.task.TaskID)
			}
		})
	}
	if !regexpTaskID.MatchString(base.TaskID) {
		t.Errorf("TaskID = %q, want 32 lowercase hex digits", base.TaskID)
	}
}

func TestBuildSummary(t *testing.T) {
	s, c, hits := firstCase(t)
	task := review.Build(s, c.post, hits, c.src, now)
	if got, want := task.Schema, review.SchemaID; got != want {
		t.Errorf("Schema = %q, want %q", got, want)
	}
	// DE-NETZDG-7 is critical, IN-MEITY high, IN-MISINFO low.
	if got, want := task.Priority, "critical"; got != want {
		t.Errorf("Priority = %q, want %q", got, want)
	}
	// IN-MEITY asks to withhold, the others to review.
	if got, want := task.Action, "withhold"; got != want {
		t.Errorf("Action = %q, want %q", got, want)
	}
	// DE-NETZDG-7 names DE, AT and IN; the IN demands IN again.
	if got, want := task.Jurisdictions, []string{"AT", "DE", "IN"}; !slices.Equal(got, want) {
		t.Errorf("Jurisdictions = %q, want %q", got, want)
	}
	if got, want := task.CreatedAt, "2026-01-02T03:04:05.6Z"; got != want {
		t.Errorf("CreatedAt = %q, want %q", got, want)
	}
	if got, want := task.ListsVersion, s.Version(); got != want {
		t.Errorf("ListsVersion = %q, want %q", got, want)
	}
	if got, want := task.Tweet.URL, "https://twitter.com/someone/status/1357254297624866818"; got != want {
		t.Errorf("Tweet.URL = %q, want %q", got, want)
	}
	if !slices.IsSortedFunc(task.Matches, func(a, b review.Match) int {
		return strings.Compare(a.In+"\x00"+a.Kind+"\x00"+a.Value+"\x00"+a.DemandID+"\x00"+a.Entry,
			b.In+"\x00"+b.Kind+"\x00"+b.Value+"\x00"+b.DemandID+"\x00"+b.Entry)
	}) {
		t.Errorf("Matches are not sorted by in, kind, value, demand_id, entry: %+v", task.Matches)
	}
	if got, want := len(task.Matches), len(hits); got != want {
		t.Errorf("%d matches, want one per hit (%d)", got, want)
	}
}

func TestBuildPriorityAndAction(t *testing.T) {
	s := testSnapshot(t)
	for _, tc := range []struct {
		name                     string
		text                     string
		wantPriority, wantAction string
		wantJurisdictions        []string
	}{
		{"misinformation only", "a farmer genocide is planned", "low", "review", []string{"IN"}},
		{"withhold and low review", "farmer genocide @Kisan_Ekta", "high", "withhold", []string{"IN"}},
		{"critical review and high withhold", "#FarmerGenocide", "critical", "withhold", []string{"AT", "DE", "IN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := post(tweet{id: "1", text: tc.text})
			task := review.Build(s, p, match(t, s, p), review.KafkaSource("t", 0, 0), now)
			if task.Priority != tc.wantPriority || task.Action != tc.wantAction || !slices.Equal(task.Jurisdictions, tc.wantJurisdictions) {
				t.Errorf("priority, action, jurisdictions = %s, %s, %q; want %s, %s, %q",
					task.Priority, task.Action, task.Jurisdictions, tc.wantPriority, tc.wantAction, tc.wantJurisdictions)
			}
		})
	}
}

func TestBuildTweet(t *testing.T) {
	s := testSnapshot(t)
	for _, tc := range []struct {
		name, createdAt, handle string
		wantCreatedAt, wantURL  string
	}{
		{"v1.1 time in UTC", "Thu Feb 04 09:00:00 +0000 2021", "a", "2021-02-04T09:00:00Z", "https://twitter.com/a/status/42"},
		{"v1.1 time with an offset", "Thu Feb 04 14:30:00 +0530 2021", "a", "2021-02-04T09:00:00Z", "https://twitter.com/a/status/42"},
		{"v2 time with milliseconds", "2021-02-04T09:00:00.000Z", "a", "2021-02-04T09:00:00Z", "https://twitter.com/a/status/42"},
		{"v2 time with fraction and offset", "2021-02-04T14:30:00.250+05:30", "a", "2021-02-04T09:00:00.25Z", "https://twitter.com/a/status/42"},
		{"unknown format kept", "04/02/2021 09:00", "a", "04/02/2021 09:00", "https://twitter.com/a/status/42"},
		{"absent", "", "", "", "https://twitter.com/i/web/status/42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := post(tweet{id: "42", createdAt: tc.createdAt, handle: tc.handle, text: "#FarmerGenocide"})
			task := review.Build(s, p, match(t, s, p), review.KafkaSource("t", 0, 0), now)
			if got := task.Tweet.CreatedAt; got != tc.wantCreatedAt {
				t.Errorf("Tweet.CreatedAt = %q, want %q", got, tc.wantCreatedAt)
			}
			if got := task.Tweet.URL; got != tc.wantURL {
				t.Errorf("Tweet.URL = %q, want %q", got, tc.wantURL)
			}
		})
	}
}

func TestAppend(t *testing.T) {
	s, c, hits := firstCase(t)
	task := review.Build(s, c.post, hits, c.src, now)
	prefix := []byte("key\t")
	out, err := task.Append(prefix)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if !bytes.HasPrefix(out, prefix) {
		t.Fatalf("Append(%q, …) = %q, lost the prefix", prefix, out)
	}
	line := out[len(prefix):]
	if !bytes.HasSuffix(line, []byte("\n")) || bytes.Count(line, []byte("\n")) != 1 {
		t.Errorf("Append wrote %q, want one line ending in a newline", line)
	}
	for _, escaped := range []string{`\u003c`, `\u003e`, `\u0026`} {
		if bytes.Contains(line, []byte(escaped)) {
			t.Errorf("Append wrote %s; HTML characters must stay as they are: %s", escaped, line)
		}
	}
	if !bytes.Contains(line, []byte(`<now> & tell \"them\"`)) {
		t.Errorf("Append lost the text as written: %s", line)
	}
	var back review.Task
	if err := json.Unmarshal(line, &back); err != nil {
		t.Fatalf("Append wrote invalid JSON: %v", err)
	}
	if !reflect.DeepEqual(back, task) {
		t.Errorf("task read back = %+v, want %+v", back, task)
	}
}

// TestSourceJSON checks that a Kafka source always writes its partition
// and offset, even zero, and a file source only file and line.
func TestSourceJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  review.Source
		want string
	}{
		{"kafka at zero", review.KafkaSource("tweets", 0, 0), `{"topic":"tweets","partition":0,"offset":0}`},
		{"kafka", review.KafkaSource("tweets", 3, 1234), `{"topic":"tweets","partition":3,"offset":1234}`},
		{"file", review.Source{File: "stdin", Line: 1}, `{"file":"stdin","line":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("json.Marshal(source) = %s, want %s", got, tc.want)
			}
		})
	}
}
