package pipeline

import (
	"time"

	"flagstream/matchers"
)

// Breaker is the demands' circuit breaker as the workers ask it
// (pipeline/breaker.Breaker): Allow counts one task of the demand with id,
// emitted at now, and reports whether it may go to reviewers. It must be
// safe for concurrent use.
type Breaker interface {
	Allow(demandID string, now time.Time) bool
}

// governor splits the task hits of a post by where their task goes, per
// the demands' governance (DESIGN.md, "Demand governance"):
//
//   - hits of shadow-mode demands make a shadow task (ToShadow, "shadow");
//   - when the post's author is exempt from a demand among the other hits,
//     those make one escalated task (ToEscalation: the exemption, action
//     escalate, priority critical), whatever the breaker says: an exempt
//     account's matches always reach humans;
//   - otherwise each demand among them asks the breaker, once per task;
//     the hits of a tripped demand make a tripped task (ToShadow,
//     "shadow" and "tripped"), the rest the live task (ToReview).
//
// A shadow task is escalated too when the author is exempt from one of its
// demands, so that the shadow topic shows what reviewers would get. Each
// worker owns one governor; it reuses its buffers.
type governor struct {
	breaker Breaker

	groups [numGroups][]matchers.Hit
	asked  []demandAnswer // the breaker's answers for the current post
}

// group is one of the tasks a post may make.
type group uint8

const (
	groupLive group = iota
	groupShadow
	groupTripped
	numGroups
)

type demandAnswer struct {
	demand  int
	allowed bool
}

// governed is the split of one post's task hits: the hits of each group
// (empty when the group makes no task) and, for the live and shadow
// groups, the index of the author's exemption (into Snapshot.Exemptions),
// or -1.
type governed struct {
	hits      [numGroups][]matchers.Hit
	exemption [numGroups]int
}

// Governance is how the pipeline's governance splits the task hits of a
// post, leaving out the circuit breaker (whose answer depends on the
// traffic): the hits of live demands, which make the task for reviewers,
// and those of shadow-mode demands, which make the shadow task; and, for
// each, the index (into Snapshot.Exemptions) of the author's exemption
// that escalates it, or -1.
type Governance struct {
	Live, Shadow                   []matchers.Hit
	LiveExemption, ShadowExemption int
}

// Govern returns the governance of post's task hits against s, as the
// workers split them (lists test shows it).
func Govern(s *matchers.Snapshot, post *matchers.Post, hits []matchers.Hit) Governance {
	var g governor // no breaker
	out := g.split(s, post, hits, time.Time{})
	return Governance{
		Live: out.hits[groupLive], Shadow: out.hits[groupShadow],
		LiveExemption: out.exemption[groupLive], ShadowExemption: out.exemption[groupShadow],
	}
}

// split splits hits, the task hits of post against s, at now. The result
// points into g's buffers until the next call.
func (g *governor) split(s *matchers.Snapshot, post *matchers.Post, hits []matchers.Hit, now time.Time) governed {
	for i := range g.groups {
		g.groups[i] = g.groups[i][:0]
	}
	var out governed
	for i := range out.exemption {
		out.exemption[i] = -1
	}
	demands := s.Demands()
	for _, h := range hits {
		gr := groupLive
		if demands[s.Demand(h.Entry)].Mode == matchers.ModeShadow {
			gr = groupShadow
		}
		g.groups[gr] = append(g.groups[gr], h)
	}
	author := post.Main()
	exemption := func(hits []matchers.Hit) int {
		best := -1
		if len(s.Exemptions()) == 0 {
			return best
		}
		prev := -1 // a post's hits of one demand mostly come together: asked once
		for _, h := range hits {
			d := s.Demand(h.Entry)
			if d == prev {
				continue
			}
			prev = d
			if e := s.ExemptionFor(author.AuthorHandle, author.AuthorID, d); e >= 0 && (best < 0 || e < best) {
				best = e
			}
		}
		return best
	}
	out.exemption[groupShadow] = exemption(g.groups[groupShadow])
	out.exemption[groupLive] = exemption(g.groups[groupLive])
	if out.exemption[groupLive] < 0 && g.breaker != nil && len(g.groups[groupLive]) > 0 {
		g.asked = g.asked[:0]
		live := g.groups[groupLive][:0]
		for _, h := range g.groups[groupLive] {
			if g.allowed(demands, s.Demand(h.Entry), now) {
				live = append(live, h)
			} else {
				g.groups[groupTripped] = append(g.groups[groupTripped], h)
			}
		}
		g.groups[groupLive] = live
	}
	out.hits = g.groups
	return out
}

// allowed asks the breaker about demand d, once per post.
func (g *governor) allowed(demands []matchers.Demand, d int, now time.Time) bool {
	for _, a := range g.asked {
		if a.demand == d {
			return a.allowed
		}
	}
	ok := g.breaker.Allow(demands[d].ID, now)
	g.asked = append(g.asked, demandAnswer{demand: d, allowed: ok})
	return ok
}
