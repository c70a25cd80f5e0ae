// Package azure is a blob.Store on Azure Blob Storage (block blobs) with azblob.
//
// Content smaller than one block is hashed in memory and uploaded straight to its address
// with an if-none-match precondition. Larger content is staged block by block into a
// temporary blob (one block in memory at a time), committed, copied server-side to its
// BLAKE3 address, and the temporary blob is deleted. A crash can leave temporary blobs
// under Prefix+"tmp/"; a lifecycle management rule on that prefix cleans them up.
//
// It imports the blob contract, blob/storecfg for secrets, and the Azure SDK, never
// another adapter; SDK errors are translated here and their types never escape.
package azure
