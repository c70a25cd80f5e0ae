package events_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/events"
)

// loads counts the events a store hands out by Load.
type loads struct {
	events.Store
	n atomic.Int64
}

func (l *loads) Load(ctx context.Context, stream events.StreamID, after events.Version) ([]events.Envelope, error) {
	envs, err := l.Store.Load(ctx, stream, after)
	l.n.Add(int64(len(envs)))
	return envs, err
}

// TestFolded reads streams while they grow: each read is what Fold returns, and reads
// only the events appended since the last.
func TestFolded(t *testing.T) {
	ctx := t.Context()
	s, c := &loads{Store: memory.NewStore()}, newCodec(t)
	f := &events.Folded[account, accountEvent]{Evolve: evolve}
	check := func(stream events.StreamID) {
		t.Helper()
		got, gv, err := f.State(ctx, s, c, stream)
		want, wv, werr := events.Fold(ctx, s, c, stream, account{}, evolve)
		if err != nil || werr != nil || got != want || gv != wv {
			t.Fatalf("State(%s) = %+v at %d, %v; Fold = %+v at %d, %v", stream, got, gv, err, want, wv, werr)
		}
	}
	if st, v, err := f.State(ctx, s, c, "account-none"); err != nil || st != (account{}) || v != 0 {
		t.Fatalf("State(a stream that does not exist) = %+v at %d, %v", st, v, err)
	}
	if _, err := events.Execute(ctx, s, c, "account-a", decider, accountCmd{open: "alice"}, events.Meta{}); err != nil {
		t.Fatal(err)
	}
	check("account-a")
	for i := range 5 {
		if _, err := events.Execute(ctx, s, c, "account-a", decider, accountCmd{amount: i + 1}, events.Meta{}); err != nil {
			t.Fatal(err)
		}
		s.n.Store(0)
		if _, _, err := f.State(ctx, s, c, "account-a"); err != nil {
			t.Fatal(err)
		}
		if n := s.n.Load(); n != 1 {
			t.Fatalf("State read %d events after one append, want 1", n)
		}
		check("account-a")
	}
	s.n.Store(0)
	if _, _, err := f.State(ctx, s, c, "account-a"); err != nil || s.n.Load() != 0 {
		t.Fatalf("State with nothing new read %d events, %v; want none", s.n.Load(), err)
	}

	// Readers and writers at once (run with -race): every reader ends on the last state.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if _, err := events.Execute(ctx, s, c, "account-a", decider, accountCmd{amount: 1}, events.Meta{}); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for range 20 {
				if _, _, err := f.State(ctx, s, c, "account-a"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	check("account-a")

	// Events of another aggregate are refused, as Fold refuses them.
	rec, _ := c.Record(other{}, events.Meta{})
	if _, err := s.Append(ctx, "account-b", events.NoStream, rec); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.State(ctx, s, c, "account-b"); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("State(a foreign stream) error = %v, want ErrInvalid", err)
	}
}
