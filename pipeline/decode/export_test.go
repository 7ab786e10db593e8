package decode

// FullParseOnly makes d parse every record in full, never on demand.
func FullParseOnly(d *Decoder) { d.mode = readFullOnly }

// OnDemandOnly makes d read records on demand alone: a record the
// on-demand reader gives up on is rejected with ErrNotOnDemand.
func OnDemandOnly(d *Decoder) { d.mode = readOnDemandOnly }

// ErrNotOnDemand is the rejection of OnDemandOnly for a record the
// on-demand reader gives up on.
var ErrNotOnDemand error = errNotOnDemand
