package lists

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"flagstream/matchers"
)

// mapFS builds an in-memory lists directory from file names and contents.
func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

const fullDemand = `# A demand using every key.
id: IN-MEITY-2021-02-04
authority: Ministry of Electronics and Information Technology, Government of India
jurisdiction: [IN, NP]
legal_basis: Information Technology Act 2000, section 69A
reference: lumen:00000000
received: 2021-02-04
expires: 2021-08-04T12:00:00+05:30
action: withhold
scope: user
priority: high
status: rescinded
tiers: [exact, loose, lookalike]
handles: ["@fict_farmer_01", "Fict_Farmer_02"]
handles_file: entries/in-handles.txt
user_ids: ["1234567890"]
user_ids_file: entries/in-ids.txt
hashtags: ["#FarmerGenocide", "किसान_आंदोलन"]
hashtags_file: entries/in-hashtags.txt
phrases: ["farmer genocide"]
phrases_file: entries/in-phrases.txt
domains: [example.org]
domains_file: entries/in-domains.txt
`

var fullDemandFiles = map[string]string{
	"in-meity.yaml": fullDemand,
	"entries/in-handles.txt": "# handles named in annex A\n" +
		"\n" +
		"@fict_farmer_03\n" +
		"  fict_farmer_04   \n" +
		"fict_farmer_05 # added 2021-02-05\n" +
		"\t# indented comment\n" +
		"#\n",
	"entries/in-ids.txt":      "9876543210\n00042\n",
	"entries/in-hashtags.txt": "# annex B\n#ModiPlanningFarmerGenocide\n#FarmersProtest # trailing comment\nFarmerRights\n",
	"entries/in-phrases.txt":  "planned genocide of farmers\n",
	"entries/in-domains.txt":  "news.example.net\n",
}

