// Package config holds flagstream run's configuration: a YAML file,
// FLAGSTREAM_… environment variables and command-line flags, applied in
// that order (flag > env > file > default). Every setting has one dotted
// key (kafka.brokers) that names it in the file, as a flag (--kafka.brokers)
// and as an environment variable (FLAGSTREAM_KAFKA_BROKERS).
//
// Decoding is strict (config/strictyaml): an unknown key, a repeated key
// or a wrong type is an error with its line. Validate reports every
// problem at once.
//
// config imports no other flagstream package but config/strictyaml, which
// imports none.
package config

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"flagstream/config/strictyaml"
)

// Config is the whole configuration of `flagstream run`.
type Config struct {
	Kafka    Kafka    `yaml:"kafka"`
	Input    Input    `yaml:"input"`
	Output   Output   `yaml:"output"`
	Accounts Accounts `yaml:"accounts"`
	Cases    Cases    `yaml:"cases"`
	Lists    Lists    `yaml:"lists"`
	Retro    Retro    `yaml:"retro"`
	HTTP     HTTP     `yaml:"http"`
	Pipeline Pipeline `yaml:"pipeline"`
	Limits   Limits   `yaml:"limits"`
	Log      Log      `yaml:"log"`
}

// Kafka is how to reach the cluster.
type Kafka struct {
	Brokers  []string `yaml:"brokers" arg:"HOST:PORT,..." help:"bootstrap brokers, host:port, comma-separated"`
	ClientID string   `yaml:"client_id" arg:"NAME" help:"client id sent to the brokers"`
	TLS      TLS      `yaml:"tls"`
	SASL     SASL     `yaml:"sasl"`
	// DialTimeout bounds connecting to a broker.
	DialTimeout time.Duration `yaml:"dial_timeout" help:"timeout for connecting to a broker"`
}

// TLS configures encrypted connections to the brokers.
type TLS struct {
	Enabled            bool   `yaml:"enabled" help:"connect to the brokers with TLS"`
	CAFile             string `yaml:"ca_file" help:"PEM file of CA certificates to trust (default: the system's)"`
	CertFile           string `yaml:"cert_file" help:"PEM client certificate, for mutual TLS"`
	KeyFile            string `yaml:"key_file" help:"PEM key of the client certificate"`
	ServerName         string `yaml:"server_name" arg:"NAME" help:"name to verify the brokers' certificates against (default: the broker host)"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify" help:"do not verify the brokers' certificates (testing only)"`
}

// SASL configures authentication. The password comes only from
// PasswordFile or the FLAGSTREAM_KAFKA_SASL_PASSWORD environment
// variable, never from the config file itself, and is never printed.
type SASL struct {
	Mechanism    string `yaml:"mechanism" arg:"MECHANISM" help:"plain, scram-sha-256 or scram-sha-512 (empty: no SASL)"`
	Username     string `yaml:"username" arg:"NAME" help:"SASL user name"`
	PasswordFile string `yaml:"password_file" help:"file holding the SASL password"`
	Password     Secret `yaml:"-" env:"FLAGSTREAM_KAFKA_SASL_PASSWORD"`
}

