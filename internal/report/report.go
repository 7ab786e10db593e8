// Package report builds flagstream's compliance report: per legal demand,
// what the platform was asked for and what its reviewers did about it, in
// the columns of platforms' transparency reports.
//
// The report reads three streams, each a sequence of JSON values (NDJSON
// lines or Kafka record values, see [Records]): case events
// (flagstream.review_case/v1), review tasks (flagstream.review_task/v1) and
// reviewers' decisions (flagstream.review_decision/v1). It keeps no task:
// it aggregates as it reads and holds only one small record per case and,
// to count each task once, a 16-byte key per task id and per decided id.
// A record that cannot be read is counted and reported (stream and line),
// never fatal.
//
// Definitions (docs/report.md says the same at length):
//
//   - Item: a case (one per demand and account entry) or a review task.
//   - Class: where an item went. Live items went to reviewers; shadow items
//     ("shadow": true) went to the shadow topic because their demand is in
//     shadow mode; tripped items ("tripped": true) went there because their
//     demand's circuit breaker had tripped. The three are counted apart and
//     never summed together. A case's class is that of its latest event, a
//     task's that of its first copy read.
//   - Time of an item: a case's is the updated_at of its (earliest) opened
//     event, or of its earliest event when no opened event was read; a
//     task's is the created_at of its first copy read. An item is in the
//     period when its time is at or after [Options.Since] and before
//     [Options.Until].
//   - As of: decisions (decided_at) and case events (updated_at) dated at or
//     after [Options.AsOf] (by default Until) are ignored, so the report of
//     a past period states what was known at its end and reads the same
//     whenever it is run again.
//   - Latest decision: an item's outcome is its latest decision, the one
//     with the greatest decided_at; a case's decisions come from the
//     decisions stream (case_id) and from its own decided and reopened
//     events (for a decided event, the decided_at of its decision, else its
//     updated_at). On equal times the decisions stream wins over a case
//     event, and within one stream the record read later wins. No decision,
//     or a latest decision of reopen, is pending.
//   - Repeats: a case is one case however many events it has (a crash may
//     repeat events with the same case_id); a task is counted once per
//     task_id (the id is deterministic, so a task repeated after a crash has
//     the same one).
//   - Exempt: an item whose account is exempt (its latest event, or the
//     task, has an "exemption"). Counted in Exempted and still in its
//     outcome column.
//
// The columns of [Counts] state their invariants: Seen equals Withheld +
// NoAction + TermsOfService + Escalated + Pending, and so do a task's.
package report

import (
	"slices"
	"time"
)

// SchemaID names the format of the report's JSON (see report.schema.json).
const SchemaID = "flagstream.report/v1"

// Report is the compliance report. Its JSON form is a contract: fields may
// be added, never renamed or removed.
type Report struct {
	Schema      string    `json:"schema"`
	GeneratedAt time.Time `json:"generated_at"`
	Period      Period    `json:"period"`
	// Demands has one entry per demand reported, sorted by id: every
	// listed demand (Options.Demands) and every demand named by a record,
	// restricted to Options.Only when that is set (then every id of Only
	// appears, with zeros when nothing names it).
	Demands []Demand `json:"demands"`
	// Totals sums the demands' columns, except that a task naming several
	// demands counts once in Totals (and once in each demand's row), and
	// AccountsSpecified sums the listed demands only.
	Totals Totals `json:"totals"`
	// Days has the items per UTC day of their time, days without any
	// omitted, sorted by date. A task naming several demands counts once.
	Days   []Day  `json:"days"`
	Inputs Inputs `json:"inputs"`
}

// Period says which items the report covers. A nil time is open.
type Period struct {
	// Since and Until bound the time of the items reported: since <= t < until.
	Since *time.Time `json:"since"`
	Until *time.Time `json:"until"`
	// AsOf: decisions and case events dated at or after it are ignored.
	AsOf *time.Time `json:"as_of"`
	// Demands is the demand filter; empty reports every demand.
	Demands []string `json:"demands"`
}

