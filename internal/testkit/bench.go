package testkit

import (
	"os"
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
