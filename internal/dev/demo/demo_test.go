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
// spellings included, got a review task or (naming a listed account of a
// scope: user demand) counts for its case, every listed account named has
// one case, the renamed account and the taken-over handle show in their
// cases, and every malformed record became a dead letter.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	res, err := Run(context.Background(), Options{
		Duration:   5 * time.Second,
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
	if want := res.Flagged + res.Evasive - res.AccountPosts; res.Tasks != want || res.AccountPosts == 0 {
		t.Errorf("review tasks: got %d, want %d (%d plain + %d evasive - %d naming listed accounts)", res.Tasks, want,
			res.Flagged, res.Evasive, res.AccountPosts)
	}
	if !res.CasesOK || res.Cases != res.Accounts || res.Cases == 0 {
		t.Errorf("%d cases for %d listed accounts named (cases ok: %v)", res.Cases, res.Accounts, res.CasesOK)
	}
	if !res.Renamed || !res.Reassigned {
		t.Errorf("the rename (%v) or the takeover (%v) does not show in the cases", res.Renamed, res.Reassigned)
	}
	if res.DeadLetters != res.Malformed {
		t.Errorf("dead letters: got %d, want %d", res.DeadLetters, res.Malformed)
	}
	if res.Processed != res.Produced-res.Malformed {
		t.Errorf("processed %d tweets, want %d", res.Processed, res.Produced-res.Malformed)
	}
	for _, want := range []string{"review task (key ", "case event (key ", "every flagged tweet", "IN-MEITY-2021-02-04", "cases:", "renamed itself"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
