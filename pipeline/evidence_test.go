package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"flagstream/internal/lists"
	"flagstream/matchers"
	"flagstream/pipeline/cases"
)

// caseDemands are a scope: user demand with every kind of account entry and
// a hashtag, and a tweet-scope demand naming a handle.
var caseDemands = map[string]string{
	"u.yaml": `id: U-1
jurisdiction: IN
authority: A
legal_basis: L
scope: user
action: withhold
handles: ["@Listed_User"]
user_ids: ["777"]
accounts: [{handle: pinned_user, user_id: "900"}]
hashtags: ["#ListedTag"]
`,
	"t.yaml": `id: T-2
jurisdiction: DE
scope: tweet
handles: [tweet_scope_one]
`,
}

func compileDemands(t testing.TB, files map[string]string) *matchers.Snapshot {
	t.Helper()
	var demands []matchers.Demand
	for _, name := range slices.Sorted(maps.Keys(files)) {
		d, _, err := lists.ParseDemand(name, []byte(files[name]), nil)
		if err != nil {
			t.Fatal(err)
		}
		demands = append(demands, d)
	}
	s, _, err := matchers.Compile(demands, time.Date(2021, 2, 4, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// listSource hands out its values one record a batch, as lines of a file.
type listSource struct {
	values []string
	next   int
}

func (s *listSource) Fetch(_ context.Context, b *Batch) error {
	if s.next >= len(s.values) {
		return io.EOF
	}
	for range 3 {
		if s.next < len(s.values) {
			b.Records = append(b.Records, Record{Value: []byte(s.values[s.next]), File: "in", Line: int64(s.next + 1)})
			s.next++
		}
	}
	return nil
}

func (s *listSource) Commit(context.Context, *Batch) error { return nil }

// written is one output as a sink saw it.
type written struct {
	dest       Destination
	line       int64
	key, value string
}

// collectSink keeps every output.
type collectSink struct {
	mu  sync.Mutex
	out []written
}

func (s *collectSink) Write(_ context.Context, b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range b.Outputs {
		k, v := b.Output(i)
		s.out = append(s.out, written{b.Outputs[i].Dest, b.Records[b.Outputs[i].Record].Line, string(k), string(v)})
	}
	return nil
}

// runOutputs runs values through a pipeline of cfg and returns the outputs.
func runOutputs(t *testing.T, cfg Config, values ...string) []written {
	t.Helper()
	sink := &collectSink{}
	cfg.Source, cfg.Sink = &listSource{values: values}, sink
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Date(2021, 2, 5, 0, 0, 0, 0, time.UTC) }
	}
	if err := run(t, context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	return sink.out
}

// describe summarizes an output: a task as "task" and its matches
// (kind/in/entry/demand), evidence as "evidence" and its case, kind, place,
// entry and account fields.
func describe(t *testing.T, w written) string {
	t.Helper()
	if w.dest != ToEvidence {
		var task struct {
			Matches []struct {
				Kind, In, Entry, Via string
				DemandID             string `json:"demand_id"`
			} `json:"matches"`
		}
		if err := json.Unmarshal([]byte(w.value), &task); err != nil {
			t.Fatalf("task %s: %v", w.value, err)
		}
		var ms []string
		for _, m := range task.Matches {
			s := fmt.Sprintf("%s/%s/%s/%s", m.Kind, m.In, m.Entry, m.DemandID)
			if m.Via != "" {
				s += "/via:" + m.Via
			}
			ms = append(ms, s)
		}
		return fmt.Sprintf("%d %s task %s", w.line, w.dest, strings.Join(ms, " "))
	}
	in, err := cases.DecodeInput([]byte(w.value))
	if err != nil {
		t.Fatalf("evidence %s: %v", w.value, err)
	}
	ev := in.Evidence
	if w.key != ev.CaseID {
		t.Errorf("evidence key %q, want its case id %q", w.key, ev.CaseID)
	}
	if want, err := cases.CaseOf(ev.Demand.ID, ev.EntryKind, ev.Entry); err != nil || want != ev.CaseID {
		t.Errorf("evidence case id %q, want CaseOf = %q (%v)", ev.CaseID, want, err)
	}
	s := fmt.Sprintf("%d evidence %s/%s %s %s in %s by %s/%s", w.line, ev.Demand.ID, ev.Entry, ev.EntryKind, ev.Kind, ev.In, ev.Author.ID, ev.Author.Handle)
	if ev.Kind == cases.EvidenceMention {
		s += fmt.Sprintf(" of %s/%s", ev.Mention.ID, ev.Mention.Handle)
	}
	if ev.ViaBinding {
		s += " via binding"
	}
	if ev.PinnedUserID != "" {
		s += " pinned " + ev.PinnedUserID
	}
	return s
}

func tweetJSON(id, text, userID, handle string, extra string) string {
	return fmt.Sprintf(`{"id_str":%q,"created_at":"Thu Feb 04 09:00:00 +0000 2021","text":%q,"user":{"id_str":%q,"screen_name":%q}%s}`, id, text, userID, handle, extra)
}

func TestEvidenceInsteadOfTasks(t *testing.T) {
	s := compileDemands(t, caseDemands)
	tests := []struct {
		name   string
		record string
		cases  bool
		want   []string
	}{
		{
			name: "listed author", cases: true,
			record: tweetJSON("1", "hello", "100", "Listed_User", ""),
			want:   []string{"1 evidence U-1/@Listed_User handle post in tweet by 100/Listed_User"},
		},
		{
			name: "listed user id", cases: true,
			record: tweetJSON("1", "hello", "0777", "someone", ""),
			want:   []string{"1 evidence U-1/777 user_id post in tweet by 0777/someone"},
		},
		{
			name: "mention entity and text: one evidence", cases: true,
			record: tweetJSON("1", "hi @listed_user", "5", "x", `,"entities":{"user_mentions":[{"screen_name":"listed_user","id_str":"100"}]}`),
			want:   []string{"1 evidence U-1/@Listed_User handle mention in tweet by 5/x of 100/listed_user"},
		},
		{
			name: "retweet: the retweeted author and the mention of the RT", cases: true,
			record: tweetJSON("1", "RT @listed_user: hello", "5", "x",
				`,"retweeted_status":`+tweetJSON("30", "hello", "100", "listed_user", "")),
			want: []string{
				"1 evidence U-1/@Listed_User handle mention in tweet by 5/x of /listed_user",
				"1 evidence U-1/@Listed_User handle post in retweeted by 100/listed_user",
			},
		},
		{
			name: "quoted author", cases: true,
			record: tweetJSON("1", "look", "5", "x", `,"quoted_status":`+tweetJSON("31", "hello", "100", "listed_user", "")),
			want:   []string{"1 evidence U-1/@Listed_User handle post in quoted by 100/listed_user"},
		},
		{
			name: "replied-to author", cases: true,
			record: tweetJSON("1", "no", "5", "x", `,"in_reply_to_screen_name":"Listed_User","in_reply_to_user_id_str":"100"`),
			want:   []string{"1 evidence U-1/@Listed_User handle post in replied_to by 100/Listed_User"},
		},
		{
			name: "hashtag and listed author: a task of the hashtag and evidence", cases: true,
			record: tweetJSON("1", "#ListedTag now", "100", "listed_user", ""),
			want: []string{
				"1 evidence U-1/@Listed_User handle post in tweet by 100/listed_user",
				"1 review task hashtag/tweet/#ListedTag/U-1",
			},
		},
		{
			name: "tweet-scope demand's handle: a task", cases: true,
			record: tweetJSON("1", "hello", "6", "tweet_scope_one", ""),
			want:   []string{"1 review task author/tweet/tweet_scope_one/T-2"},
		},
		{
			name: "pinned account under another handle", cases: true,
			record: tweetJSON("1", "hello", "900", "renamed_pin", ""),
			want:   []string{"1 evidence U-1/pinned_user handle post in tweet by 900/renamed_pin via binding pinned 900"},
		},
		{
			name: "pinned handle by its account", cases: true,
			record: tweetJSON("1", "hello", "900", "pinned_user", ""),
			want:   []string{"1 evidence U-1/pinned_user handle post in tweet by 900/pinned_user pinned 900"},
		},
		{
			name: "cases off: account matches make tasks", cases: false,
			record: tweetJSON("1", "#ListedTag now", "100", "listed_user", ""),
			want:   []string{"1 review task author/tweet/@Listed_User/U-1 hashtag/tweet/#ListedTag/U-1"},
		},
		{
			name: "cases off: pinned account via binding", cases: false,
			record: tweetJSON("1", "hello", "900", "renamed_pin", ""),
			want:   []string{"1 review task author_id/tweet/pinned_user/U-1/via:binding"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := runOutputs(t, Config{Lists: func() *matchers.Snapshot { return s }, Cases: tt.cases, Workers: 1}, tt.record)
			var got []string
			for _, w := range out {
				got = append(got, describe(t, w))
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("outputs:\ngot  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// staticBindings binds user ids to handle keys.
type staticBindings map[string][][]byte

func (b staticBindings) BoundHandles(id []byte, fn func([]byte)) {
	for _, h := range b[string(id)] {
		fn(h)
	}
}

func TestEvidenceViaBindings(t *testing.T) {
	s := compileDemands(t, caseDemands)
	bindings := staticBindings{"100": {[]byte("listed_user")}, "200": {[]byte("tweet_scope_one")}}
	cfg := Config{Lists: func() *matchers.Snapshot { return s }, Cases: true, Workers: 1,
		Bindings: func() matchers.Bindings { return bindings }}
	out := runOutputs(t, cfg,
		tweetJSON("1", "new name", "100", "renamed_one", ""),
		tweetJSON("2", "new name", "200", "renamed_two", ""),
		tweetJSON("3", "hi @renamed_one", "5", "x", `,"entities":{"user_mentions":[{"screen_name":"renamed_one","id_str":"100"}]}`),
	)
	var got []string
	for _, w := range out {
		got = append(got, describe(t, w))
	}
	want := []string{
		"1 evidence U-1/@Listed_User handle post in tweet by 100/renamed_one via binding",
		"2 review task author_id/tweet/tweet_scope_one/T-2/via:binding",
		"3 evidence U-1/@Listed_User handle mention in tweet by 5/x of 100/renamed_one via binding",
	}
	if !slices.Equal(got, want) {
		t.Errorf("outputs:\ngot  %q\nwant %q", got, want)
	}
}

func TestEvidenceMetrics(t *testing.T) {
	s := compileDemands(t, caseDemands)
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	runOutputs(t, Config{Lists: func() *matchers.Snapshot { return s }, Cases: true, Metrics: m},
		tweetJSON("1", "#ListedTag", "100", "listed_user", ""),
		tweetJSON("2", "hello", "777", "x", ""),
		tweetJSON("3", "hello", "6", "tweet_scope_one", ""),
	)
	if got := testutil.ToFloat64(m.evidence.WithLabelValues("U-1")); got != 2 {
		t.Errorf("evidence of U-1 = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.tasks); got != 2 {
		t.Errorf("tasks = %v, want 2 (the hashtag's and the tweet-scope handle's)", got)
	}
	if got := testutil.ToFloat64(m.matches.WithLabelValues("U-1", "author")); got != 1 {
		t.Errorf("author matches of U-1 = %v, want 1: evidence still counts as matches", got)
	}
}

// recordingOrdered is an Ordered that binds a handle key to the first user
// id its evidence shows, like the case processor.
type recordingOrdered struct {
	handles  map[string][][]byte
	evidence []string
}

func (o *recordingOrdered) Bound(id []byte) bool { _, ok := o.handles[string(id)]; return ok }

func (o *recordingOrdered) BoundHandles(id []byte, fn func([]byte)) {
	for _, h := range o.handles[string(id)] {
		fn(h)
	}
}

func (o *recordingOrdered) Evidence(b *Batch, r int, key, value []byte) error {
	in, err := cases.DecodeInput(value)
	if err != nil {
		return err
	}
	ev := in.Evidence
	o.evidence = append(o.evidence, fmt.Sprintf("%d %s via=%v", b.Records[r].Line, ev.Author.Handle, ev.ViaBinding))
	if ev.EntryKind == cases.EntryHandle && ev.Kind == cases.EvidencePost && !ev.ViaBinding {
		key := strings.ToLower(strings.TrimPrefix(ev.Entry, "@"))
		o.handles[ev.Author.ID] = append(o.handles[ev.Author.ID], []byte(key))
	}
	return nil
}

// TestOrderedRematchesBoundAccounts checks that a binding the Ordered stage
// learns from one line applies to every later line, in the same batch or
// a later one, whatever the number of workers.
func TestOrderedRematchesBoundAccounts(t *testing.T) {
	s := compileDemands(t, caseDemands)
	values := []string{
		tweetJSON("1", "before the binding", "100", "renamed_early", ""),
		tweetJSON("2", "binds it", "100", "listed_user", ""),
		tweetJSON("3", "#ListedTag renamed, same batch", "100", "renamed_one", ""),
	}
	for i := range 20 {
		values = append(values, tweetJSON(fmt.Sprint(10+i), "clean", fmt.Sprint(1000+i), "other", ""))
	}
	values = append(values, tweetJSON("99", "renamed, later batch", "100", "renamed_two", ""))
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprint(workers, " workers"), func(t *testing.T) {
			o := &recordingOrdered{handles: map[string][][]byte{}}
			reg := prometheus.NewPedanticRegistry()
			m := NewMetrics(reg)
			out := runOutputs(t, Config{Lists: func() *matchers.Snapshot { return s }, Ordered: o, Workers: workers, Writers: 4, Metrics: m}, values...)
			want := []string{"2 listed_user via=false", "3 renamed_one via=true", "24 renamed_two via=true"}
			if !slices.Equal(o.evidence, want) {
				t.Errorf("evidence in order:\ngot  %q\nwant %q", o.evidence, want)
			}
			var got []string
			for _, w := range out {
				got = append(got, describe(t, w))
			}
			wantOut := []string{
				"2 evidence U-1/@Listed_User handle post in tweet by 100/listed_user",
				"3 evidence U-1/@Listed_User handle post in tweet by 100/renamed_one via binding",
				"3 review task hashtag/tweet/#ListedTag/U-1",
				"24 evidence U-1/@Listed_User handle post in tweet by 100/renamed_two via binding",
			}
			if !slices.Equal(got, wantOut) {
				t.Errorf("outputs:\ngot  %q\nwant %q", got, wantOut)
			}
			if got := testutil.ToFloat64(m.matches.WithLabelValues("U-1", "author_id")); got != 2 {
				t.Errorf("author_id matches = %v, want the 2 found again through the binding", got)
			}
			if got := testutil.ToFloat64(m.matches.WithLabelValues("U-1", "hashtag")); got != 1 {
				t.Errorf("hashtag matches = %v, want 1: a record matched again is counted once", got)
			}
		})
	}
}
