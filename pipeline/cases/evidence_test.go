package cases_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"flagstream/internal/lists"
	"flagstream/matchers"
	"flagstream/pipeline/cases"
)

// sampleInputs are inputs with every optional field used somewhere.
func sampleInputs(t testing.TB) []cases.Input {
	e := handleEvidence(t, meity)
	d := decision(e.CaseID, cases.VerdictWithhold, "IN", "DE")
	raw, err := d.Decision.Decision.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Decision.Raw = bytes.TrimSpace(raw)
	d.Decision.Source = cases.Source{Topic: "review-decisions", Partition: 3, Offset: 1234}
	return []cases.Input{
		e.input(),
		e.mention("@Kisan_Ekta", "1111").in("quoted").input(),
		e.mention("＠ｋｉｓａｎ_ｅｋｔａ", "").tier("lookalike").input(),
		e.by("1111", "kisan_new").viaBinding().pinned("1111").tweet("9", time.Time{}).input(),
		e.exempt(&cases.Exemption{ID: "EX-IN-PRESS", Category: "journalist", Reason: "Accredited \"press\"\n<b>"}).
			retro(&cases.Retro{Job: "j1", Since: t0.Add(-time.Hour), Until: t0}).shadow().input(),
		evidence(t, netzdg, cases.EntryUserID, "0001234567890").by("1234567890", "").seen(t0.Add(123456789 * time.Nanosecond)).input(),
		d,
	}
}

func TestInputRoundTrip(t *testing.T) {
	for i, in := range sampleInputs(t) {
		line, err := in.Append([]byte("prefix"))
		if err != nil {
			t.Fatalf("input %d: Append: %v", i, err)
		}
		line, ok := bytes.CutPrefix(line, []byte("prefix"))
		if !ok || !bytes.HasSuffix(line, []byte("}\n")) || bytes.Count(line, []byte("\n")) != 1 {
			t.Fatalf("input %d: Append wrote %q, want the prefix kept and one line", i, line)
		}
		if !json.Valid(line) {
			t.Fatalf("input %d: not JSON: %s", i, line)
		}
		back, err := cases.DecodeInput(line)
		if err != nil {
			t.Fatalf("input %d: DecodeInput: %v\n%s", i, err, line)
		}
		if back.CaseID() != in.CaseID() {
			t.Errorf("input %d: case %s, want %s", i, back.CaseID(), in.CaseID())
		}
		again, err := back.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, line) {
			t.Errorf("input %d: decoded and appended again:\n got %s\nwant %s", i, again, line)
		}
		if in.Evidence != nil && !reflect.DeepEqual(*back.Evidence, *in.Evidence) {
			t.Errorf("input %d: decoded %+v\nwant %+v", i, *back.Evidence, *in.Evidence)
		}
		if in.Decision != nil && (!sameDecision(back.Decision.Decision, in.Decision.Decision) ||
			back.Decision.Source != in.Decision.Source || !bytes.Equal(back.Decision.Raw, in.Decision.Raw)) {
			t.Errorf("input %d: decoded %+v\nwant %+v", i, *back.Decision, *in.Decision)
		}
	}
}

