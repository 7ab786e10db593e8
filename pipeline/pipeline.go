// Package pipeline is flagstream's stream engine: it fetches batches of
// records from a Source, decodes and matches them on parallel workers,
// hands the outputs (review tasks and case evidence, each with its
// Destination) and rejected records to a Sink, and commits each batch back
// to the Source only when it and every batch before it are written.
// Batches flow through a fixed number of slots, so a slow sink stops
// fetching instead of growing a queue or dropping work.
//
//	Source.Fetch ─► workers (decode, match, build tasks and evidence) ─► [Ordered] ─► Sink.Write (in order) ─► Source.Commit (in order)
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"flagstream/matchers"
	"flagstream/pipeline/cases"
	"flagstream/pipeline/decode"
)

// Record is one input record: a Kafka message or an NDJSON line.
type Record struct {
	Value []byte
	// Kafka key, headers, position and timestamp; zero for files.
	Key       []byte
	Headers   []Header
	Topic     string
	Partition int32
	Offset    int64
	Time      time.Time
	// File position; zero for Kafka.
	File string
	Line int64
	// Oversize, when not zero, is the size of a record larger than the
	// limit: it is rejected unread. Value holds its bytes when the source
	// had to read them anyway (Kafka), else it is empty and Spill may name
	// a file that holds them (files).
	Oversize int64
	Spill    string
}

// Header is a Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Destination is where an output of a batch goes; the sink maps each to a topic.
type Destination uint8

// The destinations.
const (
	ToReview     Destination = iota // output.topic: review tasks
	ToShadow                        // output.shadow_topic: shadow-mode and tripped demands' tasks
	ToEscalation                    // output.escalation_topic (when set; else ToReview)
	ToEvidence                      // cases.evidence_topic: case inputs, key = case_id

	numDestinations = 4
)

var destinationNames = [numDestinations]string{"review", "shadow", "escalation", "evidence"}

// String returns the destination's name.
func (d Destination) String() string {
	if int(d) < len(destinationNames) {
		return destinationNames[d]
	}
	return "unknown"
}

// Destinations lists every destination in order.
func Destinations() []Destination { return []Destination{ToReview, ToShadow, ToEscalation, ToEvidence} }

// Output is one record a batch produces, ready to write to its
// destination: a review task (key the tweet id, value the task's JSON) or,
// to ToEvidence, a case input (key the case id, value cases.Input's JSON).
// Key and value (without a newline) are in the batch: see Batch.Output.
// Outputs come in record order.
type Output struct {
	Record int // index in Batch.Records
	Dest   Destination
	// Demand is, for evidence, the index of its demand in the batch's
	// snapshot (Stats.Snapshot.Demands()); -1 for a task, which may
	// name several.
	Demand     int32
	key, value [2]int
}

// Output returns the key and value of output i. They point into the
// batch.
func (b *Batch) Output(i int) (key, value []byte) {
	t := &b.Outputs[i]
	return b.out[t.key[0]:t.key[1]], b.out[t.value[0]:t.value[1]]
}

// Count returns the number of outputs to d.
func (b *Batch) Count(d Destination) int {
	n := 0
	for i := range b.Outputs {
		if b.Outputs[i].Dest == d {
			n++
		}
	}
	return n
}

// Rejection is a record that could not be processed.
type Rejection struct {
	Record int
	Reason decode.Reason
	Err    string
}

// Batch is a unit of work: records fetched together, processed by one
// worker, written and committed together. Batches are reused; nothing may
// keep a reference into one after the Sink's Write and the Source's Commit
// return.
type Batch struct {
	// Seq numbers batches in fetch order from 0.
	Seq     uint64
	Records []Record
	// Data is the Source's arena for record values.
	Data []byte

	Outputs []Output
	Rejects []Rejection
	// Stats of processing, turned into metrics once the batch is written.
	Stats BatchStats

	out []byte // outputs' arena: keys, values, probes
	// at is when the batch was processed: the tasks' created_at and the
	// evidence's seen_at.
	at time.Time
	// probes are the user ids of the batch's posts, for Config.Ordered.
	probes []probe
	// processed is closed when a worker is done with the batch, written
	// when the Sink is; err is the Sink's result.
	processed, written chan struct{}
	err                error
}

// BatchStats counts what processing a batch produced.
type BatchStats struct {
	Tweets   int // posts decoded and matched
	Snapshot *matchers.Snapshot
	// Matches counts hits per demand (index in Snapshot.Demands) and kind:
	// Matches[d*NumHitKinds+k].
	Matches   []uint32
	Durations []float64 // sampled per-record processing times, seconds
	// Governance, per demand: Shadow counts the tasks of shadow-mode
	// demands, Diverted the tasks of tripped demands (both to the shadow
	// topic); Exempt counts escalated tasks by exemption and demand:
	// Exempt[e*len(Demands)+d]. A task naming several demands counts for
	// each.
	Shadow, Diverted, Exempt []uint32
}

