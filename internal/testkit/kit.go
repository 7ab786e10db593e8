package testkit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/config"
	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
)

// The topics of flagstream run, as its defaults name them.
var (
	InputTopic      = config.Default().Input.Topic
	TaskTopic       = config.Default().Output.Topic
	DeadLetterTopic = config.Default().Output.DeadLetterTopic
)

// StartBroker starts a dev broker with flagstream's topics, on a free
// loopback port and with 4 partitions unless cfg says otherwise. It is
// closed when the test ends.
func StartBroker(tb testing.TB, cfg devbroker.Config) *devbroker.Broker {
	tb.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = 4
	}
	defaults := config.Default()
	cfg.Topics = defaults.Topics()
	b, err := devbroker.Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	return b
}

// DemandID is the id of Demand.
const DemandID = "TEST-IN-1"

// Demand is the demand file that a Kit's lists directory holds; the
// generators of Traffic name its entries.
const Demand = `id: TEST-IN-1
authority: Test Ministry
jurisdiction: IN
legal_basis: Test Act, section 1
action: withhold
scope: user
priority: high
handles: ["@kisan_test_one", "@tractor_test_2", "farm_voice_x"]
hashtags: ["#FarmerGenocideTest"]
phrases: ["farmer genocide test"]
domains: ["genocide-news.example"]
`

// Traffic returns a generator configuration whose flagged records name
// the entries of Demand: with seed, the given shares of flagged, evasive
// and malformed records, and a fifth of the good ones in API v2 form.
func Traffic(seed uint64, flagRate, evasiveRate, malformedRate float64) synth.Config {
	return synth.Config{
		Seed:     seed,
		Handles:  DemandHandles,
		Hashtags: []string{"FarmerGenocideTest"}, Phrases: []string{"farmer genocide test"},
		Domains:  []string{"genocide-news.example"},
		FlagRate: flagRate, EvasiveRate: evasiveRate, MalformedRate: malformedRate, V2Rate: 0.2,
	}
}

// WriteLists writes files (name → content) into a new temporary directory
// and returns it.
func WriteLists(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, content := range files {
		WriteFile(tb, dir, name, content)
	}
	return dir
}

// WriteFile writes content to dir/name.
func WriteFile(tb testing.TB, dir, name, content string) {
	tb.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Kit is what a test of flagstream run needs around it: a broker with
// flagstream's topics, a lists directory holding Demand, a generator of
// tweets naming its entries, and the Expectation of everything produced
// through the Kit.
type Kit struct {
	tb       testing.TB
	Broker   *devbroker.Broker
	ListsDir string
	Gen      *synth.Generator
	Exp      synth.Expectation
	// CaseHandles are the listed handles of scope: user demands (those of
	// Demand): a record naming one is case evidence, as run has cases on,
	// and makes no review task.
	CaseHandles map[string]bool
	accounts    map[string]bool // tweet ids of Exp.Accounts naming CaseHandles
	noted       int             // Exp.Accounts indexed in accounts
}

// DemandHandles are the handles Demand lists, without '@'.
var DemandHandles = []string{"kisan_test_one", "tractor_test_2", "farm_voice_x"}

// TaskExpected reports whether the tweet with this id must get a review
// task: it names a listed entry, and not only a listed handle of
// CaseHandles.
func (k *Kit) TaskExpected(id string) bool {
	if !k.Exp.IsFlagged(id) {
		return false
	}
	if k.accounts == nil {
		k.accounts = map[string]bool{}
	}
	for ; k.noted < len(k.Exp.Accounts); k.noted++ {
		if a := k.Exp.Accounts[k.noted]; k.CaseHandles[a.Handle] {
			k.accounts[a.TweetID] = true
		}
	}
	return !k.accounts[id]
}

// TasksExpected returns how many review tasks the records produced must
// make (see TaskExpected).
func (k *Kit) TasksExpected() int {
	n := 0
	for _, id := range k.Exp.Flagged {
		if k.TaskExpected(id) {
			n++
		}
	}
	return n
}

// New starts a Kit's broker with bcfg (see StartBroker) and a generator of
// traffic; a zero traffic configuration is Traffic(7, 0.02, 0.01, 0.01).
func New(tb testing.TB, bcfg devbroker.Config, traffic synth.Config) *Kit {
	tb.Helper()
	if traffic.Seed == 0 {
		traffic = Traffic(7, 0.02, 0.01, 0.01)
	}
	k := &Kit{
		tb:          tb,
		Broker:      StartBroker(tb, bcfg),
		ListsDir:    WriteLists(tb, map[string]string{"test.yaml": Demand}),
		Gen:         synth.New(traffic),
		CaseHandles: map[string]bool{},
	}
	for _, h := range DemandHandles {
		k.CaseHandles[h] = true
	}
	return k
}

// Records generates n records and notes what they must lead to.
func (k *Kit) Records(n int) [][]byte { return k.RecordsFrom(k.Gen, n) }

// RecordsFrom generates n records with gen and notes what they must lead
// to; gen's tweet ids must differ from those of the Kit's generator.
func (k *Kit) RecordsFrom(gen *synth.Generator, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		v, kind := gen.Next(nil)
		out[i] = v
		if err := k.Exp.Note(v, kind); err != nil {
			k.tb.Fatal(err)
		}
		if a, ok := gen.LastAccount(); ok {
			k.Exp.NoteAccount(a)
		}
	}
	return out
}

