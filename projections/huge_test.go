package projections_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/projections"
)

// limited is a store whose transactions hold at most max writes, as badger's do, and
// that can fail (as a crash would: nothing written) the Update that deletes the second
// redo chunk.
type limited struct {
	projections.Store
	max        int
	crashRedo  bool
	redoCopies atomic.Int32
}

var errCrash = errors.New("crash")

func (l *limited) Update(ctx context.Context, fn func(projections.Txn) error) error {
	return l.Store.Update(ctx, func(tx projections.Txn) error {
		lt := &limitedTxn{Txn: tx, left: l.max}
		if err := fn(lt); err != nil {
			return err
		}
		if lt.redo && l.crashRedo && l.redoCopies.Add(1) == 2 {
			return errCrash
		}
		return nil
	})
}

type limitedTxn struct {
	projections.Txn
	left int
	redo bool // deletes a redo chunk
}

func (t *limitedTxn) Set(k, v []byte) error {
	if t.left == 0 {
		return fmt.Errorf("set: %w", projections.ErrTooBig)
	}
	t.left--
	return t.Txn.Set(k, v)
}

func (t *limitedTxn) Delete(k []byte) error {
	if t.left == 0 {
		return fmt.Errorf("delete: %w", projections.ErrTooBig)
	}
	t.left--
	t.redo = t.redo || bytes.HasPrefix(k, []byte("r\x00"))
	return t.Txn.Delete(k)
}

func TestEngine_EventTooBigForATransaction(t *testing.T) {
	log := memory.NewStore()
	w := newWorld(t, log)
	scenario(w, 2)
	ds := w.dataset("huge")
	var files []domain.DatumID
	for range 120 {
		files = append(files, w.datum("f", ""))
	}
	w.version(ds, dataset.CreateVersion{Version: "all", Add: files}) // lineage writes 3 keys per file
	scenario(w, 1)

	ref := startEngine(t, log, w.codec, nil)
	waitFor(t, ref, w.last)
	want := digestAll(t, ref)

	t.Run("applied whole", func(t *testing.T) {
		store := &limited{Store: memory.NewProjections(), max: 100}
		eng := startEngine(t, log, w.codec, store)
		waitFor(t, eng, w.last)
		if got := digestAll(t, eng); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("digests with transactions of 100 writes differ:\n%v\n%v", got, want)
		}
	})
	t.Run("crash while copying the redo log", func(t *testing.T) {
		mem := memory.NewProjections()
		store := &limited{Store: mem, max: 100, crashRedo: true}
		eng, err := projections.New(log, w.codec, store, projections.Config{}, projections.All()...)
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Run(context.Background()); !errors.Is(err, errCrash) {
			t.Fatalf("Run() error = %v, want the crash", err)
		}
		again := startEngine(t, log, w.codec, &limited{Store: mem, max: 100})
		waitFor(t, again, w.last)
		if got := digestAll(t, again); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("digests after the crash differ:\n%v\n%v", got, want)
		}
	})
}
