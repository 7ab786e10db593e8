package pipeline

import (
	"fmt"
	"slices"
	"time"

	"flagstream/matchers"
	"flagstream/pipeline/cases"
	"flagstream/pipeline/decode"
	"flagstream/pipeline/review"
)

// ReasonTooLarge and ReasonPanic are rejection reasons that the pipeline
// itself gives, beside the decoder's.
const (
	ReasonTooLarge decode.Reason = "too_large"
	ReasonPanic    decode.Reason = "panic"
)

// processor decodes, matches and builds the tasks and evidence of batches.
// Each worker owns one; it reuses its buffers across records.
type processor struct {
	dec         decode.Decoder
	match       matchers.Matcher
	lists       func() *matchers.Snapshot
	bindings    func() matchers.Bindings
	now         func() time.Time
	sampleEvery int
	count       int
	// cases makes account hits of scope: user demands evidence.
	cases bool
	// probing records the posts' user ids in the batch, for an Ordered
	// stage; probe is whether the current snapshot needs them.
	probing, probe bool
	// bound is the Bindings of the current batch.
	bound matchers.Bindings
	// viaOnly counts only binding hits in the stats: the ordered stage's
	// processor matches again records whose other hits a worker counted.
	viaOnly bool
	// beforeRecord, when set (by tests), runs before each record is
	// processed, inside its panic guard.
	beforeRecord func(*Record)
	// retro and retroTask mark the evidence and tasks of a retro-hunt job.
	retro     *cases.Retro
	retroTask *review.Retro

	// Per snapshot: the case view of its demands, entries and
	// exemptions.
	snap       *matchers.Snapshot
	demands    []cases.Demand // by demand index; ID "" for demands without cases
	entries    map[uint32]caseEntry
	exemptions []cases.Exemption // by index into the snapshot's Exemptions

	// gov splits a post's task hits by destination.
	gov governor

	// Scratch, per post.
	taskHits []matchers.Hit
	seen     []evidenceKey
	ev       cases.Evidence
}

// caseEntry is what evidence says of an account entry; the strings are made
// once per snapshot and entry.
type caseEntry struct {
	caseID, entry, pinned string
	kind                  cases.EntryKind
}

// evidenceKey identifies one piece of evidence of a post: one per case,
// part and evidence kind.
type evidenceKey struct {
	entry uint32
	in    matchers.Where
	kind  cases.EvidenceKind
}

// probe locates a user id of a record's post in the batch's arena.
type probe struct {
	record     int
	start, end int
}

func newProcessor(cfg Config) *processor {
	p := &processor{
		dec:          decode.Decoder{Limits: cfg.Limits},
		lists:        cfg.Lists,
		bindings:     cfg.Bindings,
		now:          cfg.Now,
		sampleEvery:  cfg.SampleEvery,
		cases:        cfg.Cases,
		probing:      cfg.Ordered != nil,
		beforeRecord: cfg.BeforeRecord,
		gov:          governor{breaker: cfg.Breaker},
	}
	if r := cfg.Retro; r != nil {
		p.retro = &cases.Retro{Job: r.Job, Since: r.Since.UTC(), Until: r.Until.UTC()}
		p.retroTask = review.NewRetro(r.Job, r.Since, r.Until)
	}
	return p
}

// process fills b's outputs, rejections and stats from its records, with
// the snapshot and bindings current when the batch starts.
func (p *processor) process(b *Batch) {
	s := p.lists()
	p.prepare(b, s)
	p.bound = nil
	if p.bindings != nil {
		p.bound = p.bindings()
	}
	now := p.now()
	b.at = now
	for i := range b.Records {
		p.count++
		if p.count%p.sampleEvery == 0 {
			start := time.Now()
			p.record(b, i, s, now)
			b.Stats.Durations = append(b.Stats.Durations, time.Since(start).Seconds())
			continue
		}
		p.record(b, i, s, now)
	}
}

