package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/valyala/fastjson"
)

// ListedDemand is a demand of the lists directory, so that the report shows
// how many accounts it names and shows it even when nothing names it.
type ListedDemand struct {
	ID            string
	Authority     string
	Jurisdictions []string
	LegalBasis    string
	Reference     string
	// AccountEntries is the number of account entries of the demand: its
	// handles, user ids and pinned accounts, one per case it can open.
	AccountEntries int
}

// Options say what to report.
type Options struct {
	// Demands are the listed demands (nil when the lists are not known).
	Demands []ListedDemand
	// Only restricts the report to these demand ids; empty reports every
	// demand.
	Only []string
	// Since and Until bound the items' times (since <= t < until); zero is
	// open.
	Since, Until time.Time
	// AsOf ignores decisions and case events dated at or after it; zero
	// means Until (and, when that is zero too, nothing is ignored).
	AsOf time.Time
	// Now is the report's generation time; zero is the current time.
	Now time.Time
	// MaxProblems is how many bad records the report lists (all are
	// counted); 0 means 100.
	MaxProblems int
}

// Input is what the report reads. A nil stream is empty. The decisions
// are read first, to their end, then the cases and the tasks, whatever
// order their records arrived in. Cases and Tasks may each hold both
// kinds of record (the shadow topic and scan's --shadow file hold a shadow
// demand's tasks and case events together): a record counts by its
// schema.
type Input struct {
	Cases     Records
	Tasks     Records
	Decisions Records
}

// Build reads the input and returns the report. Bad records are counted
// in the report's Inputs; an error means a stream could not be read (or
// ctx ended), and then there is no report.
func Build(ctx context.Context, in Input, opt Options) (*Report, error) {
	b := newBuilder(opt)
	if err := b.readDecisions(ctx, in.Decisions); err != nil {
		return nil, err
	}
	items := &itemReader{b: b}
	if err := items.read(ctx, in.Cases, false); err != nil {
		return nil, err
	}
	if err := items.read(ctx, in.Tasks, true); err != nil {
		return nil, err
	}
	b.countCases()
	return b.report(), nil
}

// decisionRef is one decision about an item, with what orders it among the
// item's others.
type decisionRef struct {
	at        int64 // decided_at, Unix nanoseconds
	stream    bool  // from the decisions stream (wins over a case event on equal times)
	seq       int64 // read order within its stream
	outcome   outcome
	countries []string
}

// later says that d replaces o as the latest decision.
func (d *decisionRef) later(o *decisionRef) bool {
	if o == nil {
		return true
	}
	if d.at != o.at {
		return d.at > o.at
	}
	if d.stream != o.stream {
		return d.stream
	}
	return d.seq > o.seq
}

// taskDecision is the latest decision on a task id while the decisions
// are read.
type taskDecision struct {
	at      int64 // decided_at
	seq     int64 // read order, to break ties of decided_at
	outcome outcome
}

// taskState is what the report keeps of a task id once the decisions are
// read, in one byte: the outcome of its latest decision, and flags. One map
// holds it, so a task costs one lookup and at most one store, and a
// million task ids about 30 MB.
type taskState uint8

const (
	taskOutcome taskState = 0b0000_0111 // the outcome, when taskDecided
	taskDecided taskState = 0b0000_1000
	taskUsed    taskState = 0b0001_0000 // a task read has the id (its decision is not unmatched)
	taskCounted taskState = 0b0010_0000 // a copy of the task was counted (later copies are repeats)
)

type caseDecision struct {
	decisionRef
	used bool
}

// caseState is what the report keeps of one case while reading.
type caseState struct {
	demandID   string
	demand     *demandAgg // nil when the filter leaves the demand out
	opened     int64      // earliest opened event, when hasOpened
	hasOpened  bool
	first      int64 // earliest event of any kind
	latestAt   int64 // latest event, by updated_at then read order
	latestSeq  int64
	class      Class
	exempt     bool
	posts      int64
	mentions   int64
	juris      []string
	reassigned bool
	decision   *decisionRef // latest decision of its events
}

