// Package events is Strata's event log: the envelope, its canonical encoding and hash chain,
// the codec (explicit registration, schema versions, upcasters), the Store contract every
// backend implements, Execute (load, fold, decide, append), Verify, and Export/Import.
//
// events imports the standard library plus two small libraries the envelope itself needs:
// github.com/zeebo/blake3 for the hash chain and github.com/google/uuid for UUIDv7 event IDs.
// It never imports domain, adapters or anything above it: aggregates plug in through the
// Event interface, stores through Store, and events/eventstest checks every Store.
package events