// prepare sets b's snapshot and sizes its match counts, and makes the case
// view of a new snapshot.
func (p *processor) prepare(b *Batch, s *matchers.Snapshot) {
	b.Stats.Snapshot = s
	if s != nil {
		nd := len(s.Demands())
		b.Stats.Matches = resize(b.Stats.Matches, nd*NumHitKinds)
		b.Stats.Shadow = resize(b.Stats.Shadow, nd)
		b.Stats.Diverted = resize(b.Stats.Diverted, nd)
		b.Stats.Exempt = resize(b.Stats.Exempt, nd*len(s.Exemptions()))
	}
	if s == p.snap {
		return
	}
	p.snap, p.entries, p.probe = s, nil, false
	p.demands = p.demands[:0]
	if s == nil || !p.cases {
		return
	}
	// A new slice, not the old one overwritten: evidence of the previous
	// snapshot may still point into it.
	p.exemptions = nil
	for _, e := range s.Exemptions() {
		p.exemptions = append(p.exemptions, cases.Exemption{ID: e.ID, Category: e.Category.String(), Reason: e.Reason})
	}
	for d := range s.Demands() {
		dm := &s.Demands()[d]
		var cd cases.Demand
		if dm.Scope == matchers.ScopeUser {
			cd = cases.FromDemand(dm, s.Version())
			cd.Shadow = dm.Mode == matchers.ModeShadow
			counts := s.Counts(d)
			// Bindings are learned only for the handles of cases.
			p.probe = p.probe || (p.probing && counts[matchers.EntryHandle] > 0)
		}
		p.demands = append(p.demands, cd)
	}
}

// record processes record i of b. A panic while handling it rejects that
// record alone.
func (p *processor) record(b *Batch, i int, s *matchers.Snapshot, now time.Time) {
	mark := b.mark()
	defer func() {
		if v := recover(); v != nil {
			b.takeBack(mark, i, fmt.Sprintf("panic while processing: %v", v))
			p.dec = decode.Decoder{Limits: p.dec.Limits}
			p.match = matchers.Matcher{}
		}
	}()
	r := &b.Records[i]
	if p.beforeRecord != nil {
		p.beforeRecord(r)
	}
	if r.Oversize > 0 {
		b.Rejects = append(b.Rejects, Rejection{Record: i, Reason: ReasonTooLarge,
			Err: fmt.Sprintf("record of %d bytes is larger than the limit", r.Oversize)})
		return
	}
	posts, err := p.dec.Decode(r.Value)
	if err != nil {
		reason := decode.ReasonOf(err)
		if reason == "" {
			reason = decode.ReasonInvalidJSON
		}
		b.Rejects = append(b.Rejects, Rejection{Record: i, Reason: reason, Err: err.Error()})
		return
	}
	b.Stats.Tweets += len(posts)
	if s == nil {
		return
	}
	for pi := range posts {
		post := &posts[pi]
		if p.probe {
			p.addProbes(b, i, post)
		}
		hits := p.match.Match(s, post, p.bound)
		if len(hits) == 0 {
			continue
		}
		for _, h := range hits {
			if !p.viaOnly || h.ViaBinding {
				b.Stats.Matches[s.Demand(h.Entry)*NumHitKinds+int(h.Kind)]++
			}
		}
		if p.cases {
			if hits, err = p.evidence(b, i, s, post, hits, now); err != nil {
				b.takeBack(mark, i, err.Error())
				return
			}
			if len(hits) == 0 {
				continue
			}
		}
		var src review.Source
		if r.Topic != "" {
			src = review.KafkaSource(r.Topic, r.Partition, r.Offset)
		} else {
			src = review.Source{File: r.File, Line: r.Line}
		}
		g := p.gov.split(s, post, hits, now)
		for gr := range numGroups {
			if len(g.hits[gr]) == 0 {
				continue
			}
			if err := p.task(b, i, s, post, src, g.hits[gr], gr, g.exemption[gr], now); err != nil {
				b.takeBack(mark, i, err.Error())
				return
			}
		}
	}
}

// batchMark is how far a batch's outputs, arena and probes reach before a
// record is processed.
type batchMark struct{ outputs, out, probes int }

func (b *Batch) mark() batchMark { return batchMark{len(b.Outputs), len(b.out), len(b.probes)} }

// takeBack removes what record i added to b since mark and rejects it
// (ReasonPanic) with msg.
func (b *Batch) takeBack(mark batchMark, i int, msg string) {
	b.Outputs, b.out, b.probes = b.Outputs[:mark.outputs], b.out[:mark.out], b.probes[:mark.probes]
	b.Rejects = append(b.Rejects, Rejection{Record: i, Reason: ReasonPanic, Err: msg})
}

