package cases_test

import (
	"fmt"
	"log"
	"time"

	"flagstream/pipeline/cases"
)

func ExampleProcessor() {
	demand := cases.Demand{
		ID: "IN-MEITY-2021-02-04", Jurisdictions: []string{"IN"}, Action: "withhold", Priority: "high",
		Scope: "user", ListsVersion: "eafced2608ccb201",
	}
	caseID, err := cases.CaseOf(demand.ID, cases.EntryHandle, "@Kisan_Ekta")
	if err != nil {
		log.Fatal(err)
	}
	post := func(tweetID, userID, handle string, viaBinding bool) cases.Input {
		return cases.Input{Evidence: &cases.Evidence{
			CaseID: caseID, Demand: demand, Entry: "@Kisan_Ekta", EntryKind: cases.EntryHandle,
			Kind: cases.EvidencePost, In: "tweet", Tier: "exact", ViaBinding: viaBinding,
			TweetID: tweetID, SeenAt: time.Date(2021, 2, 4, 9, 0, 0, 0, time.UTC),
			Author: cases.Author{ID: userID, Handle: handle},
		}}
	}
	p := cases.NewProcessor(cases.Config{UpdateInterval: time.Minute})
	now := time.Date(2021, 2, 4, 9, 0, 0, 0, time.UTC)
	for _, in := range []cases.Input{
		post("1", "1111", "Kisan_Ekta", false), // binds @Kisan_Ekta to 1111
		post("2", "1111", "kisan_new", true),   // renamed: found through the binding
		post("3", "9999", "Kisan_Ekta", false), // another account took the handle
		post("4", "9999", "Kisan_Ekta", false),
		post("5", "1111", "kisan_new", true), // counted; the update waits for the interval
	} {
		// A worker writes the input to the case input topic; the
		// partition's owner reads it back.
		line, err := in.Append(nil)
		if err != nil {
			log.Fatal(err)
		}
		in, err := cases.DecodeInput(line)
		if err != nil {
			log.Fatal(err)
		}
		_, out, err := p.Apply(in, now)
		if err != nil {
			log.Fatal(err)
		}
		if out.Binding != nil {
			fmt.Printf("bind @%s to %s (%s)\n", out.Binding.Handle, out.Binding.UserID, out.Binding.Source)
		}
		for _, e := range out.Events {
			fmt.Printf("%s: %d posts, handles %q, held by another: %v\n", e.Event, e.Evidence.Posts, e.Account.HandlesSeen, e.Account.HandleNowHeldBy != nil)
		}
		fmt.Println(" ", out.Outcome)
		now = now.Add(10 * time.Second)
	}
	for _, e := range p.Flush(now, nil) {
		fmt.Printf("%s: %d posts, handle now held by %s\n", e.Event, e.Evidence.Posts, *e.Account.HandleNowHeldBy)
	}
	// Output:
	// bind @Kisan_Ekta to 1111 (learned)
	// opened: 1 posts, handles ["Kisan_Ekta"], held by another: false
	//   counted
	//   counted
	// reassigned: 2 posts, handles ["Kisan_Ekta" "kisan_new"], held by another: true
	//   reassigned
	//   reassigned
	//   counted
	// updated: 3 posts, handle now held by 9999
}

func ExampleParseDecision() {
	d, err := cases.ParseDecision([]byte(`{"schema":"flagstream.review_decision/v1","case_id":"49466ec9db82bc9769979fbacb716e2f",` +
		`"decision":"withhold","countries":["IN"],"reviewer":"reviewer-7","reason":"","decided_at":"2021-02-05T15:30:00+05:30"}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Verdict, d.Countries, d.DecidedAt)

	_, err = cases.ParseDecision([]byte(`{"schema":"flagstream.review_decision/v1","case_id":"49466ec9db82bc9769979fbacb716e2f",` +
		`"decision":"withhold","reviewer":"reviewer-7","decided_at":"2021-02-05T10:00:00Z"}`))
	fmt.Println(cases.ReasonOf(err), err)
	// Output:
	// withhold [IN] 2021-02-05 10:00:00 +0000 UTC
	// invalid_decision invalid_decision: a withhold decision needs the countries where it applies
}
