package badger_test

import (
	"bytes"
	"errors"
	"fmt"
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

// TestProjections_Compact: after many writes through level 0, Compact leaves every key
// as it was, readable, while writes go on.
func TestProjections_Compact(t *testing.T) {
	p := mustOpenProjections(t, t.TempDir())
	ctx := t.Context()
	val := bytes.Repeat([]byte("v"), 200)
	write := func(round int) {
		t.Helper()
		for batch := range 40 {
			err := p.Update(ctx, func(tx projections.Txn) error {
				for i := range 1000 {
					k := fmt.Appendf(nil, "k%06d", batch*1000+i)
					if err := tx.Set(k, append(val, byte(round))); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	write(1)
	done := make(chan error, 1)
	go func() { done <- p.Compact(ctx) }()
	write(2)
	if err := <-done; err != nil {
		t.Fatalf("Compact() error = %v", err)
	}
	n := 0
	err := p.View(ctx, func(r projections.Reader) error {
		return r.Scan([]byte("k"), nil, false, func(k, v []byte) bool {
			if want := fmt.Appendf(nil, "k%06d", n); !bytes.Equal(k, want) || len(v) != len(val)+1 || v[len(val)] != 2 {
				t.Errorf("key %d = %q (%d bytes, round %d), want %q of round 2", n, k, len(v), v[len(v)-1], want)
				return false
			}
			n++
			return true
		})
	})
	if err != nil || n != 40000 {
		t.Fatalf("after Compact: %d keys, %v; want 40000", n, err)
	}
}
