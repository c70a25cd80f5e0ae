// Package projections turns the event log into read models and keeps them current.
//
// The Engine feeds every Projection from the global log (events.Store.Subscribe): it
// catches up from each projection's checkpoint, then follows live events. It applies
// envelopes in batches, and writes a batch's state changes and the new checkpoints in one
// transaction of the projection Store, so a crash never applies an event twice or skips
// one. A projection whose Version changed is rebuilt from position 0; Rebuild does it on
// demand. Each projection's keys live in a namespace of its own generation, so a rebuild
// starts atomically (a new generation with checkpoint 0) and the old keys are deleted
// afterwards, in pieces.
//
// Rebuilds are fast because the engine pipelines (events are decoded on every core; a
// batch is applied in memory on a snapshot while the batch before commits), projections
// that implement BatchProjection read and write each record once per batch, and the hot
// records are binary (audit entries, table rows). An event whose writes do not fit in one
// transaction goes through a redo log and is still applied all or nothing.
//
// The read models are Executions (table, detail, metadata), Inputs (digest history and
// change warnings), Aliases (datum aliases), Datasets (versions and dataset aliases),
// Lineage (graph, traversals, impact) and Audit (every event, filterable, and the map from
// time to position). Aliases, Datasets and Lineage are bitemporal: each fact carries the
// position it became true and the position it stopped being true, so they answer "as of"
// with no replay; Reads answers the others as of a position by replaying into a scratch
// store.
//
// projections imports the domain packages, events and the standard library only; the
// projection Store implementations live in adapters/memory and adapters/badger, and every
// one passes projectionstest.Run.
package projections