// Input is where tweets come from.
type Input struct {
	Topic string `yaml:"topic" help:"topic of tweets (JSON, one per message)"`
	Group string `yaml:"group" arg:"GROUP" help:"consumer group; instances with the same group share the partitions"`
	Start string `yaml:"start" arg:"earliest|latest" help:"where a new group starts: earliest or latest"`
	// DecisionsTopic is where the review tool writes its decisions
	// (flagstream.review_decision/v1); empty reads none.
	DecisionsTopic string `yaml:"decisions_topic" arg:"TOPIC" help:"topic of reviewers' decisions on cases and tasks (empty: none)"`
	// Consumer is deprecated and ignored: flagstream has one consumer,
	// the batch consumer. A file that still sets it to batch or reader
	// loads, with a warning (Warnings); another value is an error.
	Consumer string `yaml:"consumer,omitempty" arg:"batch|reader" help:"deprecated and ignored: flagstream has one consumer (the batch consumer); remove it"`
	// Tuning of the consumer; the defaults are chosen for throughput and
	// fast rebalances, see docs/operator-guide.md (Consumer tuning).
	MaxWait           time.Duration `yaml:"max_wait" help:"longest a fetch waits for new records (also bounds rebalance time)"`
	FetchMaxBytes     ByteSize      `yaml:"fetch_max_bytes" help:"most bytes one fetch of a partition returns"`
	QueueCapacity     int           `yaml:"queue_capacity" help:"records buffered by the consumer ahead of processing"`
	CommitInterval    time.Duration `yaml:"commit_interval" help:"how often acknowledged offsets are committed (0: synchronously per batch)"`
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval" help:"consumer group heartbeat interval"`
	SessionTimeout    time.Duration `yaml:"session_timeout" help:"a member silent this long is removed from the group"`
	RebalanceTimeout  time.Duration `yaml:"rebalance_timeout" help:"how long a rebalance waits for members to rejoin"`
}

// Output is where review tasks and dead letters go.
type Output struct {
	Topic           string `yaml:"topic" help:"topic of review tasks (JSON, key = tweet id)"`
	DeadLetterTopic string `yaml:"dead_letter_topic" help:"topic of rejected records (original bytes, reason in headers)"`
	// ShadowTopic takes the tasks and case events of shadow-mode and
	// tripped demands, which never reach the review or cases topics.
	ShadowTopic string `yaml:"shadow_topic" arg:"TOPIC" help:"topic of shadow-mode and tripped demands' tasks and case events"`
	// EscalationTopic, when set, takes the tasks and case events of exempt
	// accounts instead of the review and cases topics.
	EscalationTopic string        `yaml:"escalation_topic" arg:"TOPIC" help:"topic of exempt (escalated) tasks and case events (empty: the review and cases topics)"`
	BatchTimeout    time.Duration `yaml:"batch_timeout" help:"longest the producer waits to fill a batch"`
	BatchSize       int           `yaml:"batch_size" help:"most messages in one produce batch per partition"`
	Compression     string        `yaml:"compression" arg:"CODEC" help:"none, gzip, snappy, lz4 or zstd"`
	WriteTimeout    time.Duration `yaml:"write_timeout" help:"timeout of one produce attempt; failed writes are retried until they succeed"`
}

// Accounts configures handle bindings.
type Accounts struct {
	// BindingsTopic is compacted and owned by flagstream: handle -> user
	// id bindings, shared by all instances.
	BindingsTopic string `yaml:"bindings_topic" arg:"TOPIC" help:"compacted topic of handle -> user id bindings (created when missing)"`
}

// Cases configures the cases of scope: user demands' account entries.
type Cases struct {
	// Topic takes the case events (key = case_id); empty turns cases off:
	// account matches then make review tasks like every other match.
	Topic string `yaml:"topic" arg:"TOPIC" help:"topic of case events, key = case_id (empty: no cases, account matches make tasks)"`
	// StateTopic is compacted and owned by flagstream: the case states,
	// co-partitioned with EvidenceTopic.
	StateTopic string `yaml:"state_topic" arg:"TOPIC" help:"compacted topic of case state, so restarts and new instances continue (created when missing)"`
	// EvidenceTopic is flagstream's internal repartition topic: evidence
	// and decisions keyed by case_id, consumed by the instance that owns
	// the case's partition.
	EvidenceTopic string `yaml:"evidence_topic" arg:"TOPIC" help:"internal topic of case evidence and decisions, key = case_id (created when missing)"`
	// Partitions of the evidence and state topics when flagstream creates
	// them; 0 takes the input topic's.
	Partitions     int           `yaml:"partitions" help:"partitions of the evidence and state topics flagstream creates (0: as many as the input topic)"`
	UpdateInterval time.Duration `yaml:"update_interval" help:"at most one updated event per case per interval"`
}

