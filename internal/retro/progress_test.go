package retro

import (
	"strings"
	"testing"
	"time"
)

func goodProgress() Progress {
	return Progress{
		Job: "retro-0123456789abcdef", Topic: "tweets", Partition: 3, Start: 100, End: 200, Next: 150,
		Since: t0, Until: t0.Add(72 * time.Hour), Selection: testSelection, UpdatedAt: t0.Add(73 * time.Hour),
	}
}

func TestProgressRoundTrip(t *testing.T) {
	p := goodProgress()
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schema":"flagstream.retro_progress/v1","job":"retro-0123456789abcdef","topic":"tweets","partition":3,` +
		`"start":100,"end":200,"next":150,"since":"2021-02-01T00:00:00Z","until":"2021-02-04T00:00:00Z",` +
		`"selection":{"origin":"command","demands":["LATE"],"lists_version":"0123456789abcdef"},"updated_at":"2021-02-04T01:00:00Z"}`
	if string(data) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", data, want)
	}
	got, err := ParseProgress(data)
	if err != nil {
		t.Fatal(err)
	}
	p.Schema = ProgressSchema
	if got.Job != p.Job || got.Next != p.Next || !got.Since.Equal(p.Since) || got.Selection.Demands[0] != "LATE" {
		t.Errorf("ParseProgress = %+v, want %+v", got, p)
	}
	if string(p.Key()) != "retro-0123456789abcdef/3" {
		t.Errorf("Key = %q", p.Key())
	}
	if p.Done() {
		t.Error("Done at 150 of 200")
	}
	// Fields it does not know are for later versions.
	if _, err := ParseProgress([]byte(strings.Replace(want, `"topic"`, `"later":1,"topic"`, 1))); err != nil {
		t.Errorf("a field added later: %v", err)
	}
}

func TestParseProgressRefuses(t *testing.T) {
	good, _ := (&Progress{Job: "j", Topic: "t", Since: t0, Until: t0, Selection: Selection{Origin: OriginReload}}).Marshal()
	if _, err := ParseProgress(good); err != nil {
		t.Fatalf("minimal record: %v", err)
	}
	for _, tc := range []struct{ name, data, want string }{
		{"not JSON", `{"schema":`, "unexpected EOF"},
		{"two values", string(good) + " {}", "after the JSON object"},
		{"other schema", strings.Replace(string(good), "retro_progress/v1", "retro_progress/v2", 1), "schema"},
		{"next past end", strings.Replace(string(good), `"next":0`, `"next":5`, 1), "offsets"},
		{"negative partition", strings.Replace(string(good), `"partition":0`, `"partition":-1`, 1), "partition -1"},
		{"no job", strings.Replace(string(good), `"job":"j"`, `"job":""`, 1), "job id"},
		{"slash in job", strings.Replace(string(good), `"job":"j"`, `"job":"a/b"`, 1), "job id"},
		{"no window", strings.Replace(string(good), `"since":"2021-02-01T00:00:00Z"`, `"since":"0001-01-01T00:00:00Z"`, 1), "window"},
		{"unknown origin", strings.Replace(string(good), `"origin":"reload"`, `"origin":"cron"`, 1), "origin"},
		{"wrong type", strings.Replace(string(good), `"start":0`, `"start":"0"`, 1), "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseProgress([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseProgress(%s) = %v, want an error with %q", tc.data, err, tc.want)
			}
		})
	}
}

func FuzzParseProgress(f *testing.F) {
	good := goodProgress()
	data, _ := good.Marshal()
	f.Add(data)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"schema":"flagstream.retro_progress/v1","next":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProgress(data)
		if err != nil {
			return
		}
		// What parses is valid, and writes back to what parses the same.
		if p.Next < p.Start || p.Next > p.End || p.Job == "" || p.Until.Before(p.Since) {
			t.Fatalf("ParseProgress accepted %+v", p)
		}
		again, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed record: %v", err)
		}
		q, err := ParseProgress(again)
		if err != nil || q.Next != p.Next || q.Job != p.Job || !q.Since.Equal(p.Since) {
			t.Fatalf("round trip: %+v, %v; want %+v", q, err, p)
		}
	})
}

func TestJobRecordRoundTrip(t *testing.T) {
	r := JobRecord{Job: "retro-1", Topic: "tweets", Since: t0, Until: t0.Add(time.Hour), Selection: testSelection,
		Entries: []JobEntry{{Demand: "LATE", Kind: "hashtag", Entry: "#LateTag"}}, CreatedAt: t0}
	data, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseJobRecord(data)
	if err != nil || got.Job != r.Job || len(got.Entries) != 1 || got.Entries[0] != r.Entries[0] || !got.Until.Equal(r.Until) {
		t.Fatalf("ParseJobRecord(%s) = %+v, %v", data, got, err)
	}
	if string(JobKey("retro-1")) != "retro-1/job" {
		t.Errorf("JobKey = %q", JobKey("retro-1"))
	}
	for _, bad := range []string{
		strings.Replace(string(data), `"job":"retro-1"`, `"job":"a/b"`, 1),
		strings.Replace(string(data), `"topic":"tweets"`, `"topic":""`, 1),
		strings.Replace(string(data), `"entry":"#LateTag"`, `"entry":""`, 1),
		strings.Replace(string(data), JobSchema, "flagstream.retro_job/v0", 1),
		string(data) + "{}",
	} {
		if _, err := ParseJobRecord([]byte(bad)); err == nil {
			t.Errorf("ParseJobRecord accepted %s", bad)
		}
	}
}

func FuzzParseJobRecord(f *testing.F) {
	r := JobRecord{Job: "retro-1", Topic: "tweets", Since: t0, Until: t0, Selection: testSelection,
		Entries: []JobEntry{{Demand: "D", Kind: "handle", Entry: "@x"}}, CreatedAt: t0}
	data, _ := r.Marshal()
	f.Add(data)
	f.Add([]byte(`{"schema":"flagstream.retro_job/v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseJobRecord(data)
		if err != nil {
			return
		}
		again, err := r.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed record: %v", err)
		}
		q, err := ParseJobRecord(again)
		if err != nil || q.Job != r.Job || len(q.Entries) != len(r.Entries) {
			t.Fatalf("round trip: %+v, %v; want %+v", q, err, r)
		}
	})
}
