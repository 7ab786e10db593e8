package pipeline

import (
	"fmt"
	"time"

	"flagstream/matchers"
	"flagstream/pipeline/decode"
	"flagstream/pipeline/review"
)

// ReasonTooLarge and ReasonPanic are rejection reasons that the pipeline
// itself gives, beside the decoder's.
const (
	ReasonTooLarge decode.Reason = "too_large"
	ReasonPanic    decode.Reason = "panic"
)

// processor decodes, matches and builds the tasks of batches. Each worker
// owns one; it reuses its buffers across records.
type processor struct {
	dec         decode.Decoder
	match       matchers.Matcher
	lists       func() *matchers.Snapshot
	now         func() time.Time
	sampleEvery int
	count       int
	// beforeRecord, when set (by tests), runs before each record is
	// processed, inside its panic guard.
	beforeRecord func(*Record)
}

func newProcessor(cfg Config) *processor {
	return &processor{
		dec:          decode.Decoder{Limits: cfg.Limits},
		lists:        cfg.Lists,
		now:          cfg.Now,
		sampleEvery:  cfg.SampleEvery,
		beforeRecord: cfg.BeforeRecord,
	}
}

// process fills b's tasks, rejections and stats from its records, with the
// snapshot current when the batch starts.
func (p *processor) process(b *Batch) {
	s := p.lists()
	b.Stats.Snapshot = s
	if s != nil {
		n := len(s.Demands()) * NumHitKinds
		if cap(b.Stats.Matches) < n {
			b.Stats.Matches = make([]uint32, n)
		}
		b.Stats.Matches = b.Stats.Matches[:n]
		clear(b.Stats.Matches)
	}
	now := p.now()
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

// record processes record i of b. A panic while handling it rejects that
// record alone.
func (p *processor) record(b *Batch, i int, s *matchers.Snapshot, now time.Time) {
	tasks, out := len(b.Tasks), len(b.out)
	defer func() {
		if v := recover(); v != nil {
			b.Tasks, b.out = b.Tasks[:tasks], b.out[:out]
			b.Rejects = append(b.Rejects, Rejection{Record: i, Reason: ReasonPanic, Err: fmt.Sprintf("panic while processing: %v", v)})
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
		hits := p.match.Match(s, post, nil)
		if len(hits) == 0 {
			continue
		}
		for _, h := range hits {
			b.Stats.Matches[s.Demand(h.Entry)*NumHitKinds+int(h.Kind)]++
		}
		var src review.Source
		if r.Topic != "" {
			src = review.KafkaSource(r.Topic, r.Partition, r.Offset)
		} else {
			src = review.Source{File: r.File, Line: r.Line}
		}
		task := review.Build(s, post, hits, src, now)
		start := len(b.out)
		b.out = append(b.out, task.Tweet.ID...)
		keyEnd := len(b.out)
		var err error
		if b.out, err = task.Append(b.out); err != nil {
			b.Tasks, b.out = b.Tasks[:tasks], b.out[:out]
			b.Rejects = append(b.Rejects, Rejection{Record: i, Reason: ReasonPanic, Err: err.Error()})
			return
		}
		// The task's JSON ends in a newline, which Output leaves out.
		b.Tasks = append(b.Tasks, Output{Record: i, key: [2]int{start, keyEnd}, value: [2]int{keyEnd, len(b.out) - 1}})
	}
}