// task appends to b the review task of post (record i) made of hits, the
// hits of one governance group, its author exempt under exemption (an
// index into s.Exemptions, or -1), and counts it in b's stats.
func (p *processor) task(b *Batch, i int, s *matchers.Snapshot, post *matchers.Post, src review.Source, hits []matchers.Hit, gr group, exemption int, now time.Time) error {
	task := review.Build(s, post, hits, src, now)
	task.Retro = p.retroTask
	dest := ToReview
	switch gr {
	case groupShadow:
		task.Shadow, dest = true, ToShadow
	case groupTripped:
		task.Shadow, task.Tripped, dest = true, true, ToShadow
	}
	if exemption >= 0 {
		task.Escalate(&s.Exemptions()[exemption])
		if gr == groupLive {
			dest = ToEscalation
		}
	}
	start := len(b.out)
	b.out = append(b.out, task.Tweet.ID...)
	keyEnd := len(b.out)
	var err error
	if b.out, err = task.Append(b.out); err != nil {
		return err
	}
	// The task's JSON ends in a newline, which Output leaves out.
	b.Outputs = append(b.Outputs, Output{Record: i, Dest: dest, Demand: -1,
		key: [2]int{start, keyEnd}, value: [2]int{keyEnd, len(b.out) - 1}})
	nd := len(s.Demands())
	for hi := range hits {
		d := s.Demand(hits[hi].Entry)
		if slices.ContainsFunc(hits[:hi], func(h matchers.Hit) bool { return s.Demand(h.Entry) == d }) {
			continue // once per demand
		}
		switch gr {
		case groupShadow:
			b.Stats.Shadow[d]++
		case groupTripped:
			b.Stats.Diverted[d]++
		}
		if exemption >= 0 && s.Exemptions()[exemption].Applies(s.Demands()[d].ID) {
			b.Stats.Exempt[exemption*nd+d]++
		}
	}
	return nil
}

