package cases_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"flagstream/pipeline/cases"
)

// sampleStates are states with every field used somewhere, as scenarios
// make them.
func sampleStates(t testing.TB) []*cases.State {
	t.Helper()
	press := &cases.Exemption{ID: "EX-IN-PRESS", Category: "journalist", Reason: "press"}
	e := handleEvidence(t, meity)
	var states []*cases.State
	var s *cases.State
	for i, in := range []cases.Input{
		e.pinned("1234567890").input(), // reassigned first: not opened
		e.by("1234567890", "kisan_new").viaBinding().exempt(press).input(),
		e.by("1234567890", "kisan_new").tweet("2", t0).input(), // pending
		decision(e.CaseID, cases.VerdictWithhold, "IN", "AT"),
		decision(e.CaseID, cases.VerdictReopen),
	} {
		next, _, err := cases.Apply(s, in, t0.Add(time.Duration(i)*time.Second), cfg)
		if err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
		s = next
		states = append(states, s)
	}
	u, _, err := cases.Apply(nil, evidence(t, netzdg, cases.EntryUserID, "1234567890").mention("kisan", "1234567890").input(), t0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return append(states, u)
}

func TestStateRoundTrip(t *testing.T) {
	for i, s := range sampleStates(t) {
		b, err := s.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte(`{"schema":"flagstream.case_state/v1",`)) || !bytes.HasSuffix(b, []byte("}\n")) {
			t.Errorf("state %d: %s", i, b)
		}
		back, err := cases.DecodeState([]byte(s.CaseID), b)
		if err != nil {
			t.Fatalf("state %d: DecodeState: %v\n%s", i, err, b)
		}
		if !reflect.DeepEqual(back, s) {
			t.Errorf("state %d: decoded\n%+v\nwant\n%+v", i, back, s)
		}
		// A restored state goes on as the original does.
		in := handleEvidence(t, meity).by("1234567890", "kisan_new").tweet("99", t0).input()
		if s.EntryKind == cases.EntryUserID {
			in = evidence(t, netzdg, cases.EntryUserID, "1234567890").input()
		}
		now := t0.Add(5 * time.Minute)
		n1, o1, err1 := cases.Apply(s, in, now, cfg)
		n2, o2, err2 := cases.Apply(back, in, now, cfg)
		if err1 != nil || err2 != nil {
			t.Fatalf("state %d: Apply: %v, %v", i, err1, err2)
		}
		l1, l2 := checkEvents(t, o1.Events), checkEvents(t, o2.Events)
		s1, _ := n1.Append(nil)
		s2, _ := n2.Append(nil)
		if !bytes.Equal(l1, l2) || !bytes.Equal(s1, s2) {
			t.Errorf("state %d: the restored state goes on otherwise:\n%s%s\n%s%s", i, l1, s1, l2, s2)
		}
	}
}

