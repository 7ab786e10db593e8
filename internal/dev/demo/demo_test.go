package demo

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the demo briefly on the embedded example lists and checks
// its own accounting: every synthetic tweet naming a listed entry, evasive
// spellings included, got a review task, and every malformed record became
// a dead letter.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	res, err := Run(context.Background(), Options{
		Duration:   3 * time.Second,
		Rate:       3000,
		HTTPListen: "127.0.0.1:0",
		ShowTasks:  1,
		Out:        &out,
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if res.Produced == 0 || res.Flagged == 0 || res.Evasive == 0 || res.Malformed == 0 {
		t.Fatalf("the demo's traffic lacks a kind of record: %+v", res)
	}
	if res.Tasks != res.Flagged+res.Evasive {
		t.Errorf("review tasks: got %d, want %d (%d plain + %d evasive)", res.Tasks, res.Flagged+res.Evasive, res.Flagged, res.Evasive)
	}
	if res.DeadLetters != res.Malformed {
		t.Errorf("dead letters: got %d, want %d", res.DeadLetters, res.Malformed)
	}
	if res.Processed != res.Produced-res.Malformed {
		t.Errorf("processed %d tweets, want %d", res.Processed, res.Produced-res.Malformed)
	}
	for _, want := range []string{"review task (key ", "every flagged tweet", "IN-MEITY-2021-02-04"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
