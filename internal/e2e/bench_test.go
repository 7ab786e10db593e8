package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBench runs flagstream bench as a user does, small: the broker, the
// bare consumer and flagstream run each in its own process. One round, so
// it must say not to trust the ratio; every number of it must be there.
func TestBench(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "bench", "--records", "40000", "--runs", "1", "--handles", "200",
		"--features", "texts", "--texts", "50", "--json", out)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Records int `json:"records"`
		Rounds  []struct {
			Baseline, Flagstream struct {
				Rate         float64 `json:"rate"`
				CPUPerRecord float64 `json:"cpu_us_per_record"`
				Records      int     `json:"records"`
				Tasks        int64   `json:"tasks"`
				PeakRSS      int64   `json:"peak_rss_bytes"`
			}
			Ratio float64 `json:"ratio"`
		} `json:"rounds"`
		Ratio     float64 `json:"ratio_of_medians"`
		Features  string  `json:"features"`
		Untrusted string  `json:"untrusted"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("bench JSON: %v\n%s", err, data)
	}
	if res.Records != 40000 || len(res.Rounds) != 1 || res.Features != "texts" {
		t.Fatalf("bench JSON: %d records, %d rounds, features %q; want 40000, 1, texts", res.Records, len(res.Rounds), res.Features)
	}
	r := res.Rounds[0]
	for name, m := range map[string]struct {
		Rate, CPU float64
		Records   int
	}{
		"baseline":   {r.Baseline.Rate, r.Baseline.CPUPerRecord, r.Baseline.Records},
		"flagstream": {r.Flagstream.Rate, r.Flagstream.CPUPerRecord, r.Flagstream.Records},
	} {
		if m.Rate <= 0 || m.CPU <= 0 || m.Records <= 0 || m.Records > 40000 {
			t.Errorf("%s: rate %v, CPU per record %v over %d records; want all positive, at most 40000 records", name, m.Rate, m.CPU, m.Records)
		}
	}
	// 1% of the tweets name a listed entry: each run writes their tasks.
	if r.Flagstream.Tasks < 200 || r.Flagstream.Tasks > 800 || r.Flagstream.PeakRSS <= 0 {
		t.Errorf("flagstream run wrote %d tasks (want about 400) with peak RSS %d", r.Flagstream.Tasks, r.Flagstream.PeakRSS)
	}
	if res.Ratio <= 0 || r.Ratio != res.Ratio {
		t.Errorf("ratio of the medians %v, the round's %v", res.Ratio, r.Ratio)
	}
	if !strings.Contains(res.Untrusted, "round") {
		t.Errorf("one round: untrusted %q, want a note about rounds", res.Untrusted)
	}
	for _, want := range []string{"round 1", "bare kafka-go consumer", "flagstream run", "ratio of the medians", "note: do not trust"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("bench output lacks %q", want)
		}
	}
}