// Lists is where the demand lists are and how they are reloaded.
type Lists struct {
	Dir      string        `yaml:"dir" help:"directory of demand list files (*.yaml)"`
	Reload   string        `yaml:"reload" arg:"watch|signal|off" help:"watch (poll the files), signal (SIGHUP and POST /-/reload only) or off"`
	Interval time.Duration `yaml:"interval" help:"how often reload=watch looks for changed files"`
	// RetroWindow, when positive, makes a reload that adds entries start
	// a retro-hunt job for exactly those entries over that window.
	RetroWindow time.Duration `yaml:"retro_window" help:"retro-hunt the entries a reload adds over this window back (0: off)"`
	RetroRate   int           `yaml:"retro_rate" help:"records per second of automatic retro-hunt jobs, so live traffic keeps priority"`
}

// Retro configures retro-hunt jobs.
type Retro struct {
	// ProgressTopic is compacted and owned by flagstream: each job's
	// progress per partition, so a job resumes after a crash.
	ProgressTopic string `yaml:"progress_topic" arg:"TOPIC" help:"compacted topic of retro-hunt progress per job and partition (created when missing)"`
}

// HTTP is the admin listener.
type HTTP struct {
	Listen string `yaml:"listen" help:"address of /metrics, /healthz, /readyz and POST /-/reload (empty: none)"`
	// Pprof serves Go's profiles on the admin listener: anyone who can
	// reach it can take CPU profiles and heap dumps, so it is off by
	// default.
	Pprof bool `yaml:"pprof" help:"serve /debug/pprof/ (Go's profiler) on the admin listener"`
	// WebConfigFile is exporter-toolkit's web configuration: TLS, client
	// certificates, basic auth of the admin listener.
	WebConfigFile string `yaml:"web_config_file" help:"TLS and basic auth of the admin listener (exporter-toolkit's web config format)"`
}

// Pipeline tunes the stream engine.
type Pipeline struct {
	Workers      int           `yaml:"workers" help:"matching goroutines (0: one per CPU)"`
	BatchSize    int           `yaml:"batch_size" help:"records per batch"`
	BatchLinger  time.Duration `yaml:"batch_linger" help:"longest a batch waits to fill once it has a record"`
	Slots        int           `yaml:"slots" help:"batches in flight; bounds memory (0: 4 per worker)"`
	Writers      int           `yaml:"writers" help:"batches written to Kafka at once"`
	DrainTimeout time.Duration `yaml:"drain_timeout" help:"on shutdown, longest to finish, write and commit in-flight batches"`
}

// Limits bound what one record may be; a record beyond one is rejected to
// the dead-letter topic.
type Limits struct {
	MaxMessageBytes    ByteSize `yaml:"max_message_bytes" help:"largest record accepted"`
	MaxTweetsPerRecord int      `yaml:"max_tweets_per_record" help:"most tweets one record (search response, v2 page) may carry"`
	MaxEmbedDepth      int      `yaml:"max_embed_depth" help:"deepest nesting of retweeted/quoted tweets"`
	MaxTextBytes       ByteSize `yaml:"max_text_bytes" help:"longest tweet text"`
	// DemandTasksPerMinute is the default circuit breaker of a demand on
	// one instance; a demand's max_tasks_per_minute overrides it.
	DemandTasksPerMinute int `yaml:"demand_tasks_per_minute" help:"trip a demand on this instance past this many tasks and case events a minute (0: off)"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level" arg:"LEVEL" help:"debug, info, warn or error"`
	Format string `yaml:"format" arg:"json|text|auto" help:"json, text, or auto (text on a terminal, else json)"`
}

// Warnings returns what in the configuration is deprecated: settings that
// load but no longer do anything, each with what to do about it.
func (c *Config) Warnings() []string {
	var out []string
	if c.Input.Consumer != "" {
		out = append(out, fmt.Sprintf("input.consumer (%q) is deprecated and ignored: flagstream has one consumer, "+
			"the batch consumer; remove the key", c.Input.Consumer))
	}
	return out
}

