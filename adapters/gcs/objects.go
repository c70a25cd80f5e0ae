package gcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/stratahq/strata/domain"
)

// OpenObject returns a reader of the object key of the store's bucket from byte offset
// on, and the object's size: plain object access for input URLs (gs://bucket/key), which
// name full keys in the bucket (the store's prefix does not apply). It implements the
// application's ObjectReader.
func (s *Store) OpenObject(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	if err := checkObjectKey(key, offset); err != nil {
		return nil, 0, err
	}
	op := "open object " + key
	o := s.bucket.Object(key)
	attrs, err := o.Attrs(ctx)
	if err != nil {
		return nil, 0, fail(ctx, op, err)
	}
	switch {
	case offset > attrs.Size:
		return nil, 0, fmt.Errorf("%s: offset %d beyond its %d bytes: %w", op, offset, attrs.Size, domain.ErrInvalid)
	case offset == attrs.Size && offset > 0:
		return io.NopCloser(strings.NewReader("")), attrs.Size, nil
	}
	// The generation pins the bytes read to the object measured.
	r, err := o.Generation(attrs.Generation).NewRangeReader(ctx, offset, -1)
	if err != nil {
		return nil, 0, fail(ctx, op, err)
	}
	return r, attrs.Size, nil
}

// ListObjects calls fn for every object of the bucket whose name starts with prefix, in
// name order. It implements the application's ObjectReader.
func (s *Store) ListObjects(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection([]string{"Name", "Size"}); err != nil {
		return fmt.Errorf("list objects %s: %w", prefix, err)
	}
	it := s.bucket.Objects(ctx, q)
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return fail(ctx, "list objects "+prefix, err)
		}
		if strings.HasSuffix(attrs.Name, "/") {
			continue
		}
		if err := fn(attrs.Name, attrs.Size); err != nil {
			return err
		}
	}
}

func checkObjectKey(key string, offset int64) error {
	switch {
	case key == "" || len(key) > 1024 || strings.HasSuffix(key, "/"):
		return fmt.Errorf("open object %.80q: want a name of 1 to 1024 bytes, not ending in '/': %w", key, domain.ErrInvalid)
	case offset < 0:
		return fmt.Errorf("open object %.80q: negative offset %d: %w", key, offset, domain.ErrInvalid)
	}
	return nil
}