// NumHitKinds is the number of hit kinds, the stride of BatchStats.Matches.
var NumHitKinds = len(matchers.HitKinds())

func (b *Batch) reset() {
	b.Records, b.Data, b.Outputs, b.Rejects, b.out = b.Records[:0], b.Data[:0], b.Outputs[:0], b.Rejects[:0], b.out[:0]
	b.probes, b.at = b.probes[:0], time.Time{}
	b.Stats.Tweets, b.Stats.Snapshot = 0, nil
	b.Stats.Matches, b.Stats.Durations = b.Stats.Matches[:0], b.Stats.Durations[:0]
	b.Stats.Shadow, b.Stats.Diverted, b.Stats.Exempt = b.Stats.Shadow[:0], b.Stats.Diverted[:0], b.Stats.Exempt[:0]
	b.err = nil
}

// Source supplies records and takes back commits.
type Source interface {
	// Fetch fills b.Records (and may use b.Data for their bytes) with the
	// next records, at least one. It returns io.EOF when the input is
	// exhausted and ctx.Err() when ctx is done.
	Fetch(ctx context.Context, b *Batch) error
	// Commit records that b and every batch before it are fully written.
	// It is called once per batch, in Seq order.
	Commit(ctx context.Context, b *Batch) error
}

// Sink writes a batch's outputs and rejected records.
type Sink interface {
	// Write returns once every output and rejection of b is durably
	// written (for Kafka: acknowledged by the broker). Batches arrive in
	// Seq order when Config.Writers is 1.
	Write(ctx context.Context, b *Batch) error
}

// Ordered is a stage that takes the case evidence of every record in input
// order, on the write stage, just before the Sink: the in-memory case
// processor of `scan`. It holds the bindings learned from the evidence so
// far. Before a record's evidence is handed to Evidence, the pipeline
// matches the record again with the Ordered as Bindings when a user id of
// its posts is Bound, and the new outputs replace the record's; so a
// binding learned from an earlier record applies to every later one,
// whatever the number of workers. Only one goroutine calls it at a time.
type Ordered interface {
	matchers.Bindings
	// Bound reports whether userID (digits without leading zeros) is
	// bound to a listed handle.
	Bound(userID []byte) bool
	// Evidence takes one evidence output (key, value as Batch.Output
	// gives them) of record r of b.
	Evidence(b *Batch, r int, key, value []byte) error
}

// Config sets up a pipeline run.
type Config struct {
	Source Source
	Sink   Sink
	// Lists returns the snapshot to match with; it is called once per
	// batch, so a reload takes effect at the next batch.
	Lists func() *matchers.Snapshot
	// Cases, when true, makes every hit of an account entry of a
	// `scope: user` demand case evidence (a ToEvidence output, one per
	// case, part of the post and evidence kind) instead of part of a
	// review task; a post whose hits are all evidence makes no task. When
	// false (cases.topic ""), such hits make tasks like any other.
	Cases bool
	// Bindings, when set, returns the handle bindings to match with
	// (matchers.Bindings; nil for none); it is called once per batch.
	Bindings func() matchers.Bindings
	// Ordered, when set, takes the evidence in input order (see Ordered);
	// it needs Cases, and forces Writers to 1.
	Ordered Ordered
	// Retro, when set, marks every review task and case evidence as found
	// by this retro-hunt job in retained input (the tasks' "retro" field);
	// it changes no task or case id.
	Retro *cases.Retro
	// Breaker, when set, is the demands' circuit breaker: each live task
	// asks it once per demand it names (pipeline/breaker.Breaker).
	Breaker Breaker
	// Workers is the number of processing goroutines; default GOMAXPROCS.
	Workers int
	// Slots is the number of batches in flight; it bounds memory. Default
	// 4 per worker.
	Slots int
	// Writers is the number of batches the Sink may write at once; 1
	// (the default) keeps output in input order.
	Writers int
	// DrainTimeout bounds how long, once ctx is done, in-flight batches
	// may take to be written and committed. Default 30s.
	DrainTimeout time.Duration
	// Limits bound each record; a zero field takes decode's default.
	Limits  decode.Limits
	Metrics *Metrics
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// SampleEvery sets how often processing is timed for
	// flagstream_process_duration_seconds: one record in SampleEvery.
	// Default 64.
	SampleEvery int

	// BeforeRecord, when set, runs before each record is processed, inside
	// the record's panic guard. Fault-injection tests use it; a panic there
	// rejects the record like any panic while processing it.
	BeforeRecord func(*Record)
}

