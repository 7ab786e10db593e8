package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
	"flagstream/internal/kafkaio"
	"flagstream/internal/testkit"
	"flagstream/pipeline"
)

// outage is how long TestFaultBrokerOutage keeps the broker away.
const outage = 30 * time.Second

// TestFaultBrokerOutage stops the broker for 30 s while run is consuming,
// then starts it again on the same port and data directory: run waits
// through the outage and then goes on, losing nothing.
func TestFaultBrokerOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("takes over 30 s")
	}
	t.Parallel()
	dataDir := t.TempDir()
	addr := testkit.FreeAddr(t)
	bcfg := devbroker.Config{Listen: addr, DataDir: dataDir}
	h := testkit.New(t, bcfg, synth.Config{})
	h.Produce(1500)
	in := start(t, h.Config("outage"))
	testkit.WaitFor(t, 60*time.Second, "the first records to be committed", func() bool { return h.CaughtUp("outage") })

	h.Broker.Close()
	down := time.Now()
	for time.Since(down) < outage {
		select {
		case err := <-in.Stopped():
			t.Fatalf("run stopped during the broker outage: %v", err)
		case <-time.After(time.Second):
		}
	}
	h.Broker = testkit.StartBroker(t, bcfg)
	h.Produce(1500)
	testkit.WaitFor(t, 90*time.Second, "run to catch up after the outage", func() bool { return h.CaughtUp("outage") })
	if err := in.Stop(t); err != nil {
		t.Fatalf("graceful stop after the outage: %v", err)
	}
	h.CheckTasks(h.Tasks(), false)
}

// TestFaultOutputRefusesWrites makes the broker refuse writes to the
// review-task topic: run applies back-pressure (no commits past the
// refused records, the blocked metric set) and, once writes are accepted
// again, writes every task, losing nothing.
func TestFaultOutputRefusesWrites(t *testing.T) {
	h := testkit.New(t, devbroker.Config{}, synth.Config{})
	h.Produce(500)
	in := start(t, h.Config("refuse"))
	testkit.WaitFor(t, 60*time.Second, "the first records to be committed", func() bool { return h.CaughtUp("refuse") })

	restore := h.Broker.RefuseProduce("review-tasks")
	h.Produce(1000)
	testkit.WaitFor(t, 30*time.Second, "flagstream_kafka_producer_blocked to be 1", func() bool {
		return in.counter("flagstream_kafka_producer_blocked") == 1
	})
	time.Sleep(time.Second)
	if h.CaughtUp("refuse") {
		t.Fatal("offsets were committed past records whose tasks could not be written")
	}
	if in.counter("flagstream_kafka_producer_write_failures_total") == 0 {
		t.Error("no write failures counted")
	}
	restore()
	testkit.WaitFor(t, 60*time.Second, "run to catch up once writes are accepted", func() bool { return h.CaughtUp("refuse") })
	if got := in.counter("flagstream_kafka_producer_blocked"); got != 0 {
		t.Errorf("flagstream_kafka_producer_blocked = %v after recovery, want 0", got)
	}
	if err := in.Stop(t); err != nil {
		t.Fatal(err)
	}
	h.CheckTasks(h.Tasks(), false)
}

// TestFaultPanicGoesToDeadLetters makes processing panic on some records:
// each goes to the dead-letter topic with reason panic, and run goes on.
func TestFaultPanicGoesToDeadLetters(t *testing.T) {
	h := testkit.New(t, devbroker.Config{}, synth.Config{})
	values := h.Records(1000)
	// Records that panic: every 97th, and never a flagged or malformed
	// one, so the expectations of the harness still hold.
	poison := map[string]bool{}
	for i, v := range values {
		if id, err := synth.TweetID(v); err == nil && i%97 == 0 && !h.Exp.IsFlagged(id) {
			values[i] = bytes.Replace(v, []byte(`"text":"`), []byte(`"text":"POISON `), 1)
			poison[id] = true
		}
	}
	if len(poison) == 0 {
		t.Fatal("no poison records")
	}
	testkit.Produce(t, h.Broker.Addr(), "tweets", values)
	cfg := h.Config("panic")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Options{BeforeRecord: func(r *pipeline.Record) {
			if bytes.Contains(r.Value, []byte("POISON")) {
				panic("injected fault")
			}
		}})
	}()
	testkit.WaitFor(t, 60*time.Second, "all records committed", func() bool { return h.CaughtUp("panic") })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	h.CheckTasks(h.Tasks(), true)
	panics := 0
	for _, m := range h.ReadTopic("tweets-dlq") {
		if reason, _ := testkit.Header(m, kafkaio.HeaderReason); reason == string(pipeline.ReasonPanic) {
			panics++
			if !bytes.Contains(m.Value, []byte("POISON")) {
				t.Errorf("a dead letter with reason panic is not a poison record: %.80s", m.Value)
			}
		}
	}
	if panics != len(poison) {
		t.Errorf("dead letters with reason panic: got %d, want %d", panics, len(poison))
	}
}