// demandAgg accumulates one demand's columns.
type demandAgg struct {
	info      Demand
	specified *int64
	counts    [len(Classes)]counter
	lastTask  uint64 // the task that counted here last, so a task counts once
}

// counter accumulates one class of a demand (or of the totals).
type counter struct {
	accounts  Accounts
	countries map[string]int64
	tasks     Tasks
	kinds     [len(matchKinds)]int64
	other     map[string]int64
}

type builder struct {
	opt         Options
	since       int64 // Unix nanoseconds; math.MinInt64 when open
	until       int64 // math.MaxInt64 when open
	asOf        int64 // math.MaxInt64 when open
	maxProblems int

	demands map[string]*demandAgg
	only    map[string]bool // nil: every demand

	caseDecisions map[string]*caseDecision
	taskDecisions map[taskKey]taskDecision // while reading decisions
	tasks         map[taskKey]taskState    // then
	cases         map[string]*caseState
	tasksRead     uint64

	totals [len(Classes)]counter
	days   map[int64]*Day

	in Inputs
}

func newBuilder(opt Options) *builder {
	b := &builder{
		opt:           opt,
		since:         math.MinInt64,
		until:         math.MaxInt64,
		asOf:          math.MaxInt64,
		maxProblems:   opt.MaxProblems,
		demands:       make(map[string]*demandAgg),
		caseDecisions: make(map[string]*caseDecision),
		taskDecisions: make(map[taskKey]taskDecision),
		cases:         make(map[string]*caseState),
		days:          make(map[int64]*Day),
	}
	if b.maxProblems == 0 {
		b.maxProblems = 100
	}
	if !opt.Since.IsZero() {
		b.since = opt.Since.UnixNano()
	}
	if !opt.Until.IsZero() {
		b.until = opt.Until.UnixNano()
		b.asOf = b.until
	}
	if !opt.AsOf.IsZero() {
		b.asOf = opt.AsOf.UnixNano()
	}
	if len(opt.Only) > 0 {
		b.only = make(map[string]bool, len(opt.Only))
		for _, id := range opt.Only {
			b.only[id] = true
		}
	}
	for _, ld := range opt.Demands {
		if b.only != nil && !b.only[ld.ID] {
			continue
		}
		n := int64(ld.AccountEntries)
		b.demands[ld.ID] = &demandAgg{
			info: Demand{
				ID: ld.ID, Authority: ld.Authority, Jurisdictions: slices.Clone(ld.Jurisdictions),
				LegalBasis: ld.LegalBasis, Reference: ld.Reference, Listed: true,
			},
			specified: &n,
		}
	}
	for _, id := range opt.Only {
		if b.demands[id] == nil {
			b.demands[id] = &demandAgg{info: Demand{ID: id}}
		}
	}
	return b
}

// demand returns the aggregate of a demand seen before or listed, nil
// for one not seen yet or left out by the filter.
func (b *builder) demand(id string) *demandAgg { return b.demands[id] }

// newDemand adds an unlisted demand, whose details come from the first
// record that names it. Only without a filter: with one, every demand
// reported is there from the start.
func (b *builder) newDemand(info Demand) *demandAgg {
	d := &demandAgg{info: info}
	b.demands[info.ID] = d
	return d
}

// matchDemand returns the aggregate of a task match's demand, nil when
// the filter leaves it out.
func (b *builder) matchDemand(m *fastjson.Value) *demandAgg {
	id := m.GetStringBytes("demand_id")
	if d := b.demands[string(id)]; d != nil || b.only != nil {
		return d
	}
	return b.newDemand(matchDetails(m))
}

func (b *builder) inPeriod(t int64) bool { return t >= b.since && t < b.until }

func (b *builder) problem(r Record, err error) {
	if len(b.in.Problems) < b.maxProblems {
		b.in.Problems = append(b.in.Problems, Problem{Stream: r.Stream, Index: r.Index, Reason: err.Error()})
	}
}

// each calls f for every record of rs, checking ctx now and then.
func each(ctx context.Context, rs Records, f func(Record)) error {
	if rs == nil {
		return nil
	}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		r, err := rs.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		f(r)
	}
}

