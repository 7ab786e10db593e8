package refusal_test

import (
	"fmt"
	"testing"

	"flagstream/pipeline/refusal"
)

type reason string

type otherReason string

func TestError(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", refusal.New(reason("bad_thing"), "field %s: %d", "x", 3))
	if got, want := err.Error(), "wrapped: bad_thing: field x: 3"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := refusal.ReasonOf[reason](err); got != "bad_thing" {
		t.Errorf("ReasonOf = %q, want bad_thing", got)
	}
	// Another set of reasons is another error type.
	if got := refusal.ReasonOf[otherReason](err); got != "" {
		t.Errorf("ReasonOf of another reason type = %q, want empty", got)
	}
	if got := refusal.ReasonOf[reason](fmt.Errorf("plain")); got != "" {
		t.Errorf("ReasonOf(plain error) = %q, want empty", got)
	}
}
