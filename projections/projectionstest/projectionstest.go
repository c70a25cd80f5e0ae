// Package projectionstest is the conformance suite of the projections.Store contract.
// Every implementation runs it from its tests:
//
//	func TestProjections(t *testing.T) {
//		projectionstest.Run(t, func(t *testing.T) projections.Store { return memory.NewProjections() })
//	}
package projectionstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stratahq/strata/projections"
)

// Run checks the projections.Store contract. newStore must return an empty, isolated store.
func Run(t *testing.T, newStore func(t *testing.T) projections.Store) {
	t.Run("SetGetDelete", func(t *testing.T) { t.Parallel(); testSetGetDelete(t, newStore(t)) })
	t.Run("ScanOrderAndSeek", func(t *testing.T) { t.Parallel(); testScan(t, newStore(t)) })
	t.Run("ScanSeesOwnWrites", func(t *testing.T) { t.Parallel(); testOwnWrites(t, newStore(t)) })
	t.Run("FailedUpdateWritesNothing", func(t *testing.T) { t.Parallel(); testRollback(t, newStore(t)) })
	t.Run("CancelledContext", func(t *testing.T) { t.Parallel(); testCancelled(t, newStore(t)) })
	t.Run("UpdatesAreSerialised", func(t *testing.T) { t.Parallel(); testSerialised(t, newStore(t)) })
	t.Run("ViewIsASnapshot", func(t *testing.T) { t.Parallel(); testSnapshot(t, newStore(t)) })
}

func mustUpdate(t *testing.T, s projections.Store, fn func(projections.Txn) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update() error = %v", err)
	}
}

func get(t *testing.T, s projections.Store, key string) (string, bool) {
	t.Helper()
	var out string
	var found bool
	err := s.View(t.Context(), func(r projections.Reader) error {
		v, ok, err := r.Get([]byte(key))
		out, found = string(v), ok
		return err
	})
	if err != nil {
		t.Fatalf("View() error = %v", err)
	}
	return out, found
}