// readDecisions reads every decision, then keeps of the tasks' only
// their latest outcomes.
func (b *builder) readDecisions(ctx context.Context, rs Records) error {
	defer func() {
		b.tasks = make(map[taskKey]taskState, len(b.taskDecisions))
		for k, d := range b.taskDecisions {
			b.tasks[k] = taskDecided | taskState(d.outcome)
		}
		b.taskDecisions = nil
	}()
	var (
		seq    int64
		parser fastjson.Parser
	)
	in := &b.in.Decisions
	return each(ctx, rs, func(r Record) {
		in.Records++
		seq++
		err := r.Err
		if err == nil {
			var p decision
			if p, err = parseDecision(&parser, r.Value); err == nil {
				b.addDecision(&p, seq)
			}
		}
		if err != nil {
			in.Bad++
			b.problem(r, err)
		}
	})
}

func (b *builder) addDecision(p *decision, seq int64) {
	if p.at >= b.asOf {
		b.in.Decisions.Late++
		return
	}
	if p.caseID != "" {
		ref := decisionRef{at: p.at, stream: true, seq: seq, outcome: p.outcome, countries: p.countries}
		if old := b.caseDecisions[p.caseID]; old == nil {
			b.caseDecisions[p.caseID] = &caseDecision{decisionRef: ref}
		} else if ref.later(&old.decisionRef) {
			old.decisionRef = ref
		}
		return
	}
	old, ok := b.taskDecisions[p.taskKey]
	if !ok || p.at > old.at || p.at == old.at && seq > old.seq {
		b.taskDecisions[p.taskKey] = taskDecision{at: p.at, seq: seq, outcome: p.outcome}
	}
}

// itemReader reads case events and tasks. The cases and tasks streams may
// each hold both (the shadow topic, and scan's --shadow file, do): a record
// counts by its schema, and one of neither counts as bad in the stream's
// own kind.
type itemReader struct {
	b        *builder
	parser   fastjson.Parser
	seq      int64 // read order of case events, over both streams
	demands  []*demandAgg
	perMatch []*demandAgg
}

func (ir *itemReader) read(ctx context.Context, rs Records, tasksStream bool) error {
	b := ir.b
	return each(ctx, rs, func(r Record) {
		isTask, err := tasksStream, r.Err
		if err == nil {
			isTask, err = ir.add(r.Value, tasksStream)
		}
		records, bad := &b.in.Cases.Records, &b.in.Cases.Bad
		if isTask {
			records, bad = &b.in.Tasks.Records, &b.in.Tasks.Bad
		}
		*records++
		if err != nil {
			*bad++
			b.problem(r, err)
		}
	})
}

// add reads one record of the cases stream or the tasks stream, and says
// whether it counts as a task (by its schema, else by its stream).
func (ir *itemReader) add(value []byte, tasksStream bool) (isTask bool, err error) {
	b := ir.b
	want, what := caseSchema, "case event"
	if tasksStream {
		want, what = taskSchema, "review task"
	}
	v, err := parseObject(&ir.parser, value, what)
	if err != nil {
		return tasksStream, err
	}
	switch string(v.GetStringBytes("schema")) {
	case taskSchema:
		t, err := parseTask(v)
		if err == nil {
			ir.demands, ir.perMatch = b.addTask(&t, ir.demands[:0], ir.perMatch[:0])
		}
		return true, err
	case caseSchema:
		ir.seq++
		e, err := parseCase(v)
		if err == nil {
			err = b.addCase(&e, ir.seq)
		}
		return false, err
	case decisionSchema:
		return tasksStream, errors.New("schema: a decision belongs in the decisions stream")
	}
	return tasksStream, checkSchema(v, want)
}

