// Package badger is the embedded default events.Store, on BadgerDB v4.
//
// One writer goroutine owns every append: it takes all the appends waiting at that moment,
// checks them against the per-stream heads, writes them in one transaction, syncs it once
// and only then acknowledges each caller (group commit). Positions are gapless.
//
// Layout of the keys (all big-endian):
//
//	'e' position                 → the envelope (events.Envelope.MarshalBinary)
//	's' stream 0x00 version      → position
//	'h' stream                   → version, hash of the stream's last event
//	'i' event id                 → position
//
// badger imports the events contract and the badger SDK only.
package badger
