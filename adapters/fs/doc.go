// Package fs is the embedded default blob.Store: content-addressed files in a local
// directory. A Put streams into a temporary file, fsyncs it and renames it atomically into
// place under its BLAKE3 address, so a crash never leaves a partial object visible.
// It imports the blob contract and the standard library only, never another adapter.
package fs
