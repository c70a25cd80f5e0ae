package badger_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/events/eventstest"
)

func mustOpen(tb testing.TB, cfg badger.Config) *badger.Store {
	tb.Helper()
	s, err := badger.Open(cfg)
	if err != nil {
		tb.Fatalf("Open() error = %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close() error = %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	eventstest.Run(t, eventstest.Features{
		Gapless: true,
		Rewrite: func(t *testing.T, s events.Store, envs []events.Envelope) { s.(*badger.Store).Rewrite(t, envs) },
	}, func(t *testing.T) events.Store {
		return mustOpen(t, badger.Small(t.TempDir()))
	})
}

func TestStore_Reopen(t *testing.T) {
	dir := t.TempDir()
	s, err := badger.Open(badger.Small(dir))
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Append(t.Context(), "a", events.NoStream, eventstest.Record(1), eventstest.Record(2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(t.Context(), "b", events.NoStream, eventstest.Record(3)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	if _, err := s.Append(t.Context(), "a", events.Any, eventstest.Record(4)); !errors.Is(err, events.ErrClosed) {
		t.Errorf("Append(after Close) error = %v, want ErrClosed", err)
	}

	s = mustOpen(t, badger.Small(dir))
	// The heads survived the restart.
	if _, err := s.Append(t.Context(), "a", events.NoStream, eventstest.Record(1)); !errors.Is(err, events.ErrConflict) {
		t.Fatalf("Append(NoStream) on a reopened stream error = %v, want ErrConflict", err)
	}
	res, err := s.Append(t.Context(), "a", 2, eventstest.Record(5))
	if err != nil {
		t.Fatalf("Append(a, 2) after reopen error = %v", err)
	}
	if res.Version != 3 || res.Positions[0] != 4 {
		t.Errorf("Append() after reopen = %+v, want version 3 at position 4", res)
	}
	if first.Positions[0] != 1 {
		t.Errorf("first position = %d, want 1", first.Positions[0])
	}
	if r, err := events.Verify(t.Context(), s, events.VerifyOptions{Gapless: true}); err != nil || r.Events != 4 {
		t.Errorf("Verify() after reopen = %+v, %v; want 4 intact events", r, err)
	}
}

func TestStore_RetryAfterReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := badger.Open(badger.Small(dir))
	if err != nil {
		t.Fatal(err)
	}
	recs := []events.Record{eventstest.Record(1), eventstest.Record(2)}
	first, err := s.Append(t.Context(), "a", events.NoStream, recs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, badger.Small(dir))
	again, err := s.Append(t.Context(), "a", events.NoStream, recs...)
	if err != nil || again.Version != first.Version || again.Positions[1] != first.Positions[1] {
		t.Errorf("retry after reopen = %+v, %v; want %+v", again, err, first)
	}
}

func TestStore_TooLargeForOneTransaction(t *testing.T) {
	s := mustOpen(t, badger.Small(t.TempDir()))
	recs := make([]events.Record, 0, events.MaxAppendEvents)
	for i := range events.MaxAppendEvents {
		recs = append(recs, eventstest.Record(i))
	}
	_, err := s.Append(t.Context(), "big", events.Any, recs...)
	if !errors.Is(err, events.ErrInvalid) || !strings.Contains(err.Error(), "too large for one transaction") {
		t.Fatalf("Append(%d records into a 4 MiB memtable) error = %v, want ErrInvalid naming the limit", len(recs), err)
	}
	if got, _ := s.Load(t.Context(), "big", 0); len(got) != 0 {
		t.Errorf("a refused append wrote %d events", len(got))
	}
	// The store still works.
	if _, err := s.Append(t.Context(), "big", events.NoStream, recs[:100]...); err != nil {
		t.Errorf("Append(100 records) error = %v", err)
	}
}

func TestConfig_Validate(t *testing.T) {
	_, err := badger.Open(badger.Config{MemTableSize: 100, NumMemtables: -1})
	for _, want := range []string{"Dir is empty", "MemTableSize 100", "NumMemtables -1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(bad config) error = %v, want it to mention %q", err, want)
		}
	}
}

func TestOpen_Locked(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, badger.Small(dir))
	if _, err := badger.Open(badger.Small(dir)); !errors.Is(err, badger.ErrLocked) {
		t.Errorf("Open(a directory in use) error = %v, want ErrLocked", err)
	}
}

func TestOpenProjections_Locked(t *testing.T) {
	dir := t.TempDir()
	p, err := badger.OpenProjections(badger.SmallProjections(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	if _, err := badger.OpenProjections(badger.SmallProjections(dir)); !errors.Is(err, badger.ErrLocked) {
		t.Errorf("OpenProjections(a directory in use) error = %v, want ErrLocked", err)
	}
}

// A crash while badger deletes a flushed memtable's log leaves it empty (badger truncates,
// then removes); the store must still open, with everything in it.
func TestStore_EmptyMemtableLogAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s, err := badger.Open(badger.Small(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(t.Context(), "a", events.NoStream, eventstest.Record(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "00007.mem"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, badger.Small(dir))
	if got, err := s.Load(t.Context(), "a", 0); err != nil || len(got) != 1 {
		t.Fatalf("Load() = %d events, %v; want 1", len(got), err)
	}
}
