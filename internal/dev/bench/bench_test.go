package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flagstream/config"
	"flagstream/internal/dev/synth"
	"flagstream/internal/lists"
)

func TestParseStatCPU(t *testing.T) {
	// utime 150 and stime 50 ticks; the command name holds ") (" and spaces.
	stat := "4242 (flag (x) ) s) S 1 4242 4242 0 -1 4194560 1000 0 0 0 150 50 0 0 20 0 9 0 100 123456 789 18446744073709551615\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * time.Second; got != want {
		t.Errorf("parseStatCPU = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "4242 flagstream S 1", "4242 (f) S 1 2 3"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q) succeeded, want an error", bad)
		}
	}
	// This process's own, which the benchmark reads of its children.
	if cpu, err := procCPU(os.Getpid()); err != nil || cpu < 0 {
		t.Errorf("procCPU(self) = %v, %v", cpu, err)
	}
}

func TestParseStatusHWM(t *testing.T) {
	got, err := parseStatusHWM([]byte("Name:\tflagstream\nVmPeak:\t  200000 kB\nVmHWM:\t   91236 kB\nVmRSS:\t   80000 kB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(91236) << 10; got != want {
		t.Errorf("parseStatusHWM = %d, want %d", got, want)
	}
	if _, err := parseStatusHWM([]byte("Name:\tx\n")); err == nil {
		t.Error("parseStatusHWM without VmHWM succeeded")
	}
	if rss, err := peakRSS(os.Getpid()); err != nil || rss <= 0 {
		t.Errorf("peakRSS(self) = %d, %v", rss, err)
	}
}

func TestCounterValue(t *testing.T) {
	scrape := `# HELP flagstream_tweets_processed_total Tweets decoded and matched.
# TYPE flagstream_tweets_processed_total counter
flagstream_tweets_processed_total_other 5
flagstream_tweets_processed_total{x="y"} 6
flagstream_tweets_processed_total 1.234567e+06
`
	got, ok := counterValue([]byte(scrape), processedCounter)
	if !ok || got != 1234567 {
		t.Errorf("counterValue = %v, %v, want 1234567, true", got, ok)
	}
	if _, ok := counterValue([]byte("flagstream_other_total 1\n"), processedCounter); ok {
		t.Error("counterValue found a counter that is not there")
	}
}

func TestStats(t *testing.T) {
	tests := []struct {
		xs             []float64
		median, spread float64
	}{
		{nil, 0, 0},
		{[]float64{3}, 3, 0},
		{[]float64{4, 1, 3}, 3, 1},
		{[]float64{4, 1, 3, 2}, 2.5, 1.2},
	}
	for _, tc := range tests {
		if got := Median(tc.xs); got != tc.median {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.median)
		}
		if got := Spread(tc.xs); got != tc.spread {
			t.Errorf("Spread(%v) = %v, want %v", tc.xs, got, tc.spread)
		}
	}
	steady := []float64{100, 105, 98}
	if why := Trust(steady, steady, []float64{0.9, 0.92, 0.91}); why != "" {
		t.Errorf("Trust of steady rounds = %q, want trusted", why)
	}
	for name, why := range map[string]string{
		"two rounds":       Trust(steady[:2], steady[:2], []float64{0.9, 0.9}),
		"a noisy baseline": Trust([]float64{100, 150, 98}, steady, []float64{0.9, 0.92, 0.91}),
		"noisy flagstream": Trust(steady, []float64{100, 60, 98}, []float64{0.9, 0.92, 0.91}),
		"noisy ratios":     Trust(steady, steady, []float64{0.6, 0.92, 0.91}),
	} {
		if why == "" {
			t.Errorf("Trust with %s: trusted, want a reason not to", name)
		}
	}
}

func TestParseFeatures(t *testing.T) {
	for in, want := range map[string]Features{
		"":                Features{},
		"none":            Features{},
		"all":             {true, true, true, true},
		"cases, texts":    {Cases: true, Texts: true},
		"breaker":         {Breaker: true},
		"exemptions,none": {Exemptions: true},
	} {
		got, err := ParseFeatures(in)
		if err != nil || got != want {
			t.Errorf("ParseFeatures(%q) = %+v, %v, want %+v", in, got, err, want)
		}
	}
	if _, err := ParseFeatures("cases,shadows"); err == nil || !strings.Contains(err.Error(), "shadows") {
		t.Errorf("ParseFeatures of an unknown feature: %v, want an error naming it", err)
	}
	if got := (Features{Cases: true, Texts: true}).String(); got != "cases,texts" {
		t.Errorf("String = %q", got)
	}
}

// TestSetup checks that the lists and the config the benchmark writes load
// as flagstream run loads them. Exemption files are left out: their
// parser comes with the exemptions themselves (issue 12).
func TestSetup(t *testing.T) {
	handles := synth.Handles(1, 50)
	for _, f := range []Features{{}, {Cases: true, Breaker: true, Texts: true}} {
		t.Run(f.String(), func(t *testing.T) {
			dir := t.TempDir()
			if err := writeLists(dir, handles, f, 20); err != nil {
				t.Fatal(err)
			}
			snap, _, err := lists.Load(dir, time.Now())
			if err != nil {
				t.Fatalf("lists.Load: %v", err)
			}
			wantDemands := 1
			if f.Texts {
				wantDemands = 2
			}
			if got := len(snap.Demands()); got != wantDemands {
				t.Errorf("%d demands, want %d", got, wantDemands)
			}
			cfgPath := filepath.Join(dir, "run.yaml")
			if err := writeConfig(cfgPath, runConfig("127.0.0.1:9", "g1", dir, "127.0.0.1:0", f)); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(cfgPath, func(string) string { return "" }, nil)
			if err != nil {
				t.Fatalf("config.Load: %v", err)
			}
			if cfg.Input.Group != "g1" || cfg.Lists.Dir != dir || (cfg.Cases.Topic != "") != f.Cases ||
				(cfg.Limits.DemandTasksPerMinute > 0) != f.Breaker {
				t.Errorf("config %+v does not say what was asked for %+v", cfg, f)
			}
			// Each round owns its state topics: none restores another's.
			for _, topic := range []string{cfg.Accounts.BindingsTopic, cfg.Cases.StateTopic, cfg.Cases.EvidenceTopic, cfg.Retro.ProgressTopic} {
				if !strings.HasSuffix(topic, "-g1") {
					t.Errorf("owned topic %q is not the round's own (group g1)", topic)
				}
			}
		})
	}
	dir := t.TempDir()
	if err := writeLists(dir, handles, Features{Exemptions: true}, 0); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "bench-exemption.yaml"))
	if err != nil || !strings.HasPrefix(string(data), "kind: exemption\n") || !strings.Contains(string(data), `"@`+handles[0]+`"`) {
		t.Errorf("exemption file %q, %v", data, err)
	}
}
