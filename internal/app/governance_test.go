package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/dev/devbroker"
	"flagstream/internal/testkit"
)

// governanceLists: FLOOD trips past 50 tasks a minute, OTHER has no
// breaker, SHADOW is in shadow mode, and EX-PRESS exempts @reporter_one
// from FLOOD and OTHER.
var governanceLists = map[string]string{
	"flood.yaml":  "id: FLOOD\njurisdiction: IN\naction: withhold\npriority: high\nhashtags: [India]\nmax_tasks_per_minute: 50\nauthority: A\nlegal_basis: B\n",
	"other.yaml":  "id: OTHER\njurisdiction: IN\naction: withhold\nhashtags: [Calm]\nauthority: A\nlegal_basis: B\n",
	"shadow.yaml": "id: SHADOW\njurisdiction: DE\nmode: shadow\nhashtags: [Quiet]\nauthority: A\nlegal_basis: B\n",
	"press.yaml":  "kind: exemption\nid: EX-PRESS\ncategory: journalist\nreason: Accredited journalists\napplies_to: [FLOOD, OTHER]\nhandles: [\"@reporter_one\"]\n",
}

// governanceTweet is a v1.1 tweet of id by author saying text.
func governanceTweet(id int, author, text string) []byte {
	return []byte(fmt.Sprintf(`{"id_str":"%d","created_at":"Thu Feb 04 10:00:00 +0000 2021","text":%q,"user":{"id_str":"%d","screen_name":%q}}`,
		id, text, 5000+id, author))
}

// governedTask is what the test reads of a task.
type governedTask struct {
	TaskID    string `json:"task_id"`
	Action    string `json:"action"`
	Priority  string `json:"priority"`
	Shadow    bool   `json:"shadow"`
	Tripped   bool   `json:"tripped"`
	Exemption *struct {
		ID, Category, Reason string
	} `json:"exemption"`
	Matches []struct {
		DemandID string `json:"demand_id"`
	} `json:"matches"`
}

// readTasks returns the distinct tasks of topic by task id (at least once:
// a repeat after a rebalance has the same id).
func readTasks(t *testing.T, addr, topic string) map[string]governedTask {
	t.Helper()
	out := map[string]governedTask{}
	for _, m := range testkit.ReadTopic(t, addr, topic) {
		var task governedTask
		if err := json.Unmarshal(m.Value, &task); err != nil {
			t.Fatalf("%s: not a task: %v: %s", topic, err, m.Value)
		}
		out[task.TaskID] = task
	}
	return out
}

// byDemand counts tasks by the demands they name.
func byDemand(tasks map[string]governedTask) map[string]int {
	n := map[string]int{}
	for _, task := range tasks {
		seen := map[string]bool{}
		for _, m := range task.Matches {
			if !seen[m.DemandID] {
				seen[m.DemandID] = true
				n[m.DemandID]++
			}
		}
	}
	return n
}

