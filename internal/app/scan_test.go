package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flagstream/internal/dev/synth"
	"flagstream/internal/testkit"
	"flagstream/pipeline"
)

// TestScan runs the offline pipeline through app alone: generated records
// in a file and on standard input, the test demand, tasks in input order,
// rejected lines counted, reported and copied as they were. NoCases makes
// the demand's handles tasks too, as the generator expects.
func TestScan(t *testing.T) {
	gen := synth.New(testkit.Traffic(3, 0.05, 0.01, 0.02))
	var exp synth.Expectation
	var file, stdin bytes.Buffer // 1500 lines in a file, 500 on standard input
	for i := range 2000 {
		v, kind := gen.Next(nil)
		if err := exp.Note(v, kind); err != nil {
			t.Fatal(err)
		}
		w := &file
		if i >= 1500 {
			w = &stdin
		}
		w.Write(append(v, '\n'))
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "tweets.ndjson")
	if err := os.WriteFile(input, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, _, err := LoadLists(testkit.WriteLists(t, map[string]string{"test.yaml": testkit.Demand}), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var tasks bytes.Buffer
	var reported int
	rejects := filepath.Join(dir, "rejects.ndjson")
	scan := NewScan(ScanOptions{
		Lists: snap, Inputs: []string{input, "-"}, Stdin: &stdin, Tasks: &tasks, RejectsPath: rejects,
		OnReject:       func(*pipeline.Record, pipeline.Rejection) { reported++ },
		MaxRecordBytes: 1 << 20, Engine: Engine{Workers: 2, Writers: 4}, NoCases: true,
	})
	total := int64(file.Len() + stdin.Len())
	c, err := scan.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if c.BytesRead != total || scan.BytesRead() != total {
		t.Errorf("bytes read %d (BytesRead %d), want %d", c.BytesRead, scan.BytesRead(), total)
	}
	if c.Records != 2000 || c.Rejected != int64(exp.Malformed()) || reported != exp.Malformed() || c.Tasks != int64(len(exp.Flagged)) {
		t.Errorf("counts %+v, %d reported; want 2000 records, %d rejected and reported, %d tasks", c, reported, exp.Malformed(), len(exp.Flagged))
	}
	ids := testkit.TweetIDs(t, tasks.String())
	if got, want := strings.Join(ids, ","), strings.Join(exp.Flagged, ","); got != want {
		t.Errorf("tasks are not those of the flagged tweets in input order (Writers is ignored):\ngot  %s\nwant %s", got, want)
	}
	data, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(data), "\n"); got != exp.Malformed() {
		t.Errorf("rejects file has %d lines, want %d", got, exp.Malformed())
	}
}

// TestScanReportsIOErrors checks that an input that cannot be opened and
// a rejects file that cannot be created fail the scan.
func TestScanReportsIOErrors(t *testing.T) {
	snap, _, err := LoadLists(testkit.WriteLists(t, map[string]string{"test.yaml": testkit.Demand}), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "absent")
	for _, opts := range []ScanOptions{
		{Inputs: []string{missing}},
		{RejectsPath: filepath.Join(missing, "rejects.ndjson")},
	} {
		opts.Lists, opts.Tasks, opts.Stdin, opts.MaxRecordBytes = snap, &bytes.Buffer{}, strings.NewReader(""), 1<<20
		if _, err := NewScan(opts).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "absent") {
			t.Errorf("Scan(%+v) = %v, want an error naming the missing path", opts, err)
		}
	}
	if _, _, err := LoadLists(missing, time.Now()); !IsUsage(err) {
		t.Errorf("LoadLists of a missing directory = %v, want an ErrLists usage error", err)
	}
}
