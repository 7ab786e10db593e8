package cases

import (
	"fmt"
	"time"

	"flagstream/matchers"
)

// Demand is what a case event says about the demand behind it. Evidence
// carries it, so that the processor, which holds no lists, writes the
// demand as the worker matched it; a case keeps the Demand of its last
// evidence.
type Demand struct {
	ID            string   `json:"id"`
	Jurisdictions []string `json:"jurisdictions"`
	Action        string   `json:"action"`   // review | withhold
	Priority      string   `json:"priority"` // low | normal | high | critical
	Scope         string   `json:"scope"`    // always user: only user-scope demands have cases
	Authority     string   `json:"authority"`
	LegalBasis    string   `json:"legal_basis"`
	Reference     string   `json:"reference,omitempty"`
	ListsVersion  string   `json:"lists_version"`
	// Shadow is true for a demand in shadow mode: its case events go to
	// the shadow topic, with "shadow": true.
	Shadow bool `json:"shadow,omitempty"`
}

// FromDemand returns the Demand of a list demand matched against lists of
// the given version. Shadow is left false: the caller sets it for a demand
// in shadow mode.
func FromDemand(d *matchers.Demand, listsVersion string) Demand {
	return Demand{
		ID:            d.ID,
		Jurisdictions: d.Jurisdictions,
		Action:        d.Action.String(),
		Priority:      d.Priority.String(),
		Scope:         d.Scope.String(),
		Authority:     d.Authority,
		LegalBasis:    d.LegalBasis,
		Reference:     d.Reference,
		ListsVersion:  listsVersion,
	}
}

// validate reports what is wrong with d, if anything.
func (d *Demand) validate() error {
	switch {
	case d.ID == "" || len(d.ID) > 128 || !isDemandID(d.ID):
		return fmt.Errorf("demand id %q is not a demand id", d.ID)
	case len(d.Jurisdictions) == 0:
		return fmt.Errorf("demand %s has no jurisdictions", d.ID)
	case !oneOf(d.Action, "review", "withhold"):
		return fmt.Errorf("demand %s: unknown action %q", d.ID, d.Action)
	case !oneOf(d.Priority, "low", "normal", "high", "critical"):
		return fmt.Errorf("demand %s: unknown priority %q", d.ID, d.Priority)
	case d.Scope != "user":
		return fmt.Errorf("demand %s: scope %q; only scope user demands have cases", d.ID, d.Scope)
	case d.ListsVersion == "" || !isLowerHex(d.ListsVersion):
		return fmt.Errorf("demand %s: lists_version %q is not a lowercase hex hash", d.ID, d.ListsVersion)
	}
	for i, j := range d.Jurisdictions {
		if !isCountry(j) {
			return fmt.Errorf("demand %s: jurisdiction %q is not an ISO 3166-1 alpha-2 code", d.ID, j)
		}
		for _, k := range d.Jurisdictions[:i] {
			if k == j {
				return fmt.Errorf("demand %s: jurisdiction %q is listed twice", d.ID, j)
			}
		}
	}
	return nil
}

// Exemption says that a case's account is exempt from a demand (an
// exemption file with `kind: exemption`): its events still reach humans,
// with action escalate and priority critical.
type Exemption struct {
	ID       string `json:"id"`
	Category string `json:"category"` // journalist | politician | news_media | civil_society | public_interest | other
	Reason   string `json:"reason"`
}

func (e *Exemption) validate() error {
	if e.ID == "" || !isDemandID(e.ID) {
		return fmt.Errorf("exemption id %q is not an id", e.ID)
	}
	if !oneOf(e.Category, "journalist", "politician", "news_media", "civil_society", "public_interest", "other") {
		return fmt.Errorf("exemption %s: unknown category %q", e.ID, e.Category)
	}
	return nil
}

// Retro names the retro-hunt job that found a piece of evidence in retained
// history: its id and the time range it reads.
type Retro struct {
	Job   string    `json:"job"`
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
}

func (r *Retro) validate() error {
	switch {
	case r.Job == "":
		return fmt.Errorf("retro job without an id")
	case r.Since.IsZero() || r.Until.IsZero():
		return fmt.Errorf("retro job %s without since or until", r.Job)
	case r.Until.Before(r.Since):
		return fmt.Errorf("retro job %s: until before since", r.Job)
	}
	return nil
}

func oneOf(s string, names ...string) bool {
	for _, n := range names {
		if s == n {
			return true
		}
	}
	return false
}

// isDemandID reports whether s is made of the characters of a demand or
// exemption id: A-Z a-z 0-9 . _ : -.
func isDemandID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// isCountry reports whether s has the form of an ISO 3166-1 alpha-2 code:
// two uppercase ASCII letters.
func isCountry(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}