func TestDecodeStateRefuses(t *testing.T) {
	states := sampleStates(t)
	good, _ := states[2].Append(nil)
	decided, _ := states[3].Append(nil)
	edit := func(doc []byte, old, new string) string {
		if !bytes.Contains(doc, []byte(old)) {
			t.Fatalf("%q is not in %s", old, doc)
		}
		return strings.Replace(string(doc), old, new, 1)
	}
	for _, tc := range []struct{ name, key, record string }{
		{"not JSON", "", "state"},
		{"wrong schema", "", edit(good, "case_state/v1", "case_state/v0")},
		{"key of another case", "00000000000000000000000000000000", string(good)},
		{"case id of another entry", "", edit(good, `"entry":"@Kisan_Ekta"`, `"entry":"@Kisan"`)},
		{"unknown status", "", edit(good, `"status":"open"`, `"status":"closed"`)},
		{"decided without decision", "", edit(good, `"status":"open"`, `"status":"decided"`)},
		{"open with a withhold", "", edit(decided, `"status":"decided"`, `"status":"open"`)},
		{"decision malformed", "", edit(decided, `"reviewer":"reviewer-7"`, `"reviewer":""`)},
		{"unknown binding", "", edit(good, `"binding":"pinned"`, `"binding":"guessed"`)},
		{"bound without a user id", "", edit(good, `"user_id":"1234567890"`, `"user_id":""`)},
		{"user id with leading zeros", "", edit(good, `"user_id":"1234567890"`, `"user_id":"01234567890"`)},
		{"held by the account itself", "", edit(good, `"handle_now_held_by":"1111"`, `"handle_now_held_by":"1234567890"`)},
		{"negative counts", "", edit(good, `"posts":2`, `"posts":-2`)},
		{"counts but not opened", "", edit(good, `"opened_at":"2026-01-02T03:04:06Z",`, ``)},
		{"last seen before first", "", edit(good, `"first_seen":"2026-01-02T02:04:05Z"`, `"first_seen":"2026-01-03T02:04:05Z"`)},
		{"update pending on a decided case", "", edit(decided, `"update_pending":false`, `"update_pending":true`)},
		{"too many samples", "", edit(good, `"sample_tweet_ids":[`, `"sample_tweet_ids":["a","b","c","d","e","f","g","h","i","j",`)},
		{"demand without id", "", edit(good, `"id":"IN-MEITY-2021-02-04"`, `"id":""`)},
		{"exemption unknown category", "", edit(good, `"category":"journalist"`, `"category":"friend"`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var key []byte
			if tc.key != "" {
				key = []byte(tc.key)
			}
			if _, err := cases.DecodeState(key, []byte(tc.record)); cases.ReasonOf(err) != cases.ReasonInvalidState {
				t.Errorf("DecodeState: %v, want reason invalid_case_state", err)
			}
		})
	}
	var m map[string]any
	if err := json.Unmarshal(good, &m); err != nil {
		t.Fatal(err)
	}
	m["later_field"] = true
	added, _ := json.Marshal(m)
	if _, err := cases.DecodeState(nil, added); err != nil {
		t.Errorf("a field a later version added: %v", err)
	}
}

func FuzzDecodeState(f *testing.F) {
	for _, s := range sampleStates(f) {
		b, err := s.Append(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := cases.DecodeState(nil, data)
		if err != nil {
			if cases.ReasonOf(err) != cases.ReasonInvalidState {
				t.Fatalf("error without reason invalid_case_state: %v", err)
			}
			return
		}
		b, err := s.Append(nil)
		if err != nil {
			t.Fatalf("Append of a decoded state: %v", err)
		}
		if want := marshalState(t, s); !bytes.Equal(b, want) {
			t.Fatalf("Append wrote\n%s\nencoding/json writes\n%s", b, want)
		}
		back, err := cases.DecodeState(nil, b)
		if err != nil {
			t.Fatalf("a decoded state, appended, does not decode: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip:\n%+v\n%+v", back, s)
		}
		// A state that decodes goes on: Tick and Flush make valid
		// events from it.
		for _, f := range []func() (*cases.State, []cases.Event){
			func() (*cases.State, []cases.Event) { return cases.Tick(s, t0.Add(time.Hour), cfg) },
			func() (*cases.State, []cases.Event) { return cases.Flush(s, t0) },
		} {
			next, events := f()
			checkEvents(t, events)
			if err := next.Validate(); err != nil {
				t.Fatalf("state after a flush: %v", err)
			}
		}
	})
}

// marshalState is what encoding/json writes of a state record.
func marshalState(t testing.TB, s *cases.State) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Schema string `json:"schema"`
		*cases.State
	}{cases.StateSchemaID, s}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestStateAppendIsEncodingJSON(t *testing.T) {
	for i, s := range sampleStates(t) {
		got, err := s.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := marshalState(t, s); !bytes.Equal(got, want) {
			t.Errorf("state %d: Append wrote\n%s\nencoding/json writes\n%s", i, got, want)
		}
	}
}

func TestStateAppendAllocatesNothing(t *testing.T) {
	s := sampleStates(t)[3]
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = s.Append(buf[:0]); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("State.Append allocates %v times", n)
	}
}