// TestFaultReloadDuringRebalance reloads the lists (a new demand file,
// POST /-/reload) while a second instance joins the group and the
// partitions move: both instances take the new lists, tweets naming the
// new demand's handle are flagged, and nothing is lost.
func TestFaultReloadDuringRebalance(t *testing.T) {
	h := testkit.New(t, devbroker.Config{Partitions: 4}, synth.Config{})
	h.Produce(1000)
	a := start(t, h.Config("reload"))
	testkit.WaitFor(t, 60*time.Second, "the first instance to commit", func() bool {
		return a.counter("flagstream_records_committed_total") > 0
	})

	// Keep records flowing while the second instance joins and the lists
	// change.
	f := startFeeder(h)
	b := start(t, h.Config("reload"))
	if err := os.WriteFile(filepath.Join(h.ListsDir, "new.yaml"), []byte(
		"id: TEST-NEW-1\njurisdiction: IN\nauthority: A\nlegal_basis: L\nhandles: [\"@fresh_handle_x\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	versions := map[string]bool{}
	for _, in := range []*instance{a, b} {
		resp, err := http.Post("http://"+in.Addr+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Version string `json:"lists_version"`
			Error   string `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || body.Version == "" {
			t.Fatalf("POST /-/reload: %s %+v", resp.Status, body)
		}
		versions[body.Version] = true
	}
	if len(versions) != 1 {
		t.Errorf("the instances loaded different lists versions: %v", versions)
	}
	f.halt(t)

	// Tweets naming the new handle, produced after both reloads.
	fresh := synth.New(synth.Config{Seed: 99, Handles: []string{"fresh_handle_x"}, FlagRate: 0.2, FirstID: 1365000000000000001})
	testkit.Produce(t, h.Broker.Addr(), "tweets", h.RecordsFrom(fresh, 500))
	testkit.WaitFor(t, 90*time.Second, "the group to commit everything", func() bool { return h.CaughtUp("reload") })
	for _, in := range []*instance{a, b} {
		if err := in.Stop(t); err != nil {
			t.Fatal(err)
		}
	}
	s := h.Tasks()
	h.CheckTasks(s, false)
	newDemand := 0
	for _, m := range h.ReadTopic("review-tasks") {
		if strings.Contains(string(m.Value), `"demand_id":"TEST-NEW-1"`) {
			newDemand++
		}
	}
	if newDemand == 0 {
		t.Error("no task names the demand loaded during the rebalance")
	}
	t.Logf("%d tasks, %d of the new demand", s.Total, newDemand)
}

// TestHostileRecordsThroughKafka sends records that break every limit and
// rule: each is counted and sent to the dead-letter topic with its reason,
// the good records around them are processed, and memory stays bounded.
func TestHostileRecordsThroughKafka(t *testing.T) {
	h := testkit.New(t, devbroker.Config{}, synth.Config{})
	tweets := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(`{"statuses":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id_str":"%d","text":"hi"}`, 9000000+i)
		}
		b.WriteString(`]}`)
		return b.Bytes()
	}
	hostile := []struct {
		value  []byte
		reason string
	}{
		{bytes.Repeat([]byte("["), 100000), "invalid_json"},
		{[]byte("{\"id_str\":\"1\",\"text\":\"\xff\xfe\"}"), "invalid_utf8"},
		{[]byte(`{"id_str":"2","text":{"not":"a string"}}`), "wrong_type"},
		{[]byte(`{"text":"no id"}`), "not_a_tweet"},
		{[]byte(`{"id_str":"","id":null,"text":"empty id"}`), "missing_id"},
		{append(append([]byte(`{"id_str":"3","text":"`), bytes.Repeat([]byte("a"), 300<<10)...), `"}`...), "text_too_long"},
		{tweets(1500), "too_many_tweets"},
		{append(append([]byte(`{"id_str":"4","text":"`), bytes.Repeat([]byte("b"), 900<<10)...), `"}`...), "too_large"},
		{[]byte(`{"id_str":"5","text":"x","retweeted_status":{"id_str":"6","retweeted_status":{"id_str":"7","retweeted_status":{"id_str":"8","retweeted_status":{"id_str":"9","retweeted_status":{"id_str":"10","retweeted_status":{"id_str":"11"}}}}}}}`), "too_deep"},
	}
	values := h.Records(300)
	for _, hv := range hostile {
		values = append(values, hv.value)
	}
	values = append(values, h.Records(300)...)
	testkit.Produce(t, h.Broker.Addr(), "tweets", values)

	cfg := h.Config("hostile")
	cfg.Limits.MaxMessageBytes = 800 << 10 // the 900 KiB record is too large
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	in := start(t, cfg)
	testkit.WaitFor(t, 60*time.Second, "all records committed", func() bool { return h.CaughtUp("hostile") })
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if err := in.Stop(t); err != nil {
		t.Fatal(err)
	}
	h.CheckTasks(h.Tasks(), true)
	got := map[string]int{}
	for _, m := range h.ReadTopic("tweets-dlq") {
		reason, _ := testkit.Header(m, kafkaio.HeaderReason)
		got[reason]++
	}
	for _, hv := range hostile {
		if got[hv.reason] == 0 {
			t.Errorf("no dead letter with reason %s", hv.reason)
		}
	}
	if got, want := len(h.ReadTopic("tweets-dlq")), len(hostile)+h.Exp.Malformed(); got != want {
		t.Errorf("dead letters: got %d, want %d", got, want)
	}
	// The heap after the hostile records were processed stays within a
	// small multiple of the largest record, not of what they could expand to.
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 64<<20 {
		t.Errorf("heap grew by %d MiB while processing hostile records", grown>>20)
	}
}
