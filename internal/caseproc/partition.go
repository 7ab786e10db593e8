package caseproc

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"flagstream/internal/kafkaio"
	"flagstream/pipeline/cases"
)

// partition is the processing of one assigned partition in one
// generation, owned by its goroutine.
type partition struct {
	p    *Processor
	gen  *kafka.Generation
	id   int
	proc *cases.Processor
	dec  cases.InputDecoder

	// committed is the offset last committed; done the offset after the
	// last input whose outputs are written.
	committed, done      int64
	nextTick, nextCommit time.Time

	// Scratch space of a batch.
	out     []kafka.Message
	states  []kafka.Message
	touched map[string]int // case id → index in states
	events  []cases.Event
}

// drainContext returns the context of a partition's writes: it ends
// timeout after genCtx does (a revoke: the batch in hand gets that long to
// finish) or when base does.
func drainContext(genCtx, base context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(base)
	stop := context.AfterFunc(genCtx, func() { time.AfterFunc(timeout, cancel) })
	return ctx, func() {
		stop()
		cancel()
	}
}

// runPartition restores a partition's states, then applies its inputs
// from offset on until the generation ends, and commits what it applied.
// restored is called once the restore is over (or abandoned).
func (p *Processor) runPartition(genCtx context.Context, gen *kafka.Generation, id int, offset int64, restored func()) {
	// A cancelCtx of its own, so that the per-request timeouts do not each
	// watch the generation's context from a goroutine.
	ctx, cancel := context.WithCancel(genCtx)
	defer cancel()
	wctx, cancelWrites := drainContext(ctx, p.base, p.cfg.DrainTimeout)
	defer cancelWrites()
	defer p.setLag(id, -1)
	defer p.setHeld(id, -1)

	part := &partition{
		p: p, gen: gen, id: id,
		proc:    cases.NewProcessor(cases.Config{UpdateInterval: p.cfg.UpdateInterval}),
		touched: map[string]int{},
	}
	err := part.restore(ctx)
	restored()
	if err != nil {
		return // revoked while restoring
	}
	// A negative offset (kafka.FirstOffset) resolves as the read starts;
	// nothing is committed before an input is applied.
	part.committed, part.done = offset, offset
	defer part.commit() // the last commit, in the generation's last moments
	part.nextTick = p.cfg.Now().Add(p.cfg.TickInterval)
	lost := "case processor: evidence removed by the topic's retention before it was applied; going on after it"
	follow(ctx, p.fetcher, id, offset, p.failed, p.cfg.Logger, lost, func(msgs []kafkaio.Message, next, hwm int64) error {
		if len(msgs) > 0 {
			if err := part.apply(wctx, msgs); err != nil {
				return err // abandoned: not committed, applied again by the next owner
			}
			part.done = next
		}
		if now := p.cfg.Now(); !now.Before(part.nextCommit) && part.done > part.committed {
			part.commit()
			part.nextCommit = now.Add(p.cfg.CommitInterval)
		}
		if hwm > 0 {
			p.setLag(id, max(hwm-next, 0))
		}
		if now := p.cfg.Now(); !now.Before(part.nextTick) {
			if err := part.tick(wctx, now); err != nil {
				return err
			}
			part.nextTick = now.Add(p.cfg.TickInterval)
		}
		return nil
	})
}

// follow reads partition id of the fetcher's topic from offset on, as the
// processor and the forwarder do: fn after each fetch, failures counted
// and retried, records removed by retention before they were read logged
// (lost says what they were) and skipped, until ctx ends or fn fails.
func follow(ctx context.Context, f *kafkaio.Fetcher, id int, offset int64, failed func(string, error), log *slog.Logger, lost string,
	fn func(msgs []kafkaio.Message, next, hwm int64) error) {
	f.ReadPartition(ctx, kafkaio.PartitionRead{
		Partition: id, From: offset, Follow: true, Failed: failed,
		Skipped: func(from, to int64, _ error) {
			log.Error(lost, "topic", f.Topic(), "partition", id, "from", from, "to", to)
		},
	}, fn)
}

