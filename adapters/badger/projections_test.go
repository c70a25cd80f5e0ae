package badger_test

import (
	"errors"
	"testing"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/projections"
	"github.com/stratahq/strata/projections/projectionstest"
)

func mustOpenProjections(t *testing.T, dir string) *badger.Projections {
	t.Helper()
	p, err := badger.OpenProjections(badger.SmallProjections(dir))
	if err != nil {
		t.Fatalf("OpenProjections() error = %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	})
	return p
}

func TestProjections(t *testing.T) {
	projectionstest.Run(t, func(t *testing.T) projections.Store { return mustOpenProjections(t, t.TempDir()) })
}

func TestProjections_TooBig(t *testing.T) {
	p := mustOpenProjections(t, t.TempDir())
	big := make([]byte, 100)
	err := p.Update(t.Context(), func(tx projections.Txn) error {
		for i := range 1 << 17 {
			if err := tx.Set([]byte{byte(i >> 16), byte(i >> 8), byte(i)}, big); err != nil {
				return err
			}
		}
		return nil
	})
	if !errors.Is(err, projections.ErrTooBig) {
		t.Fatalf("Update(131072 keys) error = %v, want ErrTooBig", err)
	}
}
