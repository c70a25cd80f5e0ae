// Package domain holds Strata's value types (digests, IDs, names, URIs, money, execution
// statuses) and the error kinds every aggregate wraps. Its subpackages are the pure
// aggregates: project, execution, datum, alias, dataset, task, deployment, environment.
//
// domain and everything below it import only the standard library: the domain is the
// stored schema of the event log and must not move when an adapter or SDK does
// (imports_test.go enforces this).
//
// # Conventions shared by every aggregate
//
//   - State has unexported fields; its zero value is an aggregate that does not exist yet.
//     Exported methods read it.
//   - Commands are imperative structs (execution.Queue); events are past-tense structs with
//     json tags (execution.Queued), the stored schema.
//   - Decide(State, Command) ([]Event, error) enforces the invariants and is pure: time, IDs
//     and digests arrive on the command. Zero events is a valid answer (idempotent command).
//   - Evolve(State, Event) State never fails or validates: history is fact. Like append, it
//     may reuse the maps and slices of the State it is given: fold forward and keep only
//     the result.
//   - Event is sealed (an unexported marker method). Each aggregate's Events() returns one
//     zero value of every event type, for explicit registration with the event codec.
//   - Wire names: EventType() returns "<package>.<Go type name>", e.g. "execution.Created",
//     "dataset.VersionCreated". Event types are named without repeating the aggregate, so
//     the wire name reads the same as the Go expression. They never change.
//   - Schema versions: EventSchema() returns the payload schema version; every event is at
//     1. A breaking change bumps it and adds an upcaster in the codec. A golden sample of
//     every event type and version lives in testdata/events/<wire name>.v<N>.json and must
//     decode forever (golden_test.go).
//   - Errors wrap exactly one of ErrInvalid, ErrNotFound, ErrConflict, so callers classify
//     them with errors.Is. Aggregates export sentinels (execution.ErrNotRunning) and typed
//     errors where callers need fields (*execution.TransitionError).
//   - Events carry IDs, URIs and names as plain strings validated by Decide, so a
//     stricter parser later never makes an old event undecodable.
//   - One command appends to one stream. Where a rule spans aggregates the application
//     layer reads the other aggregate and passes what it found on the command
//     (alias.Set.DatumPurged, execution.Create.Resolved), or runs two commands: project
//     counters (#N, !N, =N) are allocated on the project stream first, idempotently by the
//     ID of the thing numbered, and then carried by its creation (see package project).
//
// Regenerate the golden samples with: go test ./domain -run Golden -update
package domain
