// Package review builds review tasks: the JSON object, one per flagged
// post, that tells a human reviewer what matched, which demand asked for
// it, and under which law and jurisdiction. The format is a contract
// (schema flagstream.review_task/v1, published as review_task.schema.json
// beside this file).
package review

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"flagstream/matchers"
	"flagstream/pipeline/jsontext"
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
		var value string
		if h.Sigil != 0 {
			value = string(h.Sigil) + string(h.Value)
		} else {
			value = string(h.Value)
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
// NUL so that no two different inputs run together. The bytes hashed are
// gathered in one buffer, on the stack when they fit, and hashed at once:
// the same hash as writing them field by field, without a hash.Hash's
// allocations.
func taskID(tweetID string, matches []Match) string {
	var buf [512]byte
	b := append(buf[:0], SchemaID+"\x00"...)
	b = append(b, tweetID...)
	b = append(b, 0)
	for i := range matches {
		m := &matches[i]
		for _, f := range [...]string{m.Kind, m.In, m.Value, m.Entry, m.DemandID} {
			b = append(b, f...)
			b = append(b, 0)
		}
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
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
// in neither API format is kept as written. The result is always the one
// time.Parse gives, of the v1.1 format first, then of RFC 3339:
// parseV1Time reads a v1.1 time written as the API writes it, without
// time.Parse's generality, and leaves every other input to time.Parse.
func normalizeTime(b []byte) string {
	if t, ok := parseV1Time(b); ok {
		return t.Format(time.RFC3339)
	}
	s := string(b)
	// time.Parse(v1CreatedAt, s) fails unless s starts with a day name, in
	// any case, so with a letter: a v2 time skips the try (and the error
	// it allocates).
	if s != "" && ('A' <= s[0] && s[0] <= 'Z' || 'a' <= s[0] && s[0] <= 'z') {
		if t, err := time.Parse(v1CreatedAt, s); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return s
}

var (
	v1Days   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	v1Months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	// v1MonthDays are the days of each month of a common year.
	v1MonthDays = [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
)

// parseV1Time returns the time in b, in UTC, if b is a v1.1 time exactly
// as the API writes it, "Thu Feb 04 09:00:00 +0000 2021": a day and a
// month name capitalized so, single spaces, two digits for the day, hour,
// minute and second, a sign and four digits for the offset, four for the
// year, and each number in the range that time.Parse(v1CreatedAt, …)
// allows (an offset of up to 24 hours and 60 minutes, as it does). It
// returns the instant that time.Parse returns for such a b. For anything
// else it returns false, though time.Parse may read it: another case, a
// one-digit hour, more spaces, a fraction of a second.
func parseV1Time(b []byte) (time.Time, bool) {
	if len(b) != len(v1CreatedAt) || b[3] != ' ' || b[7] != ' ' || b[10] != ' ' || b[13] != ':' ||
		b[16] != ':' || b[19] != ' ' || b[25] != ' ' {
		return time.Time{}, false
	}
	if !slices.ContainsFunc(v1Days[:], func(d string) bool { return d == string(b[0:3]) }) {
		return time.Time{}, false
	}
	month := slices.IndexFunc(v1Months[:], func(m string) bool { return m == string(b[4:7]) }) + 1
	day, ok1 := twoDigits(b[8:])
	hour, ok2 := twoDigits(b[11:])
	minute, ok3 := twoDigits(b[14:])
	sec, ok4 := twoDigits(b[17:])
	zoneHour, ok5 := twoDigits(b[21:])
	zoneMinute, ok6 := twoDigits(b[23:])
	century, ok7 := twoDigits(b[26:])
	yy, ok8 := twoDigits(b[28:])
	if month == 0 || !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8) ||
		hour > 23 || minute > 59 || sec > 59 || zoneHour > 24 || zoneMinute > 60 {
		return time.Time{}, false
	}
	year := century*100 + yy
	days := v1MonthDays[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	if day < 1 || day > days {
		return time.Time{}, false
	}
	offset := time.Duration(zoneHour*60+zoneMinute) * time.Minute
	switch b[20] {
	case '+':
	case '-':
		offset = -offset
	default:
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC).Add(-offset), true
}

// twoDigits returns the number that the first two bytes of b write in
// decimal, if both are digits; b has at least two bytes.
func twoDigits(b []byte) (int, bool) {
	hi, lo := b[0]-'0', b[1]-'0'
	return int(hi)*10 + int(lo), hi <= 9 && lo <= 9
}

// Append appends the task as one line of JSON (with a trailing newline) to
// dst and returns the extended slice. The bytes are exactly those that
// encoding/json writes of the task with HTML escaping off, which is how
// Append wrote them before it was written by hand (the format is a
// contract): members in the order the structs declare their fields, an
// omitempty field left out when it is empty (nil, false, 0 or ""), a nil
// slice as null and an empty one as [], strings escaped as jsontext.AppendString
// says, numbers as jsontext.AppendFloat and strconv write them, and a nil task as
// null. It uses no reflection and allocates nothing but dst's growth.
//
// Its one error is encoding/json's: a similarity that is NaN or infinite
// has no JSON, and Append returns an *json.UnsupportedValueError (wrapped)
// for it, with dst as it was, nothing written beyond its length either.
func (t *Task) Append(dst []byte) ([]byte, error) {
	if t == nil {
		return append(dst, "null\n"...), nil
	}
	for i := range t.Matches {
		if f := t.Matches[i].Similarity; f != nil && (math.IsNaN(*f) || math.IsInf(*f, 0)) {
			return dst, fmt.Errorf("encode review task: %w",
				&json.UnsupportedValueError{Value: reflect.ValueOf(*f), Str: strconv.FormatFloat(*f, 'g', -1, 64)})
		}
	}
	b := append(dst, `{"schema":`...)
	b = jsontext.AppendString(b, t.Schema)
	b = append(b, `,"task_id":`...)
	b = jsontext.AppendString(b, t.TaskID)
	b = append(b, `,"created_at":`...)
	b = jsontext.AppendString(b, t.CreatedAt)
	b = append(b, `,"priority":`...)
	b = jsontext.AppendString(b, t.Priority)
	b = append(b, `,"action":`...)
	b = jsontext.AppendString(b, t.Action)
	b = append(b, `,"jurisdictions":`...)
	b = jsontext.AppendStrings(b, t.Jurisdictions)
	b = append(b, `,"lists_version":`...)
	b = jsontext.AppendString(b, t.ListsVersion)
	b = append(b, `,"tweet":`...)
	b = t.Tweet.append(b)
	b = append(b, `,"matches":`...)
	if t.Matches == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range t.Matches {
			if i > 0 {
				b = append(b, ',')
			}
			b = t.Matches[i].append(b)
		}
		b = append(b, ']')
	}
	b = append(b, `,"source":`...)
	b = t.Source.append(b)
	if e := t.Exemption; e != nil {
		b = append(b, `,"exemption":{"id":`...)
		b = jsontext.AppendString(b, e.ID)
		b = append(b, `,"category":`...)
		b = jsontext.AppendString(b, e.Category)
		b = append(b, `,"reason":`...)
		b = jsontext.AppendString(b, e.Reason)
		b = append(b, '}')
	}
	if t.Shadow {
		b = append(b, `,"shadow":true`...)
	}
	if t.Tripped {
		b = append(b, `,"tripped":true`...)
	}
	if r := t.Retro; r != nil {
		b = append(b, `,"retro":{"job":`...)
		b = jsontext.AppendString(b, r.Job)
		b = append(b, `,"since":`...)
		b = jsontext.AppendString(b, r.Since)
		b = append(b, `,"until":`...)
		b = jsontext.AppendString(b, r.Until)
		b = append(b, '}')
	}
	return append(b, "}\n"...), nil
}

// append appends the tweet as a JSON object, as Task.Append says.
func (tw *Tweet) append(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = jsontext.AppendString(b, tw.ID)
	b = append(b, `,"created_at":`...)
	b = jsontext.AppendString(b, tw.CreatedAt)
	b = append(b, `,"lang":`...)
	b = jsontext.AppendString(b, tw.Lang)
	b = append(b, `,"text":`...)
	b = jsontext.AppendString(b, tw.Text)
	b = append(b, `,"author":{"id":`...)
	b = jsontext.AppendString(b, tw.Author.ID)
	b = append(b, `,"handle":`...)
	b = jsontext.AppendString(b, tw.Author.Handle)
	b = append(b, `},"url":`...)
	b = jsontext.AppendString(b, tw.URL)
	return append(b, '}')
}

// append appends the match as a JSON object, as Task.Append says; its
// similarity, if any, must be finite.
func (m *Match) append(b []byte) []byte {
	b = append(b, `{"kind":`...)
	b = jsontext.AppendString(b, m.Kind)
	b = append(b, `,"in":`...)
	b = jsontext.AppendString(b, m.In)
	b = append(b, `,"value":`...)
	b = jsontext.AppendString(b, m.Value)
	b = append(b, `,"entry":`...)
	b = jsontext.AppendString(b, m.Entry)
	b = append(b, `,"tier":`...)
	b = jsontext.AppendString(b, m.Tier)
	if m.Similarity != nil {
		b = append(b, `,"similarity":`...)
		b = jsontext.AppendFloat(b, *m.Similarity)
	}
	if m.Via != "" {
		b = append(b, `,"via":`...)
		b = jsontext.AppendString(b, m.Via)
	}
	b = append(b, `,"demand_id":`...)
	b = jsontext.AppendString(b, m.DemandID)
	b = append(b, `,"jurisdiction":`...)
	b = jsontext.AppendString(b, m.Jurisdiction)
	b = append(b, `,"jurisdictions":`...)
	b = jsontext.AppendStrings(b, m.Jurisdictions)
	b = append(b, `,"authority":`...)
	b = jsontext.AppendString(b, m.Authority)
	b = append(b, `,"legal_basis":`...)
	b = jsontext.AppendString(b, m.LegalBasis)
	if m.Reference != "" {
		b = append(b, `,"reference":`...)
		b = jsontext.AppendString(b, m.Reference)
	}
	b = append(b, `,"action":`...)
	b = jsontext.AppendString(b, m.Action)
	b = append(b, `,"scope":`...)
	b = jsontext.AppendString(b, m.Scope)
	b = append(b, `,"priority":`...)
	b = jsontext.AppendString(b, m.Priority)
	return append(b, '}')
}

// append appends the source as a JSON object, as Task.Append says: each of
// its fields is omitempty, so {} when none is set.
func (src *Source) append(b []byte) []byte {
	b = append(b, '{')
	sep := false
	key := func(name string) {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, name...)
	}
	if src.Topic != "" {
		key(`"topic":`)
		b = jsontext.AppendString(b, src.Topic)
	}
	if src.Partition != nil {
		key(`"partition":`)
		b = strconv.AppendInt(b, int64(*src.Partition), 10)
	}
	if src.Offset != nil {
		key(`"offset":`)
		b = strconv.AppendInt(b, *src.Offset, 10)
	}
	if src.File != "" {
		key(`"file":`)
		b = jsontext.AppendString(b, src.File)
	}
	if src.Line != 0 {
		key(`"line":`)
		b = strconv.AppendInt(b, src.Line, 10)
	}
	return append(b, '}')
}