// Demand is one demand's row of the report.
type Demand struct {
	ID            string   `json:"id"`
	Authority     string   `json:"authority"`
	Jurisdictions []string `json:"jurisdictions"`
	LegalBasis    string   `json:"legal_basis"`
	Reference     string   `json:"reference"`
	// Listed says the demand was among Options.Demands (the lists
	// directory); an unlisted demand's details come from the first record
	// that named it.
	Listed bool `json:"listed"`
	// AccountsSpecified is the number of account entries the demand names
	// (ListedDemand.AccountEntries); nil when the demand is not listed.
	AccountsSpecified *int64 `json:"accounts_specified"`
	Live              Counts `json:"live"`
	Shadow            Counts `json:"shadow"`
	Tripped           Counts `json:"tripped"`
}

// Totals is the report's last row.
type Totals struct {
	// AccountsSpecified sums the listed demands' account entries; nil when
	// no reported demand is listed.
	AccountsSpecified *int64 `json:"accounts_specified"`
	Live              Counts `json:"live"`
	Shadow            Counts `json:"shadow"`
	Tripped           Counts `json:"tripped"`
}

// Class returns the counts of one class.
func (d *Demand) Class(c Class) *Counts { return classOf(&d.Live, &d.Shadow, &d.Tripped, c) }

// Class returns the counts of one class.
func (t *Totals) Class(c Class) *Counts { return classOf(&t.Live, &t.Shadow, &t.Tripped, c) }

func classOf(live, shadow, tripped *Counts, c Class) *Counts {
	switch c {
	case Shadow:
		return shadow
	case Tripped:
		return tripped
	default:
		return live
	}
}

// Counts are the columns of one demand (or of the totals) for one class.
type Counts struct {
	Accounts Accounts `json:"accounts"`
	Tasks    Tasks    `json:"tasks"`
	// Matches counts, by kind, the matches of the demand (entries of the
	// tasks' matches arrays with its demand_id) over the tasks counted in
	// Tasks.Emitted. Every kind of the review task's contract is present
	// (hashtag, mention, author, author_id, phrase, domain, text), with 0
	// when there was none; a kind the contract does not list is added as
	// it was written.
	Matches map[string]int64 `json:"matches"`
}

// Accounts are the case columns: one case per (demand, account entry).
type Accounts struct {
	// Seen: cases of the demand in the period ("cases opened").
	// Seen = Withheld + NoAction + TermsOfService + Escalated + Pending.
	Seen int64 `json:"seen"`
	// Withheld: cases whose latest decision is withhold.
	Withheld int64 `json:"withheld"`
	// WithheldCountries: per country, the withheld cases withheld there:
	// the countries of the latest decision, or the case's jurisdictions
	// when the decision names none. A case withheld in two countries
	// counts once in Withheld and once in each country.
	WithheldCountries map[string]int64 `json:"withheld_countries"`
	// NoAction, TermsOfService, Escalated: cases whose latest decision is
	// no_action, terms_of_service or escalate.
	NoAction       int64 `json:"no_action"`
	TermsOfService int64 `json:"terms_of_service"`
	Escalated      int64 `json:"escalated"`
	// Pending: cases with no decision, or whose latest decision is reopen.
	Pending int64 `json:"pending"`
	// Reassigned: cases with a reassigned event (or an event whose
	// account.handle_now_held_by is set): the listed handle is now held by
	// another account. Counted whatever the outcome.
	Reassigned int64 `json:"handles_reassigned"`
	// Exempted: cases whose latest event carries an exemption; each also
	// counts in its outcome column.
	Exempted int64 `json:"exempted"`
	// EvidencePosts and EvidenceMentions sum the evidence counts of the
	// cases' latest events (at least once: they may over-count after a
	// crash, never under-count).
	EvidencePosts    int64 `json:"evidence_posts"`
	EvidenceMentions int64 `json:"evidence_mentions"`
}

