package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/domain"
)

var _ blob.Store = (*Store)(nil)

// Config locates a filesystem store.
type Config struct {
	// Dir is the root directory; it is created if missing. Content lives in
	// Dir/blake3/<first two hex digits>/<hex address>, uploads in progress in Dir/tmp
	// (New removes files there older than a day: leftovers of a crash).
	Dir string
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	if c.Dir == "" {
		return fmt.Errorf("fs store: dir is required: %w", domain.ErrInvalid)
	}
	return nil
}

// Store is a blob.Store on a local directory. It is safe for concurrent use, also by
// several processes sharing the directory.
type Store struct {
	cfg Config
}

// New returns a Store on cfg.Dir, creating its directories.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, dir := range []string{filepath.Join(cfg.Dir, "blake3"), filepath.Join(cfg.Dir, "tmp")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open fs store: %w", err)
		}
	}
	s := &Store{cfg: cfg}
	s.removeStale(time.Now().Add(-staleAfter))
	return s, nil
}

// staleAfter is how old a temporary file must be before New removes it: far longer than
// any upload, so a Put still running in another process sharing Dir keeps its file.
const staleAfter = 24 * time.Hour

// removeStale deletes temporary files last written before cutoff: leftovers of Puts
// interrupted by a crash. It is best effort; a leftover costs only disk space.
func (s *Store) removeStale(cutoff time.Time) {
	dir := filepath.Join(s.cfg.Dir, "tmp")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(cutoff) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func (s *Store) path(d domain.Digest) string {
	hex := d.String()
	return filepath.Join(s.cfg.Dir, "blake3", hex[:2], hex)
}

// copyBuffers feed io.CopyBuffer; one hashing chunk each so the Source hands whole chunks on.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// writerOnly hides *os.File's ReadFrom so io.CopyBuffer uses our large buffer.
type writerOnly struct{ io.Writer }

// Put implements blob.Store: it writes to a temporary file, fsyncs it, and renames it to the
// content address unless that already exists.
func (s *Store) Put(ctx context.Context, r io.Reader) (obj blob.Object, err error) {
	src := blob.NewSource(ctx, r)
	tmp, err := os.CreateTemp(filepath.Join(s.cfg.Dir, "tmp"), "put-*")
	if err != nil {
		src.Object()
		return blob.Object{}, fmt.Errorf("put: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()           // already failing; the close error adds nothing
			_ = os.Remove(tmp.Name()) // best effort: a leftover temporary file is harmless
		}
	}()
	buf := copyBuffers.Get().(*[]byte)
	_, err = io.CopyBuffer(writerOnly{tmp}, src, *buf)
	copyBuffers.Put(buf)
	obj = src.Object()
	if err != nil {
		return blob.Object{}, src.PutError(err)
	}
	if err = tmp.Chmod(0o444); err != nil {
		return blob.Object{}, fmt.Errorf("put: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return blob.Object{}, fmt.Errorf("put: sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return blob.Object{}, fmt.Errorf("put: close %s: %w", tmp.Name(), err)
	}
	if err = ctx.Err(); err != nil {
		return blob.Object{}, fmt.Errorf("put: %w", err)
	}
	final := s.path(obj.Digests.BLAKE3)
	if _, serr := os.Lstat(final); serr == nil {
		if err = os.Remove(tmp.Name()); err != nil {
			return blob.Object{}, fmt.Errorf("put: %w", err)
		}
		return obj, nil // already stored: leave it as it is
	}
	if err = os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return blob.Object{}, fmt.Errorf("put: %w", err)
	}
	// A concurrent Put of the same content may rename first; replacing its file with the
	// same bytes is harmless, and rename is atomic either way.
	if err = os.Rename(tmp.Name(), final); err != nil {
		return blob.Object{}, fmt.Errorf("put %s: %w", obj.Digests.BLAKE3, err)
	}
	if err = syncDir(filepath.Dir(final)); err != nil {
		return blob.Object{}, fmt.Errorf("put %s: %w", obj.Digests.BLAKE3, err)
	}
	return obj, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close() // the sync error is the one to report
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", dir, err)
	}
	return nil
}

// Open implements blob.Store.
func (s *Store) Open(ctx context.Context, d domain.Digest) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", d, err)
	}
	f, err := os.Open(s.path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", d, blob.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("open %s: %w", d, err)
	}
	return blob.Verify(ctx, f, d), nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, d domain.Digest) (blob.Info, error) {
	if err := ctx.Err(); err != nil {
		return blob.Info{}, fmt.Errorf("stat %s: %w", d, err)
	}
	fi, err := os.Stat(s.path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return blob.Info{}, fmt.Errorf("stat %s: %w", d, blob.ErrNotFound)
	} else if err != nil {
		return blob.Info{}, fmt.Errorf("stat %s: %w", d, err)
	}
	return blob.Info{Digest: d, Size: fi.Size()}, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, d domain.Digest) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", d, err)
	}
	if err := os.Remove(s.path(d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", d, err)
	}
	return nil
}

// List implements blob.Store, walking the fan-out directories in order.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) ([]blob.Info, error) {
	if err := blob.CheckList(prefix, after, limit); err != nil {
		return nil, err
	}
	root := filepath.Join(s.cfg.Dir, "blake3")
	dirs, err := os.ReadDir(root) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var out []blob.Info
	for _, dir := range dirs {
		name := dir.Name()
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		if len(name) != 2 || !strings.HasPrefix(name, prefix[:min(2, len(prefix))]) {
			continue
		}
		if name < after[:min(2, len(after))] {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(root, name))
		if err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		for _, e := range entries {
			key := e.Name()
			d, ok := blob.ParseKey(key)
			if !ok || !strings.HasPrefix(key, prefix) || key <= after {
				continue
			}
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted meanwhile
			} else if err != nil {
				return nil, fmt.Errorf("list: %w", err)
			}
			out = append(out, blob.Info{Digest: d, Size: fi.Size()})
			if len(out) == limit {
				return out, nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	return out, nil
}
