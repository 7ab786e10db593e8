package report

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The fixtures in testdata are written by hand; each record says in its
// "_comment" what it is and how it counts (the report ignores fields it
// does not know). The counts below are summed by hand from those comments.
//
// cases.ndjson: 23 records (a blank line is skipped), 3 bad (a line cut by
// a crash, schema v0, event "closed"); 11 cases: A-I of IN-MEITY (live),
// S1 of DE-BKA (shadow), T1 of IN-MEITY (tripped); G has no opened event.
// decisions.ndjson: 20 records, 3 bad (decision "delete", both case_id and
// task_id, decided_at "yesterday"), 2 about nothing read (case-zzz, task
// ffff...).
// tasks.ndjson: 14 records, 3 bad (not JSON, no matches, no created_at),
// 1 repeat (t1 after a crash); 10 tasks t1-t10.

var (
	fixtureNow   = time.Date(2021, 3, 10, 9, 0, 0, 0, time.UTC)
	fixtureSince = time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC)
	fixtureUntil = time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)

	meity = ListedDemand{
		ID:             "IN-MEITY-2021-02-04",
		Authority:      "Ministry of Electronics and Information Technology, Government of India",
		Jurisdictions:  []string{"IN"},
		LegalBasis:     "Information Technology Act 2000, section 69A",
		Reference:      "lumen:00000001",
		AccountEntries: 12,
	}
	mha = ListedDemand{
		ID:            "IN-MHA-2021-02",
		Authority:     "Ministry of Home Affairs, Government of India",
		Jurisdictions: []string{"IN"},
		LegalBasis:    "Information Technology Act 2000, section 69A",
	}
	pta = ListedDemand{
		ID:             "PK-PTA-2021-03",
		Authority:      "Pakistan Telecommunication Authority",
		Jurisdictions:  []string{"PK"},
		LegalBasis:     "Prevention of Electronic Crimes Act 2016, section 37",
		AccountEntries: 2,
	}
	fixtureDemands = []ListedDemand{meity, mha, pta}
)

func fixtureInput(t testing.TB) Input {
	t.Helper()
	open := func(name string) Records {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return NDJSON(name, f)
	}
	return Input{Cases: open("cases.ndjson"), Tasks: open("tasks.ndjson"), Decisions: open("decisions.ndjson")}
}