// Produce produces n generated records to the input topic.
func (k *Kit) Produce(n int) { Produce(k.tb, k.Broker.Addr(), InputTopic, k.Records(n)) }

// CaughtUp reports whether group has committed every record of the input
// topic.
func (k *Kit) CaughtUp(group string) bool { return CaughtUp(k.Broker.Addr(), group, InputTopic) }

// ReadTopic returns every record now in topic.
func (k *Kit) ReadTopic(topic string) []kafka.Message { return ReadTopic(k.tb, k.Broker.Addr(), topic) }

// Config returns RunConfig for the Kit's broker and lists.
func (k *Kit) Config(group string) config.Config {
	return RunConfig(k.Broker.Addr(), k.ListsDir, group)
}

// RunConfig returns a configuration of flagstream run against the broker
// at addr and the lists in listsDir, in group, tuned for tests: quick
// group joins and commits, small fetches, an admin listener on a free
// port.
func RunConfig(addr, listsDir, group string) config.Config {
	cfg := config.Default()
	cfg.Kafka.Brokers = []string{addr}
	cfg.Input.Group = group
	// kafka-go allows a fetch response a quarter of MaxWait beyond the
	// broker's wait: 500ms leaves 125ms, enough for a 1 MiB fetch under -race.
	cfg.Input.MaxWait = 500 * time.Millisecond
	cfg.Input.FetchMaxBytes = 1 << 20
	cfg.Input.HeartbeatInterval = 300 * time.Millisecond
	cfg.Input.SessionTimeout = 3 * time.Second
	cfg.Input.RebalanceTimeout = 3 * time.Second
	cfg.Input.CommitInterval = 200 * time.Millisecond
	cfg.Lists.Dir = listsDir
	cfg.Lists.Interval = 200 * time.Millisecond
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Pipeline.BatchSize = 256
	return cfg
}

// Flags returns the command-line flags that give flagstream run cfg:
// --KEY=VALUE for every setting that differs from the default.
func Flags(cfg config.Config) []string {
	defaults := config.Default()
	def := map[string]string{}
	for _, s := range config.Settings(&defaults) {
		def[s.Key] = s.String()
	}
	var args []string
	for _, s := range config.Settings(&cfg) {
		if s.Key != "" && s.String() != def[s.Key] {
			args = append(args, "--"+s.Key+"="+s.String())
		}
	}
	return args
}

