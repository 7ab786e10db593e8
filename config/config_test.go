package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// noEnv is a getenv that finds nothing.
func noEnv(string) string { return "" }

func TestGoodFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/good/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			cfg, err := Load(file, noEnv, nil)
			if err != nil {
				t.Fatalf("Load(%s) = %v, want no error", file, err)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestGoodFileValues(t *testing.T) {
	cfg, err := Load("testdata/good/full.yaml", noEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Kafka: Kafka{
			Brokers:     []string{"kafka-1.internal:9093", "kafka-2.internal:9093", "[::1]:9093"},
			ClientID:    "flagstream-eu",
			DialTimeout: 5 * time.Second,
			TLS: TLS{Enabled: true, CAFile: "/etc/flagstream/ca.pem", CertFile: "/etc/flagstream/client.pem",
				KeyFile: "/etc/flagstream/client.key", ServerName: "kafka.internal"},
			SASL: SASL{Mechanism: "scram-sha-512", Username: "flagstream", PasswordFile: "testdata/password.txt",
				Password: NewSecret("correct horse battery staple")},
		},
		Input: Input{Topic: "tweets-eu", Group: "flagstream-eu", Start: "latest", DecisionsTopic: "review-decisions-eu", Consumer: "reader",
			MaxWait: 500 * time.Millisecond, FetchMaxBytes: 16 << 20, QueueCapacity: 4096,
			CommitInterval: 0, HeartbeatInterval: 2 * time.Second, SessionTimeout: 30 * time.Second,
			RebalanceTimeout: 20 * time.Second},
		Output: Output{Topic: "review-tasks-eu", DeadLetterTopic: "tweets-eu-dlq", ShadowTopic: "review-shadow-eu",
			EscalationTopic: "review-escalations-eu", BatchTimeout: 5 * time.Millisecond,
			BatchSize: 500, Compression: "zstd", WriteTimeout: 15 * time.Second},
		Accounts: Accounts{BindingsTopic: "flagstream-eu-bindings"},
		Cases: Cases{Topic: "review-cases-eu", StateTopic: "flagstream-eu-cases", EvidenceTopic: "flagstream-eu-case-evidence",
			Partitions: 12, UpdateInterval: 5 * time.Minute},
		Lists: Lists{Dir: "/etc/flagstream/lists", Reload: "signal", Interval: 5 * time.Second,
			RetroWindow: 72 * time.Hour, RetroRate: 5000},
		Retro:    Retro{ProgressTopic: "flagstream-eu-retro"},
		HTTP:     HTTP{Listen: ":9464", Pprof: true, WebConfigFile: "/etc/flagstream/web.yml"},
		Pipeline: Pipeline{Workers: 8, BatchSize: 1024, BatchLinger: 10 * time.Millisecond, Slots: 32, Writers: 2, DrainTimeout: time.Minute},
		Limits: Limits{MaxMessageBytes: 1 << 20, MaxTweetsPerRecord: 100, MaxEmbedDepth: 2, MaxTextBytes: 64 << 10,
			DemandTasksPerMinute: 500},
		Log: Log{Level: "debug", Format: "json"},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load(full.yaml) =\n%+v\nwant\n%+v", cfg, want)
	}
	if got, want := cfg.Kafka.SASL.Password.Value(), "correct horse battery staple"; got != want {
		t.Errorf("password = %q, want %q (trailing newline trimmed)", got, want)
	}
}

// TestDeprecatedConsumer checks that a file still setting input.consumer
// to a value it once took loads with a warning, and one without the key
// has none.
func TestDeprecatedConsumer(t *testing.T) {
	for _, tc := range []struct {
		file string
		warn bool
	}{
		{"input:\n  consumer: reader\n", true},
		{"input:\n  consumer: batch\n", true},
		{"input:\n  topic: t\n", false},
	} {
		cfg := Default()
		if err := Parse(&cfg, "c.yaml", []byte(tc.file)); err != nil {
			t.Fatalf("Parse(%q) = %v", tc.file, err)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("Validate after %q = %v, want nil", tc.file, err)
		}
		w := cfg.Warnings()
		if got := len(w) == 1 && strings.Contains(w[0], "input.consumer") && strings.Contains(w[0], "deprecated"); got != tc.warn {
			t.Errorf("%q: Warnings() = %q, want a deprecation warning: %v", tc.file, w, tc.warn)
		}
	}
	cfg := Default()
	if out, err := Marshal(&cfg); err != nil || strings.Contains(string(out), "consumer") {
		t.Errorf("--print-config of the defaults shows the deprecated key (%v):\n%s", err, out)
	}
}

func TestExampleConfig(t *testing.T) {
	if _, err := Load("../deploy/examples/config.yaml", noEnv, nil); err != nil {
		t.Errorf("Load(deploy/examples/config.yaml) = %v, want nil", err)
	}
}

func TestBadFiles(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings of the error
	}{
		{"unknown_key.yaml", []string{"unknown_key.yaml:3:", "kafka.bootstrap_servers", "unknown key"}},
		{"wrong_type.yaml", []string{"wrong_type.yaml:3:", "input.queue_capacity", `"plenty"`, "whole number"}},
		{"bad_duration.yaml", []string{
			"bad_duration.yaml:2: input.max_wait", `"250"`,
			"bad_duration.yaml:3: input.heartbeat_interval", `"1 second"`, "duration"}},
		{"bad_byte_size.yaml", []string{"bad_byte_size.yaml:2:", "limits.max_message_bytes", `"4 megabytes"`, "size"}},
		{"bad_broker.yaml", []string{"kafka.brokers", `"kafka.internal"`, "host:port"}},
		{"same_topic.yaml", []string{"output.topic", `topic "tweets" is already input.topic`}},
		{"owned_topic.yaml", []string{"cases.state_topic", `topic "review-tasks" is already output.topic`,
			"cases.partitions: must not be negative", "limits.demand_tasks_per_minute: must not be negative"}},
		{"sasl_mechanism.yaml", []string{"kafka.sasl.mechanism", `"gssapi"`}},
		{"sasl_no_password.yaml", []string{"kafka.sasl.password_file", "FLAGSTREAM_KAFKA_SASL_PASSWORD"}},
		{"sasl_password_key.yaml", []string{"sasl_password_key.yaml:5:", "kafka.sasl.password", "unknown key", "password_file", "FLAGSTREAM_KAFKA_SASL_PASSWORD"}},
		{"cert_without_key.yaml", []string{"kafka.tls", "cert_file", "key_file"}},
		{"reload_mode.yaml", []string{"lists.reload", `"inotify"`}},
		{"consumer.yaml", []string{"input.consumer", `"franz"`, "batch or reader", "deprecated"}},
		{"log_level.yaml", []string{"log.level", `"verbose"`}},
		{"session_timeout.yaml", []string{"input.session_timeout", "3 heartbeat"}},
		{"two_documents.yaml", []string{"two_documents.yaml:3:", "one YAML document"}},
		{"repeated_key.yaml", []string{"repeated_key.yaml:4:", "input.topic", `key "topic" repeats the one on line 2`}},
		{"not_a_mapping.yaml", []string{"not_a_mapping.yaml:2:", "kafka", "mapping"}},
		{"broker_not_a_list.yaml", []string{"broker_not_a_list.yaml:2:", "kafka.brokers", "list of strings"}},
		{"syntax.yaml", []string{"syntax.yaml:2: invalid YAML: did not find expected key"}},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		seen[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata/bad", tc.file), noEnv, nil)
			if err == nil {
				t.Fatalf("Load(%s) = nil, want an error", tc.file)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load(%s) = %q, want it to contain %q", tc.file, err, w)
				}
			}
		})
	}
	// Every fixture has a case.
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("testdata/bad/%s has no test case", filepath.Base(f))
		}
	}
}

