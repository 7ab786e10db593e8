package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, leaves the config untouched
// when it fails, and otherwise gives a config that Validate can judge and
// that --print-config's output loads back unchanged.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("input: {<<: [{topic: a}, {group: b}], start: latest}\n"))
	f.Add([]byte("kafka: &k {client_id: x}\nlists: *k\n"))
	f.Add([]byte("limits: {max_message_bytes: 9223372036854775807}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Default()
		if err := Parse(&cfg, "fuzz.yaml", data); err != nil {
			if !reflect.DeepEqual(cfg, Default()) {
				t.Fatalf("Parse failed (%v) but changed the config: %+v", err, cfg)
			}
			return
		}
		_ = cfg.Validate()
		out, err := Marshal(&cfg)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back := Default()
		if err := Parse(&back, "printed.yaml", out); err != nil {
			t.Fatalf("Parse(Marshal(cfg)) = %v\ninput:\n%q\nprinted:\n%s", err, data, out)
		}
		// A list of no brokers prints as [] and comes back empty, not nil.
		if len(cfg.Kafka.Brokers) == 0 && len(back.Kafka.Brokers) == 0 {
			back.Kafka.Brokers = cfg.Kafka.Brokers
		}
		if !reflect.DeepEqual(back, cfg) {
			t.Fatalf("Parse(Marshal(cfg)) =\n%#v\nwant\n%#v", back, cfg)
		}
	})
}