// TweetIDs returns the tweet id of each review task of NDJSON output, in
// order, failing the test on a line that is not a task.
func TweetIDs(tb testing.TB, ndjson string) []string {
	tb.Helper()
	var ids []string
	for _, line := range strings.Split(strings.TrimSuffix(ndjson, "\n"), "\n") {
		var task struct {
			Tweet struct {
				ID string `json:"id"`
			} `json:"tweet"`
		}
		if err := json.Unmarshal([]byte(line), &task); err != nil || task.Tweet.ID == "" {
			tb.Fatalf("not a review task (%v): %s", err, line)
		}
		ids = append(ids, task.Tweet.ID)
	}
	return ids
}

// ReviewTask is what the tests decode of a review task.
type ReviewTask struct {
	Schema string `json:"schema"`
	TaskID string `json:"task_id"`
	Tweet  struct {
		ID string `json:"id"`
	} `json:"tweet"`
	Matches []struct {
		DemandID string `json:"demand_id"`
		Kind     string `json:"kind"`
	} `json:"matches"`
	Retro *struct {
		Job, Since, Until string
	} `json:"retro"`
}

// ReadTasks reads the review tasks in topic, failing the test on one that
// is not JSON.
func ReadTasks(tb testing.TB, addr, topic string) []ReviewTask {
	tb.Helper()
	msgs := ReadTopic(tb, addr, topic)
	tasks := make([]ReviewTask, len(msgs))
	for i, m := range msgs {
		if err := json.Unmarshal(m.Value, &tasks[i]); err != nil {
			tb.Fatalf("%s: not a review task: %v: %s", topic, err, m.Value)
		}
	}
	return tasks
}

// Tasks is what a test checks of the review tasks in the task topic.
type Tasks struct {
	ByTweet map[string][]string // tweet id → the task ids seen for it
	Total   int
}

// Tasks reads the review tasks in the task topic, failing the test on a
// task that is not one (wrong schema, no id or matches, key not the tweet
// id).
func (k *Kit) Tasks() Tasks {
	k.tb.Helper()
	s := Tasks{ByTweet: map[string][]string{}}
	for _, m := range k.ReadTopic(TaskTopic) {
		var task ReviewTask
		if err := json.Unmarshal(m.Value, &task); err != nil {
			k.tb.Fatalf("review task is not JSON: %v: %s", err, m.Value)
		}
		if task.Schema != "flagstream.review_task/v1" || task.TaskID == "" || len(task.Matches) == 0 {
			k.tb.Errorf("malformed review task: %s", m.Value)
		}
		if string(m.Key) != task.Tweet.ID {
			k.tb.Errorf("task key %q, want the tweet id %q", m.Key, task.Tweet.ID)
		}
		s.ByTweet[task.Tweet.ID] = append(s.ByTweet[task.Tweet.ID], task.TaskID)
		s.Total++
	}
	return s
}

// CheckTasks asserts that every tweet that must have a task
// (TaskExpected), and only those, has one, and that the repeated tasks of
// a tweet (after a crash) share one task id; exact also wants no repeats.
// It returns the number of repeats.
func (k *Kit) CheckTasks(s Tasks, exact bool) (repeats int) {
	k.tb.Helper()
	for _, id := range k.Exp.Flagged {
		if k.TaskExpected(id) && len(s.ByTweet[id]) == 0 {
			k.tb.Errorf("flagged tweet %s has no review task", id)
		}
	}
	for id, tasks := range s.ByTweet {
		switch {
		case !k.Exp.IsFlagged(id):
			k.tb.Errorf("tweet %s was not meant to be flagged but has %d tasks", id, len(tasks))
		case !k.TaskExpected(id):
			k.tb.Errorf("tweet %s names only a listed account of a scope: user demand (case evidence) but has %d tasks", id, len(tasks))
		}
		for _, tid := range tasks[1:] {
			repeats++
			if tid != tasks[0] {
				k.tb.Errorf("tweet %s: repeated tasks with different ids %s and %s", id, tasks[0], tid)
			}
		}
		if exact && len(tasks) != 1 {
			k.tb.Errorf("tweet %s has %d tasks, want 1", id, len(tasks))
		}
	}
	return repeats
}
