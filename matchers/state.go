package matchers

import "time"

// State is where a demand stands at a time: active (its entries match),
// or why not. Demand.StateAt decides it; nothing else does.
type State uint8

// The states.
const (
	StateActive    State = iota
	StatePending         // before its received time
	StateExpired         // from its expires time on
	StateRescinded       // withdrawn (status: rescinded), whatever its dates
)

var stateNames = enum{"active", "pending", "expired", "rescinded"}

// String returns the state's name, as metrics and `lists check` show it.
func (s State) String() string { return stateNames.name(uint8(s)) }

// States lists every state, for metrics that keep a series of each.
func States() []State { return []State{StateActive, StatePending, StateExpired, StateRescinded} }

// StateAt returns the demand's state at time t: rescinded if its status
// says so, else pending before Received, expired from Expires on (a zero
// time leaves that side open), and active in between.
func (d *Demand) StateAt(t time.Time) State {
	switch {
	case d.Status == StatusRescinded:
		return StateRescinded
	case !d.Received.IsZero() && t.Before(d.Received):
		return StatePending
	case !d.Expires.IsZero() && !t.Before(d.Expires):
		return StateExpired
	}
	return StateActive
}
