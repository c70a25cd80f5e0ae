package swift

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	ncw "github.com/ncw/swift/v2"

	"github.com/stratahq/strata/domain"
)

// OpenObject returns a reader of the object key of the store's container from byte
// offset on, and the object's size: plain object access for input URLs
// (swift://project/container/key), which name full object names in the container (the
// store's prefix does not apply). It implements the application's ObjectReader.
func (s *Store) OpenObject(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	if err := checkObjectKey(key, offset); err != nil {
		return nil, 0, err
	}
	op := "open object " + key
	info, _, err := s.conn.Object(ctx, s.cfg.Container, key)
	if err != nil {
		return nil, 0, fail(ctx, op, err)
	}
	switch {
	case offset > info.Bytes:
		return nil, 0, fmt.Errorf("%s: offset %d beyond its %d bytes: %w", op, offset, info.Bytes, domain.ErrInvalid)
	case offset == info.Bytes && offset > 0:
		return io.NopCloser(strings.NewReader("")), info.Bytes, nil
	}
	h := ncw.Headers{}
	if info.Hash != "" {
		h["If-Match"] = info.Hash // the bytes read belong to the object measured
	}
	if offset > 0 {
		h["Range"] = "bytes=" + strconv.FormatInt(offset, 10) + "-"
	}
	f, _, err := s.conn.ObjectOpen(ctx, s.cfg.Container, key, false, h)
	if err != nil {
		return nil, 0, fail(ctx, op, err)
	}
	return f, info.Bytes, nil
}

// ListObjects calls fn for every object of the container whose name starts with prefix,
// in name order. It implements the application's ObjectReader.
func (s *Store) ListObjects(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	opts := &ncw.ObjectsOpts{Prefix: prefix, Limit: 10000}
	for {
		page, err := s.conn.Objects(ctx, s.cfg.Container, opts)
		if err != nil {
			return fail(ctx, "list objects "+prefix, err)
		}
		for _, o := range page {
			if o.PseudoDirectory || strings.HasSuffix(o.Name, "/") {
				continue
			}
			if err := fn(o.Name, o.Bytes); err != nil {
				return err
			}
		}
		if len(page) < opts.Limit {
			return nil
		}
		opts.Marker = page[len(page)-1].Name
	}
}

func checkObjectKey(key string, offset int64) error {
	switch {
	case key == "" || len(key) > 1024 || strings.HasSuffix(key, "/"):
		return fmt.Errorf("open object %.80q: want an object name of 1 to 1024 bytes, not ending in '/': %w", key, domain.ErrInvalid)
	case offset < 0:
		return fmt.Errorf("open object %.80q: negative offset %d: %w", key, offset, domain.ErrInvalid)
	}
	return nil
}
