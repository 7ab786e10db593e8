// Package review builds review tasks: the JSON object, one per flagged
// post, that tells a human reviewer what matched, which demand asked for
// it, and under which law and jurisdiction. The format is a contract
// (schema flagstream.review_task/v1, published as review_task.schema.json
// beside this file).
package review

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"flagstream/matchers"
)

// SchemaID names the format of a review task.
const SchemaID = "flagstream.review_task/v1"

// Task is one review task.
type Task struct {
	Schema        string   `json:"schema"`
	TaskID        string   `json:"task_id"`
	CreatedAt     string   `json:"created_at"`
	Priority      string   `json:"priority"`
	Action        string   `json:"action"`
	Jurisdictions []string `json:"jurisdictions"`
	ListsVersion  string   `json:"lists_version"`
	Tweet         Tweet    `json:"tweet"`
	Matches       []Match  `json:"matches"`
	Source        Source   `json:"source"`
	// The governance fields, absent when not applicable (see Escalate).
	// Exemption names the exemption of the tweet's author.
	Exemption *Exemption `json:"exemption,omitempty"`
	// Shadow marks a task sent to the shadow topic instead of reviewers:
	// a shadow-mode demand's, or (with Tripped) a tripped demand's.
	Shadow  bool `json:"shadow,omitempty"`
	Tripped bool `json:"tripped,omitempty"`
	// Retro is set on the tasks of a retro-hunt job, which re-read
	// retained input; nil (absent) otherwise.
	Retro *Retro `json:"retro,omitempty"`
}

// Exemption is the exemption (an exemption file) of a task's author.
type Exemption struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	Reason   string `json:"reason"`
}

// ActionEscalate is the action of a task whose author is exempt.
const ActionEscalate = "escalate"

// Escalate marks the task as one whose author is exempt under e: it names
// the exemption and asks for escalation at critical priority, never for
// withholding. The task id does not change: it depends on the tweet and
// its matches only.
func (t *Task) Escalate(e *matchers.Exemption) {
	t.Exemption = &Exemption{ID: e.ID, Category: e.Category.String(), Reason: e.Reason}
	t.Action = ActionEscalate
	t.Priority = matchers.PriorityCritical.String()
}

// Retro names the retro-hunt job that found a tweet in retained input:
// its id and the window of record times it read, RFC 3339 in UTC. The
// task id does not depend on it: a tweet flagged live and by a retro job
// with the same matches has one task id.
type Retro struct {
	Job   string `json:"job"`
	Since string `json:"since"`
	Until string `json:"until"`
}

// NewRetro returns the Retro of job over the window since to until.
func NewRetro(job string, since, until time.Time) *Retro {
	return &Retro{Job: job, Since: since.UTC().Format(time.RFC3339Nano), Until: until.UTC().Format(time.RFC3339Nano)}
}

// Tweet is the flagged tweet as the reviewer sees it.
type Tweet struct {
	ID        string `json:"id"`
	CreatedAt string `json:"created_at"`
	Lang      string `json:"lang"`
	Text      string `json:"text"`
	Author    Author `json:"author"`
	URL       string `json:"url"`
}

// Author is the tweet's author.
type Author struct {
	ID     string `json:"id"`
	Handle string `json:"handle"`
}

// Match is one list entry that the tweet names, with the demand behind it.
type Match struct {
	Kind  string `json:"kind"`
	In    string `json:"in"`
	Value string `json:"value"`
	Entry string `json:"entry"`
	Tier  string `json:"tier"`
	// Similarity is, for a text match, the Jaccard index of the word
	// shingles of the tweet's text and the listed text, to two decimals.
	Similarity *float64 `json:"similarity,omitempty"`
	// Via is "binding" for a match of a handle entry found through the
	// account bound (or pinned) to the handle: the author or mentioned
	// account has the handle's user id under another handle.
	Via string `json:"via,omitempty"`

	DemandID string `json:"demand_id"`
	// Jurisdiction is the demand's jurisdiction; a demand of several
	// lists them joined by commas, and Jurisdictions has them one by one.
	Jurisdiction  string   `json:"jurisdiction"`
	Jurisdictions []string `json:"jurisdictions"`
	Authority     string   `json:"authority"`
	LegalBasis    string   `json:"legal_basis"`
	Reference     string   `json:"reference,omitempty"`
	Action        string   `json:"action"`
	Scope         string   `json:"scope"`
	Priority      string   `json:"priority"`
}

// Source says where the tweet was read: a Kafka topic, partition and
// offset, or a file and line.
type Source struct {
	Topic     string `json:"topic,omitempty"`
	Partition *int32 `json:"partition,omitempty"`
	Offset    *int64 `json:"offset,omitempty"`
	File      string `json:"file,omitempty"`
	Line      int64  `json:"line,omitempty"`
}