// restore reads the partition's states from the state topic, from its
// beginning to the end offset found now.
func (part *partition) restore(ctx context.Context) error {
	p := part.p
	m := p.cfg.Metrics
	start := time.Now()
	p.restoring.Add(1)
	m.restoring.Inc()
	defer func() {
		p.restoring.Add(-1)
		m.restoring.Dec()
	}()
	records := 0
	err := kafkaio.ReadPartitions(ctx, p.cfg.Conn, kafkaio.ReadConfig{
		Topic: p.cfg.StateTopic, Partitions: []int{part.id}, MaxWait: p.cfg.MaxWait, MaxBytes: p.cfg.FetchMaxBytes,
		Logger: p.cfg.Logger,
	}, func(msgs []kafkaio.Message) error {
		records += len(msgs)
		m.restored.Add(float64(len(msgs)))
		for _, msg := range msgs {
			if msg.Value == nil {
				continue // flagstream writes no tombstones; someone deleted a case
			}
			s, err := cases.DecodeState(msg.Key, msg.Value)
			if err != nil {
				p.cfg.Metrics.errors.Inc()
				p.cfg.Logger.Error("case processor: skipping an invalid case state", "topic", p.cfg.StateTopic,
					"partition", msg.Partition, "offset", msg.Offset, "err", err)
				continue
			}
			part.proc.Restore(s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	took := time.Since(start)
	m.restoreDone(took)
	p.setHeld(part.id, part.proc.Len())
	p.cfg.Logger.Info("case states restored", "partition", part.id, "cases", part.proc.Len(), "records", records,
		"took", took.Round(time.Millisecond))
	return nil
}

// apply applies a fetched batch of inputs, in order, and writes what they
// make: the events, bindings and dead letters first, then the last state
// of each case touched. It returns an error only when ctx ends first.
func (part *partition) apply(ctx context.Context, msgs []kafkaio.Message) error {
	p := part.p
	m := p.cfg.Metrics
	now := p.cfg.Now()
	part.out, part.states, part.events = part.out[:0], part.states[:0], part.events[:0]
	clear(part.touched)
	type counted struct {
		demand   string
		out      cases.Output
		decision cases.Verdict
	}
	var outcomes []counted
	for i := range msgs {
		msg := &msgs[i]
		in, err := part.dec.Decode(msg.Value)
		if err != nil {
			part.out = append(part.out, p.deadLetter(msg, err))
			continue
		}
		caseID := in.CaseID()
		prev := part.proc.State(caseID)
		next, out, err := part.proc.Apply(in, now)
		if err != nil {
			if in.Decision != nil {
				part.out = append(part.out, p.decisionDeadLetter(in.Decision, err))
			} else {
				part.out = append(part.out, p.deadLetter(msg, err))
			}
			continue
		}
		c := counted{out: out}
		if in.Evidence != nil {
			c.demand = in.Evidence.Demand.ID
			m.lagSeconds.Observe(max(now.Sub(in.Evidence.SeenAt).Seconds(), 0))
		} else if next != nil {
			c.demand, c.decision = next.Demand.ID, in.Decision.Decision.Verdict
		}
		outcomes = append(outcomes, c)
		for j := range out.Events {
			part.out = append(part.out, p.eventMessage(&out.Events[j]))
		}
		part.events = append(part.events, out.Events...)
		if out.Binding != nil {
			if bm, ok := p.bindingMessage(out.Binding); ok {
				part.out = append(part.out, bm)
			}
		}
		if next != nil && next != prev {
			part.setState(next)
		}
	}
	if err := part.write(ctx); err != nil {
		return err
	}
	for i := range outcomes {
		m.applied(outcomes[i].demand, &outcomes[i].out, outcomes[i].decision)
	}
	p.setHeld(part.id, part.proc.Len())
	return nil
}

// tick emits the updates due at now and writes them and their states.
func (part *partition) tick(ctx context.Context, now time.Time) error {
	part.events = part.proc.Tick(now, part.events[:0])
	if len(part.events) == 0 {
		return nil
	}
	part.out, part.states = part.out[:0], part.states[:0]
	clear(part.touched)
	for i := range part.events {
		part.out = append(part.out, part.p.eventMessage(&part.events[i]))
		part.setState(part.proc.State(part.events[i].CaseID))
	}
	return part.write(ctx)
}

// setState notes s as the state of its case to write, replacing an earlier
// one of the batch.
func (part *partition) setState(s *cases.State) {
	v, err := s.Append(nil)
	if err != nil {
		// Apply only makes states that encode; a time beyond year 9999
		// would be refused as invalid evidence first.
		part.p.cfg.Logger.Error("case processor: a case state does not encode; not written", "case_id", s.CaseID, "err", err)
		return
	}
	msg := kafka.Message{Topic: part.p.cfg.StateTopic, Partition: part.id, Key: []byte(s.CaseID),
		Value: bytes.TrimSuffix(v, []byte("\n")), Headers: schemaHeader(cases.StateSchemaID)}
	if i, ok := part.touched[s.CaseID]; ok {
		part.states[i] = msg
		return
	}
	part.touched[s.CaseID] = len(part.states)
	part.states = append(part.states, msg)
}

// write writes the batch's outputs and waits for them, then its states.
func (part *partition) write(ctx context.Context) error {
	if err := part.p.producer.Write(ctx, part.out...); err != nil {
		return err
	}
	part.p.cfg.Metrics.emitted(part.events)
	return part.p.producer.Write(ctx, part.states...)
}

// commit commits the offset after the last input written, retrying
// briefly; a commit that fails is made again after the next batch, and
// what it would have covered is otherwise applied again by the next owner.
func (part *partition) commit() {
	if part.done <= part.committed {
		return
	}
	offsets := map[string]map[int]int64{part.p.cfg.EvidenceTopic: {part.id: part.done}}
	var err error
	for attempt := range 3 {
		if err = part.gen.CommitOffsets(offsets); err == nil {
			part.committed = part.done
			return
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	part.p.failed(fmt.Sprintf("commit partition %d", part.id), err)
}

func schemaHeader(schema string) []kafka.Header {
	return []kafka.Header{{Key: kafkaio.HeaderSchema, Value: []byte(schema)}}
}

// eventMessage returns the record of a case event on the topic it goes to:
// the shadow topic for a shadow-mode demand and for one whose breaker has
// tripped (marking the event), the escalation topic (when set) for an
// exempt account, else the cases topic.
func (p *Processor) eventMessage(e *cases.Event) kafka.Message {
	if !e.Shadow && p.cfg.CountEvent != nil && p.cfg.CountEvent(e.DemandID) {
		e.Tripped = true
	}
	topic := p.cfg.CasesTopic
	switch {
	case e.Shadow || e.Tripped:
		topic = p.cfg.ShadowTopic
	case e.Exemption != nil && p.cfg.EscalationTopic != "":
		topic = p.cfg.EscalationTopic
	}
	v, err := e.Append(nil)
	if err != nil {
		// Events point into states that encoded (setState); this is a
		// bug, and the event is not worth losing the batch over.
		p.cfg.Logger.Error("case processor: a case event does not encode", "case_id", e.CaseID, "err", err)
	}
	return kafka.Message{Topic: topic, Key: []byte(e.CaseID), Value: bytes.TrimSuffix(v, []byte("\n")),
		Headers: schemaHeader(cases.CaseSchemaID)}
}

// bindingMessage returns the record of a binding for the bindings topic.
func (p *Processor) bindingMessage(b *cases.Binding) (kafka.Message, bool) {
	key, err := b.Key()
	if err == nil {
		var v []byte
		if v, err = b.Append(nil); err == nil {
			return kafka.Message{Topic: p.cfg.BindingsTopic, Key: []byte(key), Value: bytes.TrimSuffix(v, []byte("\n")),
				Headers: schemaHeader(cases.BindingSchemaID)}, true
		}
	}
	p.cfg.Logger.Error("case processor: a binding does not encode; not published", "handle", b.Handle, "err", err)
	return kafka.Message{}, false
}

// deadLetter returns the dead-letter record of an input of the evidence
// topic that was refused (deadLetterOf).
func (p *Processor) deadLetter(msg *kafkaio.Message, err error) kafka.Message {
	p.cfg.Metrics.refused.WithLabelValues(string(reasonOf(err))).Inc()
	return deadLetterOf(p.cfg.DeadLetterTopic, p.cfg.EvidenceTopic, msg, err)
}

// deadLetterOf returns the dead-letter record, on topic, of msg, read from
// source and refused with err: its bytes and headers, with why and where
// from.
func deadLetterOf(topic, source string, msg *kafkaio.Message, err error) kafka.Message {
	headers := append([]kafka.Header{}, msg.Headers...)
	headers = kafkaio.DeadLetterHeaders(headers, string(reasonOf(err)), err.Error(), source, int32(msg.Partition), msg.Offset, msg.Time)
	return kafka.Message{Topic: topic, Key: msg.Key, Value: msg.Value, Headers: headers}
}

// decisionDeadLetter returns the dead-letter record of a forwarded decision
// the processor refused (for a case that does not exist): the decision as
// the review tool wrote it, with where it was read on the decisions topic.
func (p *Processor) decisionDeadLetter(fd *cases.ForwardedDecision, err error) kafka.Message {
	p.cfg.Metrics.refused.WithLabelValues(string(reasonOf(err))).Inc()
	headers := kafkaio.DeadLetterHeaders(nil, string(reasonOf(err)), err.Error(), fd.Source.Topic, fd.Source.Partition, fd.Source.Offset, time.Time{})
	return kafka.Message{Topic: p.cfg.DeadLetterTopic, Key: []byte(fd.Decision.CaseID), Value: fd.Raw, Headers: headers}
}

// reasonOf returns the reason class of a refusal, invalid_case_input for
// anything pipeline/cases does not classify.
func reasonOf(err error) cases.Reason {
	if r := cases.ReasonOf(err); r != "" {
		return r
	}
	return cases.ReasonInvalidInput
}
