package fs

import (
	"errors"
	"os"
	"testing"

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
