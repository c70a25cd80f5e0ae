// Package storecfg describes data stores as configuration: named stores (kind, bucket or
// container, prefix, endpoint and a credentials reference by name), the organization's
// default store, per-project defaults, and the choice of the store an upload goes to (a
// step's upload-store first). Credentials are held as Secret values that never print:
// events record store names only, and no error, log line or String output of this package
// or the adapters carries a secret.
//
// It imports the standard library and domain only; cmd builds the blob.Store adapters
// from it, since this package must not import any adapter.
package storecfg
