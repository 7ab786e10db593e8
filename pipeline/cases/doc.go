// Package cases is the pure core of accounts and cases: one review case per
// account entry (handle, user id, pinned account) of a `scope: user` demand,
// instead of one review task per tweet. It defines the records, their JSON,
// and the state machine that turns evidence and decisions into case events;
// it does no I/O, starts no goroutine and counts no metric. The formats it
// writes for others are contracts, published as JSON Schemas beside this
// file: review_case.schema.json (flagstream.review_case/v1),
// review_decision.schema.json (flagstream.review_decision/v1) and
// binding.schema.json (flagstream.binding/v1).
//
// # Where it runs
//
// Workers match tweets as before. Every hit of an account entry of a
// `scope: user` demand becomes an [Evidence] record instead of part of a
// task, keyed by [CaseID] and produced to an internal topic that is
// co-partitioned with the compacted case-state topic (same partition count,
// same key, same partitioner). Decisions read from the decisions topic are
// re-keyed by case_id onto the same internal topic ([ForwardedDecision]), so
// a case's evidence and decisions form one ordered stream. The internal topic
// is consumed in a consumer group, Kafka Streams style: the instance that
// owns a partition restores the states of that partition from the state
// topic ([DecodeState]), then decodes each record ([InputDecoder]), feeds
// it in order to [Apply] (or a [Processor]) and writes what comes out. So one case is processed by
// exactly one instance at a time, in order, and N instances agree without
// talking to each other: Kafka's group protocol decides who owns what.
//
// For each input record, in this order: produce the events ([Event.Append],
// key = case_id) and the binding ([Binding.Append], key = the normalized
// handle) and wait for their acknowledgement; then produce the new state
// ([State.Append], key = case_id) and wait for it; then commit the input
// offset. A crash between two steps repeats the last events on replay (same
// case_id) and may count evidence twice, but never loses an event or a count:
// events are acknowledged before the state that says they were emitted.
// `scan` runs the same [Processor] in memory and writes the events to a file.
//
// # Accounts and bindings
//
// A handle is only a name; the numeric user id is the account. The state
// machine is authoritative for the binding of a case: the first user id seen
// under the listed handle binds it (learned, and [Output.Binding] is the
// binding to publish); a pinned binding from the demand's `accounts:`
// arrives in the evidence and wins. Evidence from the bound id counts under
// any handle (a rename; the matcher finds it through the bindings table and
// marks it via binding). A post by the listed handle from another user id
// is not the listed account: it counts nothing and the case gets a
// `reassigned` event naming the new holder, once per change of holder.
package cases
