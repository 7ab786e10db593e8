package report_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"flagstream/internal/report"
)

// The CLI's `flagstream report --cases F --tasks F --decisions F` opens the
// files and calls Build, then Render in the format asked for.
func Example() {
	cases := `{"schema":"flagstream.review_case/v1","case_id":"c1","event":"opened","demand_id":"IN-MEITY-2021-02-04","jurisdictions":["IN"],"updated_at":"2021-02-04T10:00:00Z"}
{"schema":"flagstream.review_case/v1","case_id":"c2","event":"opened","demand_id":"IN-MEITY-2021-02-04","jurisdictions":["IN"],"updated_at":"2021-02-04T11:00:00Z"}`
	tasks := `{"schema":"flagstream.review_task/v1","task_id":"a0000000000000000000000000000001","created_at":"2021-02-04T12:00:00Z","matches":[{"kind":"hashtag","demand_id":"IN-MEITY-2021-02-04"}]}`
	decisions := `{"schema":"flagstream.review_decision/v1","case_id":"c1","decision":"withhold","countries":["IN"],"decided_at":"2021-02-05T09:00:00Z"}
not json`
	r, err := report.Build(context.Background(), report.Input{
		Cases:     report.NDJSON("cases.ndjson", strings.NewReader(cases)),
		Tasks:     report.NDJSON("tasks.ndjson", strings.NewReader(tasks)),
		Decisions: report.NDJSON("decisions.ndjson", strings.NewReader(decisions)),
	}, report.Options{
		Demands: []report.ListedDemand{{ID: "IN-MEITY-2021-02-04", Jurisdictions: []string{"IN"}, AccountEntries: 1178}},
		Now:     time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := r.Demands[0]
	fmt.Printf("%s: %d accounts specified, %d seen, %d withheld %v, %d pending; %d tasks\n",
		d.ID, *d.AccountsSpecified, d.Live.Accounts.Seen, d.Live.Accounts.Withheld, d.Live.Accounts.WithheldCountries,
		d.Live.Accounts.Pending, d.Live.Tasks.Emitted)
	for _, p := range r.Inputs.Problems {
		fmt.Printf("%s:%d: %s\n", p.Stream, p.Index, p.Reason)
	}
	if err := report.Render(os.Stdout, r, report.FormatCSV); err != nil {
		fmt.Println(err)
	}
	// Output:
	// IN-MEITY-2021-02-04: 1178 accounts specified, 2 seen, 1 withheld map[IN:1], 1 pending; 1 tasks
	// decisions.ndjson:2: not a decision: invalid JSON (unexpected value found: "not json"; unparsed tail: "not json")
	// row,demand_id,class,authority,jurisdictions,legal_basis,reference,listed,accounts_specified,accounts_seen,accounts_withheld,accounts_withheld_countries,accounts_no_action,accounts_terms_of_service,accounts_escalated,accounts_pending,handles_reassigned,accounts_exempted,evidence_posts,evidence_mentions,tasks_emitted,tasks_withheld,tasks_no_action,tasks_terms_of_service,tasks_escalated,tasks_pending,tasks_exempted,matches_hashtag,matches_mention,matches_author,matches_author_id,matches_phrase,matches_domain,matches_text,matches_other
	// demand,IN-MEITY-2021-02-04,live,,IN,,,true,1178,2,1,IN:1,0,0,0,1,0,0,0,0,1,0,0,0,0,1,0,1,0,0,0,0,0,0,0
	// demand,IN-MEITY-2021-02-04,shadow,,IN,,,true,,0,0,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	// demand,IN-MEITY-2021-02-04,tripped,,IN,,,true,,0,0,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	// total,,live,,,,,,1178,2,1,IN:1,0,0,0,1,0,0,0,0,1,0,0,0,0,1,0,1,0,0,0,0,0,0,0
	// total,,shadow,,,,,,,0,0,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	// total,,tripped,,,,,,,0,0,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
}
