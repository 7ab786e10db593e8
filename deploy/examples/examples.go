// Package examples embeds the example demand lists, so that `flagstream
// demo` runs from any directory and from a built binary.
package examples

import "embed"

// Lists holds lists/*.yaml and the entry files they name.
//
//go:embed lists
var Lists embed.FS