func (b *builder) addCase(p *caseEvent, seq int64) error {
	if p.at >= b.asOf {
		b.in.Cases.Late++
		return nil
	}
	c := b.cases[p.CaseID]
	if c == nil {
		d := b.demand(p.DemandID)
		if d == nil && b.only == nil {
			d = b.newDemand(Demand{ID: p.DemandID, Authority: p.Authority, Jurisdictions: p.Jurisdictions, LegalBasis: p.LegalBasis, Reference: p.Reference})
		}
		c = &caseState{demandID: p.DemandID, demand: d, first: p.at, latestAt: math.MinInt64}
		b.cases[p.CaseID] = c
	} else if p.DemandID != c.demandID {
		return fmt.Errorf("demand_id: %q differs from the demand of this case's earlier events", p.DemandID)
	}
	c.first = min(c.first, p.at)
	if p.Event == "opened" && (!c.hasOpened || p.at < c.opened) {
		c.opened, c.hasOpened = p.at, true
	}
	c.reassigned = c.reassigned || p.reassigned
	if p.at > c.latestAt || p.at == c.latestAt && seq > c.latestSeq {
		c.latestAt, c.latestSeq = p.at, seq
		c.class, c.exempt = p.class, p.exempt
		c.posts, c.mentions = p.posts, p.mentions
		c.juris = p.Jurisdictions
	}
	if p.decision != nil {
		p.decision.seq = seq
		if p.decision.later(c.decision) {
			c.decision = p.decision
		}
	}
	return nil
}

// countCases adds every case read to its demand's columns.
func (b *builder) countCases() {
	in := &b.in.Cases
	for id, c := range b.cases {
		in.Cases++
		if !c.hasOpened {
			in.NotOpened++
		}
		dec := c.decision
		if sd := b.caseDecisions[id]; sd != nil {
			sd.used = true
			if sd.later(dec) {
				dec = &sd.decisionRef
			}
		}
		t := c.opened
		if !c.hasOpened {
			t = c.first
		}
		if c.demand == nil || !b.inPeriod(t) {
			continue
		}
		in.Reported++
		o := pending
		var countries []string
		if dec != nil {
			o, countries = dec.outcome, dec.countries
		}
		if len(countries) == 0 {
			countries = c.juris
		}
		if len(countries) == 0 {
			countries = c.demand.info.Jurisdictions
		}
		for _, k := range [...]*counter{&c.demand.counts[c.class], &b.totals[c.class]} {
			a := &k.accounts
			a.Seen++
			switch o {
			case withheld:
				a.Withheld++
				if k.countries == nil {
					k.countries = make(map[string]int64)
				}
				for _, cc := range countries {
					k.countries[cc]++
				}
			case noAction:
				a.NoAction++
			case termsOfService:
				a.TermsOfService++
			case escalated:
				a.Escalated++
			default:
				a.Pending++
			}
			if c.reassigned {
				a.Reassigned++
			}
			if c.exempt {
				a.Exempted++
			}
			a.EvidencePosts += c.posts
			a.EvidenceMentions += c.mentions
		}
		b.day(t).CasesOpened.add(c.class, 1)
	}
}

