package retro

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ProgressSchema names the format of a progress record.
const ProgressSchema = "flagstream.retro_progress/v1"

// Progress is how far a job has read one partition: the record kept, per
// job and partition, in the compacted retro.progress_topic (key
// Progress.Key). A job writes one for every partition before it reads,
// then again after each batch whose outputs are acknowledged, so a job run
// again reads from Next on and repeats at most the batch that was being
// written.
type Progress struct {
	Schema    string `json:"schema"`
	Job       string `json:"job"`
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// The partition's records to read are Start up to End; those before
	// Next are read and their outputs acknowledged.
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Next  int64 `json:"next"`
	// Since and Until are the job's window, as resolved when it started.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Selection says what the job matches.
	Selection Selection `json:"selection"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Selection is what a job matches, as its progress records say it.
type Selection struct {
	// Origin is "command" (flagstream retro) or "reload" (the entries a
	// lists reload added, in run).
	Origin string `json:"origin"`
	// Demands are the ids of the demands selected; empty for all.
	Demands []string `json:"demands,omitempty"`
	// OnlyNewVersion is the lists version of the lists whose entries
	// were left out (--only-new, or the lists before a reload).
	OnlyNewVersion string `json:"only_new_version,omitempty"`
	// ListsVersion is the version of the selected demands and entries
	// the job matches with: the snapshot's version of review tasks.
	ListsVersion string `json:"lists_version"`
}

// The origins of a job.
const (
	OriginCommand = "command"
	OriginReload  = "reload"
)

// Done reports whether the partition is read to its end.
func (p *Progress) Done() bool { return p.Next >= p.End }

// Key returns the record key of p: the job id, a slash and the partition.
func (p *Progress) Key() []byte { return ProgressKey(p.Job, p.Partition) }

// ProgressKey returns the record key of job's progress on partition.
func ProgressKey(job string, partition int32) []byte {
	return strconv.AppendInt(append([]byte(job), '/'), int64(partition), 10)
}

// Marshal returns p as JSON.
func (p *Progress) Marshal() ([]byte, error) {
	q := *p
	q.Schema = ProgressSchema
	q.Since, q.Until, q.UpdatedAt = q.Since.UTC(), q.Until.UTC(), q.UpdatedAt.UTC()
	if err := q.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(&q)
}

// ParseProgress decodes a progress record. Fields it does not know are
// ignored, so that later versions may add some; the ones it knows must be
// there and consistent.
func ParseProgress(data []byte) (Progress, error) {
	var p Progress
	if err := parseRecord(data, &p, &p.Schema, ProgressSchema, "retro progress", p.validate); err != nil {
		return Progress{}, err
	}
	return p, nil
}

// parseRecord decodes the one JSON object of data into v, a record whose
// schema field must then say want, and validates it; what names the
// record in errors.
func parseRecord(data []byte, v any, schema *string, want, what string, validate func() error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if dec.More() {
		return fmt.Errorf("%s: data after the JSON object", what)
	}
	if *schema != want {
		return fmt.Errorf("%s: schema %q, want %s", what, *schema, want)
	}
	return validate()
}

func (p *Progress) validate() error {
	var problems []string
	if p.Job == "" || strings.Contains(p.Job, "/") {
		problems = append(problems, fmt.Sprintf("job id %q", p.Job))
	}
	if p.Topic == "" {
		problems = append(problems, "no topic")
	}
	if p.Partition < 0 {
		problems = append(problems, fmt.Sprintf("partition %d", p.Partition))
	}
	if p.Start < 0 || p.End < p.Start || p.Next < p.Start || p.Next > p.End {
		problems = append(problems, fmt.Sprintf("offsets start %d, next %d, end %d", p.Start, p.Next, p.End))
	}
	if p.Since.IsZero() || p.Until.IsZero() || p.Until.Before(p.Since) {
		problems = append(problems, fmt.Sprintf("window %s to %s", p.Since.Format(time.RFC3339), p.Until.Format(time.RFC3339)))
	}
	if p.Selection.Origin != OriginCommand && p.Selection.Origin != OriginReload {
		problems = append(problems, fmt.Sprintf("origin %q", p.Selection.Origin))
	}
	if len(problems) > 0 {
		return fmt.Errorf("retro progress of job %q partition %d: bad %s", p.Job, p.Partition, strings.Join(problems, ", "))
	}
	return nil
}

// JobSchema names the format of a job record.
const JobSchema = "flagstream.retro_job/v1"

// JobRecord describes an automatic job (origin reload) in the progress
// topic, under the key JobKey: what it selects, entry by entry, so that an
// instance that did not see the reload that made it, because every
// instance restarted meanwhile, can resume it.
type JobRecord struct {
	Schema    string    `json:"schema"`
	Job       string    `json:"job"`
	Topic     string    `json:"topic"`
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	Selection Selection `json:"selection"`
	// Entries are the entries the job matches; none when there were more
	// than MaxJobEntries (Omitted says how many): such a job is not
	// resumed after a restart of every instance.
	Entries   []JobEntry `json:"entries"`
	Omitted   int        `json:"omitted,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// JobEntry is an entry of a demand, as written in the demand file.
type JobEntry struct {
	Demand string `json:"demand"`
	Kind   string `json:"kind"`
	Entry  string `json:"entry"`
}

// MaxJobEntries bounds the entries a job record lists (about 50 bytes
// each, so that a record stays well under Kafka's default 1 MB).
const MaxJobEntries = 10_000

// JobKey returns the record key of job's job record.
func JobKey(job string) []byte { return []byte(job + "/job") }

// Marshal returns r as JSON.
func (r *JobRecord) Marshal() ([]byte, error) {
	q := *r
	q.Schema = JobSchema
	q.Since, q.Until, q.CreatedAt = q.Since.UTC(), q.Until.UTC(), q.CreatedAt.UTC()
	if q.Entries == nil {
		q.Entries = []JobEntry{}
	}
	if err := q.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(&q)
}

// ParseJobRecord decodes a job record; like ParseProgress, it ignores
// fields it does not know.
func ParseJobRecord(data []byte) (JobRecord, error) {
	var r JobRecord
	if err := parseRecord(data, &r, &r.Schema, JobSchema, "retro job record", r.validate); err != nil {
		return JobRecord{}, err
	}
	return r, nil
}

func (r *JobRecord) validate() error {
	switch {
	case r.Job == "" || strings.Contains(r.Job, "/"):
		return fmt.Errorf("retro job record: job id %q", r.Job)
	case r.Topic == "":
		return fmt.Errorf("retro job record %s: no topic", r.Job)
	case r.Since.IsZero() || r.Until.IsZero() || r.Until.Before(r.Since):
		return fmt.Errorf("retro job record %s: bad window", r.Job)
	}
	for _, e := range r.Entries {
		if e.Demand == "" || e.Kind == "" || e.Entry == "" {
			return fmt.Errorf("retro job record %s: entry %+v lacks a demand, kind or entry", r.Job, e)
		}
	}
	return nil
}
