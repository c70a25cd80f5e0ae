// Package gcs is a blob.Store on Google Cloud Storage with cloud.google.com/go/storage.
//
// Content smaller than one upload chunk is hashed in memory and written straight to its
// address with a does-not-exist precondition. Larger content is streamed as a resumable
// upload to a temporary object (one chunk in memory at a time), then copied server-side to
// its BLAKE3 address, and the temporary object is deleted. A crash can leave temporary
// objects under Prefix+"tmp/"; a bucket lifecycle rule on that prefix cleans them up.
//
// It imports the blob contract, blob/storecfg for secrets, and the Google client, never
// another adapter; client errors are translated here and their types never escape.
package gcs