func scan(t *testing.T, r projections.Reader, prefix, seek string, reverse bool) []string {
	t.Helper()
	var seekB []byte
	if seek != "" {
		seekB = []byte(seek)
	}
	var got []string
	err := r.Scan([]byte(prefix), seekB, reverse, func(k, v []byte) bool {
		got = append(got, string(k)+"="+string(v))
		return true
	})
	if err != nil {
		t.Fatalf("Scan() error = %v", err)
	}
	return got
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testSetGetDelete(t *testing.T, s projections.Store) {
	mustUpdate(t, s, func(tx projections.Txn) error {
		if err := tx.Set([]byte("a"), []byte("1")); err != nil {
			return err
		}
		if err := tx.Set([]byte("b"), []byte{}); err != nil {
			return err
		}
		return tx.Delete([]byte("missing"))
	})
	if v, ok := get(t, s, "a"); !ok || v != "1" {
		t.Errorf("Get(a) = %q, %v, want 1, true", v, ok)
	}
	if v, ok := get(t, s, "b"); !ok || v != "" {
		t.Errorf("Get(b) = %q, %v, want empty, true", v, ok)
	}
	if _, ok := get(t, s, "c"); ok {
		t.Errorf("Get(c) found, want missing")
	}
	mustUpdate(t, s, func(tx projections.Txn) error { return tx.Delete([]byte("a")) })
	if _, ok := get(t, s, "a"); ok {
		t.Errorf("Get(a) after Delete found, want missing")
	}
}

func testScan(t *testing.T, s projections.Store) {
	mustUpdate(t, s, func(tx projections.Txn) error {
		for _, k := range []string{"p/3", "p/1", "q/1", "o/9", "p/2", "p/\xff", "p"} {
			if err := tx.Set([]byte(k), []byte("v"+k[len(k)-1:])); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.View(t.Context(), func(r projections.Reader) error {
		tests := []struct {
			name, prefix, seek string
			reverse            bool
			want               []string
		}{
			{"ascending", "p/", "", false, []string{"p/1=v1", "p/2=v2", "p/3=v3", "p/\xff=v\xff"}},
			{"descending", "p/", "", true, []string{"p/\xff=v\xff", "p/3=v3", "p/2=v2", "p/1=v1"}},
			{"seek ascending, exact", "p/", "p/2", false, []string{"p/2=v2", "p/3=v3", "p/\xff=v\xff"}},
			{"seek ascending, between", "p/", "p/15", false, []string{"p/2=v2", "p/3=v3", "p/\xff=v\xff"}},
			{"seek descending, exact", "p/", "p/2", true, []string{"p/2=v2", "p/1=v1"}},
			{"seek descending, between", "p/", "p/25", true, []string{"p/2=v2", "p/1=v1"}},
			{"seek descending past the prefix", "p/", "p0", true, []string{"p/\xff=v\xff", "p/3=v3", "p/2=v2", "p/1=v1"}},
			{"empty prefix is everything", "", "", false, []string{"o/9=v9", "p=vp", "p/1=v1", "p/2=v2", "p/3=v3", "p/\xff=v\xff", "q/1=v1"}},
			{"nothing", "r/", "", false, nil},
		}
		for _, tt := range tests {
			if got := scan(t, r, tt.prefix, tt.seek, tt.reverse); !equal(got, tt.want) {
				t.Errorf("%s: Scan(%q, %q, %v) = %q, want %q", tt.name, tt.prefix, tt.seek, tt.reverse, got, tt.want)
			}
		}
		var n int
		if err := r.Scan([]byte("p/"), nil, false, func(k, v []byte) bool { n++; return n < 2 }); err != nil {
			return err
		}
		if n != 2 {
			t.Errorf("Scan stopped after %d keys, want 2", n)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View() error = %v", err)
	}
}

func testOwnWrites(t *testing.T, s projections.Store) {
	mustUpdate(t, s, func(tx projections.Txn) error {
		for _, k := range []string{"k/1", "k/2", "k/3"} {
			if err := tx.Set([]byte(k), []byte("old")); err != nil {
				return err
			}
		}
		return nil
	})
	mustUpdate(t, s, func(tx projections.Txn) error {
		if err := tx.Set([]byte("k/2"), []byte("new")); err != nil {
			return err
		}
		if err := tx.Set([]byte("k/4"), []byte("new")); err != nil {
			return err
		}
		if err := tx.Delete([]byte("k/1")); err != nil {
			return err
		}
		if v, ok, err := tx.Get([]byte("k/2")); err != nil || !ok || string(v) != "new" {
			t.Errorf("Get(k/2) in txn = %q, %v, %v, want new", v, ok, err)
		}
		if _, ok, err := tx.Get([]byte("k/1")); err != nil || ok {
			t.Errorf("Get(k/1) in txn after Delete: found = %v, %v", ok, err)
		}
		want := []string{"k/2=new", "k/3=old", "k/4=new"}
		if got := scan(t, tx, "k/", "", false); !equal(got, want) {
			t.Errorf("Scan in txn = %q, want %q", got, want)
		}
		if got := scan(t, tx, "k/", "", true); !equal(got, []string{"k/4=new", "k/3=old", "k/2=new"}) {
			t.Errorf("reverse Scan in txn = %q", got)
		}
		return nil
	})
	err := s.View(t.Context(), func(r projections.Reader) error {
		if got, want := scan(t, r, "k/", "", false), []string{"k/2=new", "k/3=old", "k/4=new"}; !equal(got, want) {
			t.Errorf("Scan after commit = %q, want %q", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var errBoom = errors.New("boom")

func testRollback(t *testing.T, s projections.Store) {
	mustUpdate(t, s, func(tx projections.Txn) error { return tx.Set([]byte("x"), []byte("1")) })
	err := s.Update(t.Context(), func(tx projections.Txn) error {
		if err := tx.Set([]byte("x"), []byte("2")); err != nil {
			return err
		}
		if err := tx.Set([]byte("y"), []byte("2")); err != nil {
			return err
		}
		return fmt.Errorf("apply: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update() error = %v, want errBoom", err)
	}
	if v, _ := get(t, s, "x"); v != "1" {
		t.Errorf("Get(x) after failed update = %q, want 1", v)
	}
	if _, ok := get(t, s, "y"); ok {
		t.Errorf("Get(y) after failed update: found")
	}
}

func testCancelled(t *testing.T, s projections.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.Update(ctx, func(tx projections.Txn) error { return tx.Set([]byte("z"), []byte("1")) })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update(cancelled) error = %v, want context.Canceled", err)
	}
	if _, ok := get(t, s, "z"); ok {
		t.Errorf("Update(cancelled) wrote")
	}
	if err := s.View(ctx, func(projections.Reader) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View(cancelled) error = %v, want context.Canceled", err)
	}
}

func testSerialised(t *testing.T, s projections.Store) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				err := s.Update(context.Background(), func(tx projections.Txn) error {
					v, _, err := tx.Get([]byte("n"))
					if err != nil {
						return err
					}
					return tx.Set([]byte("n"), append(bytes.Clone(v), 'x'))
				})
				if err != nil {
					t.Errorf("Update() error = %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if v, _ := get(t, s, "n"); len(v) != 200 {
		t.Errorf("after 200 concurrent increments the counter is %d", len(v))
	}
}

func testSnapshot(t *testing.T, s projections.Store) {
	mustUpdate(t, s, func(tx projections.Txn) error { return tx.Set([]byte("s"), []byte("before")) })
	done := make(chan error, 1)
	err := s.View(t.Context(), func(r projections.Reader) error {
		go func() {
			done <- s.Update(context.Background(), func(tx projections.Txn) error { return tx.Set([]byte("s"), []byte("after")) })
		}()
		v, _, err := r.Get([]byte("s"))
		if string(v) != "before" {
			t.Errorf("Get(s) in a View begun before the update = %q, want before", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, _ := get(t, s, "s"); v != "after" {
		t.Errorf("Get(s) after the update = %q, want after", v)
	}
}
