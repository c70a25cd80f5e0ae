// Package bus is the watermill wiring: it carries runner dispatches (runner.Queue) over a
// watermill publisher and subscriber. NewGoChannel gives the in-process transport that
// `strata serve` and `strata worker` use; New takes any other watermill pub/sub, such as
// NATS JetStream for workers on other hosts (a later step).
//
// Watermill is transport, not storage: the event log owns order and positions, the
// runner.Dispatcher republishes what a transport loses, and the workers' handlers are
// idempotent, so at-least-once delivery is all this package promises.
//
// It implements runner.Queue and imports runner and watermill; it must not import app,
// graphql, projections or other adapters.
package bus