// Topics returns the topics flagstream run reads and writes but does not
// own (a development broker creates them): input, decisions, review tasks,
// dead letters, shadow, escalation and case events, those that are set.
// The topics flagstream owns (OwnedTopics) it creates itself, with the
// settings they need.
func (c *Config) Topics() []string {
	var out []string
	for _, t := range []string{c.Input.Topic, c.Input.DecisionsTopic, c.Output.Topic, c.Output.DeadLetterTopic,
		c.Output.ShadowTopic, c.Output.EscalationTopic, c.Cases.Topic} {
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

// OwnedTopics returns the topics flagstream creates when they are missing:
// the compacted bindings, case state and retro progress topics and the
// evidence topic, keyed by config key.
func (c *Config) OwnedTopics() map[string]string {
	return map[string]string{
		"accounts.bindings_topic": c.Accounts.BindingsTopic,
		"cases.state_topic":       c.Cases.StateTopic,
		"cases.evidence_topic":    c.Cases.EvidenceTopic,
		"retro.progress_topic":    c.Retro.ProgressTopic,
	}
}

// Default returns the configuration used where nothing else is set.
func Default() Config {
	return Config{
		Kafka: Kafka{Brokers: []string{"127.0.0.1:9092"}, ClientID: "flagstream", DialTimeout: 10 * time.Second},
		Input: Input{
			Topic: "tweets", Group: "flagstream", Start: "earliest", DecisionsTopic: "review-decisions",
			MaxWait: time.Second, FetchMaxBytes: 8 << 20, QueueCapacity: 8192,
			CommitInterval: time.Second, HeartbeatInterval: time.Second,
			SessionTimeout: 10 * time.Second, RebalanceTimeout: 10 * time.Second,
		},
		Output: Output{
			Topic: "review-tasks", DeadLetterTopic: "tweets-dlq", ShadowTopic: "review-shadow",
			BatchTimeout: 2 * time.Millisecond, BatchSize: 1000, Compression: "none", WriteTimeout: 10 * time.Second,
		},
		Accounts: Accounts{BindingsTopic: "flagstream-bindings"},
		Cases: Cases{Topic: "review-cases", StateTopic: "flagstream-cases", EvidenceTopic: "flagstream-case-evidence",
			UpdateInterval: time.Minute},
		Lists:    Lists{Dir: "./lists", Reload: "watch", Interval: time.Second, RetroRate: 20000},
		Retro:    Retro{ProgressTopic: "flagstream-retro"},
		HTTP:     HTTP{Listen: "127.0.0.1:9464"},
		Pipeline: Pipeline{BatchSize: 2048, BatchLinger: 5 * time.Millisecond, Writers: 4, DrainTimeout: 30 * time.Second},
		Limits:   Limits{MaxMessageBytes: 4 << 20, MaxTweetsPerRecord: 1000, MaxEmbedDepth: 4, MaxTextBytes: 256 << 10},
		Log:      Log{Level: "info", Format: "auto"},
	}
}

// Parse decodes a YAML config file over cfg. file names it in messages.
// Unknown keys, repeated keys, wrong types and more than one document are
// errors, each written FILE:LINE: KEY: what is wrong, all of them joined.
// On an error cfg is left unchanged.
func Parse(cfg *Config, file string, data []byte) error {
	p := fileParser{file: file}
	p.yaml.Report = p.report
	root := p.yaml.Parse(data)
	if root == nil {
		return errors.Join(p.errs...) // nil for an empty file: it sets nothing
	}
	c := *cfg
	p.mapping(root, reflect.ValueOf(&c).Elem(), "")
	if len(p.errs) > 0 {
		return errors.Join(p.errs...)
	}
	*cfg = c
	return nil
}

// fileParser sets a Config from a YAML node tree, leaf by leaf, so that
// every error names its key and line.
type fileParser struct {
	file string
	yaml strictyaml.Reader
	errs []error
}

func (p *fileParser) report(line int, msg string) {
	if line == 0 {
		p.errs = append(p.errs, fmt.Errorf("%s: %s", p.file, msg))
		return
	}
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.file, line, msg))
}

