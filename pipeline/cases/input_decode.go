package cases

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// InputDecoder decodes records of the case input topic. It keeps a
// parser's buffers, so decoding evidence allocates little more than its
// strings once they have grown; it is not safe for concurrent use: the
// consumer of a partition owns one. The zero value is ready to use.
type InputDecoder struct {
	parser fastjson.Parser
}

// DecodeInput decodes a record of the case input topic with a new
// InputDecoder (see InputDecoder.Decode).
func DecodeInput(data []byte) (Input, error) {
	var d InputDecoder
	return d.Decode(data)
}

// Decode decodes a record of the case input topic. It is strict about what
// the processor relies on (the schema name, every required field and its
// type, the values, a case_id that is the one of the demand and entry, a
// forwarded decision that parses) and ignores fields it does not know, so
// that an instance of a newer version may add some during a rolling
// upgrade; a null counts as absent. An error is an *Error with
// ReasonInvalidInput: the caller dead-letters the record and goes on.
func (d *InputDecoder) Decode(data []byte) (Input, error) {
	if !utf8.Valid(data) {
		return Input{}, refuse(ReasonInvalidInput, "not valid UTF-8")
	}
	v, err := d.parser.ParseBytes(data)
	if err != nil {
		return Input{}, refuse(ReasonInvalidInput, "not JSON: %v", err)
	}
	if v.Type() != fastjson.TypeObject {
		return Input{}, refuse(ReasonInvalidInput, "not a JSON object")
	}
	var r fieldReader
	if schema := r.str(v, "schema"); schema != InputSchemaID {
		return Input{}, refuse(ReasonInvalidInput, "schema %q, want %q", schema, InputSchemaID)
	}
	switch typ := r.str(v, "type"); typ {
	case "evidence":
	case "decision":
		// Rare, and the original bytes of the decision must come out
		// as they went in: encoding/json's RawMessage keeps them.
		return decodeDecisionInput(data)
	default:
		return Input{}, refuse(ReasonInvalidInput, "unknown input type %q (evidence, decision)", typ)
	}
	demand, author, seenAt := v.Get("demand"), v.Get("author"), v.Get("seen_at")
	if isAbsent(demand) || isAbsent(author) || isAbsent(seenAt) {
		return Input{}, refuse(ReasonInvalidInput, "evidence without demand, seen_at or author")
	}
	ev := &Evidence{
		CaseID: r.str(v, "case_id"),
		Demand: Demand{
			ID:            r.str(demand, "id"),
			Jurisdictions: r.strs(demand, "jurisdictions"),
			Action:        r.str(demand, "action"),
			Priority:      r.str(demand, "priority"),
			Scope:         r.str(demand, "scope"),
			Authority:     r.str(demand, "authority"),
			LegalBasis:    r.str(demand, "legal_basis"),
			Reference:     r.str(demand, "reference"),
			ListsVersion:  r.str(demand, "lists_version"),
			Shadow:        r.bool(demand, "shadow"),
		},
		Entry:          r.str(v, "entry"),
		EntryKind:      EntryKind(r.str(v, "entry_kind")),
		Kind:           EvidenceKind(r.str(v, "kind")),
		In:             r.str(v, "in"),
		Tier:           r.str(v, "tier"),
		TweetID:        r.str(v, "tweet_id"),
		TweetCreatedAt: r.time(v, "tweet_created_at"),
		SeenAt:         r.time(v, "seen_at"),
		Author:         Author{ID: r.str(author, "id"), Handle: r.str(author, "handle")},
		PinnedUserID:   r.str(v, "pinned_user_id"),
	}
	switch via := r.str(v, "via"); via {
	case "":
	case "binding":
		ev.ViaBinding = true
	default:
		r.fail("unknown via %q", via)
	}
	if m := v.Get("mention"); !isAbsent(m) {
		ev.Mention = Author{ID: r.str(m, "id"), Handle: r.str(m, "handle")}
	}
	if x := v.Get("exemption"); !isAbsent(x) {
		ev.Exemption = &Exemption{ID: r.str(x, "id"), Category: r.str(x, "category"), Reason: r.str(x, "reason")}
	}
	if x := v.Get("retro"); !isAbsent(x) {
		ev.Retro = &Retro{Job: r.str(x, "job"), Since: r.time(x, "since"), Until: r.time(x, "until")}
	}
	if r.err != nil {
		return Input{}, refuse(ReasonInvalidInput, "%v", r.err)
	}
	if err := ev.Validate(); err != nil {
		return Input{}, refuse(ReasonInvalidInput, "%v", err)
	}
	return Input{Evidence: ev}, nil
}

func isAbsent(v *fastjson.Value) bool { return v == nil || v.Type() == fastjson.TypeNull }

// fieldReader reads typed fields of JSON objects, keeping the first error.
type fieldReader struct{ err error }

func (r *fieldReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

// field returns member name of object v, nil when v is not an object or the
// member is absent or null.
func (r *fieldReader) field(v *fastjson.Value, name string) *fastjson.Value {
	if v.Type() != fastjson.TypeObject {
		r.fail("%s is in a %s, not an object", name, v.Type())
		return nil
	}
	f := v.Get(name)
	if isAbsent(f) {
		return nil
	}
	return f
}

func (r *fieldReader) str(v *fastjson.Value, name string) string {
	f := r.field(v, name)
	if f == nil {
		return ""
	}
	b, err := f.StringBytes()
	if err != nil {
		r.fail("%s must be a string", name)
		return ""
	}
	return string(b)
}

func (r *fieldReader) strs(v *fastjson.Value, name string) []string {
	f := r.field(v, name)
	if f == nil {
		return nil
	}
	items, err := f.Array()
	if err != nil {
		r.fail("%s must be an array of strings", name)
		return nil
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		b, err := it.StringBytes()
		if err != nil {
			r.fail("%s must be an array of strings", name)
			return nil
		}
		out = append(out, string(b))
	}
	return out
}

func (r *fieldReader) bool(v *fastjson.Value, name string) bool {
	f := r.field(v, name)
	if f == nil {
		return false
	}
	b, err := f.Bool()
	if err != nil {
		r.fail("%s must be true or false", name)
	}
	return b
}

// time reads an RFC 3339 time, as encoding/json reads a time.Time, in UTC;
// the zero time when absent.
func (r *fieldReader) time(v *fastjson.Value, name string) time.Time {
	s := r.str(v, name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		r.fail("%s: %v", name, err)
		return time.Time{}
	}
	return t.UTC()
}
