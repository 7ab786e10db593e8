package app

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/dev/synth"
	"flagstream/internal/testkit"
)

// feeder produces synthetic records in the background until stopped, so
// that reloads happen while records flow.
type feeder struct {
	stop chan struct{}
	wg   sync.WaitGroup
	err  error
}

func startFeeder(h *testkit.Kit) *feeder {
	f := &feeder{stop: make(chan struct{})}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		w := &kafka.Writer{Addr: kafka.TCP(h.Broker.Addr()), Topic: "tweets", BatchTimeout: 2 * time.Millisecond, RequiredAcks: kafka.RequireAll}
		defer w.Close()
		for {
			select {
			case <-f.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			var msgs []kafka.Message
			for _, v := range h.Records(50) {
				msgs = append(msgs, kafka.Message{Value: v})
			}
			if err := w.WriteMessages(context.Background(), msgs...); err != nil {
				f.err = err
				return
			}
		}
	}()
	return f
}

func (f *feeder) halt(t *testing.T) {
	t.Helper()
	close(f.stop)
	f.wg.Wait()
	if f.err != nil {
		t.Fatalf("feeding records: %v", f.err)
	}
}

// tasksOf counts the review tasks that name a demand.
func tasksOf(h *testkit.Kit, demand string) int {
	n := 0
	for _, m := range h.ReadTopic("review-tasks") {
		if strings.Contains(string(m.Value), `"demand_id":"`+demand+`"`) {
			n++
		}
	}
	return n
}

// TestLiveListsWhileRecordsFlow changes the lists of a running instance
// while records flow, by each trigger: a new demand file picked up by the
// watcher, a broken file refused while the old lists keep flagging, SIGHUP
// (reload=signal) and POST /-/reload. Tweets naming the new demand's
// handle are flagged within seconds, and the reload metrics count both
// outcomes.
func TestLiveListsWhileRecordsFlow(t *testing.T) {
	for _, trigger := range []string{"watch", "signal", "post"} {
		t.Run(trigger, func(t *testing.T) {
			h := testkit.New(t, devbroker.Config{}, synth.Config{})
			cfg := h.Config("live-" + trigger)
			hup := make(chan struct{}, 1)
			switch trigger {
			case "watch":
				cfg.Lists.Reload = "watch"
			default:
				cfg.Lists.Reload = "signal"
			}
			in := startWith(t, cfg, Options{Reload: hup})
			f := startFeeder(h)
			defer func() {
				if f != nil {
					f.halt(t)
				}
			}()
			reload := func() {
				t.Helper()
				switch trigger {
				case "signal":
					hup <- struct{}{}
				case "post":
					resp, err := http.Post("http://"+in.Addr+"/-/reload", "", nil)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
				}
			}

			// A broken change is refused; the lists keep flagging.
			if err := os.WriteFile(filepath.Join(h.ListsDir, "broken.yaml"), []byte("id: BROKEN\njurisdiction: IN\nhandles: [\"not a handle\"]\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			reload()
			testkit.WaitFor(t, 20*time.Second, "the broken file to be refused", func() bool {
				return in.labelled("flagstream_lists_reloads_total", "failure") >= 1
			})
			flaggedBefore := in.counter("flagstream_review_tasks_emitted_total")
			testkit.WaitFor(t, 20*time.Second, "the old lists to keep flagging", func() bool {
				return in.counter("flagstream_review_tasks_emitted_total") > flaggedBefore
			})
			os.Remove(filepath.Join(h.ListsDir, "broken.yaml"))

			// A new demand takes effect within seconds.
			successes := in.labelled("flagstream_lists_reloads_total", "success")
			if err := os.WriteFile(filepath.Join(h.ListsDir, "new.yaml"), []byte("id: LIVE-NEW\njurisdiction: IN\nauthority: A\nlegal_basis: L\nhandles: [\"@live_new_handle\"]\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			reload()
			testkit.WaitFor(t, 20*time.Second, "the new demand to load", func() bool {
				return in.labelled("flagstream_lists_reloads_total", "success") > successes
			})
			f.halt(t)
			f = nil
			fresh := synth.New(synth.Config{Seed: 5, Handles: []string{"live_new_handle"}, FlagRate: 0.5, FirstID: 1375000000000000001})
			testkit.Produce(t, h.Broker.Addr(), "tweets", h.RecordsFrom(fresh, 100))
			testkit.WaitFor(t, 30*time.Second, "tasks of the new demand", func() bool { return tasksOf(h, "LIVE-NEW") > 0 })
			t.Logf("%s: new demand loaded and flagging %s after the change", trigger, time.Since(start).Round(time.Millisecond))
			testkit.WaitFor(t, 60*time.Second, "all records committed", func() bool { return h.CaughtUp("live-" + trigger) })
			if err := in.Stop(t); err != nil {
				t.Fatal(err)
			}
			h.CheckTasks(h.Tasks(), false)
		})
	}
}
