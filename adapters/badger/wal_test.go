package badger_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/events/eventstest"
)

// smallSegments is the Small profile with log segments as small as they can be (about 1.2 MiB).
func smallSegments(dir string) badger.Config {
	c := badger.Small(dir)
	c.WALSegmentSize = 1
	return c
}

// appendMany appends n events in batches of up to 7 to 10 new streams named prefix0…prefix9
// and returns the whole log.
func appendMany(t *testing.T, s *badger.Store, prefix string, n int) []events.Envelope {
	t.Helper()
	versions := map[events.StreamID]events.Version{}
	for i := 0; i < n; {
		stream := events.StreamID(fmt.Sprintf("%s%d", prefix, i%10))
		recs := make([]events.Record, min(1+i%7, n-i))
		for j := range recs {
			recs[j] = eventstest.Record(i + j)
		}
		res, err := s.Append(t.Context(), stream, versions[stream], recs...)
		if err != nil {
			t.Fatalf("Append() error = %v", err)
		}
		versions[stream] = res.Version
		i += len(recs)
	}
	return readAll(t, s)
}

func readAll(t *testing.T, s events.Store) []events.Envelope {
	t.Helper()
	var out []events.Envelope
	for {
		page, err := s.ReadAll(t.Context(), events.Position(len(out)), 1000)
		if err != nil {
			t.Fatalf("ReadAll() error = %v", err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
	}
}

// segments returns the write-ahead log's segment files in dir, in order.
func segments(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// walOnly copies the write-ahead log of the running store in from into a new directory
// without any of badger's files: as if badger had lost everything it had not written to a
// table, which is what it may lose on a power cut, since it never syncs its own log.
func walOnly(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	if err := os.MkdirAll(filepath.Join(to, "wal"), 0o750); err != nil {
		t.Fatal(err)
	}
	for _, name := range segments(t, from) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, "wal", filepath.Base(name)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

func sameLog(t *testing.T, got, want []events.Envelope) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("the log holds %d events, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Position != w.Position || g.Stream != w.Stream || g.Version != w.Version || g.Hash != w.Hash {
			t.Fatalf("event %d = %s v%d at %d, want %s v%d at %d (or its hash differs)", i, g.Stream, g.Version, g.Position, w.Stream, w.Version, w.Position)
		}
	}
}

func verify(t *testing.T, s events.Store) {
	t.Helper()
	if _, err := events.Verify(t.Context(), s, events.VerifyOptions{Gapless: true}); err != nil {
		t.Fatalf("Verify() error = %v", err)
	}
}

// Every acknowledged append is in the write-ahead log, so a store whose badger lost
// everything it held in memory comes back whole from the log alone.
func TestWAL_ReplaysWhatBadgerLost(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, smallSegments(dir))
	want := appendMany(t, s, "s", 3000)
	if n := len(segments(t, dir)); n < 2 {
		t.Fatalf("%d log segments, want several (the test must cross a segment boundary)", n)
	}
	lost := walOnly(t, dir)

	r := mustOpen(t, smallSegments(lost))
	sameLog(t, readAll(t, r), want)
	verify(t, r)
	// Appends go on where the log ended, with the heads it recovered.
	if _, err := r.Append(t.Context(), "s1", events.NoStream, eventstest.Record(1)); !errors.Is(err, events.ErrConflict) {
		t.Fatalf("Append(NoStream) to a recovered stream error = %v, want ErrConflict", err)
	}
	res, err := r.Append(t.Context(), "new", events.NoStream, eventstest.Record(1))
	if err != nil || res.Positions[0] != want[len(want)-1].Position+1 {
		t.Fatalf("Append() after recovery = %v, %v; want position %d", res, err, want[len(want)-1].Position+1)
	}
}

// A record cut short at the end of the log was never acknowledged: recovery ends before it.
func TestWAL_TornLastRecord(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, smallSegments(dir))
	appendMany(t, s, "s", 500)
	before := readAll(t, s)
	if _, err := s.Append(t.Context(), "last", events.NoStream, eventstest.Record(1), eventstest.Record(2)); err != nil {
		t.Fatal(err)
	}
	lost := walOnly(t, dir)
	segs := segments(t, lost)
	last := segs[len(segs)-1]
	// Past its records a segment may hold zeros (a prepared spare): cut the last record
	// (two events, over a kilobyte) in its middle.
	data, err := os.ReadFile(last)
	if err != nil {
		t.Fatal(err)
	}
	end := len(strings.TrimRight(string(data), "\x00"))
	if err := os.Truncate(last, int64(end-100)); err != nil {
		t.Fatal(err)
	}

	r := mustOpen(t, smallSegments(lost))
	sameLog(t, readAll(t, r), before)
	verify(t, r)
}

// A damaged record in a segment that later segments follow is not the end of the log:
// batches are missing, and the store refuses to open rather than lose them silently.
func TestWAL_DamageBeforeTheEnd(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, smallSegments(dir))
	appendMany(t, s, "s", 3000)
	lost := walOnly(t, dir)
	first := segments(t, lost)[0]
	data, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(first, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = badger.Open(smallSegments(lost))
	if !errors.Is(err, badger.ErrCorrupt) || !strings.Contains(err.Error(), "batches are missing") {
		t.Fatalf("Open() error = %v, want ErrCorrupt naming missing batches", err)
	}
}

// The log forgets what badger holds in its tables: over many memtables its segments stay few,
// one retired segment is kept as the spare to write next, and nothing is lost on reopening.
func TestWAL_RecyclesSegments(t *testing.T) {
	dir := t.TempDir()
	s, err := badger.Open(smallSegments(dir))
	if err != nil {
		t.Fatal(err)
	}
	want := appendMany(t, s, "s", 40_000) // about 25 MiB: several memtables and segments
	if n := len(segments(t, dir)); n > 12 {
		t.Errorf("%d live log segments after 40,000 events, want the few that badger has not written to tables", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "wal", "spare")); err != nil {
		t.Errorf("no spare segment: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	if n := len(segments(t, dir)); n != 0 {
		t.Errorf("%d log segments after a clean close, want 0 (badger holds everything)", n)
	}
	r := mustOpen(t, smallSegments(dir))
	sameLog(t, readAll(t, r), want)
	verify(t, r)
	appendMany(t, r, "after", 10)
}