func (p *fileParser) errorf(line int, key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if key != "" {
		msg = key + ": " + msg
	}
	p.report(line, msg)
}

var (
	secretType   = reflect.TypeFor[Secret]()
	durationType = reflect.TypeFor[time.Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
)

// mapping sets the struct v, whose dotted key is path, from the node n.
func (p *fileParser) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "kafka:" with nothing under it sets nothing
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, path, "want a mapping of settings, got %s", strictyaml.Describe(n))
		return
	}
	p.yaml.Each(n, path, func(k, val *yaml.Node) {
		key := k.Value
		if path != "" {
			key = path + "." + k.Value
		}
		f, sf, ok := fieldByKey(v, k.Value)
		switch {
		case !ok && sf.Type == secretType:
			p.errorf(k.Line, key, "unknown key: a secret is never read from the config file (use %s)", secretSources(sf))
		case !ok:
			p.errorf(k.Line, key, "unknown key")
		case f.Kind() == reflect.Struct && f.Type() != secretType:
			p.mapping(val, f, key)
		default:
			p.leaf(val, f, key)
		}
	})
}

// fieldByKey returns the field of struct v whose yaml name is key. When
// there is none but a field that the file may not set has that name (a
// Secret), it is returned as sf with ok false.
func fieldByKey(v reflect.Value, key string) (f reflect.Value, sf reflect.StructField, ok bool) {
	t := v.Type()
	for i := range t.NumField() {
		tf := t.Field(i)
		name := strings.Split(tf.Tag.Get("yaml"), ",")[0]
		if name == key {
			return v.Field(i), tf, true
		}
		if name == "-" && strings.EqualFold(tf.Name, key) {
			sf = tf
		}
	}
	return reflect.Value{}, sf, false
}

func secretSources(sf reflect.StructField) string {
	if sf.Name == "Password" {
		return "password_file or $" + sf.Tag.Get("env")
	}
	return "$" + sf.Tag.Get("env")
}

// leaf decodes n into f, reporting a wrong value with key and line.
func (p *fileParser) leaf(n *yaml.Node, f reflect.Value, key string) {
	tmp := reflect.New(f.Type())
	tmp.Elem().Set(f)
	err := n.Decode(tmp.Interface())
	if err == nil {
		f.Set(tmp.Elem())
		return
	}
	want := describeType(f.Type())
	var te *yaml.TypeError
	if n.Kind == yaml.ScalarNode || !errors.As(err, &te) {
		p.errorf(n.Line, key, "want %s, got %s", want, strictyaml.Describe(n))
		return
	}
	// A list with a bad element: one message per element.
	for _, e := range te.Errors {
		line, msg := strictyaml.SplitLine(e)
		if line == 0 {
			line = n.Line
		}
		p.errorf(line, key, "want %s: %s", want, msg)
	}
}

func describeType(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration (250ms, 10s, 1m)"
	case t == byteSizeType:
		return "a size (1048576, 512KiB, 4MiB)"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(describeType(t.Elem()), "a ") + "s"
	}
	return t.String()
}