// TestGovernance runs flagstream run on a broker and checks exemptions,
// shadow mode and the circuit breaker black-box, on the topics: a flood of
// 600 tasks against a 50-a-minute breaker puts at most 50 on the review
// topic and the rest on the shadow topic, 600 in all; the other demands
// are untouched; an exempt author's tasks are escalated to the escalation
// topic, past the tripped breaker; a shadow demand never reaches the
// review topic; the reset endpoint closes the breaker.
func TestGovernance(t *testing.T) {
	broker := testkit.StartBroker(t, devbroker.Config{})
	addr := broker.Addr()
	cfg := testkit.RunConfig(addr, testkit.WriteLists(t, governanceLists), "governance")
	cfg.Output.EscalationTopic = "review-escalated"
	testkit.CreateTopics(t, addr, kafka.TopicConfig{Topic: cfg.Output.EscalationTopic, NumPartitions: 4, ReplicationFactor: 1})

	var recs [][]byte
	id := 1
	add := func(n int, author, text string) {
		for range n {
			handle := author
			if strings.Contains(author, "%d") {
				handle = fmt.Sprintf(author, id)
			}
			recs = append(recs, governanceTweet(id, handle, text))
			id++
		}
	}
	add(600, "fict_user_%d", "#India trending")
	add(20, "fict_calm_%d", "keep #Calm")
	add(30, "fict_quiet_%d", "a #Quiet one")
	add(5, "reporter_one", "#India and #Calm, reported")
	testkit.Produce(t, addr, cfg.Input.Topic, recs)

	in := start(t, cfg)
	testkit.WaitFor(t, 60*time.Second, "every record committed", func() bool { return testkit.CaughtUp(addr, "governance", cfg.Input.Topic) })

	review := readTasks(t, addr, cfg.Output.Topic)
	shadow := readTasks(t, addr, cfg.Output.ShadowTopic)
	escalated := readTasks(t, addr, cfg.Output.EscalationTopic)
	rv, sh := byDemand(review), byDemand(shadow)
	if rv["FLOOD"] > 50 || rv["FLOOD"] < 40 {
		t.Errorf("review topic: %d FLOOD tasks, want at most (about) 50", rv["FLOOD"])
	}
	if rv["FLOOD"]+sh["FLOOD"] != 600 {
		t.Errorf("FLOOD: %d on the review topic and %d on the shadow topic, want 600 in all", rv["FLOOD"], sh["FLOOD"])
	}
	if rv["OTHER"] != 20 || sh["OTHER"] != 0 {
		t.Errorf("OTHER: %d on the review topic, %d on the shadow topic; want its 20 tasks untouched", rv["OTHER"], sh["OTHER"])
	}
	if rv["SHADOW"] != 0 || sh["SHADOW"] != 30 {
		t.Errorf("SHADOW: %d on the review topic, %d on the shadow topic; want 0 and 30", rv["SHADOW"], sh["SHADOW"])
	}
	for _, task := range review {
		if task.Shadow || task.Tripped || task.Exemption != nil {
			t.Errorf("review topic task %s: shadow %v, tripped %v, exemption %v", task.TaskID, task.Shadow, task.Tripped, task.Exemption)
		}
	}
	for _, task := range shadow {
		d := task.Matches[0].DemandID
		if !task.Shadow || task.Tripped != (d == "FLOOD") {
			t.Errorf("shadow topic task of %s: shadow %v, tripped %v", d, task.Shadow, task.Tripped)
		}
	}
	if len(escalated) != 5 {
		t.Errorf("escalation topic: %d tasks, want the exempt author's 5", len(escalated))
	}
	for _, task := range escalated {
		if task.Exemption == nil || task.Exemption.ID != "EX-PRESS" || task.Exemption.Category != "journalist" ||
			task.Action != "escalate" || task.Priority != "critical" || task.Tripped || len(task.Matches) != 2 {
			t.Errorf("escalated task %+v, want EX-PRESS, escalate, critical, both matches, not tripped", task)
		}
	}
	for _, c := range []struct {
		name, value string
		want        float64
	}{
		{"flagstream_demand_tripped", "FLOOD", 1},
		{"flagstream_demand_tripped", "OTHER", 0},
		{"flagstream_shadow_total", "SHADOW", 30},
		{"flagstream_demand_diverted_total", "FLOOD", float64(sh["FLOOD"])},
	} {
		if got := in.labelled(c.name, c.value); got != c.want {
			t.Errorf("%s{%s} = %v, want %v", c.name, c.value, got, c.want)
		}
	}

	if got := in.counter("flagstream_exemptions_applied_total"); got != 10 {
		t.Errorf("flagstream_exemptions_applied_total sums to %v, want 10 (5 tasks, 2 demands each)", got)
	}

	// The reset endpoint: 404 for an unknown demand; FLOOD closes, and its
	// next tasks reach reviewers again.
	base := "http://" + in.Addr
	if code, _ := post(t, base+"/-/demands/NOPE/reset"); code != http.StatusNotFound {
		t.Errorf("reset of an unknown demand: %d, want 404", code)
	}
	code, body := post(t, base+"/-/demands/FLOOD/reset")
	var st struct {
		Demand  string `json:"demand"`
		Tripped bool   `json:"tripped"`
		Limit   int    `json:"max_tasks_per_minute"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != http.StatusOK || st.Demand != "FLOOD" || st.Tripped || st.Limit != 50 {
		t.Errorf("reset of FLOOD: %d %s, want 200 with the closed state", code, body)
	}
	if got := in.labelled("flagstream_demand_tripped", "FLOOD"); got != 0 {
		t.Errorf("flagstream_demand_tripped{FLOOD} = %v after the reset, want 0", got)
	}
	recs = recs[:0]
	add(10, "fict_after_%d", "#India again")
	testkit.Produce(t, addr, cfg.Input.Topic, recs)
	testkit.WaitFor(t, 30*time.Second, "the records after the reset committed", func() bool { return testkit.CaughtUp(addr, "governance", cfg.Input.Topic) })
	if got := byDemand(readTasks(t, addr, cfg.Output.Topic))["FLOOD"] - rv["FLOOD"]; got != 10 {
		t.Errorf("after the reset %d of 10 FLOOD tasks reached the review topic", got)
	}
}

func post(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}
