// Package objecttest is the conformance suite of app.ObjectReader: every store adapter
// (fs, s3, gcs, azure, swift) runs Run against its real test server. It imports the
// standard library, domain, blob, app and go-cmp, never an adapter.
package objecttest