// Tasks are the review task columns. A task naming several demands counts
// in each of them.
type Tasks struct {
	// Emitted: distinct task ids in the period that name the demand.
	// Emitted = Withheld + NoAction + TermsOfService + Escalated + Pending.
	Emitted int64 `json:"emitted"`
	// Withheld, NoAction, TermsOfService, Escalated: tasks whose latest
	// decision (by task_id) is withhold, no_action, terms_of_service or
	// escalate.
	Withheld       int64 `json:"withheld"`
	NoAction       int64 `json:"no_action"`
	TermsOfService int64 `json:"terms_of_service"`
	Escalated      int64 `json:"escalated"`
	// Pending: tasks with no decision, or whose latest decision is reopen.
	Pending int64 `json:"pending"`
	// Exempted: tasks with an exemption; each also counts in its outcome.
	Exempted int64 `json:"exempted"`
}

// Day is one UTC day of the period.
type Day struct {
	Date        string  `json:"date"` // YYYY-MM-DD
	CasesOpened ByClass `json:"cases_opened"`
	Tasks       ByClass `json:"tasks"`
}

// ByClass is one number per class.
type ByClass struct {
	Live    int64 `json:"live"`
	Shadow  int64 `json:"shadow"`
	Tripped int64 `json:"tripped"`
}

func (b *ByClass) add(c Class, n int64) {
	switch c {
	case Shadow:
		b.Shadow += n
	case Tripped:
		b.Tripped += n
	default:
		b.Live += n
	}
}

// Inputs says what was read, so the numbers can be reconciled with the
// input.
type Inputs struct {
	Cases     CaseInput     `json:"cases"`
	Tasks     TaskInput     `json:"tasks"`
	Decisions DecisionInput `json:"decisions"`
	// Problems lists the first bad records (Options.MaxProblems); the
	// streams' Bad counts have them all.
	Problems []Problem `json:"problems"`
}

// CaseInput counts the case events read.
type CaseInput struct {
	Records int64 `json:"records"` // values read (non-blank lines)
	Bad     int64 `json:"bad"`     // records that could not be read
	Late    int64 `json:"late"`    // events at or after as_of, ignored
	Cases   int64 `json:"cases"`   // distinct case ids among the other events
	// NotOpened: cases of which no opened event was read (their time is
	// their earliest event's).
	NotOpened int64 `json:"not_opened"`
	Reported  int64 `json:"reported"` // cases in the period and demand filter
}

// TaskInput counts the review tasks read.
type TaskInput struct {
	Records int64 `json:"records"`
	Bad     int64 `json:"bad"`
	// Repeats: copies of a task id already read, not counted again.
	Repeats  int64 `json:"repeats"`
	Reported int64 `json:"reported"` // distinct tasks in the period and demand filter
}

// DecisionInput counts the decisions read.
type DecisionInput struct {
	Records int64 `json:"records"`
	Bad     int64 `json:"bad"`
	Late    int64 `json:"late"` // decided at or after as_of, ignored
	// Unmatched: decided ids (case or task) that no record read names.
	Unmatched int64 `json:"unmatched"`
}

// Problem is one record that could not be read.
type Problem struct {
	Stream string `json:"stream"` // file name, or topic/partition
	Index  int64  `json:"index"`  // line number (from 1), or offset
	Reason string `json:"reason"`
}

// Class says where an item went.
type Class int

// The classes, in the order the report shows them.
const (
	Live Class = iota
	Shadow
	Tripped
)

// Classes lists every class in order.
var Classes = [...]Class{Live, Shadow, Tripped}

func (c Class) String() string {
	switch c {
	case Shadow:
		return "shadow"
	case Tripped:
		return "tripped"
	default:
		return "live"
	}
}

// outcome is an item's latest decision.
type outcome uint8

const (
	pending outcome = iota
	withheld
	noAction
	termsOfService
	escalated
)

// matchKinds are the kinds of the review task's contract, in the order the
// report shows them.
var matchKinds = [...]string{"hashtag", "mention", "author", "author_id", "phrase", "domain", "text"}

// MatchKinds returns the match kinds of the counts, the contract's first
// and then any other kind, sorted.
func (c *Counts) MatchKinds() []string {
	kinds := matchKinds[:]
	var extra []string
	for k := range c.Matches {
		if !slices.Contains(kinds, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	return append(slices.Clip(kinds), extra...)
}

// Empty says that the counts have no item.
func (c *Counts) Empty() bool {
	return c.Accounts.Seen == 0 && c.Tasks.Emitted == 0
}
