package testkit

import (
	"os"
	"slices"
	"strconv"
)

// EnvInt returns the positive integer in the environment variable name,
// or def when it is unset or not one: a benchmark's size or rounds.
func EnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// Median returns the median of xs, which it leaves as they are.
func Median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