// KafkaSource returns the source of a Kafka record.
func KafkaSource(topic string, partition int32, offset int64) Source {
	return Source{Topic: topic, Partition: &partition, Offset: &offset}
}

// Build returns the review task for post p, whose hits against snapshot s
// are given, created at now. The task id depends only on the tweet and its
// matches, so the same tweet flagged again after a crash or a replay gets
// the same id.
func Build(s *matchers.Snapshot, p *matchers.Post, hits []matchers.Hit, src Source, now time.Time) Task {
	t := p.Main()
	task := Task{
		Schema:       SchemaID,
		CreatedAt:    now.UTC().Format(time.RFC3339Nano),
		ListsVersion: s.Version(),
		Tweet: Tweet{
			ID:        string(t.ID),
			CreatedAt: normalizeTime(t.CreatedAt),
			Lang:      string(t.Lang),
			Text:      string(t.Text),
			Author:    Author{ID: string(t.AuthorID), Handle: string(t.AuthorHandle)},
			URL:       tweetURL(t),
		},
		Matches: make([]Match, 0, len(hits)),
		Source:  src,
	}
	demands := s.Demands()
	var (
		priority matchers.Priority
		action   matchers.Action
		juris    []string
	)
	for i := range hits {
		h := &hits[i]
		d := &demands[s.Demand(h.Entry)]
		value := string(h.Value)
		if h.Sigil != 0 {
			value = string(h.Sigil) + value
		}
		var similarity *float64
		if h.Kind == matchers.HitText {
			sim := math.Round(h.Similarity*100) / 100
			similarity = &sim
		}
		via := ""
		if h.ViaBinding {
			via = "binding"
		}
		task.Matches = append(task.Matches, Match{
			Similarity:    similarity,
			Via:           via,
			Kind:          h.Kind.String(),
			In:            h.In.String(),
			Value:         value,
			Entry:         string(s.EntryValue(h.Entry)),
			Tier:          h.Tier.String(),
			DemandID:      d.ID,
			Jurisdiction:  d.JurisdictionList(),
			Jurisdictions: d.Jurisdictions,
			Authority:     d.Authority,
			LegalBasis:    d.LegalBasis,
			Reference:     d.Reference,
			Action:        d.Action.String(),
			Scope:         d.Scope.String(),
			Priority:      d.Priority.String(),
		})
		priority = max(priority, d.Priority)
		action = max(action, d.Action)
		juris = append(juris, d.Jurisdictions...)
	}
	slices.SortFunc(task.Matches, compareMatches)
	slices.Sort(juris)
	task.Jurisdictions = slices.Compact(juris)
	task.Priority = priority.String()
	task.Action = action.String()
	task.TaskID = taskID(task.Tweet.ID, task.Matches)
	return task
}

func compareMatches(a, b Match) int {
	for _, c := range [...][2]string{
		{a.In, b.In}, {a.Kind, b.Kind}, {a.Value, b.Value}, {a.DemandID, b.DemandID}, {a.Entry, b.Entry},
	} {
		if n := strings.Compare(c[0], c[1]); n != 0 {
			return n
		}
	}
	return 0
}

// taskID hashes the tweet id and the matches (sorted), each field ended by a
// NUL so that no two different inputs run together.
func taskID(tweetID string, matches []Match) string {
	h := sha256.New()
	h.Write([]byte(SchemaID + "\x00" + tweetID + "\x00"))
	for _, m := range matches {
		for _, f := range [...]string{m.Kind, m.In, m.Value, m.Entry, m.DemandID} {
			h.Write([]byte(f))
			h.Write([]byte{0})
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// tweetURL is the tweet's permalink.
func tweetURL(t *matchers.Tweet) string {
	handle := string(t.AuthorHandle)
	if handle == "" {
		handle = "i/web"
	}
	return "https://twitter.com/" + handle + "/status/" + string(t.ID)
}

// v1CreatedAt is the API v1.1 time format.
const v1CreatedAt = "Mon Jan 02 15:04:05 -0700 2006"

// normalizeTime writes a tweet's creation time as RFC 3339 in UTC; a time
// in neither API format is kept as written.
func normalizeTime(b []byte) string {
	s := string(b)
	if t, err := time.Parse(v1CreatedAt, s); err == nil {
		return t.UTC().Format(time.RFC3339)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return s
}

// Append appends the task as one line of JSON (with a trailing newline) to
// dst.
func (t *Task) Append(dst []byte) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(t); err != nil {
		return dst, fmt.Errorf("encode review task: %w", err)
	}
	return buf.Bytes(), nil
}
