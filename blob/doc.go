// Package blob owns the content-addressed file store contract: Store, its sentinels, and
// the single-pass hashing (md5, sha1, sha256 and BLAKE3 at once) every backend and the runner
// use. Keys are BLAKE3 content addresses (domain.Digest); identical content is stored once
// per store.
//
// Backends live in adapters/{fs,s3,gcs,azure,swift,memory} and each passes blobtest.Run.
// Package blob imports only the standard library, domain and the BLAKE3 implementation; it
// must not import adapters, events or anything above them.
package blob
