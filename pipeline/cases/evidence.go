package cases

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"flagstream/matchers"
)

// InputSchemaID names the format of the records of the internal case input
// topic: evidence from workers and decisions forwarded by case id.
const InputSchemaID = "flagstream.case_input/v1"

// EvidenceKind says how a post names a case's account: as an author (of the
// post, or of the tweet it retweets, quotes or replies to) or in a mention.
type EvidenceKind string

// The evidence kinds; a case counts them apart, as posts and mentions.
const (
	EvidencePost    EvidenceKind = "post"
	EvidenceMention EvidenceKind = "mention"
)

// EvidenceKindOf returns the evidence kind of a match kind; ok is false for
// kinds that do not name an account.
func EvidenceKindOf(k matchers.HitKind) (kind EvidenceKind, ok bool) {
	switch k {
	case matchers.HitAuthor, matchers.HitAuthorID:
		return EvidencePost, true
	case matchers.HitMention:
		return EvidenceMention, true
	}
	return "", false
}

// Evidence is one match of an account entry of a `scope: user` demand: what
// a worker emits instead of putting the match in a review task. Workers
// write it to the case input topic, keyed by CaseID; `scan` hands it to a
// Processor directly. A case's state keeps the Demand's Jurisdictions and
// the Exemption of its evidence without copying them: they must not change
// afterwards (they come from an immutable lists snapshot or a decoded
// record).
type Evidence struct {
	CaseID    string
	Demand    Demand
	Entry     string // as written in the demand file
	EntryKind EntryKind
	Kind      EvidenceKind
	In        string // tweet | retweeted | quoted | replied_to
	Tier      string // exact | loose | lookalike
	// ViaBinding is true when the matcher found the entry through the
	// bindings table: the author (or mentioned account) is the user id
	// bound to the entry's handle, under another handle.
	ViaBinding bool
	TweetID    string
	// TweetCreatedAt is when the post was made; zero when the input did
	// not say in a format known.
	TweetCreatedAt time.Time
	SeenAt         time.Time // when the worker matched the post
	// Author is the author of the part of the post where the match is:
	// the account itself for a post, whoever mentioned it for a mention.
	Author Author
	// Mention is the mention matched, for EvidenceMention: the handle as
	// seen and, when a mention entity carried one, its user id.
	Mention Author
	// PinnedUserID is the user id that the demand's `accounts:` pins to
	// the entry's handle, if any.
	PinnedUserID string
	// Exemption is set when the case's account is exempt from the demand.
	Exemption *Exemption
	// Retro is set when a retro-hunt job found the post.
	Retro *Retro
}

// Author is an account as a post shows it: its user id and handle, either
// possibly empty when the input did not say.
type Author struct {
	ID     string `json:"id"`
	Handle string `json:"handle"`
}

// CaseOf returns the case id of an account entry of a demand, as written in
// the demand file: CaseID(demandID, EntryKey(kind, entry)).
func CaseOf(demandID string, kind EntryKind, entry string) (string, error) {
	var kb [1 + maxUserIDDigits]byte
	key, err := appendKey(kb[:0], kind, entry)
	if err != nil {
		return "", err
	}
	var ib [32]byte
	return string(appendCaseID(ib[:0], demandID, key)), nil
}

// FromHit returns the evidence that hit h of post p is, with the fields the
// post gives filled in: Kind, In, Tier, TweetID, TweetCreatedAt, Author and
// Mention. The caller sets the rest: CaseID, Demand, Entry, EntryKind,
// ViaBinding, PinnedUserID, SeenAt and the governance fields. ok is false
// when h does not name an account (a hashtag, phrase or domain).
func FromHit(p *matchers.Post, h *matchers.Hit) (ev Evidence, ok bool) {
	kind, ok := EvidenceKindOf(h.Kind)
	if !ok {
		return Evidence{}, false
	}
	main := p.Main()
	ev = Evidence{
		Kind:           kind,
		In:             h.In.String(),
		Tier:           h.Tier.String(),
		TweetID:        string(main.ID),
		TweetCreatedAt: ParseTweetTime(main.CreatedAt),
	}
	var part *matchers.Tweet
	for i := range p.Parts {
		if p.Parts[i].In == h.In {
			part = p.Parts[i].Tweet
			break
		}
	}
	if part == nil {
		part = main
	}
	ev.Author = Author{ID: string(part.AuthorID), Handle: string(part.AuthorHandle)}
	if kind == EvidenceMention {
		value := trimSigil(h.Value)
		ev.Mention.Handle = string(value)
		for _, m := range part.Mentions {
			if len(m.ID) > 0 && bytes.Equal(m.ID, value) {
				// A mention entity found by its id alone.
				ev.Mention = Author{ID: string(m.ID), Handle: string(m.Handle)}
				break
			}
			if len(m.Handle) > 0 && bytes.EqualFold(trimSigil(m.Handle), value) {
				ev.Mention.ID = string(m.ID)
				break
			}
		}
	}
	return ev, true
}

