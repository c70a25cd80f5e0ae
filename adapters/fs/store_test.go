package fs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/blobtest"
	"github.com/stratahq/strata/domain"
)

func TestStore(t *testing.T) {
	t.Parallel()
	f := blobtest.Features{Corrupt: func(s blob.Store, d domain.Digest) error {
		p := s.(*Store).path(d)
		if err := os.Chmod(p, 0o644); err != nil {
			return err
		}
		return os.WriteFile(p, []byte("not what was stored"), 0o644)
	}}
	blobtest.Run(t, f, func(t *testing.T) blob.Store { return mustNew(t, Config{Dir: t.TempDir()}) })
}

func TestNew_removesStaleTemporaryFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustNew(t, Config{Dir: dir})
	stale, fresh := filepath.Join(dir, "tmp", "put-stale"), filepath.Join(dir, "tmp", "put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	mustNew(t, Config{Dir: dir})
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary file after New: Stat() error = %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temporary file after New: Stat() error = %v, want it kept", err)
	}
}

func TestNew_invalid(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("New(no dir) error = %v, want domain.ErrInvalid", err)
	}
}

func mustNew(tb testing.TB, cfg Config) *Store {
	tb.Helper()
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
