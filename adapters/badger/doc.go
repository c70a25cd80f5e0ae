// Package badger is the embedded default events.Store, on BadgerDB v4.
//
// One writer goroutine owns every append: it takes all the appends waiting at that moment,
// checks them against the per-stream heads, writes them as one record of its own
// write-ahead log (wal.go) and as one badger transaction, syncs the log once while badger
// indexes the batch, and only then acknowledges each caller (group commit). Badger itself
// runs without syncing; on open the log gives back whatever badger had not written to its
// tables. Positions are gapless.
//
// Layout of the keys (all big-endian):
//
//	'e' position                 → the envelope (events.Envelope.MarshalBinary)
//	's' stream 0x00 last version → first version, first position, hash of the last event:
//	                               one key per append, whose events have consecutive versions
//	                               and positions; the stream's last such key is its head
//	'i' event id                 → position
//
// and beside them, in <dir>/wal, the log's segments (see wal.go).
//
// badger imports the events contract and the badger SDK only.
package badger
