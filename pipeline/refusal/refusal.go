// Package refusal is the error of an input that the pipeline refuses: a
// reason class, from a small fixed set fit for metric labels, and what
// exactly is wrong. pipeline/decode (records) and pipeline/cases (case
// inputs) each name their reasons and alias Error with them.
package refusal

import (
	"errors"
	"fmt"
)

// Error is an input refused with a reason class and what exactly is wrong.
type Error[R ~string] struct {
	Reason R
	Msg    string
}

func (e *Error[R]) Error() string { return string(e.Reason) + ": " + e.Msg }

// New returns the Error of reason r with the message fmt.Sprintf formats.
func New[R ~string](r R, format string, args ...any) *Error[R] {
	return &Error[R]{Reason: r, Msg: fmt.Sprintf(format, args...)}
}

// ReasonOf returns the reason class of err when it is an *Error[R], else
// "".
func ReasonOf[R ~string](err error) R {
	var e *Error[R]
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
