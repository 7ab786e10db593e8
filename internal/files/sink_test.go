package files

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"flagstream/internal/lists"
	"flagstream/matchers"
	"flagstream/pipeline"
	"flagstream/pipeline/decode"
)

// spillFile writes data to a new file in dir, as LineSource would.
func spillFile(t *testing.T, dir, data string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "oversize-*.line")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

func TestNDJSONSinkRejects(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("z", 100_000)
	spillNL := spillFile(t, dir, big+"\n")
	spillCRLF := spillFile(t, dir, "crlf-oversize\r\n")
	spillNoNL := spillFile(t, dir, "last-line-oversize")
	b := &pipeline.Batch{
		Records: []pipeline.Record{
			{Value: []byte(`{"id_str":"1","text":"fine"}`), File: "in", Line: 1},
			{Value: []byte("{\"id_str\": \"2\", \"text\": \"bad \xff\xfe utf-8\"}"), File: "in", Line: 2},
			{Value: []byte(`{"cut off`), File: "in", Line: 4},
			{File: "in", Line: 5, Oversize: int64(len(big) + 1), Spill: spillNL},
			{File: "in", Line: 6, Oversize: 15, Spill: spillCRLF},
			{File: "in", Line: 7, Oversize: 18, Spill: spillNoNL},
		},
		Rejects: []pipeline.Rejection{
			{Record: 1, Reason: decode.ReasonInvalidUTF8, Err: "invalid UTF-8"},
			{Record: 2, Reason: decode.ReasonInvalidJSON, Err: "unexpected end"},
			{Record: 3, Reason: pipeline.ReasonTooLarge, Err: "too large"},
			{Record: 4, Reason: pipeline.ReasonTooLarge, Err: "too large"},
			{Record: 5, Reason: pipeline.ReasonTooLarge, Err: "too large"},
		},
	}
	b.Stats.Tweets = 1
	var out, rejects bytes.Buffer
	var reported []string
	sink := NewNDJSONSink(&out, &rejects, func(r *pipeline.Record, rej pipeline.Rejection) {
		reported = append(reported, fmt.Sprintf("%s:%d:%s", r.File, r.Line, rej.Reason))
	})
	if err := sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	want := "{\"id_str\": \"2\", \"text\": \"bad \xff\xfe utf-8\"}\n" +
		"{\"cut off\n" +
		big + "\n" +
		"crlf-oversize\r\n" +
		"last-line-oversize\n"
	if got := rejects.String(); got != want {
		t.Errorf("rejects = %.200q…, want %.200q…", got, want)
	}
	if out.Len() != 0 {
		t.Errorf("out = %q, want nothing", out.String())
	}
	wantReported := []string{"in:2:invalid_utf8", "in:4:invalid_json", "in:5:too_large", "in:6:too_large", "in:7:too_large"}
	if !reflect.DeepEqual(reported, wantReported) {
		t.Errorf("reported = %q, want %q", reported, wantReported)
	}
	for _, f := range []string{spillNL, spillCRLF, spillNoNL} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("spill file %s still exists (%v)", filepath.Base(f), err)
		}
	}
	if got, want := sink.Counts(), (Counts{Records: 6, Tweets: 1, Rejected: 5}); got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}
}

func TestNDJSONSinkWithoutRejectsFile(t *testing.T) {
	dir := t.TempDir()
	spill := spillFile(t, dir, "big\n")
	b := &pipeline.Batch{
		Records: []pipeline.Record{{Value: []byte("nope"), Line: 1}, {Line: 2, Oversize: 4, Spill: spill}, {Line: 3, Oversize: 9}},
		Rejects: []pipeline.Rejection{{Record: 0}, {Record: 1}, {Record: 2}},
	}
	n := 0
	sink := NewNDJSONSink(&bytes.Buffer{}, nil, func(*pipeline.Record, pipeline.Rejection) { n++ })
	if err := sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("report called %d times, want 3", n)
	}
	if _, err := os.Stat(spill); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("spill file still exists (%v)", err)
	}
	// A nil report function is allowed.
	b.Records[1].Spill = ""
	if err := NewNDJSONSink(&bytes.Buffer{}, &bytes.Buffer{}, nil).Write(context.Background(), b); err != nil {
		t.Errorf("Write with nil report = %v", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestNDJSONSinkWriteErrors(t *testing.T) {
	errDisk := errors.New("disk full")
	b := &pipeline.Batch{
		Records: []pipeline.Record{{Value: []byte("x")}},
		Rejects: []pipeline.Rejection{{Record: 0}},
	}
	err := NewNDJSONSink(&bytes.Buffer{}, failingWriter{errDisk}, nil).Write(context.Background(), b)
	if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), "rejects") {
		t.Errorf("Write with a failing rejects writer = %v, want %v about rejects", err, errDisk)
	}
	// A missing spill file is an error, not a silent loss.
	b = &pipeline.Batch{
		Records: []pipeline.Record{{Oversize: 10, Spill: filepath.Join(t.TempDir(), "gone")}},
		Rejects: []pipeline.Rejection{{Record: 0}},
	}
	if err := NewNDJSONSink(&bytes.Buffer{}, &bytes.Buffer{}, nil).Write(context.Background(), b); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Write with a missing spill file = %v, want not exist", err)
	}
}

