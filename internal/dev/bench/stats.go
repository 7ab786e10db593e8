package bench

import (
	"fmt"
	"slices"
)

// Median returns the median of xs, 0 for none.
func Median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Spread returns the range of xs relative to their median: (max-min)/median.
func Spread(xs []float64) float64 {
	m := Median(xs)
	if len(xs) == 0 || m == 0 {
		return 0
	}
	return (slices.Max(xs) - slices.Min(xs)) / m
}

// Summary is the summary of one contender's rounds.
type Summary struct {
	Median, Min, Max float64
	Spread           float64 // (Max-Min)/Median
}

// Summarize summarizes xs.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	return Summary{Median: Median(xs), Min: slices.Min(xs), Max: slices.Max(xs), Spread: Spread(xs)}
}

// MaxSpread is the widest spread of a contender's rates, and of the
// rounds' ratios, at which the ratio of the medians is worth stating
// without a warning: beyond it, the machine's noise is as large as the
// differences being measured.
const MaxSpread = 0.20

// Trust returns why the ratio of the medians cannot be trusted, or "" when
// it can: too few rounds, or rates or ratios spread wider than MaxSpread.
func Trust(baseline, flagstream, ratios []float64) string {
	switch {
	case len(ratios) < 3:
		return fmt.Sprintf("only %d round(s): run at least 3 (--runs) for a median that resists one disturbed round", len(ratios))
	case Spread(baseline) > MaxSpread:
		return fmt.Sprintf("the baseline's rates spread %.0f%% around their median (more than %.0f%%): the machine is busy", 100*Spread(baseline), 100*MaxSpread)
	case Spread(flagstream) > MaxSpread:
		return fmt.Sprintf("flagstream's rates spread %.0f%% around their median (more than %.0f%%): the machine is busy", 100*Spread(flagstream), 100*MaxSpread)
	case Spread(ratios) > MaxSpread:
		return fmt.Sprintf("the rounds' ratios spread %.0f%% around their median (more than %.0f%%)", 100*Spread(ratios), 100*MaxSpread)
	}
	return ""
}