func buildFixture(t testing.TB, opt Options) *Report {
	t.Helper()
	opt.Now = fixtureNow
	if opt.Demands == nil {
		opt.Demands = fixtureDemands
	}
	r, err := Build(context.Background(), fixtureInput(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// kinds returns match counts with every contract kind, zeros included.
func kinds(kv ...any) map[string]int64 {
	m := map[string]int64{}
	for _, k := range matchKinds {
		m[k] = 0
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = int64(kv[i+1].(int))
	}
	return m
}

func byCountry(kv ...any) map[string]int64 {
	m := map[string]int64{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = int64(kv[i+1].(int))
	}
	return m
}

func n(v int64) *int64 { return &v }

// empty is a class with nothing in it.
func empty() Counts {
	return Counts{Accounts: Accounts{WithheldCountries: byCountry()}, Matches: kinds()}
}

func TestFixtureEveryColumn(t *testing.T) {
	r := buildFixture(t, Options{})

	// IN-MEITY live cases: A withheld IN; B no action (its events repeated
	// after a crash); C terms of service (withhold, reopen, then ToS); D
	// withheld IN (decided 03-03, no countries: the case's jurisdiction),
	// reassigned; E escalated, exempt; F withheld IN and PK (decision read
	// before the case); G pending (no opened event); H no action (the
	// decisions stream wins a tie); I pending. Evidence from each case's
	// latest event: posts 3+2+5+1+1+4+2+1+1, mentions 1+0+2+0+1+0+3+1+0.
	// Its tasks: t2 (no action, hashtag) and t3 (pending, phrase).
	meityLive := Counts{
		Accounts: Accounts{Seen: 9, Withheld: 3, WithheldCountries: byCountry("IN", 3, "PK", 1), NoAction: 2,
			TermsOfService: 1, Escalated: 1, Pending: 2, Reassigned: 1, Exempted: 1, EvidencePosts: 20, EvidenceMentions: 8},
		Tasks:   Tasks{Emitted: 2, NoAction: 1, Pending: 1},
		Matches: kinds("hashtag", 1, "phrase", 1),
	}
	// IN-MEITY tripped: case T1, no action.
	meityTripped := empty()
	meityTripped.Accounts = Accounts{Seen: 1, NoAction: 1, WithheldCountries: byCountry(), EvidencePosts: 1}
	// IN-MHA live tasks: t1 withheld, t2 no action, t4 ToS, t5 escalated
	// (exempt), t6 withheld, t7 pending, t10 pending (t1's repeat is not
	// counted). Matches: hashtag t1 t2 t5 t10, phrase t2, author and domain
	// t4, text t6, author_id and mention t7.
	mhaLive := empty()
	mhaLive.Tasks = Tasks{Emitted: 7, Withheld: 2, NoAction: 1, TermsOfService: 1, Escalated: 1, Pending: 2, Exempted: 1}
	mhaLive.Matches = kinds("hashtag", 4, "phrase", 1, "author", 1, "domain", 1, "text", 1, "author_id", 1, "mention", 1)
	// IN-MHA tripped: t8.
	mhaTripped := empty()
	mhaTripped.Tasks = Tasks{Emitted: 1, Pending: 1}
	mhaTripped.Matches = kinds("hashtag", 1)
	// DE-BKA shadow: case S1 pending, task t9 pending.
	bkaShadow := Counts{
		Accounts: Accounts{Seen: 1, Pending: 1, WithheldCountries: byCountry(), EvidencePosts: 2},
		Tasks:    Tasks{Emitted: 1, Pending: 1},
		Matches:  kinds("hashtag", 1),
	}
	want := []Demand{
		{
			ID: "DE-BKA-2021-05", Authority: `Bundeskriminalamt <img src=x onerror=alert(1)> & "Partner"`,
			Jurisdictions: []string{"DE"}, LegalBasis: "NetzDG § 3 | *urgent* [link](http://evil.example/)",
			Reference: "ref\x1b[31m-red\u202e",
			Live:      empty(), Shadow: bkaShadow, Tripped: empty(),
		},
		{
			ID: meity.ID, Authority: meity.Authority, Jurisdictions: []string{"IN"}, LegalBasis: meity.LegalBasis,
			Reference: meity.Reference, Listed: true, AccountsSpecified: n(12),
			Live: meityLive, Shadow: empty(), Tripped: meityTripped,
		},
		{
			ID: mha.ID, Authority: mha.Authority, Jurisdictions: []string{"IN"}, LegalBasis: mha.LegalBasis,
			Listed: true, AccountsSpecified: n(0),
			Live: mhaLive, Shadow: empty(), Tripped: mhaTripped,
		},
		{
			ID: pta.ID, Authority: pta.Authority, Jurisdictions: []string{"PK"}, LegalBasis: pta.LegalBasis,
			Listed: true, AccountsSpecified: n(2),
			Live: empty(), Shadow: empty(), Tripped: empty(),
		},
	}
	diffJSON(t, "demands", r.Demands, want)

	// Totals: accounts are IN-MEITY's (live, tripped) and DE-BKA's
	// (shadow); tasks are t1-t7 and t10 once each (t2 names two demands),
	// t9 shadow, t8 tripped; matches sum the demands'.
	totalLive := meityLive
	totalLive.Tasks = Tasks{Emitted: 8, Withheld: 2, NoAction: 1, TermsOfService: 1, Escalated: 1, Pending: 3, Exempted: 1}
	totalLive.Matches = kinds("hashtag", 5, "phrase", 2, "author", 1, "domain", 1, "text", 1, "author_id", 1, "mention", 1)
	totalTripped := meityTripped
	totalTripped.Tasks = mhaTripped.Tasks
	totalTripped.Matches = mhaTripped.Matches
	diffJSON(t, "totals", r.Totals, Totals{AccountsSpecified: n(14), Live: totalLive, Shadow: bkaShadow, Tripped: totalTripped})

	// Days: cases by the day of their opened event (G: its update), tasks
	// by created_at.
	diffJSON(t, "days", r.Days, []Day{
		{Date: "2021-02-04", CasesOpened: ByClass{Live: 3}, Tasks: ByClass{Live: 2}},                         // A B C; t1 t2
		{Date: "2021-02-05", CasesOpened: ByClass{Live: 2, Shadow: 1}, Tasks: ByClass{Live: 3, Shadow: 1}},   // D E S1; t3 t4 t5 t9
		{Date: "2021-02-06", CasesOpened: ByClass{Live: 2, Tripped: 1}, Tasks: ByClass{Live: 2, Tripped: 1}}, // F G T1; t6 t7 t8
		{Date: "2021-02-07", CasesOpened: ByClass{Live: 1}},                                                  // H
		{Date: "2021-03-02", CasesOpened: ByClass{Live: 1}, Tasks: ByClass{Live: 1}},                         // I; t10
	})

	wantIn := Inputs{
		Cases:     CaseInput{Records: 23, Bad: 3, Cases: 11, NotOpened: 1, Reported: 11},
		Tasks:     TaskInput{Records: 14, Bad: 3, Repeats: 1, Reported: 10},
		Decisions: DecisionInput{Records: 20, Bad: 3, Unmatched: 2},
		Problems: []Problem{
			{"cases.ndjson", 5, `not a case event: invalid JSON (cannot parse object: cannot parse object value: cannot parse string: missing closing '"')`},
			{"cases.ndjson", 12, `schema: "flagstream.review_case/v0" is not flagstream.review_case/v1`},
			{"cases.ndjson", 17, `event: "closed" is not opened, updated, reassigned, decided or reopened`},
			{"decisions.ndjson", 9, `decision: "delete" is not withhold, no_action, terms_of_service, escalate or reopen`},
			{"decisions.ndjson", 10, "case_id and task_id: a decision is about one case or one task"},
			{"decisions.ndjson", 18, `decided_at: "yesterday" is not an RFC 3339 time`},
			{"tasks.ndjson", 4, "not a review task: invalid JSON (cannot parse object: cannot parse object value: cannot parse empty string)"},
			{"tasks.ndjson", 7, "matches: empty"},
			{"tasks.ndjson", 13, "created_at: missing or not a string"},
		},
	}
	diffJSON(t, "inputs", r.Inputs, wantIn)

	if r.Schema != SchemaID || !r.GeneratedAt.Equal(fixtureNow) {
		t.Errorf("schema %q, generated %v; want %q, %v", r.Schema, r.GeneratedAt, SchemaID, fixtureNow)
	}
	if r.Period.Since != nil || r.Period.Until != nil || r.Period.AsOf != nil || len(r.Period.Demands) != 0 {
		t.Errorf("period %+v, want open", r.Period)
	}
	checkInvariants(t, r)
}

// TestFixturePeriod reports February only: case I and task t10 (March) are
// left out, and case D's withhold of 03-03 is after the period's end, so D
// is pending.
func TestFixturePeriod(t *testing.T) {
	r := buildFixture(t, Options{Since: fixtureSince, Until: fixtureUntil})
	meityLive := Counts{
		Accounts: Accounts{Seen: 8, Withheld: 2, WithheldCountries: byCountry("IN", 2, "PK", 1), NoAction: 2,
			TermsOfService: 1, Escalated: 1, Pending: 2, Reassigned: 1, Exempted: 1, EvidencePosts: 19, EvidenceMentions: 8},
		Tasks:   Tasks{Emitted: 2, NoAction: 1, Pending: 1},
		Matches: kinds("hashtag", 1, "phrase", 1),
	}
	diffJSON(t, "IN-MEITY live", r.Demands[1].Live, meityLive)
	mhaLive := empty()
	mhaLive.Tasks = Tasks{Emitted: 6, Withheld: 2, NoAction: 1, TermsOfService: 1, Escalated: 1, Pending: 1, Exempted: 1}
	mhaLive.Matches = kinds("hashtag", 3, "phrase", 1, "author", 1, "domain", 1, "text", 1, "author_id", 1, "mention", 1)
	diffJSON(t, "IN-MHA live", r.Demands[2].Live, mhaLive)
	if got := r.Totals.Live.Tasks.Emitted; got != 7 {
		t.Errorf("total live tasks = %d, want 7 (t1-t7)", got)
	}
	if got := len(r.Days); got != 4 || r.Days[3].Date != "2021-02-07" {
		t.Errorf("days = %+v, want 02-04 to 02-07", r.Days)
	}
	if got := r.Inputs.Decisions.Late; got != 1 {
		t.Errorf("late decisions = %d, want 1 (case D's of 03-03)", got)
	}
	if got := r.Inputs.Cases.Reported; got != 10 {
		t.Errorf("reported cases = %d, want 10 (all but I)", got)
	}
	if r.Period.Since == nil || !r.Period.Since.Equal(fixtureSince) || r.Period.Until == nil || !r.Period.Until.Equal(fixtureUntil) ||
		r.Period.AsOf == nil || !r.Period.AsOf.Equal(fixtureUntil) {
		t.Errorf("period = %+v", r.Period)
	}
	checkInvariants(t, r)

	// As of a later time, D's decision counts again while I stays out.
	r = buildFixture(t, Options{Since: fixtureSince, Until: fixtureUntil, AsOf: fixtureNow})
	if a := r.Demands[1].Live.Accounts; a.Withheld != 3 || a.Pending != 1 || a.Seen != 8 {
		t.Errorf("as of %v: IN-MEITY accounts %+v, want seen 8, withheld 3, pending 1", fixtureNow, a)
	}
}

// TestFixtureDemandFilter reports IN-MHA and an id that nothing names.
func TestFixtureDemandFilter(t *testing.T) {
	r := buildFixture(t, Options{Only: []string{"IN-MHA-2021-02", "XX-NONE"}})
	if len(r.Demands) != 2 || r.Demands[0].ID != "IN-MHA-2021-02" || r.Demands[1].ID != "XX-NONE" {
		t.Fatalf("demands = %v, want IN-MHA-2021-02 and XX-NONE", ids(r))
	}
	if x := r.Demands[1]; x.Listed || x.AccountsSpecified != nil || !x.Live.Empty() || !x.Shadow.Empty() || !x.Tripped.Empty() {
		t.Errorf("XX-NONE = %+v, want unlisted and empty", x)
	}
	// Tasks naming IN-MHA: t1 t2 t4 t5 t6 t7 t10 (not t3); t2's IN-MEITY
	// hashtag is not counted.
	wantLive := empty()
	wantLive.Tasks = Tasks{Emitted: 7, Withheld: 2, NoAction: 1, TermsOfService: 1, Escalated: 1, Pending: 2, Exempted: 1}
	wantLive.Matches = kinds("hashtag", 4, "phrase", 1, "author", 1, "domain", 1, "text", 1, "author_id", 1, "mention", 1)
	diffJSON(t, "totals live", r.Totals.Live, wantLive)
	if r.Totals.AccountsSpecified == nil || *r.Totals.AccountsSpecified != 0 {
		t.Errorf("total accounts specified = %v, want 0 (IN-MHA names none)", r.Totals.AccountsSpecified)
	}
	if !reflect.DeepEqual(r.Period.Demands, []string{"IN-MHA-2021-02", "XX-NONE"}) {
		t.Errorf("period demands = %v", r.Period.Demands)
	}
	// Filtered-out items still match their decisions.
	if got := r.Inputs.Decisions.Unmatched; got != 2 {
		t.Errorf("unmatched decisions = %d, want 2", got)
	}
	if got := r.Inputs.Cases.Reported; got != 0 {
		t.Errorf("reported cases = %d, want 0", got)
	}
}

// TestWithoutLists: with no listed demands, every demand named comes from
// the records, and nothing says how many accounts it names.
func TestWithoutLists(t *testing.T) {
	r := buildFixture(t, Options{Demands: []ListedDemand{}})
	if got := ids(r); !reflect.DeepEqual(got, []string{"DE-BKA-2021-05", "IN-MEITY-2021-02-04", "IN-MHA-2021-02"}) {
		t.Fatalf("demands = %v", got)
	}
	for _, d := range r.Demands {
		if d.Listed || d.AccountsSpecified != nil {
			t.Errorf("%s: listed %v, specified %v; want unlisted", d.ID, d.Listed, d.AccountsSpecified)
		}
	}
	if d := r.Demands[2]; d.Authority != mha.Authority || d.LegalBasis != mha.LegalBasis || !reflect.DeepEqual(d.Jurisdictions, []string{"IN"}) {
		t.Errorf("IN-MHA details from its first task = %+v", d)
	}
	if r.Totals.AccountsSpecified != nil {
		t.Errorf("total specified = %v, want nil", *r.Totals.AccountsSpecified)
	}
}

func ids(r *Report) []string {
	var out []string
	for _, d := range r.Demands {
		out = append(out, d.ID)
	}
	return out
}

// checkInvariants checks what the columns' definitions promise.
func checkInvariants(t *testing.T, r *Report) {
	t.Helper()
	check := func(name string, k *Counts) {
		a, ts := &k.Accounts, &k.Tasks
		if a.Seen != a.Withheld+a.NoAction+a.TermsOfService+a.Escalated+a.Pending {
			t.Errorf("%s: accounts seen %d != sum of outcomes %+v", name, a.Seen, a)
		}
		if ts.Emitted != ts.Withheld+ts.NoAction+ts.TermsOfService+ts.Escalated+ts.Pending {
			t.Errorf("%s: tasks emitted %d != sum of outcomes %+v", name, ts.Emitted, ts)
		}
		if a.Exempted > a.Seen || a.Reassigned > a.Seen || ts.Exempted > ts.Emitted {
			t.Errorf("%s: exempted or reassigned beyond the items: %+v %+v", name, a, ts)
		}
		var byCountry int64
		for _, v := range a.WithheldCountries {
			byCountry += v
		}
		if (a.Withheld == 0) != (byCountry == 0) || byCountry < a.Withheld && byCountry != 0 {
			t.Errorf("%s: withheld %d but countries %v", name, a.Withheld, a.WithheldCountries)
		}
	}
	var days [2]ByClass
	for _, d := range r.Days {
		for c := range Classes {
			days[0].add(Class(c), d.CasesOpened.of(Class(c)))
			days[1].add(Class(c), d.Tasks.of(Class(c)))
		}
	}
	for _, c := range Classes {
		var seen, matches int64
		for i := range r.Demands {
			k := r.Demands[i].Class(c)
			check(r.Demands[i].ID+" "+c.String(), k)
			seen += k.Accounts.Seen
			for _, v := range k.Matches {
				matches += v
			}
		}
		tot := r.Totals.Class(c)
		check("total "+c.String(), tot)
		if seen != tot.Accounts.Seen {
			t.Errorf("%s: demands' accounts seen %d, total %d", c, seen, tot.Accounts.Seen)
		}
		var totMatches int64
		for _, v := range tot.Matches {
			totMatches += v
		}
		if matches != totMatches {
			t.Errorf("%s: demands' matches %d, total %d", c, matches, totMatches)
		}
		if days[0].of(c) != tot.Accounts.Seen || days[1].of(c) != tot.Tasks.Emitted {
			t.Errorf("%s: days sum to %d cases, %d tasks; totals %d, %d", c, days[0].of(c), days[1].of(c), tot.Accounts.Seen, tot.Tasks.Emitted)
		}
	}
}

// diffJSON compares got and want through their JSON, line by line.
func diffJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if string(g) == string(w) {
		return
	}
	gl, wl := strings.Split(string(g), "\n"), strings.Split(string(w), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var a, b string
		if i < len(gl) {
			a = gl[i]
		}
		if i < len(wl) {
			b = wl[i]
		}
		if a != b {
			t.Errorf("%s differs from line %d:\n got: %s\nwant: %s\n(got in full:\n%s)", what, i+1, a, b, g)
			return
		}
	}
}

// TestMixedStream: the shadow topic (and scan's --shadow file) holds
// tasks and case events together; read from either stream, every record
// counts by its schema, and the report is the same.
func TestMixedStream(t *testing.T) {
	want := buildFixture(t, Options{})
	in := fixtureInput(t)
	mixed := Input{Tasks: Concat(in.Cases, in.Tasks), Decisions: in.Decisions}
	got, err := Build(context.Background(), mixed, Options{Demands: fixtureDemands, Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	diffJSON(t, "demands", got.Demands, want.Demands)
	diffJSON(t, "totals", got.Totals, want.Totals)
	diffJSON(t, "days", got.Days, want.Days)
	// Records that are no case event nor task (invalid JSON, schema v0)
	// count as bad in the stream they were read from: here the tasks'.
	g, w := got.Inputs, want.Inputs
	if g.Cases.Records+g.Tasks.Records != w.Cases.Records+w.Tasks.Records || g.Cases.Bad+g.Tasks.Bad != w.Cases.Bad+w.Tasks.Bad ||
		g.Cases.Bad != 1 || g.Tasks.Bad != 5 {
		t.Errorf("inputs %+v %+v, want %+v %+v with the two unreadable case lines among the tasks", g.Cases, g.Tasks, w.Cases, w.Tasks)
	}
	g.Cases.Records, g.Cases.Bad, g.Tasks.Records, g.Tasks.Bad = w.Cases.Records, w.Cases.Bad, w.Tasks.Records, w.Tasks.Bad
	diffJSON(t, "input counts", []any{g.Cases, g.Tasks, g.Decisions}, []any{w.Cases, w.Tasks, w.Decisions})

	dec := `{"schema":"flagstream.review_decision/v1","task_id":"a0000000000000000000000000000001","decision":"withhold","decided_at":"2021-02-04T12:00:00Z"}`
	r, err := Build(context.Background(), Input{Tasks: NDJSON("t", strings.NewReader(dec))}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Inputs.Tasks.Bad != 1 || len(r.Inputs.Problems) != 1 || !strings.Contains(r.Inputs.Problems[0].Reason, "decisions stream") {
		t.Errorf("a decision among tasks: %+v", r.Inputs)
	}
}

// TestCaseWithoutJurisdictions refuses a case event that names no
// jurisdiction (flagstream writes its demand's into every one): withheld,
// it would count in no country. FuzzBuild found one, decided withhold with
// no countries, for a demand no other input named.
func TestCaseWithoutJurisdictions(t *testing.T) {
	for _, juris := range []string{``, `"jurisdictions":null,`, `"jurisdictions":[],`} {
		cases := `{"schema":"flagstream.review_case/v1","case_id":"c1","event":"decided","demand_id":"D",` + juris +
			`"updated_at":"2021-02-05T10:00:00Z","decision":{"decision":"withhold"}}`
		r, err := Build(context.Background(), Input{Cases: NDJSON("cases.ndjson", strings.NewReader(cases))}, Options{Now: fixtureNow})
		if err != nil {
			t.Fatal(err)
		}
		want := []Problem{{"cases.ndjson", 1, "jurisdictions: missing or empty"}}
		if !reflect.DeepEqual(r.Inputs.Problems, want) || r.Inputs.Cases.Bad != 1 || r.Totals.Live.Accounts.Withheld != 0 {
			t.Errorf("%s: problems %+v, cases %+v, withheld %d; want %+v, one bad, none withheld",
				juris, r.Inputs.Problems, r.Inputs.Cases, r.Totals.Live.Accounts.Withheld, want)
		}
		checkInvariants(t, r)
	}
}