// resize returns s with n zeros.
func resize(s []uint32, n int) []uint32 {
	if cap(s) < n {
		return make([]uint32, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// evidence appends to b, as ToEvidence outputs, the case evidence among the
// hits of post (record i), one per case, part and evidence kind, and
// returns the other hits, which make the review task.
func (p *processor) evidence(b *Batch, i int, s *matchers.Snapshot, post *matchers.Post, hits []matchers.Hit, now time.Time) ([]matchers.Hit, error) {
	p.taskHits, p.seen = p.taskHits[:0], p.seen[:0]
	for hi := range hits {
		h := &hits[hi]
		if !s.CaseEntry(h.Entry) {
			p.taskHits = append(p.taskHits, *h)
			continue
		}
		ev, ok := cases.FromHit(post, h)
		if !ok {
			p.taskHits = append(p.taskHits, *h)
			continue
		}
		key := evidenceKey{h.Entry, h.In, ev.Kind}
		if slices.Contains(p.seen, key) {
			continue
		}
		p.seen = append(p.seen, key)
		c, err := p.caseEntry(s, h.Entry)
		if err != nil {
			return nil, err
		}
		d := s.Demand(h.Entry)
		ev.CaseID, ev.Entry, ev.EntryKind, ev.PinnedUserID = c.caseID, c.entry, c.kind, c.pinned
		ev.Demand = p.demands[d]
		ev.Exemption = p.evidenceExemption(s, &ev, c, d)
		ev.ViaBinding = h.ViaBinding
		ev.SeenAt = now
		ev.Retro = p.retro
		p.ev = ev
		in := cases.Input{Evidence: &p.ev}
		start := len(b.out)
		b.out = append(b.out, c.caseID...)
		keyEnd := len(b.out)
		if b.out, err = in.Append(b.out); err != nil {
			return nil, fmt.Errorf("case evidence: %w", err)
		}
		// The input's JSON ends in a newline, which Output leaves out.
		b.Outputs = append(b.Outputs, Output{Record: i, Dest: ToEvidence, Demand: int32(d),
			key: [2]int{start, keyEnd}, value: [2]int{keyEnd, len(b.out) - 1}})
	}
	return p.taskHits, nil
}

// evidenceExemption returns the exemption of the account of evidence ev,
// of the case of entry c of demand d: the account the post shows (the
// author for a post, the mentioned account for a mention), else the
// listed entry itself (its handle, its user id, or its pinned id); nil
// when it is not exempt from the demand.
func (p *processor) evidenceExemption(s *matchers.Snapshot, ev *cases.Evidence, c caseEntry, d int) *cases.Exemption {
	if len(p.exemptions) == 0 {
		return nil
	}
	account := ev.Author
	if ev.Kind == cases.EvidenceMention {
		account = ev.Mention
	}
	e := s.ExemptionFor([]byte(account.Handle), []byte(account.ID), d)
	if e < 0 {
		handle, id := "", c.pinned
		if c.kind == cases.EntryUserID {
			id = c.entry
		} else {
			handle = c.entry
		}
		e = s.ExemptionFor([]byte(handle), []byte(id), d)
	}
	if e < 0 {
		return nil
	}
	return &p.exemptions[e]
}

// caseEntry returns the case view of account entry e of the current
// snapshot, made at its first evidence.
func (p *processor) caseEntry(s *matchers.Snapshot, e uint32) (caseEntry, error) {
	if c, ok := p.entries[e]; ok {
		return c, nil
	}
	kind, ok := cases.EntryKindOf(s.EntryKind(e))
	if !ok {
		return caseEntry{}, fmt.Errorf("case evidence: entry %q is not an account entry", s.EntryValue(e))
	}
	entry := string(s.EntryValue(e))
	id, err := cases.CaseOf(s.Demands()[s.Demand(e)].ID, kind, entry)
	if err != nil {
		return caseEntry{}, fmt.Errorf("case evidence: %w", err)
	}
	c := caseEntry{caseID: id, entry: entry, pinned: s.PinnedUserID(e), kind: kind}
	if p.entries == nil {
		p.entries = map[uint32]caseEntry{}
	}
	p.entries[e] = c
	return c, nil
}

// addProbes notes the user ids of post's authors and mention entities in
// b, for the ordered stage.
func (p *processor) addProbes(b *Batch, i int, post *matchers.Post) {
	add := func(id []byte) {
		for len(id) > 1 && id[0] == '0' {
			id = id[1:]
		}
		start := len(b.out)
		b.out = append(b.out, id...)
		b.probes = append(b.probes, probe{record: i, start: start, end: len(b.out)})
	}
	for _, part := range post.Parts {
		t := part.Tweet
		if len(t.AuthorID) > 0 {
			add(t.AuthorID)
		}
		for _, m := range t.Mentions {
			if len(m.ID) > 0 {
				add(m.ID)
			}
		}
	}
}

// orderedStage runs Config.Ordered over each batch before the Sink, in
// Seq order (Writers is 1), with a processor of its own to match records
// again with the bindings learned so far.
type orderedStage struct {
	ordered Ordered
	proc    *processor
	scratch Batch
	outs    []Output // a rematched record's outputs, moved into the batch's arena
}

func newOrderedStage(cfg Config) *orderedStage {
	proc := newProcessor(cfg)
	proc.probing, proc.viaOnly, proc.beforeRecord = false, true, nil
	proc.bound = cfg.Ordered
	return &orderedStage{ordered: cfg.Ordered, proc: proc}
}

// run goes through b's records in order: a record with a user id bound
// now is matched again, then its evidence goes to the Ordered, which may
// learn bindings that later records see.
func (o *orderedStage) run(b *Batch) error {
	pi, oi := 0, 0
	for pi < len(b.probes) || oi < len(b.Outputs) {
		r := len(b.Records)
		if pi < len(b.probes) {
			r = b.probes[pi].record
		}
		if oi < len(b.Outputs) {
			r = min(r, b.Outputs[oi].Record)
		}
		again := false
		for ; pi < len(b.probes) && b.probes[pi].record == r; pi++ {
			pr := b.probes[pi]
			again = again || o.ordered.Bound(b.out[pr.start:pr.end])
		}
		if again {
			o.rematch(b, r, oi)
		}
		for ; oi < len(b.Outputs) && b.Outputs[oi].Record == r; oi++ {
			if b.Outputs[oi].Dest == ToEvidence {
				k, v := b.Output(oi)
				if err := o.ordered.Evidence(b, r, k, v); err != nil {
					return fmt.Errorf("case evidence of record %d: %w", r, err)
				}
			}
		}
	}
	return nil
}

// rematch matches record r of b again with the Ordered's bindings and puts
// the outputs in place of r's, which start at outputs index from.
func (o *orderedStage) rematch(b *Batch, r, from int) {
	sb := &o.scratch
	sb.reset()
	sb.Records = b.Records
	s := b.Stats.Snapshot
	o.proc.prepare(sb, s)
	o.proc.record(sb, r, s, b.at)
	sb.Records = nil
	if len(sb.Rejects) > 0 {
		return // the worker's outputs stand
	}
	to := from
	for to < len(b.Outputs) && b.Outputs[to].Record == r {
		to++
	}
	outs := o.outs[:0]
	for i, out := range sb.Outputs {
		k, v := sb.Output(i)
		out.key[0] = len(b.out)
		b.out = append(b.out, k...)
		out.key[1], out.value[0] = len(b.out), len(b.out)
		b.out = append(b.out, v...)
		out.value[1] = len(b.out)
		outs = append(outs, out)
	}
	o.outs = outs
	b.Outputs = slices.Replace(b.Outputs, from, to, outs...)
	for i, n := range sb.Stats.Matches {
		b.Stats.Matches[i] += n
	}
}