// validTopic reports whether name is a Kafka topic name: 1 to 249 of
// A-Z a-z 0-9 . _ -. It is a loop, not the regular expression
// ^[A-Za-z0-9._-]{1,249}$: compiling that repetition took about 7 million
// instructions at every start of every command, a fifth of the start-up.
func validTopic(name string) bool {
	if len(name) < 1 || len(name) > 249 {
		return false
	}
	for i := range len(name) {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// Validate reports every problem of the configuration, joined.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if len(c.Kafka.Brokers) == 0 {
		bad("kafka.brokers", "at least one broker is needed")
	}
	for _, b := range c.Kafka.Brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			bad("kafka.brokers", "%q is not host:port", b)
		}
	}
	if c.Kafka.ClientID == "" {
		bad("kafka.client_id", "must not be empty")
	}
	switch c.Kafka.SASL.Mechanism {
	case "":
	case "plain", "scram-sha-256", "scram-sha-512":
		if c.Kafka.SASL.Username == "" {
			bad("kafka.sasl.username", "required with mechanism %s", c.Kafka.SASL.Mechanism)
		}
		if c.Kafka.SASL.PasswordFile == "" && c.Kafka.SASL.Password.Value() == "" {
			bad("kafka.sasl.password_file", "a password is required with mechanism %s: set password_file or FLAGSTREAM_KAFKA_SASL_PASSWORD", c.Kafka.SASL.Mechanism)
		}
	default:
		bad("kafka.sasl.mechanism", "%q is not plain, scram-sha-256 or scram-sha-512", c.Kafka.SASL.Mechanism)
	}
	if (c.Kafka.TLS.CertFile == "") != (c.Kafka.TLS.KeyFile == "") {
		bad("kafka.tls", "cert_file and key_file go together")
	}
	c.validateTopics(bad)
	if c.Input.Group == "" {
		bad("input.group", "must not be empty")
	}
	if c.Input.Start != "earliest" && c.Input.Start != "latest" {
		bad("input.start", "%q is not earliest or latest", c.Input.Start)
	}
	switch c.Input.Consumer {
	case "", "batch", "reader":
	default:
		bad("input.consumer", "%q is not batch or reader; the key is deprecated and ignored (flagstream has one consumer): remove it", c.Input.Consumer)
	}
	if c.Input.SessionTimeout < 3*c.Input.HeartbeatInterval {
		bad("input.session_timeout", "must be at least 3 heartbeat intervals (%s)", 3*c.Input.HeartbeatInterval)
	}
	switch c.Output.Compression {
	case "none", "gzip", "snappy", "lz4", "zstd":
	default:
		bad("output.compression", "%q is not none, gzip, snappy, lz4 or zstd", c.Output.Compression)
	}
	if c.Lists.Dir == "" {
		bad("lists.dir", "must not be empty")
	}
	switch c.Lists.Reload {
	case "watch", "signal", "off":
	default:
		bad("lists.reload", "%q is not watch, signal or off", c.Lists.Reload)
	}
	if c.HTTP.Listen != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
			bad("http.listen", "%q is not host:port", c.HTTP.Listen)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "text", "auto":
	default:
		bad("log.format", "%q is not json, text or auto", c.Log.Format)
	}
	positive := map[string]int64{
		"input.max_wait": int64(c.Input.MaxWait), "input.fetch_max_bytes": int64(c.Input.FetchMaxBytes),
		"input.queue_capacity": int64(c.Input.QueueCapacity), "input.heartbeat_interval": int64(c.Input.HeartbeatInterval),
		"input.session_timeout": int64(c.Input.SessionTimeout), "input.rebalance_timeout": int64(c.Input.RebalanceTimeout),
		"output.batch_timeout": int64(c.Output.BatchTimeout), "output.batch_size": int64(c.Output.BatchSize),
		"output.write_timeout": int64(c.Output.WriteTimeout), "lists.interval": int64(c.Lists.Interval),
		"pipeline.batch_size": int64(c.Pipeline.BatchSize), "pipeline.batch_linger": int64(c.Pipeline.BatchLinger),
		"pipeline.writers": int64(c.Pipeline.Writers), "pipeline.drain_timeout": int64(c.Pipeline.DrainTimeout),
		"limits.max_message_bytes": int64(c.Limits.MaxMessageBytes), "limits.max_tweets_per_record": int64(c.Limits.MaxTweetsPerRecord),
		"limits.max_embed_depth": int64(c.Limits.MaxEmbedDepth), "limits.max_text_bytes": int64(c.Limits.MaxTextBytes),
		"kafka.dial_timeout": int64(c.Kafka.DialTimeout), "cases.update_interval": int64(c.Cases.UpdateInterval),
		"lists.retro_rate": int64(c.Lists.RetroRate),
	}
	for key, v := range positive {
		if v <= 0 {
			bad(key, "must be positive")
		}
	}
	if c.Input.CommitInterval < 0 {
		bad("input.commit_interval", "must not be negative")
	}
	if c.Pipeline.Workers < 0 || c.Pipeline.Slots < 0 {
		bad("pipeline", "workers and slots must not be negative")
	}
	nonNegative := map[string]int64{
		"cases.partitions": int64(c.Cases.Partitions), "lists.retro_window": int64(c.Lists.RetroWindow),
		"limits.demand_tasks_per_minute": int64(c.Limits.DemandTasksPerMinute),
	}
	for key, v := range nonNegative {
		if v < 0 {
			bad(key, "must not be negative")
		}
	}
	sortErrors(errs)
	return errors.Join(errs...)
}

