package app

import (
	"context"
	"io"
)

// ObjectReader reads plain objects of one bucket (container, directory) by key, for
// input URLs that name a user's files (s3://bucket/path/file.csv) rather than Strata's
// content-addressed blobs. The store adapters implement it on their Store, reusing its
// client and credentials; keys are full keys in the bucket, the store's prefix does not
// apply. It only reads.
type ObjectReader interface {
	// OpenObject returns a reader of the content of the object key from byte offset on,
	// and the object's whole size. The caller must close the reader. offset 0 reads the
	// whole object; an offset equal to the size gives an empty reader; a larger one, a
	// negative one or an invalid key is an error matching domain.ErrInvalid. A missing
	// object is an error matching blob.ErrNotFound (and domain.ErrNotFound). Cancelling
	// ctx makes OpenObject, and later Reads, fail with an error matching ctx.Err().
	OpenObject(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error)

	// ListObjects calls fn with the key and size of every object whose key starts with
	// prefix, in increasing key order, reading the listing in pages. It stops and returns
	// fn's error when fn fails, and ctx.Err() when ctx ends. Directory placeholders (keys
	// ending in "/") are skipped.
	ListObjects(ctx context.Context, prefix string, fn func(key string, size int64) error) error
}