func TestParseReportsEveryFileProblem(t *testing.T) {
	data := []byte(`kafka:
  brokers: 127.0.0.1:9092
  colour: blue
input:
  max_wait: soon
limits:
  max_text_bytes: lots
  max_embed_depth: deep
`)
	cfg := Default()
	err := Parse(&cfg, "c.yaml", data)
	if err == nil {
		t.Fatal("Parse = nil, want errors")
	}
	for _, want := range []string{
		"c.yaml:2: kafka.brokers:", "c.yaml:3: kafka.colour: unknown key", "c.yaml:5: input.max_wait:",
		"c.yaml:7: limits.max_text_bytes:", "c.yaml:8: limits.max_embed_depth:",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Parse = %q, want it to contain %q", err, want)
		}
	}
	if got, want := len(strings.Split(err.Error(), "\n")), 5; got != want {
		t.Errorf("Parse gave %d lines, want %d:\n%v", got, want, err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("Parse changed the config despite errors: %+v", cfg)
	}
}

func TestParseYAMLFeatures(t *testing.T) {
	tests := []struct {
		name, data string
		check      func(c Config) bool
	}{
		{"empty", "", func(c Config) bool { return reflect.DeepEqual(c, Default()) }},
		{"null section", "kafka:\n", func(c Config) bool { return reflect.DeepEqual(c, Default()) }},
		{"anchor and alias", "input: {topic: &t in}\nlists: {dir: *t}\n", func(c Config) bool {
			return c.Input.Topic == "in" && c.Lists.Dir == "in"
		}},
		{"merge key", "input: {<<: {topic: a, group: g}, topic: b}\n", func(c Config) bool {
			return c.Input.Topic == "b" && c.Input.Group == "g"
		}},
		{"unknown key in a merge", "input: {<<: {colour: blue}}\n", nil},
		{"circular merge", "input: &a {<<: *a}\n", nil},
		{"top level list", "- a\n", nil},
		{"key not a name", "input: {[a]: b}\n", nil},
		{"byte size number", "limits: {max_message_bytes: 2048}", func(c Config) bool { return c.Limits.MaxMessageBytes == 2048 }},
		{"byte size unit", "limits: {max_message_bytes: 3MiB}", func(c Config) bool { return c.Limits.MaxMessageBytes == 3<<20 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Default()
			err := Parse(&cfg, "c.yaml", []byte(tc.data))
			if tc.check == nil {
				if err == nil {
					t.Errorf("Parse(%q) = nil, want an error", tc.data)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tc.data, err)
			}
			if !tc.check(cfg) {
				t.Errorf("Parse(%q) gave %+v", tc.data, cfg)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := Default()
	cfg.Kafka.Brokers = []string{"nohost"}
	cfg.Kafka.SASL.Mechanism = "kerberos"
	cfg.Kafka.TLS.KeyFile = "client.key"
	cfg.Input.Topic = "review-tasks"
	cfg.Lists.Reload = "sometimes"
	cfg.Log.Level = "loud"
	cfg.Input.HeartbeatInterval = 5 * time.Second
	cfg.Pipeline.BatchSize = 0
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("Validate() = %T, want joined errors", err)
	}
	var keys []string
	for _, e := range joined.Unwrap() {
		key, _, _ := strings.Cut(e.Error(), ":")
		keys = append(keys, key)
	}
	want := []string{"input.session_timeout", "kafka.brokers", "kafka.sasl.mechanism", "kafka.tls", "lists.reload",
		"log.level", "output.topic", "pipeline.batch_size"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("Validate() problems by key = %q, want %q\n%v", keys, want, err)
	}
}

func TestValidateDefault(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

// TestPrecedence sets keys of each type in some of default, file,
// environment and flag, and checks that the later one wins.
func TestPrecedence(t *testing.T) {
	type layers struct{ file, env, flag string } // "" = not set there
	keys := []struct {
		key      string
		get      func(*Config) any
		def      any
		file     string // YAML value
		env      string
		flag     string
		fileWant any
		envWant  any
		flagWant any
	}{
		{"input.topic", func(c *Config) any { return c.Input.Topic }, "tweets",
			"from-file", "from-env", "from-flag", "from-file", "from-env", "from-flag"},
		{"kafka.brokers", func(c *Config) any { return c.Kafka.Brokers }, []string{"127.0.0.1:9092"},
			`["file-1:9092", "file-2:9092"]`, "env-1:9092, env-2:9092", "flag-1:9092",
			[]string{"file-1:9092", "file-2:9092"}, []string{"env-1:9092", "env-2:9092"}, []string{"flag-1:9092"}},
		{"input.queue_capacity", func(c *Config) any { return c.Input.QueueCapacity }, 8192,
			"100", "200", "300", 100, 200, 300},
		{"kafka.tls.enabled", func(c *Config) any { return c.Kafka.TLS.Enabled }, false,
			"true", "false", "true", true, false, true},
		{"input.max_wait", func(c *Config) any { return c.Input.MaxWait }, time.Second,
			"1s", "2s", "3s", time.Second, 2 * time.Second, 3 * time.Second},
		{"limits.max_message_bytes", func(c *Config) any { return c.Limits.MaxMessageBytes }, ByteSize(4 << 20),
			"1MiB", "2MiB", "3145728", ByteSize(1 << 20), ByteSize(2 << 20), ByteSize(3 << 20)},
	}
	cases := []struct {
		name string
		set  layers
	}{
		{"default", layers{}},
		{"file", layers{file: "y"}},
		{"env", layers{env: "y"}},
		{"flag", layers{flag: "y"}},
		{"file+env", layers{file: "y", env: "y"}},
		{"file+flag", layers{file: "y", flag: "y"}},
		{"env+flag", layers{env: "y", flag: "y"}},
		{"file+env+flag", layers{file: "y", env: "y", flag: "y"}},
	}
	for _, k := range keys {
		for _, c := range cases {
			t.Run(k.key+"/"+c.name, func(t *testing.T) {
				path := ""
				if c.set.file != "" {
					path = filepath.Join(t.TempDir(), "c.yaml")
					if err := os.WriteFile(path, []byte(nested(k.key, k.file)), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				env := map[string]string{}
				if c.set.env != "" {
					env["FLAGSTREAM_"+strings.ToUpper(strings.ReplaceAll(k.key, ".", "_"))] = k.env
				}
				fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
				apply := Flags(fs)
				var args []string
				if c.set.flag != "" {
					args = []string{"--" + k.key + "=" + k.flag}
				}
				if err := fs.Parse(args); err != nil {
					t.Fatal(err)
				}
				cfg, err := Load(path, func(s string) string { return env[s] }, apply)
				if err != nil {
					t.Fatal(err)
				}
				want := k.def
				switch {
				case c.set.flag != "":
					want = k.flagWant
				case c.set.env != "":
					want = k.envWant
				case c.set.file != "":
					want = k.fileWant
				}
				if got := k.get(&cfg); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v, want %v", k.key, got, want)
				}
			})
		}
	}
}

// nested writes key (a.b.c) = value as block YAML.
func nested(key, value string) string {
	var b strings.Builder
	parts := strings.Split(key, ".")
	for i, p := range parts {
		b.WriteString(strings.Repeat("  ", i) + p + ":")
		if i == len(parts)-1 {
			b.WriteString(" " + value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestBoolFlagForms(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"--kafka.tls.enabled"}, true},
		{[]string{"--kafka.tls.enabled=true"}, true},
		{[]string{"--kafka.tls.enabled=false"}, false},
		{nil, false},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
			apply := Flags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load("", noEnv, apply)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Kafka.TLS.Enabled; got != tc.want {
				t.Errorf("kafka.tls.enabled = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBadEnvAndFlagValues(t *testing.T) {
	env := map[string]string{"FLAGSTREAM_INPUT_QUEUE_CAPACITY": "many", "FLAGSTREAM_INPUT_MAX_WAIT": "1 sec"}
	_, err := Load("", func(s string) string { return env[s] }, nil)
	for _, want := range []string{"FLAGSTREAM_INPUT_QUEUE_CAPACITY", `"many"`, "FLAGSTREAM_INPUT_MAX_WAIT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load with bad env = %v, want it to contain %q", err, want)
		}
	}
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	apply := Flags(fs)
	if err := fs.Parse([]string{"--limits.max_text_bytes=huge"}); err != nil {
		t.Fatal(err)
	}
	_, err = Load("", noEnv, apply)
	if err == nil || !strings.Contains(err.Error(), "--limits.max_text_bytes") {
		t.Errorf("Load with bad flag = %v, want it to name --limits.max_text_bytes", err)
	}
}

func TestPassword(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "kafka:\n  sasl:\n    mechanism: plain\n    username: u\n"
	tests := []struct {
		name, file string
		env        map[string]string
		want       string
		wantErr    string
	}{
		{"env", base, map[string]string{"FLAGSTREAM_KAFKA_SASL_PASSWORD": "from-env"}, "from-env", ""},
		{"password_file", base + "    password_file: " + pwFile + "\n", nil, "from-file", ""},
		{"env beats password_file", base + "    password_file: " + pwFile + "\n",
			map[string]string{"FLAGSTREAM_KAFKA_SASL_PASSWORD": "from-env"}, "from-env", ""},
		{"missing password_file", base + "    password_file: " + filepath.Join(dir, "absent") + "\n", nil, "", "kafka.sasl.password_file"},
		{"password key", base + "    password: in-the-file\n", nil, "", "kafka.sasl.password: unknown key"},
		{"none", base, nil, "", "a password is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path, func(s string) string { return tc.env[s] }, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %v, want an error containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "in-the-file") {
					t.Errorf("the error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Kafka.SASL.Password.Value(); got != tc.want {
				t.Errorf("password = %q, want %q", got, tc.want)
			}
			out, err := Marshal(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			printed := string(out) + fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg.Kafka.SASL.Password)
			if strings.Contains(printed, tc.want) {
				t.Errorf("printed config shows the password %q:\n%s", tc.want, printed)
			}
		})
	}
}

func TestSecret(t *testing.T) {
	s := NewSecret("hunter2")
	if got, want := s.Value(), "hunter2"; got != want {
		t.Errorf("Value() = %q, want %q", got, want)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if got := fmt.Sprintf(format, s); strings.Contains(got, "hunter2") {
			t.Errorf("Sprintf(%q) = %q, shows the secret", format, got)
		}
	}
	if got, want := NewSecret("").String(), ""; got != want {
		t.Errorf("empty Secret.String() = %q, want %q", got, want)
	}
}

// TestMarshalRoundTrip checks that --print-config's output loads back to
// the same configuration.
func TestMarshalRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.yaml")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			cfg, err := Load(file, noEnv, nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Marshal(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			back := Default()
			if err := Parse(&back, "printed", out); err != nil {
				t.Fatalf("Parse(Marshal(cfg)) = %v\n%s", err, out)
			}
			back.Kafka.SASL.Password = cfg.Kafka.SASL.Password
			if !reflect.DeepEqual(back, cfg) {
				t.Errorf("Parse(Marshal(cfg)) =\n%+v\nwant\n%+v", back, cfg)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	want := []string{
		"", // the SASL password: environment only
		"accounts.bindings_topic",
		"cases.evidence_topic", "cases.partitions", "cases.state_topic", "cases.topic", "cases.update_interval",
		"http.listen", "http.pprof", "http.web_config_file",
		"input.commit_interval", "input.consumer", "input.decisions_topic", "input.fetch_max_bytes", "input.group", "input.heartbeat_interval",
		"input.max_wait", "input.queue_capacity", "input.rebalance_timeout", "input.session_timeout",
		"input.start", "input.topic",
		"kafka.brokers", "kafka.client_id", "kafka.dial_timeout",
		"kafka.sasl.mechanism", "kafka.sasl.password_file", "kafka.sasl.username",
		"kafka.tls.ca_file", "kafka.tls.cert_file", "kafka.tls.enabled", "kafka.tls.insecure_skip_verify",
		"kafka.tls.key_file", "kafka.tls.server_name",
		"limits.demand_tasks_per_minute", "limits.max_embed_depth", "limits.max_message_bytes", "limits.max_text_bytes", "limits.max_tweets_per_record",
		"lists.dir", "lists.interval", "lists.reload", "lists.retro_rate", "lists.retro_window",
		"log.format", "log.level",
		"output.batch_size", "output.batch_timeout", "output.compression", "output.dead_letter_topic",
		"output.escalation_topic", "output.shadow_topic", "output.topic", "output.write_timeout",
		"pipeline.batch_linger", "pipeline.batch_size", "pipeline.drain_timeout", "pipeline.slots",
		"pipeline.workers", "pipeline.writers",
		"retro.progress_topic",
	}
	cfg := Default()
	settings := Settings(&cfg)
	var keys []string
	envs := map[string]bool{}
	for _, s := range settings {
		keys = append(keys, s.Key)
		if envs[s.Env] {
			t.Errorf("environment variable %s used twice", s.Env)
		}
		envs[s.Env] = true
		wantEnv := "FLAGSTREAM_" + strings.ToUpper(strings.ReplaceAll(s.Key, ".", "_"))
		if s.Key == "" {
			wantEnv = "FLAGSTREAM_KAFKA_SASL_PASSWORD"
		} else if s.Help == "" {
			t.Errorf("setting %s has no help", s.Key)
		}
		if s.Env != wantEnv {
			t.Errorf("setting %q: Env = %s, want %s", s.Key, s.Env, wantEnv)
		}
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("Settings keys =\n%q\nwant\n%q", keys, want)
	}
	for key, env := range map[string]string{
		"kafka.tls.ca_file":        "FLAGSTREAM_KAFKA_TLS_CA_FILE",
		"output.dead_letter_topic": "FLAGSTREAM_OUTPUT_DEAD_LETTER_TOPIC",
		"kafka.brokers":            "FLAGSTREAM_KAFKA_BROKERS",
	} {
		found := false
		for _, s := range settings {
			if s.Key == key {
				found = true
				if s.Env != env {
					t.Errorf("%s: Env = %s, want %s", key, s.Env, env)
				}
			}
		}
		if !found {
			t.Errorf("no setting %s", key)
		}
	}
}

// TestSettingsSetAndString checks that Set parses a flag or environment
// value of each type and String writes it back.
func TestSettingsSetAndString(t *testing.T) {
	tests := []struct {
		key, text, want string
	}{
		{"kafka.brokers", " a:1 , b:2,", "a:1,b:2"},
		{"input.queue_capacity", " 12 ", "12"},
		{"kafka.tls.enabled", "true", "true"},
		{"input.max_wait", "1m30s", "1m30s"},
		{"limits.max_text_bytes", "2048", "2KiB"},
		{"limits.max_message_bytes", "1000", "1000"},
		{"lists.dir", "/x", "/x"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			cfg := Default()
			for _, s := range Settings(&cfg) {
				if s.Key != tc.key {
					continue
				}
				if err := s.Set(tc.text); err != nil {
					t.Fatalf("Set(%q) = %v", tc.text, err)
				}
				if got := s.String(); got != tc.want {
					t.Errorf("String() after Set(%q) = %q, want %q", tc.text, got, tc.want)
				}
				return
			}
			t.Fatalf("no setting %s", tc.key)
		})
	}
	cfg := Default()
	for _, s := range Settings(&cfg) {
		if s.Key == "" {
			if err := s.Set("pw"); err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != "[redacted]" {
				t.Errorf("password setting String() = %q, want [redacted]", got)
			}
		}
	}
	if got := cfg.Kafka.SASL.Password.Value(); got != "pw" {
		t.Errorf("password = %q after Set, want pw", got)
	}
}

func TestFlagsHelp(t *testing.T) {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	Flags(fs)
	tests := []struct {
		flag, arg, def string
	}{
		{"kafka.brokers", "HOST:PORT,...", "127.0.0.1:9092"},
		{"kafka.tls.ca_file", "FILE", ""},
		{"kafka.tls.enabled", "", "false"},
		{"input.topic", "TOPIC", "tweets"},
		{"input.start", "earliest|latest", "earliest"},
		{"input.fetch_max_bytes", "SIZE", "8MiB"},
		{"input.max_wait", "DURATION", "1s"},
		{"input.queue_capacity", "N", "8192"},
		{"lists.dir", "DIR", "./lists"},
		{"http.listen", "ADDR", "127.0.0.1:9464"},
	}
	for _, tc := range tests {
		f := fs.Lookup(tc.flag)
		if f == nil {
			t.Errorf("no flag --%s", tc.flag)
			continue
		}
		if arg, _ := pflag.UnquoteUsage(f); arg != tc.arg {
			t.Errorf("--%s shows its value as %q, want %q", tc.flag, arg, tc.arg)
		}
		if f.DefValue != tc.def {
			t.Errorf("--%s default = %q, want %q", tc.flag, f.DefValue, tc.def)
		}
		if f.Usage == "" {
			t.Errorf("--%s has no help", tc.flag)
		}
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if arg, _ := pflag.UnquoteUsage(f); arg == "value" || arg == "string" {
			t.Errorf("--%s shows its value as %q", f.Name, arg)
		}
	})
	if fs.Lookup("kafka.sasl.password") != nil {
		t.Error("the password has a flag")
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		ok   bool
	}{
		{"0", 0, true},
		{"1048576", 1 << 20, true},
		{"1B", 1, true},
		{"512KiB", 512 << 10, true},
		{"4MiB", 4 << 20, true},
		{"2GiB", 2 << 30, true},
		{"4KB", 4000, true},
		{"4MB", 4_000_000, true},
		{"1GB", 1_000_000_000, true},
		{" 3 MiB ", 3 << 20, true},
		{"4294967296GiB", 1 << 62, true},
		{"4294967297GiB", 0, false},
		{"9223372036854775807", 0, false},
		{"", 0, false},
		{"MiB", 0, false},
		{"-1", 0, false},
		{"-1KiB", 0, false},
		{"1.5MiB", 0, false},
		{"4mib", 0, false},
		{"1TiB", 0, false},
		{"lots", 0, false},
		{"0x10", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseByteSize(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseByteSize(%q) error = %v, want ok %v", tc.in, err, tc.ok)
			}
			if got != tc.want {
				t.Errorf("ParseByteSize(%q) = %d, want %d", tc.in, got, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.in)) {
				t.Errorf("ParseByteSize(%q) error %q does not quote the input", tc.in, err)
			}
		})
	}
}

func TestByteSizeString(t *testing.T) {
	tests := []struct {
		in   ByteSize
		want string
	}{
		{0, "0"}, {1, "1"}, {1000, "1000"}, {1024, "1KiB"}, {1536, "1536"}, {4 << 20, "4MiB"},
		{3 << 30, "3GiB"}, {1<<30 + 1<<10, "1048577KiB"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Errorf("ByteSize(%d).String() = %q, want %q", int64(tc.in), got, tc.want)
			}
			back, err := ParseByteSize(tc.want)
			if err != nil || back != tc.in {
				t.Errorf("ParseByteSize(%q) = %d, %v, want %d", tc.want, back, err, int64(tc.in))
			}
		})
	}
}