func TestParseListsFull(t *testing.T) {
	demands, warnings, err := ParseLists(mapFS(fullDemandFiles), "lists")
	if err != nil {
		t.Fatalf("ParseLists: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %v, want none", warnings)
	}
	if len(demands) != 1 {
		t.Fatalf("got %d demands, want 1", len(demands))
	}
	d := demands[0]
	ist := time.FixedZone("IST", 5*3600+1800)
	checks := []struct {
		field     string
		got, want any
	}{
		{"ID", d.ID, "IN-MEITY-2021-02-04"},
		{"Authority", d.Authority, "Ministry of Electronics and Information Technology, Government of India"},
		{"Jurisdictions", strings.Join(d.Jurisdictions, ","), "IN,NP"},
		{"JurisdictionList", d.JurisdictionList(), "IN,NP"},
		{"LegalBasis", d.LegalBasis, "Information Technology Act 2000, section 69A"},
		{"Reference", d.Reference, "lumen:00000000"},
		{"Received", d.Received, time.Date(2021, 2, 4, 0, 0, 0, 0, time.UTC)},
		{"Expires", d.Expires.Equal(time.Date(2021, 8, 4, 12, 0, 0, 0, ist)), true},
		{"Action", d.Action, matchers.ActionWithhold},
		{"Scope", d.Scope, matchers.ScopeUser},
		{"Priority", d.Priority, matchers.PriorityHigh},
		{"Status", d.Status, matchers.StatusRescinded},
		{"Tiers", d.Tiers.String(), "exact,loose,lookalike"},
		{"File", d.File, "lists/in-meity.yaml"},
		{"Line", d.Line, 2},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	const (
		demandFile = "lists/in-meity.yaml"
		handles    = "lists/entries/in-handles.txt"
		ids        = "lists/entries/in-ids.txt"
		hashtags   = "lists/entries/in-hashtags.txt"
		phrases    = "lists/entries/in-phrases.txt"
		domains    = "lists/entries/in-domains.txt"
	)
	want := []matchers.Entry{
		{Kind: matchers.EntryHandle, Value: "@fict_farmer_01", File: demandFile, Line: 14},
		{Kind: matchers.EntryHandle, Value: "Fict_Farmer_02", File: demandFile, Line: 14},
		{Kind: matchers.EntryHandle, Value: "@fict_farmer_03", File: handles, Line: 3},
		{Kind: matchers.EntryHandle, Value: "fict_farmer_04", File: handles, Line: 4},
		{Kind: matchers.EntryHandle, Value: "fict_farmer_05", File: handles, Line: 5},
		{Kind: matchers.EntryUserID, Value: "1234567890", File: demandFile, Line: 16},
		{Kind: matchers.EntryUserID, Value: "9876543210", File: ids, Line: 1},
		{Kind: matchers.EntryUserID, Value: "00042", File: ids, Line: 2},
		{Kind: matchers.EntryHashtag, Value: "#FarmerGenocide", File: demandFile, Line: 18},
		{Kind: matchers.EntryHashtag, Value: "किसान_आंदोलन", File: demandFile, Line: 18},
		{Kind: matchers.EntryHashtag, Value: "#ModiPlanningFarmerGenocide", File: hashtags, Line: 2},
		{Kind: matchers.EntryHashtag, Value: "#FarmersProtest", File: hashtags, Line: 3},
		{Kind: matchers.EntryHashtag, Value: "FarmerRights", File: hashtags, Line: 4},
		{Kind: matchers.EntryPhrase, Value: "farmer genocide", File: demandFile, Line: 20},
		{Kind: matchers.EntryPhrase, Value: "planned genocide of farmers", File: phrases, Line: 1},
		{Kind: matchers.EntryDomain, Value: "example.org", File: demandFile, Line: 22},
		{Kind: matchers.EntryDomain, Value: "news.example.net", File: domains, Line: 1},
	}
	var got []matchers.Entry
	for i := range d.Entries.Len() {
		got = append(got, d.Entries.At(i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries:\ngot  %+v\nwant %+v", got, want)
	}
	if got, want := d.Entries.Counts(), []int{5, 3, 5, 2, 2, 0}; !slices.Equal(got[:], want) {
		t.Errorf("Counts() = %v, want %v", got, want)
	}
}

func TestParseDemandDefaults(t *testing.T) {
	d, warnings, err := ParseDemand("min.yaml", []byte("id: X-1\njurisdiction: DE\nhandles: fict_user\n"), nil)
	if err != nil {
		t.Fatalf("ParseDemand: %v", err)
	}
	if d.Action != matchers.ActionReview || d.Scope != matchers.ScopeTweet || d.Priority != matchers.PriorityNormal || d.Status != matchers.StatusActive || d.Tiers != matchers.DefaultTiers {
		t.Errorf("defaults: action %v scope %v priority %v status %v tiers %v; want review tweet normal active exact,loose",
			d.Action, d.Scope, d.Priority, d.Status, d.Tiers)
	}
	if !d.Received.IsZero() || !d.Expires.IsZero() {
		t.Errorf("dates = %v, %v; want zero", d.Received, d.Expires)
	}
	var msgs []string
	for _, w := range warnings {
		msgs = append(msgs, w.Error())
	}
	want := []string{
		"min.yaml:1: no authority: review tasks will not say who made the demand",
		"min.yaml:1: no legal_basis: review tasks will not say under which law",
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("warnings = %q, want %q", msgs, want)
	}
}

func TestParseListsSkipsOtherFiles(t *testing.T) {
	files := map[string]string{
		"a.yaml":        "id: A\njurisdiction: IN\nhandles: [a]\n",
		"b.yml":         "id: B\njurisdiction: IN\nhandles: [b]\n",
		".hidden.yaml":  "not: [valid",
		"README.md":     "# lists",
		"notes.txt":     "x",
		"sub/c.yaml":    "not: [valid",
		"handles.txt":   "a\n",
		"sub/ignored.x": "",
	}
	demands, _, err := ParseLists(mapFS(files), "")
	if err != nil {
		t.Fatalf("ParseLists: %v", err)
	}
	var ids []string
	for _, d := range demands {
		ids = append(ids, d.ID+"@"+d.File)
	}
	if want := []string{"A@a.yaml", "B@b.yml"}; !slices.Equal(ids, want) {
		t.Errorf("demands = %q, want %q", ids, want)
	}
}

func TestParseListsErrors(t *testing.T) {
	const ok = "id: OK-1\njurisdiction: IN\nhandles: [fict_user]\n"
	tests := []struct {
		name  string
		files map[string]string
		// want are substrings of the error, each a "file:line: " prefix
		// or a phrase of a message.
		want []string
	}{
		{
			name:  "unknown key",
			files: map[string]string{"d.yaml": ok + "handle: [x]\n"},
			want:  []string{"lists/d.yaml:4: ", `unknown key "handle"`, "handles_file"},
		},
		{
			name:  "repeated key",
			files: map[string]string{"d.yaml": ok + "id: OK-2\n"},
			want:  []string{"lists/d.yaml:4: ", `key "id" repeats the one on line 1`},
		},
		{
			name:  "bad jurisdiction",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: [IN, XX]\nhandles: [a]\n"},
			want:  []string{"lists/d.yaml:2: ", `jurisdiction "XX" is not an ISO 3166-1 alpha-2 country code`},
		},
		{
			name:  "null jurisdiction",
			files: map[string]string{"d.yaml": "id: X\njurisdiction:\nhandles: [a]\n"},
			want:  []string{"lists/d.yaml:2: ", `jurisdiction is empty`},
		},
		{
			name:  "empty jurisdiction list",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: []\nhandles: [a]\n"},
			want:  []string{"lists/d.yaml:2: ", `jurisdiction is empty`},
		},
		{
			name:  "lowercase jurisdiction",
			files: map[string]string{"d.yaml": "id: X\njurisdiction:\n  - IN\n  - in\nhandles: [a]\n"},
			want:  []string{"lists/d.yaml:4: ", `jurisdiction "in"`, `(write "IN")`},
		},
		{
			name:  "repeated jurisdiction",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: [IN, IN]\nhandles: [a]\n"},
			want:  []string{"lists/d.yaml:2: ", `jurisdiction "IN" is listed twice`},
		},
		{
			name:  "handle too long",
			files: map[string]string{"d.yaml": ok + "handles_file: h.txt\n", "h.txt": "fict_user_1\n@fict_user_toolong\n"},
			want:  []string{"lists/h.txt:2: ", `handle "@fict_user_toolong" is longer than a Twitter handle can be`},
		},
		{
			name:  "handle with bad characters",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\nhandles:\n  - fict-user\n"},
			want:  []string{"lists/d.yaml:4: ", `handle "fict-user" is not a Twitter handle`},
		},
		{
			name:  "non-ASCII handle",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\nhandles: [ｆｉｃｔ]\n"},
			want:  []string{"lists/d.yaml:3: ", "is not a Twitter handle"},
		},
		{
			name:  "user id with letters",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\nuser_ids: [\"12a\"]\n"},
			want:  []string{"lists/d.yaml:3: ", `user id "12a" is not a numeric account id`},
		},
		{
			name:  "user id zero",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\nuser_ids: [\"000\"]\n"},
			want:  []string{"lists/d.yaml:3: ", `user id "000" is not a numeric account id`},
		},
		{
			name:  "user id beyond 64 bits",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\nuser_ids: [\"18446744073709551616\"]\n"},
			want:  []string{"lists/d.yaml:3: ", "is not a numeric account id"},
		},
		{
			name:  "hashtag without letter",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\nhashtags: [\"#2021\"]\n"},
			want:  []string{"lists/d.yaml:3: ", `hashtag "#2021" is not a hashtag`},
		},
		{
			name:  "hashtag with space",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\nhashtags: [\"#Farmer Genocide\"]\n"},
			want:  []string{"lists/d.yaml:3: ", "is not a hashtag"},
		},
		{
			name:  "hash without a space is no comment",
			files: map[string]string{"d.yaml": ok + "handles_file: h.txt\n", "h.txt": "fict_a\nfict_b #not-a-comment\n"},
			want:  []string{"lists/h.txt:2: ", `handle "fict_b #not-a-comment" is not a Twitter handle`},
		},
		{
			name:  "hashtag file line without letter",
			files: map[string]string{"d.yaml": ok + "hashtags_file: t.txt\n", "t.txt": "#Good\n\n#!!!\n"},
			want:  []string{"lists/t.txt:3: ", `hashtag "#!!!" is not a hashtag`},
		},
		{
			name:  "phrase with no words",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\nphrases: [\"...!!!\"]\n"},
			want:  []string{"lists/d.yaml:3: ", `phrase "...!!!" has no words`},
		},
		{
			name:  "phrase with too many words",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\nphrases: [\"" + strings.Repeat("word ", 17) + "\"]\n"},
			want:  []string{"lists/d.yaml:3: ", "has 17 words; at most 16"},
		},
		{
			name:  "domain with scheme",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\ndomains: [\"https://example.org\"]\n"},
			want:  []string{"lists/d.yaml:3: ", `domain "https://example.org" must be a bare host name`},
		},
		{
			name:  "domain with path",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\ndomains: [example.org/news]\n"},
			want:  []string{"lists/d.yaml:3: ", "must be a bare host name"},
		},
		{
			name:  "domain with one label",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\ndomains: [localhost]\n"},
			want:  []string{"lists/d.yaml:3: ", "needs at least two labels"},
		},
		{
			name: "duplicate id across files",
			files: map[string]string{
				"a.yaml": "id: DUP-1\njurisdiction: IN\nhandles: [a]\n",
				"b.yaml": "# second\nid: DUP-1\njurisdiction: IN\nhandles: [b]\n",
			},
			want: []string{"lists/b.yaml:2: ", `demand id "DUP-1" is already used by lists/a.yaml:1`},
		},
		{
			name:  "missing entry file",
			files: map[string]string{"d.yaml": ok + "handles_file: missing.txt\n"},
			want:  []string{"lists/d.yaml:4: ", `handle file "missing.txt"`, "file does not exist"},
		},
		{
			name:  "entry file outside the directory",
			files: map[string]string{"d.yaml": ok + "handles_file: ../x.txt\n"},
			want:  []string{"lists/d.yaml:4: ", `"../x.txt" is outside the lists directory`},
		},
		{
			name:  "absolute entry file",
			files: map[string]string{"d.yaml": ok + "handles_file: /etc/passwd\n"},
			want:  []string{"lists/d.yaml:4: ", "is outside the lists directory"},
		},
		{
			name:  "entry file not UTF-8",
			files: map[string]string{"d.yaml": ok + "handles_file: h.txt\n", "h.txt": "a\xff\n"},
			want:  []string{"lists/h.txt: ", "not valid UTF-8", "lists/d.yaml:4"},
		},
		{
			name:  "broken YAML",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\nauthority: a: b\nhandles: [a]\n"},
			want:  []string{"lists/d.yaml:3: ", "invalid YAML", "mapping values are not allowed"},
		},
		{
			name:  "tab indentation",
			files: map[string]string{"d.yaml": ok + "\tphrases: [x]\n"},
			want:  []string{"lists/d.yaml:4: ", "invalid YAML"},
		},
		{
			name:  "second YAML document",
			files: map[string]string{"d.yaml": ok + "---\nid: OK-2\n"},
			want:  []string{"lists/d.yaml:4: ", "holds one YAML document"},
		},
		{
			name:  "broken second YAML document",
			files: map[string]string{"d.yaml": ok + "---\nauthority: a: b\n"},
			want:  []string{"lists/d.yaml:5: ", "invalid YAML"},
		},
		{
			name:  "not a mapping",
			files: map[string]string{"d.yaml": "- id: X\n"},
			want:  []string{"lists/d.yaml:1: ", "must be a mapping"},
		},
		{
			name:  "empty file",
			files: map[string]string{"d.yaml": ""},
			want:  []string{"lists/d.yaml: ", "file is empty"},
		},
		{
			name:  "unknown key in a merge",
			files: map[string]string{"d.yaml": ok + "<<: {colour: blue}\n"},
			want:  []string{"lists/d.yaml:4: ", `unknown key "colour"`},
		},
		{
			name:  "circular merge",
			files: map[string]string{"d.yaml": "&b\n<<: *b\n" + ok},
			want:  []string{"lists/d.yaml:1: ", "nested more than 16 deep"},
		},
		{
			name:  "missing id",
			files: map[string]string{"d.yaml": "\njurisdiction: IN\nhandles: [a]\n"},
			want:  []string{"lists/d.yaml:2: ", `missing required key "id"`},
		},
		{
			name:  "bad id",
			files: map[string]string{"d.yaml": "id: bad id!\njurisdiction: IN\nhandles: [a]\n"},
			want:  []string{"lists/d.yaml:1: ", `id "bad id!" must be`},
		},
		{
			name:  "missing jurisdiction",
			files: map[string]string{"d.yaml": "id: X\nhandles: [a]\n"},
			want:  []string{"lists/d.yaml:1: ", `missing required key "jurisdiction"`},
		},
		{
			name:  "bad date",
			files: map[string]string{"d.yaml": ok + "received: 04/02/2021\n"},
			want:  []string{"lists/d.yaml:4: ", `date "04/02/2021" is neither YYYY-MM-DD nor RFC 3339`},
		},
		{
			name:  "expires before received",
			files: map[string]string{"d.yaml": ok + "received: 2021-02-04\nexpires: 2021-02-01\n"},
			want:  []string{"lists/d.yaml:5: ", "expires (2021-02-01T00:00:00Z) is not after received (2021-02-04T00:00:00Z)"},
		},
		{
			name:  "no entries",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: IN\nhandles: []\n"},
			want:  []string{"lists/d.yaml:1: ", "demand names no entries"},
		},
		{
			name:  "bad action",
			files: map[string]string{"d.yaml": ok + "action: delete\n"},
			want:  []string{"lists/d.yaml:4: ", `"delete" is not one of review | withhold`},
		},
		{
			name:  "bad status",
			files: map[string]string{"d.yaml": ok + "status: withdrawn\n"},
			want:  []string{"lists/d.yaml:4: ", `"withdrawn" is not one of active | rescinded`},
		},
		{
			name:  "tiers without exact",
			files: map[string]string{"d.yaml": ok + "tiers: [loose]\n"},
			want:  []string{"lists/d.yaml:4: ", "tiers must include exact"},
		},
		{
			name:  "unknown tier",
			files: map[string]string{"d.yaml": ok + "tiers: [exact, fuzzy]\n"},
			want:  []string{"lists/d.yaml:4: ", `unknown tier "fuzzy"`},
		},
		{
			name:  "mapping where a value belongs",
			files: map[string]string{"d.yaml": ok + "authority: {name: x}\n"},
			want:  []string{"lists/d.yaml:4: ", "must be a single value"},
		},
		{
			name:  "list item that is a list",
			files: map[string]string{"d.yaml": ok + "phrases: [[a, b]]\n"},
			want:  []string{"lists/d.yaml:4: ", "each item must be a single value"},
		},
		{
			name:  "every problem reported",
			files: map[string]string{"d.yaml": "id: X\njurisdiction: ZZ\nhandles: [bad-one]\nhashtags: [\"#1\"]\n"},
			want:  []string{"lists/d.yaml:2: ", "lists/d.yaml:3: ", "lists/d.yaml:4: "},
		},
		{
			name: "every bad file reported",
			files: map[string]string{
				"a.yaml": "id: A\njurisdiction: IN\nhandles: [a]\nbogus: 1\n",
				"b.yaml": "id: B\njurisdiction: IN\nhandles: [b]\nbogus: 1\n",
				"c.yaml": ok,
			},
			want: []string{"lists/a.yaml:4: ", "lists/b.yaml:4: "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			demands, _, err := ParseLists(mapFS(tt.files), "lists")
			if err == nil {
				t.Fatalf("ParseLists succeeded with %d demands, want an error containing %q", len(demands), tt.want)
			}
			if demands != nil {
				t.Errorf("ParseLists returned %d demands with its error, want none", len(demands))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			checkListErrors(t, err)
		})
	}
}

// checkListErrors checks that err and each error it joins is a *ListError.
func checkListErrors(t testing.TB, err error) {
	t.Helper()
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var le *matchers.ListError
		if !errors.As(e, &le) {
			t.Errorf("error %q (%T) is not a *ListError", e, e)
		}
	}
}

func TestReadEntryFileComments(t *testing.T) {
	files := map[string]string{
		"d.yaml": "id: X\njurisdiction: IN\nhashtags_file: t.txt\nhandles_file: h.txt\n",
		"t.txt": "# a comment\n" +
			"#\n" +
			"#FarmerGenocide\n" +
			"  #Indented  \n" +
			"#Tagged # with a comment\n" +
			"NoHash\n" +
			"\t#\tcomment after a tab\n" +
			"\r\n" +
			"#Last",
		"h.txt": "fict_a\r\nfict_b # comment\n",
	}
	demands, _, err := ParseLists(mapFS(files), "")
	if err != nil {
		t.Fatalf("ParseLists: %v", err)
	}
	var got []string
	for i := range demands[0].Entries.Len() {
		e := demands[0].Entries.At(i)
		got = append(got, fmt.Sprintf("%s %s:%d", e.Value, e.File, e.Line))
	}
	want := []string{
		"#FarmerGenocide t.txt:3", "#Indented t.txt:4", "#Tagged t.txt:5", "NoHash t.txt:6", "#Last t.txt:9",
		"fict_a h.txt:1", "fict_b h.txt:2",
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries:\ngot  %q\nwant %q", got, want)
	}
}
