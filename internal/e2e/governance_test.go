package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/crypto/bcrypt"

	"flagstream/internal/testkit"
)

// TestGovernanceWithKcat drives the binaries black-box, with kcat as the
// only other Kafka client: flagstream broker with its default topics,
// flagstream run with an admin listener behind basic auth and an
// escalation topic. A flood of 600 tasks against a 50-a-minute breaker
// leaves at most 50 on the review topic and the rest on the shadow topic;
// a shadow demand's tasks are only on the shadow topic; an exempt author's
// are escalated to the escalation topic; the reset endpoint wants the
// password, then closes the breaker.
func TestGovernanceWithKcat(t *testing.T) {
	addr, kcatRun := kcatBroker(t, 2)
	dir := t.TempDir()
	lists := testkit.WriteLists(t, map[string]string{
		"flood.yaml":  "id: FLOOD\njurisdiction: IN\naction: withhold\nhashtags: [India]\nmax_tasks_per_minute: 50\nauthority: A\nlegal_basis: B\n",
		"shadow.yaml": "id: SHADOW\njurisdiction: DE\nmode: shadow\nhashtags: [Quiet]\nauthority: A\nlegal_basis: B\n",
		"press.yaml":  "kind: exemption\nid: EX-PRESS\ncategory: journalist\nreason: Press\napplies_to: [FLOOD]\nhandles: [reporter_one]\n",
	})
	hash, err := bcrypt.GenerateFromPassword([]byte("ops-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(web, []byte("basic_auth_users:\n  ops: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var tweets strings.Builder
	for i := 1; i <= 635; i++ {
		author, text := fmt.Sprintf("fict_user_%d", i), "#India now"
		switch {
		case i > 630:
			author = "reporter_one"
		case i > 600:
			text = "a #Quiet one"
		}
		fmt.Fprintf(&tweets, `{"id_str":"%d","text":%q,"user":{"id_str":"%d","screen_name":%q}}`+"\n", i, text, 9000+i, author)
	}
	input := filepath.Join(dir, "tweets.ndjson")
	if err := os.WriteFile(input, []byte(tweets.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	kcatRun("-P", "-t", "tweets", "-l", input)
	// The escalation topic is not one of run's defaults: an operator
	// creates it.
	testkit.CreateTopics(t, addr, kafka.TopicConfig{Topic: "review-escalated", NumPartitions: 2, ReplicationFactor: 1})

	admin := testkit.FreeAddr(t)
	args := append(runArgs(addr, lists, "governed", admin), "--output.escalation_topic", "review-escalated", "--http.web_config_file", web)
	run := start(t, args...)
	testkit.WaitFor(t, 60*time.Second, "every record committed", func() bool { return testkit.CaughtUp(addr, "governed", testkit.InputTopic) })

	type task struct {
		TaskID    string          `json:"task_id"`
		Action    string          `json:"action"`
		Shadow    bool            `json:"shadow"`
		Tripped   bool            `json:"tripped"`
		Exemption json.RawMessage `json:"exemption"`
		Matches   []struct {
			DemandID string `json:"demand_id"`
		} `json:"matches"`
	}
	read := func(topic string) map[string]int {
		n := map[string]int{}
		ids := map[string]bool{}
		for _, line := range scanLines(kcatRun("-C", "-t", topic, "-e", "-q")) {
			var tk task
			if err := json.Unmarshal([]byte(line), &tk); err != nil {
				t.Fatalf("%s: %v: %s", topic, err, line)
			}
			if ids[tk.TaskID] {
				continue // a repeat after a rebalance
			}
			ids[tk.TaskID] = true
			key := tk.Matches[0].DemandID
			if tk.Tripped {
				key += " tripped"
			} else if tk.Shadow {
				key += " shadow"
			}
			if tk.Exemption != nil {
				key += " " + tk.Action
			}
			n[key]++
		}
		return n
	}
	review, shadow, escalated := read("review-tasks"), read("review-shadow"), read("review-escalated")
	if review["FLOOD"] > 50 || review["FLOOD"] < 40 || review["FLOOD"]+shadow["FLOOD tripped"] != 600 || len(review) != 1 {
		t.Errorf("review topic %v, shadow topic %v: want at most 50 FLOOD tasks for review and the rest tripped, 600 in all", review, shadow)
	}
	if shadow["SHADOW shadow"] != 30 {
		t.Errorf("shadow topic %v: want SHADOW's 30 tasks", shadow)
	}
	if escalated["FLOOD escalate"] != 5 || len(escalated) != 1 {
		t.Errorf("escalation topic %v: want the exempt author's 5 tasks, escalated", escalated)
	}

	post := func(path, user, pw string) int {
		req, _ := http.NewRequest("POST", "http://"+admin+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/-/demands/FLOOD/reset", "", ""); code != http.StatusUnauthorized {
		t.Errorf("reset without the password: %d, want 401", code)
	}
	if code := post("/-/demands/FLOOD/reset", "ops", "ops-pw"); code != http.StatusOK {
		t.Errorf("reset with the password: %d, want 200", code)
	}
	stop(t, run)
}
