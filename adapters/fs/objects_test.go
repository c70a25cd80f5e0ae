package fs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/app/objecttest"
	"github.com/stratahq/strata/domain"
)

var _ app.ObjectReader = (*Objects)(nil)

func TestObjects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	objs, err := NewObjects(dir)
	if err != nil {
		t.Fatal(err)
	}
	objecttest.Run(t, objs, func(_ context.Context, key string, content []byte) error {
		p := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, content, 0o644)
	})

	t.Run("NeverLeavesTheDirectory", func(t *testing.T) {
		outside := t.TempDir()
		if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "link")); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"../secret", "link", "/etc/passwd", "a/../../secret"} {
			if _, _, err := objs.OpenObject(t.Context(), key, 0); err == nil {
				t.Errorf("OpenObject(%q) error = nil, want a refusal", key)
			}
		}
		if _, _, err := objs.OpenObject(t.Context(), "../secret", 0); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("OpenObject(../secret) error = %v, want domain.ErrInvalid", err)
		}
	})
}
