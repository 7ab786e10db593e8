package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"flagstream/config"
	"flagstream/internal/dev/synth"
)

// Features are the features of flagstream run that the benchmark turns on,
// so that the final measurement is taken with them (issue 14): the cases
// of a scope: user demand, an exemption file, a circuit breaker, and a
// demand of known texts. Each is off by default: the bare pipeline.
type Features struct {
	Cases      bool // the demand has scope: user, and cases.topic is set
	Exemptions bool // an exemption file exempts some of the listed handles
	Breaker    bool // limits.demand_tasks_per_minute, high enough not to trip
	Texts      bool // a second demand of known texts (Options.Texts of them)
}

// featureNames are the names ParseFeatures takes.
var featureNames = []string{"cases", "exemptions", "breaker", "texts"}

// ParseFeatures reads a comma-separated list of feature names, or "all",
// or "" or "none" for none.
func ParseFeatures(s string) (Features, error) {
	var f Features
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "", "none":
		case "all":
			f = Features{true, true, true, true}
		case "cases":
			f.Cases = true
		case "exemptions":
			f.Exemptions = true
		case "breaker":
			f.Breaker = true
		case "texts":
			f.Texts = true
		default:
			return f, fmt.Errorf("unknown feature %q (known: %s, all, none)", name, strings.Join(featureNames, ", "))
		}
	}
	return f, nil
}

// String lists the features on, or "none".
func (f Features) String() string {
	var on []string
	for i, b := range []bool{f.Cases, f.Exemptions, f.Breaker, f.Texts} {
		if b {
			on = append(on, featureNames[i])
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, ",")
}

// benchHashtag is the hashtag of the benchmark demand, beside its handles.
const benchHashtag = "FarmerGenocide"

// exemptHandles is how many of the listed handles the exemption names.
const exemptHandles = 10

// writeLists writes the demand files into dir: a demand of benchHashtag
// and the handles, as the independent measurement has, and those of the
// features on.
func writeLists(dir string, handles []string, f Features, texts int) error {
	scope := "tweet"
	if f.Cases {
		scope = "user"
	}
	files := map[string]string{
		"bench.yaml": "id: BENCH-1\nauthority: Benchmark authority\njurisdiction: IN\nlegal_basis: Benchmark Act, section 1\n" +
			"action: withhold\nscope: " + scope + "\npriority: high\nhashtags: [\"#" + benchHashtag + "\"]\nhandles_file: bench-handles.txt\n",
		"bench-handles.txt": strings.Join(handles, "\n") + "\n",
	}
	if f.Texts {
		files["bench-texts.yaml"] = "id: BENCH-TEXTS\nauthority: Benchmark authority\njurisdiction: IN\nlegal_basis: Benchmark Act, section 2\n" +
			"texts_file: bench-texts.txt\n"
		files["bench-texts.txt"] = strings.Join(synth.Texts(1, texts), "\n") + "\n"
	}
	if f.Exemptions {
		var b strings.Builder
		b.WriteString("kind: exemption\nid: EX-BENCH\ncategory: journalist\nreason: Benchmark exemption\napplies_to: [\"*\"]\nhandles:\n")
		for _, h := range handles[:min(exemptHandles, len(handles))] {
			fmt.Fprintf(&b, "  - \"@%s\"\n", h)
		}
		files["bench-exemption.yaml"] = b.String()
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runConfig returns the configuration of flagstream run against the
// benchmark's broker: production defaults but for the lists (not
// watched), the admin listener, quiet logs and the features.
//
// Each round is a fresh deployment: its own consumer group, and its own
// owned topics (bindings, case state and evidence, retro progress), named
// after the group. With the owned topics shared, every round restored the
// case states and bindings of all the rounds before it, and its case
// processor (a fresh group too) applied their evidence again: flagstream's
// CPU per record rose from round to round (5.6 to 6.5 µs over four rounds
// of 200,000 records with cases on; flat with them off) and its peak
// memory with it.
func runConfig(broker, group, listsDir, listen string, f Features) config.Config {
	cfg := config.Default()
	cfg.Kafka.Brokers = []string{broker}
	cfg.Kafka.ClientID = "flagstream-bench"
	cfg.Input.Group = group
	for _, t := range []*string{&cfg.Accounts.BindingsTopic, &cfg.Cases.StateTopic, &cfg.Cases.EvidenceTopic, &cfg.Retro.ProgressTopic} {
		*t += "-" + group
	}
	cfg.Lists.Dir = listsDir
	cfg.Lists.Reload = "off"
	cfg.HTTP.Listen = listen
	cfg.Log.Level = "warn"
	if !f.Cases {
		cfg.Cases.Topic = ""
	}
	if f.Breaker {
		cfg.Limits.DemandTasksPerMinute = 10_000_000
	}
	return cfg
}

// writeConfig writes cfg as a config file.
func writeConfig(path string, cfg config.Config) error {
	data, err := config.Marshal(&cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
