package report

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// FuzzBuild feeds arbitrary lines to each stream: the report never fails
// or panics on bad records, its columns keep their invariants, and it
// renders (the text formats: the page's escaping is html/template's, and
// rendering it too would slow each run tenfold).
func FuzzBuild(f *testing.F) {
	// Short seeds: the fuzzer minimizes each new input, and that takes
	// as many runs as the input has bytes.
	c := `{"schema":"flagstream.review_case/v1","case_id":"c1","event":"opened","demand_id":"IN-MEITY-2021-02-04","jurisdictions":["IN"],"updated_at":"2021-02-04T10:00:00Z","evidence":{"posts":1},"shadow":false}`
	c2 := `{"schema":"flagstream.review_case/v1","case_id":"c1","event":"decided","demand_id":"D","updated_at":"2021-02-05T10:00:00Z","decision":{"decision":"withhold","countries":["IN"],"decided_at":"2021-02-05T09:00:00Z"},"exemption":{}}`
	tk := `{"schema":"flagstream.review_task/v1","task_id":"a0000000000000000000000000000001","created_at":"2021-02-04T10:00:00Z","matches":[{"kind":"hashtag","demand_id":"IN-MHA-2021-02"},{"kind":"x","demand_id":"D"}],"tripped":true}`
	d := `{"schema":"flagstream.review_decision/v1","task_id":"a0000000000000000000000000000001","decision":"no_action","decided_at":"2021-02-04T11:00:00Z"}`
	d2 := `{"schema":"flagstream.review_decision/v1","case_id":"c1","decision":"reopen","decided_at":"2021-02-06T11:00:00Z"}`
	f.Add([]byte(c), []byte(tk), []byte(d))
	f.Add([]byte(c+"\n"+c2), []byte(tk+"\n"+tk), []byte(d2+"\n"+d))
	f.Add([]byte(`{"schema":"flagstream.review_case/v1","case_id":"x","event":"decided","demand_id":"D","updated_at":"2021-02-29T00:00:00Z","decision":"withhold"}`),
		[]byte(`{"schema":"flagstream.review_task/v1","task_id":"x","created_at":"2021-02-28T00:00:00.000000001Z","matches":[{"kind":"k","demand_id":"D"}],"exemption":1}`),
		[]byte(`{"schema":"flagstream.review_decision/v1","case_id":"x","decision":"reopen","decided_at":"2021-02-04T10:00:00+05:30","countries":["in"]}`))
	f.Fuzz(func(t *testing.T, cases, tasks, decisions []byte) {
		in := Input{
			Cases:     NDJSON("cases", bytes.NewReader(cases)),
			Tasks:     NDJSON("tasks", bytes.NewReader(tasks)),
			Decisions: NDJSON("decisions", bytes.NewReader(decisions)),
		}
		r, err := Build(context.Background(), in, Options{Demands: fixtureDemands, Now: fixtureNow})
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, r)
		in2 := r.Inputs
		if in2.Cases.Bad > in2.Cases.Records || in2.Tasks.Bad > in2.Tasks.Records || in2.Decisions.Bad > in2.Decisions.Records {
			t.Errorf("more bad records than records: %+v", in2)
		}
		for _, f := range []Format{FormatTable, FormatCSV, FormatJSON} {
			if err := Render(io.Discard, r, f); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	})
}

// FuzzNDJSON: the reader returns every non-blank line, numbered, whatever
// the bytes.
func FuzzNDJSON(f *testing.F) {
	f.Add([]byte("a\n\nb\r\n c \n"))
	f.Add([]byte("no newline at the end"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs := NDJSON("f", bytes.NewReader(b))
		var want []string
		for i, line := range bytes.Split(b, []byte("\n")) {
			line = bytes.TrimSuffix(line, []byte("\r"))
			if len(bytes.TrimSpace(line)) > 0 {
				want = append(want, string(line)+"@"+string(rune('0'+i%10)))
			}
		}
		var got []string
		for {
			r, err := rs.Next()
			if err == io.EOF {
				break
			}
			if err != nil || r.Err != nil {
				t.Fatal(err, r.Err)
			}
			got = append(got, string(r.Value)+"@"+string(rune('0'+(r.Index-1)%10)))
		}
		if len(got) != len(want) {
			t.Fatalf("got %d records, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("record %d = %q, want %q", i, got[i], want[i])
			}
		}
	})
}