// trimSigil removes a leading '@' or fullwidth '＠' from a handle as seen.
func trimSigil(b []byte) []byte {
	if rest, ok := bytes.CutPrefix(b, []byte("@")); ok {
		return rest
	}
	if rest, ok := bytes.CutPrefix(b, []byte("＠")); ok {
		return rest
	}
	return b
}

// trimSigilString is trimSigil for a string.
func trimSigilString(s string) string {
	if rest, ok := strings.CutPrefix(s, "@"); ok {
		return rest
	}
	if rest, ok := strings.CutPrefix(s, "＠"); ok {
		return rest
	}
	return s
}

// v1CreatedAt is the API v1.1 time format.
const v1CreatedAt = "Mon Jan 02 15:04:05 -0700 2006"

// ParseTweetTime parses a tweet's created_at in the API v1.1 or v2 format
// and returns it in UTC; the zero time when it is in neither or outside the
// years 0001-9999.
func ParseTweetTime(b []byte) time.Time {
	s := string(b)
	t, err := time.Parse(v1CreatedAt, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}
		}
	}
	t = t.UTC()
	if !inYears(t) {
		return time.Time{}
	}
	return t
}

// inYears reports whether t lies in the years 0001-9999, those that the
// times of case records may have.
func inYears(t time.Time) bool {
	y := t.Year()
	return 1 <= y && y <= 9999
}

// checkTimes reports the first of times that is set but outside the years
// 0001-9999.
func checkTimes(times ...time.Time) error {
	for _, t := range times {
		if !t.IsZero() && !inYears(t) {
			return fmt.Errorf("time %v outside the years 0001-9999", t)
		}
	}
	return nil
}

// candidate returns the user id and handle the evidence says the account
// has: the author's for a post, the mention's for a mention. The id is
// normalized (no leading zeros) and empty when unknown or not an id.
func (e *Evidence) candidate() (id, handle string) {
	a := e.Author
	if e.Kind == EvidenceMention {
		a = e.Mention
	}
	id, err := NormalizeUserID(a.ID)
	if err != nil {
		id = ""
	}
	return id, a.Handle
}

// time returns when the evidence happened: the post's time when known,
// else when it was seen.
func (e *Evidence) time() time.Time {
	if !e.TweetCreatedAt.IsZero() {
		return e.TweetCreatedAt.UTC()
	}
	return e.SeenAt.UTC()
}

// Validate reports what is wrong with e, if anything: a record that fails
// it would fail on the processor side.
func (e *Evidence) Validate() error {
	if err := e.Demand.validate(); err != nil {
		return err
	}
	if err := checkCaseID(e.CaseID, e.Demand.ID, e.EntryKind, e.Entry); err != nil {
		return err
	}
	switch {
	case e.Kind != EvidencePost && e.Kind != EvidenceMention:
		return fmt.Errorf("unknown evidence kind %q", e.Kind)
	case !oneOf(e.In, "tweet", "retweeted", "quoted", "replied_to"):
		return fmt.Errorf("unknown place %q", e.In)
	case !oneOf(e.Tier, "exact", "loose", "lookalike"):
		return fmt.Errorf("unknown tier %q", e.Tier)
	case e.TweetID == "":
		return fmt.Errorf("evidence without a tweet id")
	case e.SeenAt.IsZero():
		return fmt.Errorf("evidence without seen_at")
	case e.Kind == EvidencePost && e.Mention != Author{}:
		return fmt.Errorf("post evidence with a mention")
	case e.Kind == EvidenceMention && e.Mention.Handle == "" && e.Mention.ID == "":
		return fmt.Errorf("mention evidence without the mention")
	case e.PinnedUserID != "" && e.EntryKind != EntryHandle:
		return fmt.Errorf("pinned_user_id on a %s entry; only handles are pinned", e.EntryKind)
	}
	if e.PinnedUserID != "" {
		if _, err := NormalizeUserID(e.PinnedUserID); err != nil {
			return fmt.Errorf("pinned_user_id: %w", err)
		}
	}
	if err := checkTimes(e.TweetCreatedAt, e.SeenAt); err != nil {
		return err
	}
	if e.Exemption != nil {
		if err := e.Exemption.validate(); err != nil {
			return err
		}
	}
	if e.Retro != nil {
		if err := e.Retro.validate(); err != nil {
			return err
		}
	}
	return nil
}

