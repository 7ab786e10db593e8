package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"flagstream/internal/files"
	"flagstream/matchers"
	"flagstream/pipeline"
	"flagstream/pipeline/breaker"
)

// ScanOptions configure an offline scan.
type ScanOptions struct {
	// Lists are the demands to match, as LoadLists returns them.
	Lists *matchers.Snapshot
	// Inputs are the NDJSON files to read, in order; "-" (or none at all)
	// is Stdin.
	Inputs []string
	Stdin  io.Reader
	// Tasks receives one review task per flagged tweet, in input order.
	Tasks io.Writer
	// RejectsPath, when set, is created and receives every rejected line
	// as it was.
	RejectsPath string
	// OnReject, when set, is called for every rejected line.
	OnReject func(r *pipeline.Record, rej pipeline.Rejection)
	// MaxRecordBytes is the longest line accepted; a longer one is
	// rejected without being held in memory.
	MaxRecordBytes int
	// Cases, when set, receives every case event (flagstream.review_case/v1)
	// as an NDJSON line, in the order they happen. Account matches of
	// scope: user demands are case evidence, not tasks, whether Cases is
	// set or not (ScanCounts.Cases counts them); NoCases makes them tasks,
	// as run does with cases.topic "".
	Cases   io.Writer
	NoCases bool
	// UpdateInterval is cases.update_interval: at most one `updated` per
	// case per interval of the posts' time; pending updates are emitted
	// at the end.
	UpdateInterval time.Duration
	// OnCaseRefused, when set, is called for evidence the case processor
	// refuses.
	OnCaseRefused func(r *pipeline.Record, err error)
	// Shadow, when set, receives the tasks and case events of shadow-mode
	// and tripped demands (run's output.shadow_topic); else they go with
	// the others, marked "shadow" (and "tripped"). Escalation, when set,
	// receives the escalated tasks and case events of exempt accounts
	// (run's output.escalation_topic); else they go with the others,
	// marked with their exemption. Both may be the same writer.
	Shadow, Escalation io.Writer
	// DemandTasksPerMinute is the default circuit breaker of a demand
	// (limits.demand_tasks_per_minute; a demand's max_tasks_per_minute
	// wins), counted on the scan's wall clock; 0 is none.
	DemandTasksPerMinute int
	// Engine tunes the matching; Writers and Slots are ignored: tasks are
	// written in input order, two batches a worker in flight.
	Engine Engine
}

// Scan is one offline scan of NDJSON tweets into NDJSON review tasks; it
// is flagstream scan without the command line.
type Scan struct {
	opts ScanOptions
	src  *files.LineSource
}

// ScanCounts are what a scan read and wrote.
type ScanCounts struct {
	files.Counts
	// BytesRead counts the input bytes.
	BytesRead int64
	// Cases are the counts of the case processor; zero with NoCases.
	Cases CaseCounts
}

// NewScan returns a scan of opts; nothing is opened until Run.
func NewScan(opts ScanOptions) *Scan {
	return &Scan{
		opts: opts,
		src:  &files.LineSource{Inputs: files.OpenInputs(opts.Inputs, opts.Stdin), MaxRecordBytes: opts.MaxRecordBytes},
	}
}

// BytesRead returns the input bytes read so far; it may be called while
// Run runs, for a progress report.
func (s *Scan) BytesRead() int64 { return s.src.BytesRead.Load() }

// Run reads every input through the pipeline and returns the counts, also
// when it fails: a line that cannot be processed is rejected and counted,
// and only an I/O failure (an input, the tasks, the rejects file) or ctx
// ending stops it early.
func (s *Scan) Run(ctx context.Context) (ScanCounts, error) {
	defer s.src.Close()
	var rejects io.Writer
	if s.opts.RejectsPath != "" {
		f, err := os.Create(s.opts.RejectsPath)
		if err != nil {
			return ScanCounts{}, fmt.Errorf("rejects: %w", err)
		}
		defer f.Close()
		rejects = f
		// A line too long to hold in memory is spilled to a file, so that
		// it can still be copied to the rejects file.
		spill, err := os.MkdirTemp("", "flagstream-spill-")
		if err != nil {
			return ScanCounts{}, err
		}
		defer os.RemoveAll(spill)
		s.src.SpillDir = spill
	}
	sink := files.NewNDJSONSink(s.opts.Tasks, rejects, s.opts.OnReject)
	// The sink buffers and flushes its writers itself, the case
	// processor its own; both write on the write stage, one after the
	// other, flushing each time.
	if s.opts.Shadow != nil {
		sink.SetWriter(pipeline.ToShadow, s.opts.Shadow)
	}
	if s.opts.Escalation != nil {
		sink.SetWriter(pipeline.ToEscalation, s.opts.Escalation)
	}
	shadow, escalation := writerOf(s.opts.Shadow), writerOf(s.opts.Escalation)
	if s.opts.Escalation == s.opts.Shadow {
		escalation = shadow // one buffer for one writer
	}
	engine := s.opts.Engine
	// A file fills a batch much faster than a worker matches it, so two
	// batches a worker keep the workers busy; the pipeline's default of
	// four was arenas to fault in, for nothing: 200,000 tweets took 6%
	// less CPU with four slots than with eight, 1,000,000 the same.
	engine.Writers, engine.Slots = 0, 2*engine.workers()
	lists := s.opts.Lists
	pc := engine.Pipeline(s.src, sink, func() *matchers.Snapshot { return lists }, nil)
	fuse := scanBreaker(lists, s.opts.DemandTasksPerMinute)
	if fuse != nil {
		pc.Breaker = fuse
	}
	var caseProc *scanCases
	if !s.opts.NoCases {
		// The case processor takes the evidence in input order and
		// learns the bindings that later lines are matched with.
		caseProc = newScanCases(s.opts.Cases, s.opts.UpdateInterval, s.opts.OnCaseRefused)
		caseProc.shadow, caseProc.escalation = shadow, escalation
		if fuse != nil {
			caseProc.breaker = fuse
		}
		pc.Ordered = caseProc
	}
	err := pipeline.Run(ctx, pc)
	counts := ScanCounts{Counts: sink.Counts(), BytesRead: s.BytesRead()}
	if caseProc != nil {
		var cerr error
		counts.Cases, cerr = caseProc.finish()
		err = errors.Join(err, cerr)
	}
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return counts, err
}

// writerOf returns a buffered writer of w, nil for none.
func writerOf(w io.Writer) *bufio.Writer {
	if w == nil {
		return nil
	}
	return bufio.NewWriterSize(w, 64<<10)
}

// scanBreaker returns the circuit breaker of scan's demands, nil when none
// of them has one.
func scanBreaker(s *matchers.Snapshot, defaultLimit int) *breaker.Breaker {
	if s == nil {
		return nil
	}
	for i := range s.Demands() {
		if s.Demands()[i].TaskLimit(defaultLimit) > 0 {
			b := breaker.New(defaultLimit, nil)
			b.Update(s)
			return b
		}
	}
	return nil
}
