package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"flagstream/internal/testkit"
	"flagstream/pipeline/cases"
)

// caseLists are a scope: user demand naming three handles, a user id, a
// pinned account and a hashtag, and a tweet-scope demand naming another
// hashtag.
var caseLists = map[string]string{
	"c.yaml": `id: C-1
authority: Test Ministry
jurisdiction: IN
legal_basis: Test Act
action: withhold
scope: user
priority: high
handles: ["@Acct_One", acct_two, acct_three]
user_ids: ["5005"]
accounts: [{handle: pinned_four, user_id: "4004"}]
hashtags: ["#CaseTag"]
`,
	"t.yaml": `id: T-9
authority: Trust and Safety
jurisdiction: US
legal_basis: Policy
hashtags: ["#OtherTag"]
`,
}

// caseTweet is a v1.1 tweet of the case corpus, posted at second sec.
func caseTweet(id string, sec int, userID, handle, text, extra string) string {
	at := time.Date(2021, 2, 4, 9, 0, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second)
	return fmt.Sprintf(`{"id_str":%q,"created_at":%q,"text":%q,"user":{"id_str":%q,"screen_name":%q}%s}`,
		id, at.Format("Mon Jan 02 15:04:05 -0700 2006"), text, userID, handle, extra)
}

// caseCorpus is the hand-written input of TestScanCases: a listed account
// that posts, renames itself and comes back to its handle, while another
// account takes the handle over for a while; mentions and a retweet of a
// second account; a listed user id; a pinned account under a new handle.
var caseCorpus = []string{
	caseTweet("1", 0, "1001", "Acct_One", "hello", ""),                                                                               // binds @acct_one to 1001
	caseTweet("2", 10, "1001", "acct_one", "#CaseTag again", ""),                                                                     // a task of the hashtag, evidence of the author
	caseTweet("3", 20, "1001", "acct_one_new", "renamed", ""),                                                                        // via binding
	caseTweet("4", 30, "9999", "acct_one", "I have this handle now", ""),                                                             // reassigned, not counted
	caseTweet("5", 40, "9999", "acct_one", "still me", ""),                                                                           // not counted, no event
	caseTweet("6", 50, "2", "someone", "hi @acct_two", `,"entities":{"user_mentions":[{"screen_name":"acct_two","id_str":"1002"}]}`), // binds @acct_two from the entity
	caseTweet("7", 60, "3", "fan", "RT @acct_two: my post", `,"retweeted_status":`+caseTweet("70", 55, "1002", "acct_two", "my post", "")),
	caseTweet("8", 70, "5005", "whoever", "the listed id", ""),
	caseTweet("9", 80, "4004", "pin_renamed", "the pinned account", ""),
	caseTweet("10", 90, "6", "clean", "nothing listed", ""),
	caseTweet("11", 100, "1001", "acct_one_new", "#OtherTag", ""),     // a T-9 task, C-1 evidence via binding
	caseTweet("12", 110, "1001", "acct_one", "back to my handle", ""), // counted; the handle is the account's again
	`{"id_str": "broken`,
}

// TestScanCases runs scan --cases over the hand-written corpus through the
// command line and checks the case events: one opened per case and only
// for accounts that posted, the counts, the rename, the reassigned handle,
// the schema, and the same events whatever the number of workers.
func TestScanCases(t *testing.T) {
	dir := t.TempDir()
	listsDir := testkit.WriteLists(t, caseLists)
	// Clean tweets after the first two put the rest in later batches
	// (scan reads 1024 lines a batch), which other workers may match
	// before the binding of tweet 1 is learned.
	lines := slices.Clone(caseCorpus[:2])
	for i := range 1500 {
		lines = append(lines, caseTweet(fmt.Sprint(100000+i), 5, fmt.Sprint(200000+i), "clean", "nothing here", ""))
	}
	lines = append(lines, caseCorpus[2:]...)
	input := filepath.Join(dir, "in.ndjson")
	writeFile(t, input, strings.Join(lines, "\n")+"\n")

	var first []byte
	for _, workers := range []string{"1", "3"} {
		casesPath := filepath.Join(dir, "cases-"+workers+".ndjson")
		r := runMain(t, nil, "scan", "--lists", listsDir, "--at", "2021-02-05", "--workers", workers, "--cases", casesPath, input)
		if r.code != ExitOK {
			t.Fatalf("scan: exit %d; stderr:\n%s", r.code, r.stderr)
		}
		events, err := os.ReadFile(casesPath)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = events
			checkScanTasks(t, r.stdout)
			checkScanEvents(t, events)
			if !strings.Contains(r.stderr, "cases: 12 evidence records, 4 cases (4 opened, 3 updated, 1 reassigned); events written to "+casesPath) {
				t.Errorf("stderr lacks the cases summary:\n%s", r.stderr)
			}
		} else if !bytes.Equal(events, first) {
			t.Errorf("--workers %s wrote other events than --workers 1:\n%s\nwant\n%s", workers, events, first)
		}
	}

	// Without --cases the cases are counted, not written; with
	// --no-cases the account matches are tasks, and without a case
	// processor no binding is learned: the renamed account's tweet 3 has
	// no task (the pinned one's tweet 9 has).
	r := runMain(t, nil, "scan", "--lists", listsDir, "--at", "2021-02-05", input)
	if !strings.Contains(r.stderr, "4 cases (4 opened, 3 updated, 1 reassigned); events not written: give --cases FILE") {
		t.Errorf("scan without --cases: stderr lacks the summary:\n%s", r.stderr)
	}
	r = runMain(t, nil, "scan", "--lists", listsDir, "--at", "2021-02-05", "--no-cases", input)
	if got := strings.Count(r.stdout, "\n"); got != 10 || strings.Contains(r.stderr, "cases:") {
		t.Errorf("scan --no-cases: %d tasks, want 10 (every tweet but 3 and the clean one), and no cases summary:\n%s", got, r.stderr)
	}
	r = runMain(t, nil, "scan", "--lists", listsDir, "--cases", filepath.Join(dir, "x"), "--no-cases", input)
	if r.code != ExitUsage {
		t.Errorf("scan --cases --no-cases: exit %d, want %d", r.code, ExitUsage)
	}
}