// validateTopics reports topic names that are not valid, required ones
// that are empty, and two settings naming the same topic.
func (c *Config) validateTopics(bad func(key, format string, args ...any)) {
	topics := []struct {
		key, name string
		optional  bool
	}{
		{"input.topic", c.Input.Topic, false},
		{"input.decisions_topic", c.Input.DecisionsTopic, true},
		{"output.topic", c.Output.Topic, false},
		{"output.dead_letter_topic", c.Output.DeadLetterTopic, false},
		{"output.shadow_topic", c.Output.ShadowTopic, false},
		{"output.escalation_topic", c.Output.EscalationTopic, true},
		{"cases.topic", c.Cases.Topic, true},
		{"accounts.bindings_topic", c.Accounts.BindingsTopic, false},
		{"cases.state_topic", c.Cases.StateTopic, false},
		{"cases.evidence_topic", c.Cases.EvidenceTopic, false},
		{"retro.progress_topic", c.Retro.ProgressTopic, false},
	}
	usedBy := map[string]string{}
	for _, t := range topics {
		if t.name == "" && t.optional {
			continue
		}
		if !validTopic(t.name) {
			bad(t.key, "%q is not a topic name (1-249 of A-Z a-z 0-9 . _ -)", t.name)
			continue
		}
		if other, ok := usedBy[t.name]; ok {
			bad(t.key, "topic %q is already %s: every topic setting needs a topic of its own", t.name, other)
			continue
		}
		usedBy[t.name] = t.key
	}
}

func sortErrors(errs []error) {
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && errs[j].Error() < errs[j-1].Error(); j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

// Secret is a string that never prints: %v, logs and YAML show it
// redacted.
type Secret struct{ s string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{s} }

// Value returns the secret itself.
func (s Secret) Value() string { return s.s }

// String returns a redacted form.
func (s Secret) String() string {
	if s.s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts the secret from %#v too.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// MarshalYAML redacts the secret.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// ByteSize is a size in bytes, written as a number with an optional unit:
// 1048576, 1MiB, 512KiB, 4MB.
type ByteSize int64

// ParseByteSize parses a size.
func ParseByteSize(text string) (ByteSize, error) {
	s := strings.TrimSpace(text)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (1048576, 512KiB, 4MiB)", text)
	}
	return ByteSize(n * mult), nil
}

// UnmarshalYAML reads a size from a number or a string with a unit. A bad
// one is a *yaml.TypeError, so that the decoder goes on and reports the
// other problems of the file too.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a size must be a number or a string (1048576, 512KiB, 4MiB)", n.Line)}}
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*b = v
	return nil
}

// MarshalYAML writes the size in the largest exact binary unit.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

func (b ByteSize) String() string {
	switch {
	case b != 0 && b%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", b>>30)
	case b != 0 && b%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", b>>20)
	case b != 0 && b%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", b>>10)
	}
	return strconv.FormatInt(int64(b), 10)
}