func (b *builder) day(t int64) *Day {
	n := floorDiv(t, int64(24*time.Hour))
	d := b.days[n]
	if d == nil {
		d = &Day{Date: time.Unix(0, n*int64(24*time.Hour)).UTC().Format(time.DateOnly)}
		b.days[n] = d
	}
	return d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// addTask counts a task. demands and perMatch are scratch space,
// returned for reuse: the task's distinct demands, and each match's.
func (b *builder) addTask(t *parsedTask, demands, perMatch []*demandAgg) ([]*demandAgg, []*demandAgg) {
	st := b.tasks[t.key]
	if st&taskDecided != 0 && st&taskUsed == 0 {
		st |= taskUsed
		b.tasks[t.key] = st
	}
	b.tasksRead++
	mark := b.tasksRead
	for _, m := range t.matches {
		d := b.matchDemand(m)
		perMatch = append(perMatch, d)
		if d != nil && d.lastTask != mark {
			d.lastTask = mark
			demands = append(demands, d)
		}
	}
	if len(demands) == 0 {
		return demands, perMatch
	}
	if st&taskCounted != 0 {
		b.in.Tasks.Repeats++
		return demands, perMatch
	}
	b.tasks[t.key] = st | taskCounted
	if !b.inPeriod(t.at) {
		return demands, perMatch
	}
	b.in.Tasks.Reported++
	o := pending
	if st&taskDecided != 0 {
		o = outcome(st & taskOutcome)
	}
	countTask(&b.totals[t.class], o, t.exempt)
	for _, d := range demands {
		countTask(&d.counts[t.class], o, t.exempt)
	}
	for i, m := range t.matches {
		if d := perMatch[i]; d != nil {
			kind := m.GetStringBytes("kind")
			d.counts[t.class].addKind(kind)
			b.totals[t.class].addKind(kind)
		}
	}
	b.day(t.at).Tasks.add(t.class, 1)
	return demands, perMatch
}

func countTask(k *counter, o outcome, exempt bool) {
	ts := &k.tasks
	ts.Emitted++
	switch o {
	case withheld:
		ts.Withheld++
	case noAction:
		ts.NoAction++
	case termsOfService:
		ts.TermsOfService++
	case escalated:
		ts.Escalated++
	default:
		ts.Pending++
	}
	if exempt {
		ts.Exempted++
	}
}

func (k *counter) addKind(kind []byte) {
	for i, mk := range matchKinds {
		if string(kind) == mk {
			k.kinds[i]++
			return
		}
	}
	if k.other == nil {
		k.other = make(map[string]int64)
	}
	k.other[string(kind)]++
}

func (k *counter) counts() Counts {
	c := Counts{Accounts: k.accounts, Tasks: k.tasks, Matches: make(map[string]int64, len(matchKinds)+len(k.other))}
	c.Accounts.WithheldCountries = maps.Clone(k.countries)
	if c.Accounts.WithheldCountries == nil {
		c.Accounts.WithheldCountries = map[string]int64{}
	}
	for i, mk := range matchKinds {
		c.Matches[mk] = k.kinds[i]
	}
	maps.Copy(c.Matches, k.other)
	return c
}

func (b *builder) report() *Report {
	for _, d := range b.caseDecisions {
		if !d.used {
			b.in.Decisions.Unmatched++
		}
	}
	for _, st := range b.tasks {
		if st&taskDecided != 0 && st&taskUsed == 0 {
			b.in.Decisions.Unmatched++
		}
	}
	now := b.opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	r := &Report{
		Schema:      SchemaID,
		GeneratedAt: now.UTC(),
		Period:      Period{Demands: slices.Sorted(maps.Keys(b.only))},
		Inputs:      b.in,
	}
	if r.Period.Demands == nil {
		r.Period.Demands = []string{}
	}
	if r.Inputs.Problems == nil {
		r.Inputs.Problems = []Problem{}
	}
	r.Period.Since = timePtr(b.opt.Since)
	r.Period.Until = timePtr(b.opt.Until)
	if b.asOf != math.MaxInt64 {
		t := time.Unix(0, b.asOf).UTC()
		r.Period.AsOf = &t
	}
	for _, id := range slices.Sorted(maps.Keys(b.demands)) {
		d := b.demands[id]
		out := d.info
		if out.Jurisdictions == nil {
			out.Jurisdictions = []string{}
		}
		out.AccountsSpecified = d.specified
		if d.specified != nil {
			n := *d.specified
			if r.Totals.AccountsSpecified == nil {
				r.Totals.AccountsSpecified = new(int64)
			}
			*r.Totals.AccountsSpecified += n
		}
		for _, c := range Classes {
			*out.Class(c) = d.counts[c].counts()
		}
		r.Demands = append(r.Demands, out)
	}
	if r.Demands == nil {
		r.Demands = []Demand{}
	}
	for _, c := range Classes {
		*r.Totals.Class(c) = b.totals[c].counts()
	}
	r.Days = make([]Day, 0, len(b.days))
	for _, n := range slices.Sorted(maps.Keys(b.days)) {
		r.Days = append(r.Days, *b.days[n])
	}
	slices.SortFunc(r.Inputs.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Stream, b.Stream), cmp.Compare(a.Index, b.Index))
	})
	return r
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