// checkScanTasks checks that only the tweets with matches other than
// account ones have tasks, and those without the account matches.
func checkScanTasks(t *testing.T, stdout string) {
	t.Helper()
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var task struct {
			Tweet struct {
				ID string `json:"id"`
			} `json:"tweet"`
			Matches []struct {
				Kind, Entry string
			} `json:"matches"`
		}
		if err := json.Unmarshal([]byte(line), &task); err != nil {
			t.Fatalf("task: %v: %s", err, line)
		}
		for _, m := range task.Matches {
			got = append(got, task.Tweet.ID+" "+m.Kind+" "+m.Entry)
		}
	}
	if want := []string{"2 hashtag #CaseTag", "11 hashtag #OtherTag"}; !slices.Equal(got, want) {
		t.Errorf("task matches %q, want %q", got, want)
	}
}

func checkScanEvents(t *testing.T, data []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(cases.CaseSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("review_case.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("review_case.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	caseOf := func(kind cases.EntryKind, entry string) string {
		id, err := cases.CaseOf("C-1", kind, entry)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	names := map[string]string{
		caseOf(cases.EntryHandle, "@Acct_One"):   "acct_one",
		caseOf(cases.EntryHandle, "acct_two"):    "acct_two",
		caseOf(cases.EntryUserID, "5005"):        "5005",
		caseOf(cases.EntryHandle, "pinned_four"): "pinned_four",
		caseOf(cases.EntryHandle, "acct_three"):  "acct_three",
	}
	var kinds []string
	last := map[string]cases.Event{}
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("event does not validate: %v\n%s", err, line)
		}
		e, err := cases.ParseEvent(line)
		if err != nil {
			t.Fatal(err)
		}
		name, ok := names[e.CaseID]
		if !ok {
			t.Fatalf("event of an unknown case %s: %s", e.CaseID, line)
		}
		kinds = append(kinds, name+" "+string(e.Event))
		last[name] = e
	}
	want := []string{
		"acct_one opened",
		"acct_one reassigned",
		"acct_two opened",
		"5005 opened",
		"pinned_four opened",
		"acct_one updated", // tweet 11, a minute after the reassigned event
		"acct_one updated", // the pending updates, flushed at the end in case id order
		"acct_two updated",
	}
	if len(kinds) == len(want) {
		slices.Sort(kinds[6:])
		slices.Sort(want[6:])
	}
	if !slices.Equal(kinds, want) {
		t.Errorf("events:\ngot  %q\nwant %q", kinds, want)
	}

	one := last["acct_one"]
	if one.Evidence.Posts != 5 || one.Evidence.Mentions != 0 {
		t.Errorf("acct_one: %d posts, %d mentions; want 5 (tweets 1, 2, 3, 11, 12: not the new holder's 4 and 5), 0",
			one.Evidence.Posts, one.Evidence.Mentions)
	}
	if one.Account.UserID != "1001" || one.Account.Binding != cases.BindingLearned ||
		!slices.Equal(one.Account.HandlesSeen, []string{"Acct_One", "acct_one_new"}) || one.Account.HandleNowHeldBy != nil {
		t.Errorf("acct_one account %+v: want 1001, learned, handles Acct_One and acct_one_new, the handle its own again", one.Account)
	}
	if !slices.Equal(one.Evidence.SampleTweetIDs, []string{"1", "2", "3", "11", "12"}) {
		t.Errorf("acct_one sample tweets %q", one.Evidence.SampleTweetIDs)
	}
	two := last["acct_two"]
	if two.Evidence.Posts != 1 || two.Evidence.Mentions != 2 || two.Account.UserID != "1002" {
		t.Errorf("acct_two: %d posts, %d mentions, user %q; want 1 (the retweeted post), 2 (tweets 6 and 7), 1002",
			two.Evidence.Posts, two.Evidence.Mentions, two.Account.UserID)
	}
	pin := last["pinned_four"]
	if pin.Account.Binding != cases.BindingPinned || pin.Account.UserID != "4004" || pin.Evidence.Posts != 1 {
		t.Errorf("pinned_four: %+v, %d posts; want pinned to 4004, 1 post", pin.Account, pin.Evidence.Posts)
	}
	for _, e := range last {
		if e.DemandID != "C-1" || e.Action != "withhold" || e.Priority != "high" || !slices.Equal(e.Jurisdictions, []string{"IN"}) {
			t.Errorf("case %s: demand fields %s %s %s %v", e.CaseID, e.DemandID, e.Action, e.Priority, e.Jurisdictions)
		}
	}
	// The reassigned event names the new holder.
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		e, _ := cases.ParseEvent(line)
		if e.Event == cases.EventReassigned && (e.Account.HandleNowHeldBy == nil || *e.Account.HandleNowHeldBy != "9999") {
			t.Errorf("reassigned event names %v as the holder, want 9999", e.Account.HandleNowHeldBy)
		}
	}
}
