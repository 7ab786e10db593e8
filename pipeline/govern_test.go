package pipeline

import (
	"slices"
	"testing"
	"time"

	"flagstream/internal/lists/liststest"
	"flagstream/matchers"
	"flagstream/pipeline/breaker"
)

// governedLists are a live demand with a breaker of 2 a minute, a live one
// without, a shadow one, and an exemption of @reporter_one from LIVE-BRK
// and SHADOW.
var governedLists = map[string]string{
	"brk.yaml":    "id: LIVE-BRK\njurisdiction: IN\naction: withhold\nhashtags: [Flood]\nmax_tasks_per_minute: 2\n",
	"free.yaml":   "id: LIVE-FREE\njurisdiction: IN\nhashtags: [Calm]\n",
	"shadow.yaml": "id: SHADOW\njurisdiction: DE\nmode: shadow\nhashtags: [Quiet]\n",
	"ex.yaml":     "kind: exemption\nid: EX-PRESS\ncategory: journalist\nreason: Press\napplies_to: [LIVE-BRK, SHADOW]\nhandles: [reporter_one]\n",
}

func governedSnapshot(t testing.TB) *matchers.Snapshot {
	t.Helper()
	return liststest.Snapshot(t, time.Time{}, governedLists)
}

// demandsOf returns the ids of the demands of hits, in order, each once.
func demandsOf(s *matchers.Snapshot, hits []matchers.Hit) []string {
	var ids []string
	for _, h := range hits {
		if id := s.Demands()[s.Demand(h.Entry)].ID; !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// authorPost is a post of one tweet by author saying text.
func authorPost(author, text string) *matchers.Post {
	return &matchers.Post{Parts: []matchers.Part{{Tweet: &matchers.Tweet{ID: []byte("1"), AuthorHandle: []byte(author), Text: []byte(text)}}}}
}

func TestGovernorSplit(t *testing.T) {
	s := governedSnapshot(t)
	b := breaker.New(0, nil)
	b.Update(s)
	g := &governor{breaker: b}
	var m matchers.Matcher
	now := time.Date(2021, 2, 4, 10, 0, 0, 0, time.UTC)
	type want struct {
		live, shadow, tripped    []string
		exemptLive, exemptShadow bool
	}
	for _, tc := range []struct {
		name, author, text string
		want               want
	}{
		{"live only", "someone", "#Calm", want{live: []string{"LIVE-FREE"}}},
		{"shadow apart from live", "someone", "#Calm #Quiet", want{live: []string{"LIVE-FREE"}, shadow: []string{"SHADOW"}}},
		{"breaker: first", "someone", "#Flood #Flood2", want{live: []string{"LIVE-BRK"}}},
		{"breaker: second, with another demand", "someone", "#Flood and #Calm, #FLOOD again", want{live: []string{"LIVE-BRK", "LIVE-FREE"}}},
		{"breaker: third trips, the other demand stays", "someone", "#Calm #Flood", want{live: []string{"LIVE-FREE"}, tripped: []string{"LIVE-BRK"}}},
		{"tripped stays tripped", "someone", "#Flood", want{tripped: []string{"LIVE-BRK"}}},
		{"exempt author: escalated, past the breaker", "Reporter_One", "#Flood #Calm", want{live: []string{"LIVE-BRK", "LIVE-FREE"}, exemptLive: true}},
		{"exempt author, other demand only", "reporter_one", "#Calm", want{live: []string{"LIVE-FREE"}}},
		{"exempt author in shadow", "reporter_one", "#Quiet", want{shadow: []string{"SHADOW"}, exemptShadow: true}},
		{"not the author: a mention", "someone", "@reporter_one #Calm", want{live: []string{"LIVE-FREE"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := authorPost(tc.author, tc.text)
			out := g.split(s, p, m.Match(s, p, nil), now)
			got := want{
				live:         demandsOf(s, out.hits[groupLive]),
				shadow:       demandsOf(s, out.hits[groupShadow]),
				tripped:      demandsOf(s, out.hits[groupTripped]),
				exemptLive:   out.exemption[groupLive] >= 0,
				exemptShadow: out.exemption[groupShadow] >= 0,
			}
			if !slices.Equal(got.live, tc.want.live) || !slices.Equal(got.shadow, tc.want.shadow) || !slices.Equal(got.tripped, tc.want.tripped) ||
				got.exemptLive != tc.want.exemptLive || got.exemptShadow != tc.want.exemptShadow {
				t.Errorf("split = %+v, want %+v", got, tc.want)
			}
		})
	}
	// The breaker counted one task per demand and post: 2 allowed, then
	// the third and fourth diverted; the exempt post was not counted.
	if st, _ := b.State("LIVE-BRK", now); !st.Tripped || st.Diverted != 2 {
		t.Errorf("LIVE-BRK breaker %+v, want tripped with 2 diverted", st)
	}
}

func TestGovernorWithoutBreaker(t *testing.T) {
	s := governedSnapshot(t)
	g := &governor{}
	var m matchers.Matcher
	p := authorPost("x", "#Flood")
	for range 10 {
		if out := g.split(s, p, m.Match(s, p, nil), time.Now()); len(out.hits[groupLive]) != 1 || len(out.hits[groupTripped]) != 0 {
			t.Fatalf("without a breaker: %+v", out)
		}
	}
}

// TestGovern: the split lists test shows is the workers' split without
// the breaker, the exemptions included.
func TestGovern(t *testing.T) {
	s := governedSnapshot(t)
	var m matchers.Matcher
	for _, tc := range []struct {
		author, text     string
		live, shadow     []string
		liveEx, shadowEx bool
	}{
		{"someone", "#Flood #Calm #Quiet", []string{"LIVE-BRK", "LIVE-FREE"}, []string{"SHADOW"}, false, false},
		{"reporter_one", "#Flood #Quiet", []string{"LIVE-BRK"}, []string{"SHADOW"}, true, true},
		{"reporter_one", "#Calm", []string{"LIVE-FREE"}, nil, false, false},
	} {
		p := authorPost(tc.author, tc.text)
		for range 3 { // no breaker: as often as asked
			g := Govern(s, p, m.Match(s, p, nil))
			if live, shadow := demandsOf(s, g.Live), demandsOf(s, g.Shadow); !slices.Equal(live, tc.live) || !slices.Equal(shadow, tc.shadow) ||
				(g.LiveExemption >= 0) != tc.liveEx || (g.ShadowExemption >= 0) != tc.shadowEx {
				t.Errorf("@%s %q: Govern = live %v, shadow %v, exemptions %d and %d; want %v, %v, exempt %v and %v",
					tc.author, tc.text, live, shadow, g.LiveExemption, g.ShadowExemption, tc.live, tc.shadow, tc.liveEx, tc.shadowEx)
			}
		}
	}
}

func BenchmarkGovernorSplit(b *testing.B) {
	s := governedSnapshot(b)
	br := breaker.New(0, nil)
	br.Update(s)
	g := &governor{breaker: br}
	var m matchers.Matcher
	p := authorPost("someone", "#Calm #Quiet")
	hits := slices.Clone(m.Match(s, p, nil))
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		g.split(s, p, hits, now)
	}
}
