package demo

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"flagstream/internal/dev/synth"
	"flagstream/internal/kafkaio"
	"flagstream/pipeline/cases"
)

// accountTruth counts what the traffic says of each listed account of a
// scope: user demand: what its case must count at least. Safe for
// concurrent use.
type accountTruth struct {
	handles map[string]bool // the listed handles of scope: user demands
	posts   atomic.Int64    // records naming one of them

	mu     sync.Mutex
	counts map[string]*trueCounts // by handle as listed
}

// trueCounts are the evidence of one listed account in the traffic.
type trueCounts struct {
	posts, mentions int64
	// typed are mentions without an entity, which a case counts only
	// while no other account holds the handle; renamed posts count once
	// flagstream has bound the handle (the demo binds early, but does not
	// require them); takenOver are another account's posts.
	typed, renamed, takenOver int64
}

func (t *accountTruth) note(a synth.AccountPost) {
	if !t.handles[a.Handle] {
		return
	}
	t.posts.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.counts[strings.ToLower(a.Handle)]
	if c == nil {
		c = &trueCounts{}
		t.counts[strings.ToLower(a.Handle)] = c
	}
	switch {
	case a.TakenOver:
		c.takenOver++
	case a.Renamed:
		c.renamed++
	case a.Mention && a.UserID == "":
		c.typed++
	case a.Mention:
		c.mentions++
	default:
		c.posts++
	}
}

// named returns how many listed accounts the traffic named (not only
// through another account holding their handle).
func (t *accountTruth) named() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.counts {
		if c.posts+c.mentions+c.typed+c.renamed > 0 {
			n++
		}
	}
	return n
}

// want returns the counts the case of handle must show at least.
func (c *trueCounts) want() (posts, mentions int64) {
	if c.takenOver > 0 {
		return c.posts, c.mentions
	}
	return c.posts, c.mentions + c.typed
}

// settled reports whether every listed account named has a case whose last
// event counts its evidence.
func (t *accountTruth) settled(cs map[string][]cases.Event) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for h, c := range t.counts {
		posts, mentions := c.want()
		if posts+mentions == 0 {
			continue
		}
		es := cs["@"+h]
		if len(es) == 0 {
			return false
		}
		last := es[len(es)-1]
		if last.Evidence.Posts < posts || last.Evidence.Mentions < mentions {
			return false
		}
	}
	return true
}

// readCases reads the case events of topic, by entry key ("@handle" in
// lowercase), in order. The demo has one scope: user demand per account.
func readCases(ctx context.Context, addr, topic string) map[string][]cases.Event {
	out := map[string][]cases.Event{}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	kafkaio.ReadPartitions(ctx, kafkaio.Connection{Brokers: []string{addr}, DialTimeout: 5 * time.Second},
		kafkaio.ReadConfig{Topic: topic, MaxWait: 100 * time.Millisecond}, func(msgs []kafkaio.Message) error {
			for _, m := range msgs {
				e, err := cases.ParseEvent(m.Value)
				if err != nil {
					continue
				}
				key, err := cases.EntryKey(e.EntryKind, e.Entry)
				if err != nil {
					continue
				}
				out[key] = append(out[key], e)
			}
			return nil
		})
	return out
}

// printCases prints one line per case, the listed account it is about and
// what happened to it, and checks the cases against the traffic: ok when
// every named account has one case opened once counting at least its
// evidence; renamed when the renamed account's case shows its new handle;
// reassigned when the taken-over handle's case names its new holder.
func printCases(out io.Writer, cs map[string][]cases.Event, truth *accountTruth, cfg synth.Config) (ok, renamed, reassigned bool) {
	keys := make([]string, 0, len(cs))
	for k := range cs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(out, "  %d cases:\n", len(keys))
	for _, k := range keys {
		es := cs[k]
		last := es[len(es)-1]
		a := last.Account
		line := fmt.Sprintf("    case %s %s %-17s %-7s %4d posts %4d mentions  account %s (%s)", last.CaseID[:8], last.DemandID, last.Entry,
			last.Status, last.Evidence.Posts, last.Evidence.Mentions, a.UserID, a.Binding)
		if len(a.HandlesSeen) > 1 {
			line += "  handles " + strings.Join(a.HandlesSeen, ", ")
		}
		if a.HandleNowHeldBy != nil {
			line += "  handle now held by " + *a.HandleNowHeldBy
		}
		fmt.Fprintln(out, line)
	}
	ok = true
	truth.mu.Lock()
	defer truth.mu.Unlock()
	for h, c := range truth.counts {
		posts, mentions := c.want()
		if posts+mentions+c.renamed == 0 {
			continue
		}
		es := cs["@"+h]
		opened := 0
		for _, e := range es {
			if e.Event == cases.EventOpened {
				opened++
			}
		}
		if opened != 1 {
			fmt.Fprintf(out, "  MISMATCH: @%s has %d opened cases, want 1\n", h, opened)
			ok = false
			continue
		}
		last := es[len(es)-1]
		if last.Evidence.Posts < posts || last.Evidence.Mentions < mentions {
			fmt.Fprintf(out, "  MISMATCH: the case of @%s counts %d posts and %d mentions, fewer than the %d and %d in the traffic\n",
				h, last.Evidence.Posts, last.Evidence.Mentions, posts, mentions)
			ok = false
		}
	}
	if r := cfg.Rename; r.Handle != "" {
		renamed, reassigned = changesShown(cs, cfg)
		switch {
		case renamed:
			fmt.Fprintf(out, "  @%s renamed itself @%s: its case followed it by its user id\n", r.Handle, r.To)
		default:
			fmt.Fprintf(out, "  the rename of @%s does not show in its case (yet)\n", r.Handle)
		}
		switch {
		case reassigned:
			fmt.Fprintf(out, "  @%s was taken over by account %s: its case says so (reassigned) and counts none of that account's posts\n",
				cfg.Takeover.Handle, synth.TakeoverUserID(cfg.Takeover.Handle))
		default:
			fmt.Fprintf(out, "  the takeover of @%s does not show in its case (yet)\n", cfg.Takeover.Handle)
		}
	}
	return ok, renamed, reassigned
}

// changesShown reports whether the renamed account's case shows its new
// handle, and whether the taken-over handle's case has a reassigned event
// naming its new holder.
func changesShown(cs map[string][]cases.Event, cfg synth.Config) (renamed, reassigned bool) {
	if es := cs["@"+strings.ToLower(cfg.Rename.Handle)]; len(es) > 0 {
		renamed = slices.Contains(es[len(es)-1].Account.HandlesSeen, cfg.Rename.To)
	}
	for _, e := range cs["@"+strings.ToLower(cfg.Takeover.Handle)] {
		if e.Event == cases.EventReassigned && e.Account.HandleNowHeldBy != nil &&
			*e.Account.HandleNowHeldBy == synth.TakeoverUserID(cfg.Takeover.Handle) {
			reassigned = true
		}
	}
	return renamed, reassigned
}