// Source is where a forwarded decision was read on the decisions topic, for
// the dead-letter record of a decision the processor refuses.
type Source struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

// ForwardedDecision is a case decision re-keyed by its case id onto the case
// input topic, so that it reaches the case's processor in order with the
// case's evidence.
type ForwardedDecision struct {
	Decision Decision
	// Raw is the record as read from the decisions topic: what goes to
	// the dead-letter topic if the processor refuses it.
	Raw    []byte
	Source Source
}

// Input is one record of the case input topic: evidence or a forwarded
// decision, exactly one of them set.
type Input struct {
	Evidence *Evidence
	Decision *ForwardedDecision
}

// CaseID returns the id of the case the input is for: the record's key.
func (in *Input) CaseID() string {
	switch {
	case in.Evidence != nil:
		return in.Evidence.CaseID
	case in.Decision != nil:
		return in.Decision.Decision.CaseID
	}
	return ""
}

// DecisionInput parses a record of the decisions topic and returns the
// input that forwards it to its case. ok is false, with no error, for a
// decision about a task: it is for the report, not for cases. An error is
// an *Error with ReasonInvalidDecision, for the dead-letter topic.
func DecisionInput(raw []byte, src Source) (in Input, ok bool, err error) {
	d, err := ParseDecision(raw)
	if err != nil {
		return Input{}, false, err
	}
	if d.CaseID == "" {
		return Input{}, false, nil
	}
	raw = bytes.Clone(bytes.TrimSpace(raw))
	return Input{Decision: &ForwardedDecision{Decision: d, Raw: raw, Source: src}}, true, nil
}

// Append appends the input as one line of compact JSON, with a trailing
// newline, to dst. It writes evidence without reflection and without
// allocating; workers call it for every account match.
func (in *Input) Append(dst []byte) ([]byte, error) {
	w := jsonWriter{b: dst}
	switch {
	case in.Evidence != nil && in.Decision == nil:
		in.Evidence.append(&w)
	case in.Decision != nil && in.Evidence == nil:
		fd := in.Decision
		if !json.Valid(fd.Raw) {
			return dst, fmt.Errorf("encode case input: the forwarded decision is not JSON")
		}
		w.raw(`{"schema":"` + InputSchemaID + `","type":"decision","case_id":`)
		w.str(fd.Decision.CaseID)
		w.raw(`,"decision":`)
		w.b = append(w.b, bytes.TrimSpace(fd.Raw)...)
		w.raw(`,"source":{"topic":`)
		w.str(fd.Source.Topic)
		w.raw(`,"partition":`)
		w.int(int64(fd.Source.Partition))
		w.raw(`,"offset":`)
		w.int(fd.Source.Offset)
		w.raw(`}}`)
	default:
		return dst, fmt.Errorf("encode case input: exactly one of evidence and decision must be set")
	}
	if w.err != nil {
		return dst, fmt.Errorf("encode case input: %w", w.err)
	}
	return append(w.b, '\n'), nil
}