func TestInputJSON(t *testing.T) {
	e := handleEvidence(t, meity).viaBinding()
	in := e.input()
	line, err := in.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"schema":"flagstream.case_input/v1","type":"evidence","case_id":"49466ec9db82bc9769979fbacb716e2f",` +
		`"demand":{"id":"IN-MEITY-2021-02-04","jurisdictions":["IN"],"action":"withhold","priority":"high","scope":"user",` +
		`"authority":"Ministry of Electronics and Information Technology, Government of India",` +
		`"legal_basis":"Information Technology Act 2000, section 69A","reference":"lumen:00000000","lists_version":"a1b2c3d4e5f60718"},` +
		`"entry":"@Kisan_Ekta","entry_kind":"handle","kind":"post","in":"tweet","tier":"exact","via":"binding",` +
		`"tweet_id":"1357254297624866818","tweet_created_at":"2026-01-02T02:04:05Z","seen_at":"2026-01-02T03:04:05Z",` +
		`"author":{"id":"1111","handle":"Kisan_Ekta"}}` + "\n"
	if string(line) != want {
		t.Errorf("Append =\n%s\nwant\n%s", line, want)
	}
}

func TestInputAppendAllocatesNothing(t *testing.T) {
	in := sampleInputs(t)[4]
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = in.Append(buf[:0]); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Input.Append of evidence allocates %v times", n)
	}
}

func TestDecodeInputRefuses(t *testing.T) {
	goodIn := handleEvidence(t, meity).input()
	good, err := goodIn.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	in := sampleInputs(t)
	goodDecision, err := in[len(in)-1].Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(doc []byte, old, new string) string {
		if !bytes.Contains(doc, []byte(old)) {
			t.Fatalf("%q is not in %s", old, doc)
		}
		return strings.Replace(string(doc), old, new, 1)
	}
	for _, tc := range []struct{ name, record, want string }{
		{"not JSON", "evidence", "not JSON"},
		{"not an object", `["evidence"]`, "not a JSON object"},
		{"invalid UTF-8", edit(good, `"handle":"Kisan_Ekta"}`, "\"handle\":\"Kisan\xff\"}"), "UTF-8"},
		{"case id a number", edit(good, `"case_id":"49466ec9db82bc9769979fbacb716e2f"`, `"case_id":49466`), "case_id must be a string"},
		{"jurisdictions a string", edit(good, `"jurisdictions":["IN"]`, `"jurisdictions":"IN"`), "jurisdictions must be an array of strings"},
		{"jurisdiction a number", edit(good, `"jurisdictions":["IN"]`, `"jurisdictions":[356]`), "jurisdictions must be an array of strings"},
		{"shadow a string", edit(good, `"lists_version":"a1b2c3d4e5f60718"}`, `"lists_version":"a1b2c3d4e5f60718","shadow":"yes"}`), "shadow must be true or false"},
		{"demand a string", edit(good, `"demand":{"id":"IN-MEITY-2021-02-04",`, `"demand":"IN-MEITY-2021-02-04","x":{"id":"",`), "not an object"},
		{"author an array", edit(good, `"author":{"id":"1111","handle":"Kisan_Ekta"}`, `"author":["1111"]`), "not an object"},
		{"wrong schema", edit(good, "case_input/v1", "case_input/v2"), "schema"},
		{"unknown type", edit(good, `"type":"evidence"`, `"type":"tweet"`), "unknown input type"},
		{"case id of another entry", edit(good, `"entry":"@Kisan_Ekta"`, `"entry":"@Kisan"`), "case_id"},
		{"case id of another demand", edit(good, `"id":"IN-MEITY-2021-02-04"`, `"id":"IN-MEITY-2021-02-05"`), "case_id"},
		{"entry not a handle", edit(good, `"entry":"@Kisan_Ekta"`, `"entry":"#Kisan"`), "entry"},
		{"entry kind unknown", edit(good, `"entry_kind":"handle"`, `"entry_kind":"hashtag"`), "entry"},
		{"no demand", edit(good, `"demand":{`, `"demandx":{`), "without demand"},
		{"demand without jurisdictions", edit(good, `"jurisdictions":["IN"]`, `"jurisdictions":[]`), "no jurisdictions"},
		{"demand of tweet scope", edit(good, `"scope":"user"`, `"scope":"tweet"`), "scope"},
		{"demand action unknown", edit(good, `"action":"withhold"`, `"action":"remove"`), "action"},
		{"lists version not hex", edit(good, `"lists_version":"a1b2c3d4e5f60718"`, `"lists_version":"v1"`), "lists_version"},
		{"kind unknown", edit(good, `"kind":"post"`, `"kind":"like"`), "evidence kind"},
		{"in unknown", edit(good, `"in":"tweet"`, `"in":"thread"`), "place"},
		{"tier unknown", edit(good, `"tier":"exact"`, `"tier":"fuzzy"`), "tier"},
		{"no tweet id", edit(good, `"tweet_id":"1357254297624866818"`, `"tweet_id":""`), "tweet id"},
		{"no seen_at", edit(good, `"seen_at":"2026-01-02T03:04:05Z",`, ``), "seen_at"},
		{"seen_at not a time", edit(good, `"seen_at":"2026-01-02T03:04:05Z"`, `"seen_at":"yesterday"`), "cannot parse"},
		{"no author", edit(good, `,"author":{"id":"1111","handle":"Kisan_Ekta"}`, ``), "author"},
		{"mention on a post", edit(good, `"author":{`, `"mention":{"handle":"x","id":""},"author":{`), "post evidence with a mention"},
		{"mention evidence without mention", edit(good, `"kind":"post"`, `"kind":"mention"`), "without the mention"},
		{"unknown via", edit(good, `"tier":"exact"`, `"tier":"exact","via":"rumour"`), "via"},
		{"pinned id not numeric", edit(good, `"author":{`, `"pinned_user_id":"abc","author":{`), "pinned_user_id"},
		{"exemption without category", edit(good, `"author":{`, `"exemption":{"id":"EX","category":"","reason":""},"author":{`), "category"},
		{"retro backwards", edit(good, `"author":{`, `"retro":{"job":"j","since":"2026-01-02T00:00:00Z","until":"2025-01-02T00:00:00Z"},"author":{`), "until before since"},
		{"forwarded decision malformed", edit(goodDecision, `"reviewer":"reviewer-7"`, `"reviewer":""`), "reviewer is empty"},
		{"forwarded decision of another case", edit(goodDecision, `"case_id":"49466ec9db82bc9769979fbacb716e2f",`, `"case_id":"00000000000000000000000000000000",`), "under case_id"},
		{"forwarded decision without source", edit(goodDecision, `,"source":{"topic":"review-decisions","partition":3,"offset":1234}`, ``), "without decision or source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cases.DecodeInput([]byte(tc.record))
			var e *cases.Error
			if !errors.As(err, &e) || e.Reason != cases.ReasonInvalidInput {
				t.Fatalf("DecodeInput: %v, want an *Error with reason invalid_case_input", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
	added := edit(good, `"author":{`, `"later_field":[1,2],"author":{`)
	if _, err := cases.DecodeInput([]byte(added)); err != nil {
		t.Errorf("a field a later version added: %v", err)
	}
}

func TestInputAppendRefuses(t *testing.T) {
	e := handleEvidence(t, meity).Evidence
	for _, in := range []cases.Input{
		{},
		{Evidence: &e, Decision: &cases.ForwardedDecision{}},
		{Decision: &cases.ForwardedDecision{Raw: []byte("{not json")}},
	} {
		if _, err := in.Append(nil); err == nil {
			t.Errorf("Append(%+v): no error", in)
		}
	}
	far := e
	far.SeenAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := (&cases.Input{Evidence: &far}).Append(nil); err == nil {
		t.Error("Append of evidence seen in the year 10000: no error")
	}
}

func FuzzDecodeInput(f *testing.F) {
	for _, in := range sampleInputs(f) {
		b, err := in.Append(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := cases.DecodeInput(data)
		if err != nil {
			if cases.ReasonOf(err) != cases.ReasonInvalidInput {
				t.Fatalf("error without reason invalid_case_input: %v", err)
			}
			return
		}
		line, err := in.Append(nil)
		if err != nil {
			t.Fatalf("Append of a decoded input: %v", err)
		}
		back, err := cases.DecodeInput(line)
		if err != nil {
			t.Fatalf("a decoded input, appended, does not decode: %v\n%s", err, line)
		}
		again, _ := back.Append(nil)
		if !bytes.Equal(again, line) {
			t.Fatalf("not stable:\n%s\n%s", line, again)
		}
		// Whatever decodes, Apply takes without panicking.
		if in.Evidence != nil {
			if _, _, err := cases.Apply(nil, in, t0, cfg); err != nil {
				t.Fatalf("Apply of a decoded input: %v", err)
			}
		}
	})
}

func TestFromHit(t *testing.T) {
	demand, _, err := lists.ParseDemand("in-meity.yaml", []byte(`
id: IN-MEITY-2021-02-04
authority: Ministry of Electronics and Information Technology, Government of India
jurisdiction: IN
legal_basis: Information Technology Act 2000, section 69A
action: withhold
scope: user
priority: high
handles: ["@Kisan_Ekta"]
user_ids: ["1234567890"]
hashtags: ["#FarmerGenocide"]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	lists, _, err := matchers.Compile([]matchers.Demand{demand}, time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	post := &matchers.Post{Parts: []matchers.Part{
		{In: matchers.InTweet, Tweet: &matchers.Tweet{
			ID: []byte("1357254297624866818"), CreatedAt: []byte("Thu Feb 04 14:30:00 +0530 2021"),
			Text:     []byte("RT @Kisan_Ekta: #FarmerGenocide"),
			AuthorID: []byte("2222"), AuthorHandle: []byte("reader"),
			Mentions: []matchers.Mention{{Handle: []byte("Kisan_Ekta"), ID: []byte("1234567890")}},
		}},
		{In: matchers.InRetweeted, Tweet: &matchers.Tweet{
			ID: []byte("1357254297624866000"), Text: []byte("#FarmerGenocide"),
			AuthorID: []byte("1234567890"), AuthorHandle: []byte("Kisan_Ekta"),
		}},
	}}
	var m matchers.Matcher
	var got []string
	for _, h := range m.Match(lists, post, nil) {
		ev, ok := cases.FromHit(post, &h)
		if !ok {
			if h.Kind != matchers.HitHashtag {
				t.Errorf("FromHit(%s hit) not evidence", h.Kind)
			}
			continue
		}
		if ev.TweetID != "1357254297624866818" || !ev.TweetCreatedAt.Equal(time.Date(2021, 2, 4, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("%s hit: tweet %s at %v", h.Kind, ev.TweetID, ev.TweetCreatedAt)
		}
		got = append(got, strings.Join([]string{string(ev.Kind), ev.In, ev.Tier, ev.Author.ID, ev.Author.Handle, ev.Mention.ID, ev.Mention.Handle}, " "))
	}
	slices.Sort(got)
	want := []string{
		// The mention (entity and text are one hit) names the handle
		// entry, its id the user id entry; the retweeted author the
		// same two.
		"mention tweet exact 2222 reader 1234567890 Kisan_Ekta",
		"mention tweet exact 2222 reader 1234567890 Kisan_Ekta",
		"post retweeted exact 1234567890 Kisan_Ekta  ",
		"post retweeted exact 1234567890 Kisan_Ekta  ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("evidence:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestFromHitMentions(t *testing.T) {
	demand, _, err := lists.ParseDemand("d.yaml", []byte("id: D\njurisdiction: IN\nscope: user\nhandles: [\"@Kisan_Ekta\"]\nuser_ids: [\"1234567890\"]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	lists, _, err := matchers.Compile([]matchers.Demand{demand}, time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		tweet *matchers.Tweet
		want  cases.Author
	}{
		{"in the text only", &matchers.Tweet{ID: []byte("1"), Text: []byte("hello @kisan_ekta")}, cases.Author{Handle: "kisan_ekta"}},
		{"an entity with an id only", &matchers.Tweet{ID: []byte("1"), Mentions: []matchers.Mention{{ID: []byte("1234567890")}}}, cases.Author{ID: "1234567890"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			post := &matchers.Post{Parts: []matchers.Part{{In: matchers.InTweet, Tweet: tc.tweet}}}
			var m matchers.Matcher
			hits := m.Match(lists, post, nil)
			if len(hits) != 1 {
				t.Fatalf("%d hits, want 1", len(hits))
			}
			ev, ok := cases.FromHit(post, &hits[0])
			if !ok || ev.Kind != cases.EvidenceMention || ev.Mention != tc.want || !ev.TweetCreatedAt.IsZero() {
				t.Errorf("FromHit = %+v, %v; want a mention of %+v", ev, ok, tc.want)
			}
		})
	}
}

func TestParseTweetTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"Thu Feb 04 09:00:00 +0000 2021", time.Date(2021, 2, 4, 9, 0, 0, 0, time.UTC)},
		{"Thu Feb 04 14:30:00 +0530 2021", time.Date(2021, 2, 4, 9, 0, 0, 0, time.UTC)},
		{"2021-02-04T09:00:00.250Z", time.Date(2021, 2, 4, 9, 0, 0, 250_000_000, time.UTC)},
		{"2021-02-04T14:30:00+05:30", time.Date(2021, 2, 4, 9, 0, 0, 0, time.UTC)},
		{"0000-01-01T00:00:00+01:00", time.Time{}},
		{"04/02/2021", time.Time{}},
		{"", time.Time{}},
	} {
		got := cases.ParseTweetTime([]byte(tc.in))
		if !got.Equal(tc.want) || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("ParseTweetTime(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestFromDemand(t *testing.T) {
	d, _, err := lists.ParseDemand("x.yaml", []byte("id: X\njurisdiction: [DE, AT]\nscope: user\naction: withhold\npriority: critical\nauthority: A\nlegal_basis: L\nreference: R\nhandles: [a]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := cases.FromDemand(&d, "abc123")
	want := cases.Demand{ID: "X", Jurisdictions: []string{"DE", "AT"}, Action: "withhold", Priority: "critical", Scope: "user",
		Authority: "A", LegalBasis: "L", Reference: "R", ListsVersion: "abc123"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromDemand = %+v, want %+v", got, want)
	}
}
