package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/domain"
)

// Objects reads the files under a directory as the objects of a bucket, keys being
// slash-separated paths relative to it. Reads never leave the directory: ".." and symbolic
// links pointing outside are refused (os.Root). It implements the application's
// ObjectReader, for tests and for a local directory served as a store.
type Objects struct {
	dir string
}

// NewObjects returns the objects under dir.
func NewObjects(dir string) (*Objects, error) {
	if dir == "" {
		return nil, fmt.Errorf("fs objects: dir is required: %w", domain.ErrInvalid)
	}
	return &Objects{dir: dir}, nil
}

// Objects returns the store's directory read as a bucket of plain objects.
func (s *Store) Objects() *Objects { return &Objects{dir: s.cfg.Dir} }

func checkObjectKey(key string, offset int64) error {
	switch {
	case key == "" || len(key) > 1024 || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") || strings.Contains(key, `\`):
		return fmt.Errorf("open object %.80q: want a relative slash-separated path of at most 1024 bytes: %w", key, domain.ErrInvalid)
	case !fs.ValidPath(key):
		return fmt.Errorf("open object %.80q: empty, '.' or '..' path element: %w", key, domain.ErrInvalid)
	case offset < 0:
		return fmt.Errorf("open object %.80q: negative offset %d: %w", key, offset, domain.ErrInvalid)
	}
	return nil
}

// OpenObject returns a reader of the file key from byte offset on, and its size.
func (o *Objects) OpenObject(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	if err := checkObjectKey(key, offset); err != nil {
		return nil, 0, err
	}
	op := "open object " + key
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	root, err := os.OpenRoot(o.dir)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	defer func() { _ = root.Close() }() // a directory handle opened only to read: closing it cannot lose data
	f, err := root.Open(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("%s: %w", op, blob.ErrNotFound)
	} else if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file: %w", blob.ErrNotFound)
	}
	if err == nil && offset > fi.Size() {
		err = fmt.Errorf("offset %d beyond its %d bytes: %w", offset, fi.Size(), domain.ErrInvalid)
	}
	if err == nil && offset > 0 {
		_, err = f.Seek(offset, io.SeekStart)
	}
	if err != nil {
		_ = f.Close()
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	return &ctxFile{ctx: ctx, f: f}, fi.Size(), nil
}

// ListObjects calls fn for every regular file whose key starts with prefix, in key order.
func (o *Objects) ListObjects(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	root, err := os.OpenRoot(o.dir)
	if err != nil {
		return fmt.Errorf("list objects %s: %w", prefix, err)
	}
	defer func() { _ = root.Close() }() // a directory handle opened only to read: closing it cannot lose data
	start := "."
	if i := strings.LastIndexByte(prefix, '/'); i > 0 {
		start = prefix[:i]
	}
	if !fs.ValidPath(start) {
		return nil // no file can have such a key
	}
	type entry struct {
		key  string
		size int64
	}
	var found []entry
	err = fs.WalkDir(root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if errors.Is(err, fs.ErrNotExist) && p == start {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && !strings.HasPrefix(p+"/", prefix) && !strings.HasPrefix(prefix, p+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(p, prefix) || path.Clean(p) != p {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		found = append(found, entry{p, fi.Size()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("list objects %s: %w", prefix, err)
	}
	slices.SortFunc(found, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range found {
		if err := fn(e.key, e.size); err != nil {
			return err
		}
	}
	return nil
}

// ctxFile fails reads once its context ends.
type ctxFile struct {
	ctx context.Context // the OpenObject call's context
	f   *os.File
}

func (c *ctxFile) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.f.Read(p)
}

func (c *ctxFile) Close() error { return c.f.Close() }