func (e *Evidence) append(w *jsonWriter) {
	w.raw(`{"schema":"` + InputSchemaID + `","type":"evidence","case_id":`)
	w.str(e.CaseID)
	w.raw(`,"demand":`)
	e.Demand.append(w)
	w.raw(`,"entry":`)
	w.str(e.Entry)
	w.raw(`,"entry_kind":`)
	w.str(string(e.EntryKind))
	w.raw(`,"kind":`)
	w.str(string(e.Kind))
	w.raw(`,"in":`)
	w.str(e.In)
	w.raw(`,"tier":`)
	w.str(e.Tier)
	if e.ViaBinding {
		w.raw(`,"via":"binding"`)
	}
	w.raw(`,"tweet_id":`)
	w.str(e.TweetID)
	if !e.TweetCreatedAt.IsZero() {
		w.raw(`,"tweet_created_at":`)
		w.time(e.TweetCreatedAt)
	}
	w.raw(`,"seen_at":`)
	w.time(e.SeenAt)
	w.raw(`,"author":`)
	e.Author.append(w)
	if e.Kind == EvidenceMention {
		w.raw(`,"mention":`)
		e.Mention.append(w)
	}
	if e.PinnedUserID != "" {
		w.raw(`,"pinned_user_id":`)
		w.str(e.PinnedUserID)
	}
	if e.Exemption != nil {
		w.raw(`,"exemption":`)
		e.Exemption.append(w)
	}
	if e.Retro != nil {
		w.raw(`,"retro":`)
		e.Retro.append(w)
	}
	w.raw(`}`)
}

func (d *Demand) append(w *jsonWriter) {
	w.raw(`{"id":`)
	w.str(d.ID)
	w.raw(`,"jurisdictions":`)
	w.strsOrNull(d.Jurisdictions)
	w.raw(`,"action":`)
	w.str(d.Action)
	w.raw(`,"priority":`)
	w.str(d.Priority)
	w.raw(`,"scope":`)
	w.str(d.Scope)
	w.raw(`,"authority":`)
	w.str(d.Authority)
	w.raw(`,"legal_basis":`)
	w.str(d.LegalBasis)
	if d.Reference != "" {
		w.raw(`,"reference":`)
		w.str(d.Reference)
	}
	w.raw(`,"lists_version":`)
	w.str(d.ListsVersion)
	if d.Shadow {
		w.raw(`,"shadow":true`)
	}
	w.raw(`}`)
}

func (a *Author) append(w *jsonWriter) {
	w.raw(`{"id":`)
	w.str(a.ID)
	w.raw(`,"handle":`)
	w.str(a.Handle)
	w.raw(`}`)
}

func (e *Exemption) append(w *jsonWriter) {
	w.raw(`{"id":`)
	w.str(e.ID)
	w.raw(`,"category":`)
	w.str(e.Category)
	w.raw(`,"reason":`)
	w.str(e.Reason)
	w.raw(`}`)
}

func (r *Retro) append(w *jsonWriter) {
	w.raw(`{"job":`)
	w.str(r.Job)
	w.raw(`,"since":`)
	w.time(r.Since)
	w.raw(`,"until":`)
	w.time(r.Until)
	w.raw(`}`)
}

// decisionInputWire is the JSON of a forwarded decision record.
type decisionInputWire struct {
	CaseID   string          `json:"case_id"`
	Decision json.RawMessage `json:"decision"`
	Source   *Source         `json:"source"`
}

// decodeDecisionInput decodes a forwarded decision record.
func decodeDecisionInput(data []byte) (Input, error) {
	var w decisionInputWire
	if err := json.Unmarshal(data, &w); err != nil {
		return Input{}, refuse(ReasonInvalidInput, "%v", err)
	}
	if w.Source == nil || len(w.Decision) == 0 {
		return Input{}, refuse(ReasonInvalidInput, "forwarded decision without decision or source")
	}
	d, err := ParseDecision(w.Decision)
	if err != nil {
		return Input{}, refuse(ReasonInvalidInput, "forwarded decision: %v", err)
	}
	if d.CaseID == "" || d.CaseID != w.CaseID {
		return Input{}, refuse(ReasonInvalidInput, "forwarded decision for case %q under case_id %q", d.CaseID, w.CaseID)
	}
	return Input{Decision: &ForwardedDecision{Decision: d, Raw: bytes.Clone(w.Decision), Source: *w.Source}}, nil
}