// TestNDJSONSinkInPipeline runs the pipeline from a LineSource to the sink
// and checks tasks, rejects and counts together.
func TestNDJSONSinkInPipeline(t *testing.T) {
	snap, _, err := lists.Load("testdata/lists", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var in, wantRejects strings.Builder
	var wantIDs []string
	const n = 3000
	for i := range n {
		id := fmt.Sprint(1000 + i)
		switch {
		case i%97 == 5:
			line := fmt.Sprintf("{\"id_str\": %q, \"text\": \"broken \xff\xfe", id)
			in.WriteString(line + "\n")
			wantRejects.WriteString(line + "\n")
		case i%89 == 7:
			line := strings.Repeat("#FlagMe ", 200) // oversize
			in.WriteString(line + "\n")
			wantRejects.WriteString(line + "\n")
		case i%10 == 0:
			fmt.Fprintf(&in, `{"id_str":%q,"text":"tweet %d #FlagMe","user":{"id_str":"9","screen_name":"someone"}}`+"\n", id, i)
			wantIDs = append(wantIDs, id)
		case i%10 == 3:
			fmt.Fprintf(&in, `{"id_str":%q,"text":"by a flagged author","user":{"id_str":"8","screen_name":"Flagged_User"}}`+"\n", id)
			wantIDs = append(wantIDs, id)
		case i%10 == 5:
			in.WriteString("\n")
		default:
			fmt.Fprintf(&in, `{"id_str":%q,"text":"tweet %d #other","user":{"id_str":"9","screen_name":"someone"}}`+"\n", id, i)
		}
	}
	src := &LineSource{Inputs: []Input{memInput("tweets.ndjson", in.String())}, MaxRecordBytes: 1000,
		BatchRecords: 64, SpillDir: t.TempDir()}
	var out, rejects bytes.Buffer
	var reportedLines []int64
	sink := NewNDJSONSink(&out, &rejects, func(r *pipeline.Record, _ pipeline.Rejection) {
		reportedLines = append(reportedLines, r.Line)
	})
	err = pipeline.Run(context.Background(), pipeline.Config{
		Source:  src,
		Sink:    sink,
		Lists:   func() *matchers.Snapshot { return snap },
		Workers: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
		t.Fatal("output does not end with a newline")
	}
	var gotIDs []string
	for i, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var task struct {
			Tweet struct {
				ID string `json:"id"`
			} `json:"tweet"`
			Source struct {
				File string `json:"file"`
				Line int64  `json:"line"`
			} `json:"source"`
		}
		if err := json.Unmarshal([]byte(line), &task); err != nil {
			t.Fatalf("task %d is not JSON: %v\n%s", i, err, line)
		}
		gotIDs = append(gotIDs, task.Tweet.ID)
		if task.Source.File != "tweets.ndjson" || task.Source.Line <= 0 {
			t.Errorf("task %d source = %+v", i, task.Source)
		}
	}
	if !reflect.DeepEqual(gotIDs, wantIDs) {
		t.Errorf("task tweet ids (%d) =\n%v\nwant (%d)\n%v", len(gotIDs), gotIDs, len(wantIDs), wantIDs)
	}
	if got, want := rejects.String(), wantRejects.String(); got != want {
		t.Errorf("rejects =\n%.300q\nwant\n%.300q", got, want)
	}
	for i := 1; i < len(reportedLines); i++ {
		if reportedLines[i] <= reportedLines[i-1] {
			t.Errorf("rejections reported out of order: %v", reportedLines)
			break
		}
	}
	c := sink.Counts()
	if c.Tasks != int64(len(wantIDs)) || c.Rejected != int64(len(reportedLines)) || c.Records != c.Tweets+c.Rejected {
		t.Errorf("Counts() = %+v, want %d tasks, %d rejected, records = tweets + rejected", c, len(wantIDs), len(reportedLines))
	}
	if files, _ := os.ReadDir(src.SpillDir); len(files) != 0 {
		t.Errorf("spill dir holds %d files after the run, want none", len(files))
	}
}

// TestNDJSONSinkDestinations checks where the sink writes each destination:
// tasks to out, evidence to its writer when one is set and nowhere when
// not, counted either way.
func TestNDJSONSinkDestinations(t *testing.T) {
	d, _, err := lists.ParseDemand("u.yaml", []byte("id: U-1\njurisdiction: IN\nscope: user\nhandles: [listed_one]\nhashtags: [\"#FlagMe\"]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, _, err := matchers.Compile([]matchers.Demand{d}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	input := `{"id_str":"1","text":"#FlagMe","user":{"id_str":"7","screen_name":"listed_one"}}` + "\n" +
		`{"id_str":"2","text":"hi @listed_one","user":{"id_str":"8","screen_name":"x"}}` + "\n"
	for _, withWriter := range []bool{true, false} {
		var out, evidence bytes.Buffer
		sink := NewNDJSONSink(&out, nil, nil)
		if withWriter {
			sink.SetWriter(pipeline.ToEvidence, &evidence)
		}
		src := &LineSource{Inputs: []Input{memInput("in.ndjson", input)}, MaxRecordBytes: 1000}
		if err := pipeline.Run(context.Background(), pipeline.Config{Source: src, Sink: sink, Cases: true,
			Lists: func() *matchers.Snapshot { return snap }}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(out.String(), "\n"); got != 1 || !strings.Contains(out.String(), `"tweet":{"id":"1"`) {
			t.Errorf("tasks = %q, want tweet 1's", out.String())
		}
		lines := strings.Split(strings.TrimSpace(evidence.String()), "\n")
		if withWriter && (len(lines) != 2 || !strings.Contains(lines[0], `"schema":"flagstream.case_input/v1"`)) {
			t.Errorf("evidence = %q, want 2 case inputs", evidence.String())
		}
		if !withWriter && evidence.Len() != 0 {
			t.Errorf("evidence written without a writer: %q", evidence.String())
		}
		c := sink.Counts()
		if c.Tasks != 1 || c.Evidence != 2 || c.ByDestination[pipeline.ToReview] != 1 || c.ByDestination[pipeline.ToEvidence] != 2 {
			t.Errorf("Counts() = %+v, want 1 task and 2 evidence records", c)
		}
	}
}