// ErrDrainTimeout is returned when in-flight work could not be written and
// committed within Config.DrainTimeout after a stop.
var ErrDrainTimeout = errors.New("pipeline: drain timed out; uncommitted records will be delivered again")

// Run moves records from Source to Sink until the source is exhausted (for
// files), ctx is done, or a stage fails. When ctx is done it stops
// fetching, finishes the batches in flight, writes and commits them, and
// returns nil; records fetched but not committed are delivered again by
// the source after a restart.
func Run(ctx context.Context, cfg Config) error {
	cfg.defaults()
	free := make(chan *Batch, cfg.Slots)
	for range cfg.Slots {
		free <- &Batch{}
	}
	work := make(chan *Batch, cfg.Slots)
	ordered := make(chan *Batch, cfg.Slots)
	toCommit := make(chan *Batch, cfg.Slots)

	// Once ctx is done, in-flight batches get DrainTimeout to be written
	// and committed; stages use drainCtx, which outlives ctx by that much.
	drainCtx, cancelDrain := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelDrain()
	var drainTimer *time.Timer
	var timerMu sync.Mutex
	stop := context.AfterFunc(ctx, func() {
		timerMu.Lock()
		drainTimer = time.AfterFunc(cfg.DrainTimeout, cancelDrain)
		timerMu.Unlock()
	})
	defer func() {
		stop()
		timerMu.Lock()
		if drainTimer != nil {
			drainTimer.Stop()
		}
		timerMu.Unlock()
	}()

	g, gctx := errgroup.WithContext(drainCtx)
	// The fetcher owns taking free batches and filling them.
	g.Go(func() error {
		defer close(work)
		defer close(ordered)
		var seq uint64
		for {
			var b *Batch
			select {
			case b = <-free:
			case <-ctx.Done():
				return nil
			case <-gctx.Done():
				return nil
			}
			b.reset()
			err := cfg.Source.Fetch(ctx, b)
			if len(b.Records) > 0 {
				b.Seq = seq
				seq++
				b.processed, b.written = make(chan struct{}), make(chan struct{})
				work <- b // never blocks: the channels hold every batch
				ordered <- b
			} else {
				free <- b
			}
			switch {
			case err == nil:
			case errors.Is(err, io.EOF), ctx.Err() != nil:
				return nil
			default:
				return fmt.Errorf("fetch: %w", err)
			}
		}
	})
	var inOrder *orderedStage
	if cfg.Ordered != nil {
		inOrder = newOrderedStage(cfg)
	}
	// Workers own the processing of the batches they take from work.
	for range cfg.Workers {
		g.Go(func() error {
			p := newProcessor(cfg)
			for b := range work {
				p.process(b)
				close(b.processed)
			}
			return nil
		})
	}
	// The write stage takes batches in order once processed and writes up
	// to Writers of them at once; its write goroutines end before it does.
	g.Go(func() error {
		var wg sync.WaitGroup
		defer wg.Wait()
		defer close(toCommit)
		slots := make(chan struct{}, cfg.Writers)
		for b := range ordered {
			select {
			case <-b.processed:
			case <-gctx.Done():
				return nil
			}
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if inOrder != nil {
					b.err = inOrder.run(b)
				}
				if b.err == nil {
					b.err = cfg.Sink.Write(gctx, b)
				}
				<-slots
				close(b.written)
			}()
			toCommit <- b
		}
		return nil
	})
	// The committer commits batches in order once written, records their
	// metrics and recycles them.
	g.Go(func() error {
		for b := range toCommit {
			select {
			case <-b.written:
			case <-gctx.Done():
				return drainError(drainCtx, ctx)
			}
			if b.err != nil {
				if gctx.Err() != nil {
					return drainError(drainCtx, ctx)
				}
				return fmt.Errorf("write: %w", b.err)
			}
			if err := cfg.Source.Commit(gctx, b); err != nil {
				if gctx.Err() != nil {
					return drainError(drainCtx, ctx)
				}
				return fmt.Errorf("commit: %w", err)
			}
			cfg.Metrics.observeBatch(b, cfg.Now())
			free <- b
		}
		return nil
	})
	return g.Wait()
}

func drainError(drainCtx, ctx context.Context) error {
	if ctx.Err() != nil && drainCtx.Err() != nil {
		return ErrDrainTimeout
	}
	return nil
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Slots <= 0 {
		c.Slots = 4 * c.Workers
	}
	if c.Slots < c.Workers+2 {
		c.Slots = c.Workers + 2
	}
	if c.Writers <= 0 || c.Ordered != nil {
		c.Writers = 1
	}
	if c.Ordered != nil {
		c.Cases = true
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SampleEvery <= 0 {
		c.SampleEvery = 64
	}
}
