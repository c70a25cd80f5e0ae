// Package eventstest is the conformance suite of the events.Store contract. Every store runs
// it from its own tests with Run; each subtest checks one sentence of the contract.
package eventstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/stratahq/strata/events"
)

// Features declares the guarantees that differ between backends, and the hooks the suite
// needs from one.
type Features struct {
	// Gapless: positions are 1, 2, 3 … with none skipped.
	Gapless bool
	// Rewrite replaces everything s stores with envs exactly as given (positions, hashes and
	// all, nothing recomputed), as an attacker with access to the storage could. The suite
	// uses it to check that Verify catches tampering.
	Rewrite func(t *testing.T, s events.Store, envs []events.Envelope)
}

// Run checks the events.Store contract. newStore must return an empty, isolated store that
// is closed by t.Cleanup.
func Run(t *testing.T, f Features, newStore func(t *testing.T) events.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, Features, func(*testing.T) events.Store)
	}{
		{"AppendLoad", testAppendLoad},
		{"ExpectedVersion", testExpectedVersion},
		{"AppendIsAtomic", testAtomic},
		{"InvalidInput", testInvalid},
		{"ConcurrentAppendOneWins", testOneWins},
		{"ConcurrentStreams", testConcurrentStreams},
		{"ReadYourWrites", testReadYourWrites},
		{"IdempotentRetry", testIdempotentRetry},
		{"ConcurrentRetries", testConcurrentRetries},
		{"ReadAllPaging", testReadAllPaging},
		{"SubscribeHistoryThenLive", testSubscribeBoundary},
		{"SubscribeSlowConsumer", testSubscribeSlow},
		{"SubscribeEnds", testSubscribeEnds},
		{"CancelledContext", testCancelled},
		{"VerifyIntact", testVerifyIntact},
		{"VerifyTampered", testVerifyTampered},
		{"ExportImport", testExportImport},
		{"ImportRefusesBadFiles", testImportRefuses},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, f, newStore)
		})
	}
}

// Record returns a record of about 300 bytes of JSON: the shape the suite and the
// benchmarks append.
func Record(n int) events.Record {
	data := fmt.Sprintf(`{"n":%d,"step":"train","commit":"3f9c2a1b7d","params":{"lr":0.001,"epochs":10,"batch":64},"note":"%s"}`, n, strings.Repeat("x", 160))
	return events.Record{ID: events.NewID(), Type: "sample.Happened", Schema: 1, Actor: "user:alice", CorrelationID: "req-1", Data: []byte(data)}
}

func records(n int) []events.Record {
	out := make([]events.Record, n)
	for i := range out {
		out[i] = Record(i)
	}
	return out
}

// uniqueStream returns a stream name no other test uses.
func uniqueStream(t *testing.T) events.StreamID {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return events.StreamID(fmt.Sprintf("test-%s-%s", name, hex.EncodeToString(b[:])))
}

func mustAppend(t *testing.T, s events.Store, stream events.StreamID, expected events.Version, recs ...events.Record) events.AppendResult {
	t.Helper()
	res, err := s.Append(t.Context(), stream, expected, recs...)
	if err != nil {
		t.Fatalf("Append(%s, %s, %d records) error = %v", stream, expected, len(recs), err)
	}
	return res
}

func mustLoad(t *testing.T, s events.Store, stream events.StreamID, after events.Version) []events.Envelope {
	t.Helper()
	envs, err := s.Load(t.Context(), stream, after)
	if err != nil {
		t.Fatalf("Load(%s, %d) error = %v", stream, after, err)
	}
	return envs
}

func mustReadAll(t *testing.T, s events.Store) []events.Envelope {
	t.Helper()
	var all []events.Envelope
	var after events.Position
	for {
		page, err := s.ReadAll(t.Context(), after, 1000)
		if err != nil {
			t.Fatalf("ReadAll(%d, 1000) error = %v", after, err)
		}
		all = append(all, page...)
		if len(page) < 1000 {
			return all
		}
		after = page[len(page)-1].Position
	}
}

func testAppendLoad(t *testing.T, _ Features, newStore func(*testing.T) events.Store) {
	s, stream := newStore(t), uniqueStream(t)
	before := time.Now().Add(-time.Second)
	recs := records(3)
	recs[1].CausationID = "cause-1"
	res := mustAppend(t, s, stream, events.NoStream, recs...)
	if res.Version != 3 || len(res.Positions) != 3 {
		t.Fatalf("Append() = %+v, want version 3 and 3 positions", res)
	}
	for i := 1; i < 3; i++ {
		if res.Positions[i] <= res.Positions[i-1] {
			t.Errorf("Append() positions %v do not increase", res.Positions)
		}
	}
	envs := mustLoad(t, s, stream, 0)
	if len(envs) != 3 {
		t.Fatalf("Load() = %d envelopes, want 3", len(envs))
	}
	var prev events.Hash
	for i, e := range envs {
		r := recs[i]
		want := events.Envelope{Position: res.Positions[i], Stream: stream, Version: events.Version(i + 1), ID: r.ID, Type: r.Type,
			Schema: r.Schema, RecordedAt: e.RecordedAt, Actor: r.Actor, CorrelationID: r.CorrelationID, CausationID: r.CausationID,
			Data: events.RawJSON(r.Data), Prev: prev, Hash: e.Hash}
		if diff := cmp.Diff(want, e); diff != "" {
			t.Errorf("Load()[%d] (-want +got):\n%s", i, diff)
		}
		if e.RecordedAt.Location() != time.UTC || e.RecordedAt.Before(before) || e.RecordedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("Load()[%d].RecordedAt = %v, want the append time in UTC", i, e.RecordedAt)
		}
		if e.Hash != e.ComputeHash() || e.Hash.IsZero() {
			t.Errorf("Load()[%d].Hash = %s, want %s", i, e.Hash, e.ComputeHash())
		}
		prev = e.Hash
	}
	if got := mustLoad(t, s, stream, 2); len(got) != 1 || got[0].Version != 3 {
		t.Errorf("Load(after 2) = %d envelopes, want only version 3", len(got))
	}
	if got := mustLoad(t, s, stream, 3); len(got) != 0 {
		t.Errorf("Load(after 3) = %d envelopes, want none", len(got))
	}
	if got := mustLoad(t, s, uniqueStream(t), 0); len(got) != 0 {
		t.Errorf("Load(missing stream) = %d envelopes, want none", len(got))
	}
	// A second append continues the chain.
	res2 := mustAppend(t, s, stream, 3, Record(3))
	if res2.Version != 4 || res2.Positions[0] <= res.Positions[2] {
		t.Errorf("second Append() = %+v, want version 4 after position %d", res2, res.Positions[2])
	}
	if got := mustLoad(t, s, stream, 3); len(got) != 1 || got[0].Prev != envs[2].Hash {
		t.Errorf("Load(after 3) Prev does not link to version 3's hash")
	}
}

func testExpectedVersion(t *testing.T, _ Features, newStore func(*testing.T) events.Store) {
	s := newStore(t)
	tests := []struct {
		name     string
		existing int
		expected events.Version
		ok       bool
	}{
		{"any on a new stream", 0, events.Any, true},
		{"any on an existing stream", 2, events.Any, true},
		{"no stream on a new stream", 0, events.NoStream, true},
		{"no stream on an existing stream", 2, events.NoStream, false},
		{"stream exists on a new stream", 0, events.StreamExists, false},
		{"stream exists on an existing stream", 2, events.StreamExists, true},
		{"exact version matches", 2, 2, true},
		{"exact version too low", 2, 1, false},
		{"exact version too high", 2, 3, false},
		{"exact version on a new stream", 0, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := uniqueStream(t)
			if tt.existing > 0 {
				mustAppend(t, s, stream, events.NoStream, records(tt.existing)...)
			}
			res, err := s.Append(t.Context(), stream, tt.expected, Record(9))
			if tt.ok {
				if err != nil || res.Version != events.Version(tt.existing+1) {
					t.Fatalf("Append() = %+v, %v; want version %d", res, err, tt.existing+1)
				}
				return
			}
			var ce *events.ConflictError
			if !errors.Is(err, events.ErrConflict) || !errors.As(err, &ce) {
				t.Fatalf("Append() error = %v, want a *ConflictError matching ErrConflict", err)
			}
			if want := (events.ConflictError{Stream: stream, Expected: tt.expected, Actual: events.Version(tt.existing)}); *ce != want {
				t.Errorf("ConflictError = %+v, want %+v", *ce, want)
			}
			if got := mustLoad(t, s, stream, 0); len(got) != tt.existing {
				t.Errorf("after a conflict the stream has %d events, want %d", len(got), tt.existing)
			}
		})
	}
}

func testAtomic(t *testing.T, _ Features, newStore func(*testing.T) events.Store) {
	s, stream := newStore(t), uniqueStream(t)
	recs := records(5)
	recs[3].Data = []byte(`{"broken":`)
	if _, err := s.Append(t.Context(), stream, events.Any, recs...); !errors.Is(err, events.ErrInvalid) {
		t.Fatalf("Append(with a malformed 4th record) error = %v, want ErrInvalid", err)
	}
	if got := mustLoad(t, s, stream, 0); len(got) != 0 {
		t.Fatalf("after a rejected append the stream has %d events, want 0", len(got))
	}
	if got := mustReadAll(t, s); len(got) != 0 {
		t.Fatalf("after a rejected append the log has %d events, want 0", len(got))
	}
}

func testInvalid(t *testing.T, _ Features, newStore func(*testing.T) events.Store) {
	s := newStore(t)
	ok := Record(1)
	with := func(edit func(*events.Record)) []events.Record { r := Record(1); edit(&r); return []events.Record{r} }
	tests := []struct {
		name     string
		stream   events.StreamID
		expected events.Version
		recs     []events.Record
	}{
		{"empty stream", "", events.Any, []events.Record{ok}},
		{"control character in stream", "a\nb", events.Any, []events.Record{ok}},
		{"oversized stream", events.StreamID(strings.Repeat("s", events.MaxStreamIDLen+1)), events.Any, []events.Record{ok}},
		{"no records", "s", events.Any, nil},
		{"expected below StreamExists", "s", -3, []events.Record{ok}},
		{"zero id", "s", events.Any, with(func(r *events.Record) { r.ID = [16]byte{} })},
		{"id not a UUIDv7", "s", events.Any, with(func(r *events.Record) { r.ID = uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8") })},
		{"empty type", "s", events.Any, with(func(r *events.Record) { r.Type = "" })},
		{"schema 0", "s", events.Any, with(func(r *events.Record) { r.Schema = 0 })},
		{"data not JSON", "s", events.Any, with(func(r *events.Record) { r.Data = []byte("hello") })},
		{"empty data", "s", events.Any, with(func(r *events.Record) { r.Data = nil })},
		{"data not compact", "s", events.Any, with(func(r *events.Record) { r.Data = []byte(`{ "a": 1 }`) })},
		{"oversized data", "s", events.Any, with(func(r *events.Record) {
			r.Data = []byte(`"` + strings.Repeat("d", events.MaxDataLen) + `"`)
		})},
		{"oversized actor", "s", events.Any, with(func(r *events.Record) { r.Actor = strings.Repeat("a", events.MaxMetaLen+1) })},
		{"same id twice in one call", "s", events.Any, []events.Record{ok, ok}},
		{"too many records", "s", events.Any, records(events.MaxAppendEvents + 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Append(t.Context(), tt.stream, tt.expected, tt.recs...); !errors.Is(err, events.ErrInvalid) {
				t.Errorf("Append() error = %v, want ErrInvalid", err)
			}
		})
	}
	if got := mustReadAll(t, s); len(got) != 0 {
		t.Errorf("invalid appends wrote %d events, want 0", len(got))
	}
	if _, err := s.ReadAll(t.Context(), 0, 0); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("ReadAll(limit 0) error = %v, want ErrInvalid", err)
	}
	if _, err := s.ReadAll(t.Context(), 0, -1); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("ReadAll(limit -1) error = %v, want ErrInvalid", err)
	}
}

func testOneWins(t *testing.T, _ Features, newStore func(*testing.T) events.Store) {
	s, stream := newStore(t), uniqueStream(t)
	recs := records(16) // built before spawning: t.Fatal only on the test goroutine
	var wins atomic.Int32
	var wg sync.WaitGroup
	for _, rec := range recs {
		wg.Go(func() {
			switch _, err := s.Append(t.Context(), stream, events.NoStream, rec); {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, events.ErrConflict):
				t.Errorf("Append() error = %v, want nil or ErrConflict", err)
			}
		})
	}
	wg.Wait()
	if got := wins.Load(); got != 1 {
		t.Fatalf("successful concurrent appends = %d, want 1", got)
	}
	if got := mustLoad(t, s, stream, 0); len(got) != 1 {
		t.Fatalf("stream has %d events, want 1", len(got))
	}
}

func testConcurrentStreams(t *testing.T, f Features, newStore func(*testing.T) events.Store) {
	s := newStore(t)
	const writers, each = 8, 40
	streams := make([]events.StreamID, writers)
	for i := range streams {
		streams[i] = uniqueStream(t)
	}
	var wg sync.WaitGroup
	for _, stream := range streams {
		wg.Go(func() {
			for v := range each {
				if _, err := s.Append(t.Context(), stream, events.Version(v), Record(v)); err != nil {
					t.Errorf("Append(%s, %d) error = %v", stream, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	all := mustReadAll(t, s)
	if len(all) != writers*each {
		t.Fatalf("ReadAll() = %d events, want %d", len(all), writers*each)
	}
	checkOrder(t, f, all)
	for _, stream := range streams {
		envs := mustLoad(t, s, stream, 0)
		for i, e := range envs {
			if e.Version != events.Version(i+1) {
				t.Fatalf("Load(%s)[%d].Version = %d, want %d", stream, i, e.Version, i+1)
			}
		}
	}
	if _, err := events.Verify(t.Context(), s, events.VerifyOptions{Gapless: f.Gapless}); err != nil {
		t.Fatalf("Verify() error = %v", err)
	}
}

// Once Append returns, Load, ReadAll and Head see the events it wrote, whatever else is
// being appended at the same time.
func testReadYourWrites(t *testing.T, _ Features, newStore func(*testing.T) events.Store) {
	s := newStore(t)
	var wg sync.WaitGroup
	for range 8 {
		stream := uniqueStream(t)
		wg.Go(func() {
			for v := range 50 {
				res, err := s.Append(t.Context(), stream, events.Version(v), Record(v))
				if err != nil {
					t.Errorf("Append() error = %v", err)
					return
				}
				envs, err := s.Load(t.Context(), stream, events.Version(v))
				if err != nil || len(envs) != 1 || envs[0].Position != res.Positions[0] {
					t.Errorf("Load() right after Append() = %d envelopes, %v; want the one just written", len(envs), err)
					return
				}
				if head, err := s.Head(t.Context()); err != nil || head < res.Positions[0] {
					t.Errorf("Head() right after Append() = %d, %v; want at least %d", head, err, res.Positions[0])
					return
				}
				page, err := s.ReadAll(t.Context(), res.Positions[0]-1, 1)
				if err != nil || len(page) != 1 || page[0].Position != res.Positions[0] {
					t.Errorf("ReadAll() right after Append() = %v, %v; want the event just written", page, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func checkOrder(t *testing.T, f Features, all []events.Envelope) {
	t.Helper()
	for i := 1; i < len(all); i++ {
		if all[i].Position <= all[i-1].Position {
			t.Fatalf("positions out of order: %d after %d", all[i].Position, all[i-1].Position)
		}
		if f.Gapless && all[i].Position != all[i-1].Position+1 {
			t.Fatalf("gap in positions: %d after %d", all[i].Position, all[i-1].Position)
		}
	}
	if f.Gapless && len(all) > 0 && all[0].Position != 1 {
		t.Fatalf("first position = %d, want 1", all[0].Position)
	}
}

func testIdempotentRetry(t *testing.T, _ Features, newStore func(*testing.T) events.Store) {
	s, stream := newStore(t), uniqueStream(t)
	ab := records(2)
	first := mustAppend(t, s, stream, events.NoStream, ab...)
	again, err := s.Append(t.Context(), stream, events.NoStream, ab...)
	if err != nil {
		t.Fatalf("retried Append() error = %v, want nil", err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("retried Append() result (-first +retry):\n%s", diff)
	}
	c := Record(3)
	mustAppend(t, s, stream, 2, c)
	if again, err = s.Append(t.Context(), stream, events.Any, ab...); err != nil || !cmp.Equal(first, again) {
		t.Errorf("retry after a later append = %+v, %v; want %+v", again, err, first)
	}
	if got := mustLoad(t, s, stream, 0); len(got) != 3 {
		t.Errorf("stream has %d events after retries, want 3", len(got))
	}
	if _, err := s.Append(t.Context(), stream, events.Any, ab[1], Record(4)); !errors.Is(err, events.ErrDuplicateID) {
		t.Errorf("Append(one old and one new record) error = %v, want ErrDuplicateID", err)
	}
	if _, err := s.Append(t.Context(), stream, events.Any, ab[1], ab[0]); !errors.Is(err, events.ErrDuplicateID) {
		t.Errorf("Append(old records in another order) error = %v, want ErrDuplicateID", err)
	}
	if _, err := s.Append(t.Context(), uniqueStream(t), events.Any, c); !errors.Is(err, events.ErrDuplicateID) {
		t.Errorf("Append(an id of another stream) error = %v, want ErrDuplicateID", err)
	}
	if got := mustReadAll(t, s); len(got) != 3 {
		t.Errorf("log has %d events, want 3", len(got))
	}
}

func testConcurrentRetries(t *testing.T, _ Features, newStore func(*testing.T) events.Store) {
	s, stream := newStore(t), uniqueStream(t)
	recs := records(3)
	results := make([]events.AppendResult, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			res, err := s.Append(t.Context(), stream, events.NoStream, recs...)
			if err != nil {
				t.Errorf("Append() error = %v, want every copy of the same append to succeed", err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	for i, res := range results[1:] {
		if diff := cmp.Diff(results[0], res); diff != "" {
			t.Errorf("Append() copy %d result (-first +copy):\n%s", i+1, diff)
		}
	}
	if got := mustLoad(t, s, stream, 0); len(got) != 3 {
		t.Errorf("stream has %d events, want 3", len(got))
	}
}

func testReadAllPaging(t *testing.T, f Features, newStore func(*testing.T) events.Store) {
	s := newStore(t)
	if got, err := s.ReadAll(t.Context(), 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("ReadAll(empty store) = %d, %v; want none", len(got), err)
	}
	if got, err := s.Head(t.Context()); err != nil || got != 0 {
		t.Fatalf("Head(empty store) = %d, %v; want 0", got, err)
	}
	a, b := uniqueStream(t), uniqueStream(t)
	for i := range 5 {
		mustAppend(t, s, a, events.Any, Record(i))
		mustAppend(t, s, b, events.Any, Record(i), Record(i+100))
	}
	all := mustReadAll(t, s)
	if len(all) != 15 {
		t.Fatalf("ReadAll() = %d events, want 15", len(all))
	}
	checkOrder(t, f, all)
	for _, size := range []int{1, 2, 3, 7, 14, 15, 16} {
		var got []events.Envelope
		var after events.Position
		for {
			page, err := s.ReadAll(t.Context(), after, size)
			if err != nil {
				t.Fatalf("ReadAll(%d, %d) error = %v", after, size, err)
			}
			if len(page) > size {
				t.Fatalf("ReadAll(%d, %d) = %d events, more than the limit", after, size, len(page))
			}
			got = append(got, page...)
			if len(page) == 0 {
				break
			}
			after = page[len(page)-1].Position
		}
		if diff := cmp.Diff(all, got); diff != "" {
			t.Errorf("pages of %d (-all +paged):\n%s", size, diff)
		}
	}
	head := all[len(all)-1].Position
	if got, err := s.Head(t.Context()); err != nil || got != head {
		t.Errorf("Head() = %d, %v; want %d", got, err, head)
	}
	if got, _ := s.ReadAll(t.Context(), head, 5); len(got) != 0 {
		t.Errorf("ReadAll(head) = %d events, want none", len(got))
	}
	if got, _ := s.ReadAll(t.Context(), head+1000, 5); len(got) != 0 {
		t.Errorf("ReadAll(past head) = %d events, want none", len(got))
	}
	if got, _ := s.ReadAll(t.Context(), all[4].Position, 2); len(got) != 2 || got[0].Position != all[5].Position {
		t.Errorf("ReadAll(after the 5th) does not start at the 6th")
	}
}

// subscribe runs Subscribe in the background and returns what it delivered once it has n
// envelopes (or fails the test after a minute).
func subscribe(t *testing.T, s events.Store, after events.Position, n int) func() []events.Envelope {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	var got []events.Envelope
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(ctx, after, func(e events.Envelope) error {
			got = append(got, e)
			if len(got) == n {
				cancel()
			}
			return nil
		})
	}()
	return func() []events.Envelope {
		err := <-done
		cancel()
		if len(got) != n || !errors.Is(err, context.Canceled) {
			t.Fatalf("Subscribe() delivered %d of %d events, ended with %v", len(got), n, err)
		}
		return got
	}
}

func testSubscribeBoundary(t *testing.T, f Features, newStore func(*testing.T) events.Store) {
	s := newStore(t)
	const history, writers, each = 300, 4, 60
	hist := uniqueStream(t)
	for i := 0; i < history; i += 100 {
		mustAppend(t, s, hist, events.Any, records(100)...)
	}
	total := history + writers*each
	fromStart := subscribe(t, s, 0, total)
	fromMiddle := subscribe(t, s, 150, total-150)
	var wg sync.WaitGroup
	for range writers {
		stream := uniqueStream(t)
		wg.Go(func() {
			for i := range each {
				if _, err := s.Append(t.Context(), stream, events.Any, Record(i)); err != nil {
					t.Errorf("Append() error = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	all := mustReadAll(t, s)
	if diff := cmp.Diff(all, fromStart()); diff != "" {
		t.Errorf("Subscribe(0) (-log +delivered):\n%s", diff)
	}
	if f.Gapless {
		if diff := cmp.Diff(all[150:], fromMiddle()); diff != "" {
			t.Errorf("Subscribe(150) (-log +delivered):\n%s", diff)
		}
	}
}

func testSubscribeSlow(t *testing.T, _ Features, newStore func(*testing.T) events.Store) {
	s, stream := newStore(t), uniqueStream(t)
	release := make(chan struct{})
	got := make(chan events.Envelope, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(ctx, 0, func(e events.Envelope) error {
			select {
			case got <- e:
			default:
			}
			<-release // a consumer that is stuck
			return nil
		})
	}()
	mustAppend(t, s, stream, events.Any, records(100)...)
	if e := <-got; e.Version != 1 {
		t.Errorf("first delivered version = %d, want 1", e.Version)
	}
	// The subscriber is now stuck in its handler; writers must not be held back.
	for range 3 * events.SubscribePage / 100 {
		mustAppend(t, s, stream, events.Any, records(100)...)
	}
	close(release)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe() error = %v, want context.Canceled", err)
	}
}

var errStop = errors.New("stop")

func testSubscribeEnds(t *testing.T, _ Features, newStore func(*testing.T) events.Store) {
	s, stream := newStore(t), uniqueStream(t)
	mustAppend(t, s, stream, events.Any, records(3)...)
	var seen int
	err := s.Subscribe(t.Context(), 0, func(events.Envelope) error {
		if seen++; seen == 2 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || seen != 2 {
		t.Errorf("Subscribe() = %v after %d events, want the handler's error after 2", err, seen)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.Subscribe(ctx, 0, func(events.Envelope) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Subscribe() at the head = %v, want it to end with its context", err)
	}
}

func testCancelled(t *testing.T, _ Features, newStore func(*testing.T) events.Store) {
	s, stream := newStore(t), uniqueStream(t)
	mustAppend(t, s, stream, events.Any, Record(1))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Append(ctx, stream, events.Any, Record(2)); !errors.Is(err, context.Canceled) {
		t.Errorf("Append(cancelled) error = %v, want context.Canceled", err)
	}
	if _, err := s.Load(ctx, stream, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Load(cancelled) error = %v, want context.Canceled", err)
	}
	if _, err := s.ReadAll(ctx, 0, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadAll(cancelled) error = %v, want context.Canceled", err)
	}
	if _, err := s.Head(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Head(cancelled) error = %v, want context.Canceled", err)
	}
	if err := s.Subscribe(ctx, 0, func(events.Envelope) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe(cancelled) error = %v, want context.Canceled", err)
	}
	if _, err := events.Verify(ctx, s, events.VerifyOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify(cancelled) error = %v, want context.Canceled", err)
	}
}

// fill appends a small log of three interleaved streams and returns it as read back.
func fill(t *testing.T, s events.Store) []events.Envelope {
	t.Helper()
	streams := []events.StreamID{uniqueStream(t), uniqueStream(t), uniqueStream(t)}
	for i := range 12 {
		r := Record(i)
		r.Data = []byte(fmt.Sprintf(`{"n":%d,"html":"<b>&amp;</b>","unicode":"ü\u2028"}`, i))
		mustAppend(t, s, streams[i%3], events.Any, r)
	}
	return mustReadAll(t, s)
}

func testVerifyIntact(t *testing.T, f Features, newStore func(*testing.T) events.Store) {
	s := newStore(t)
	if r, err := events.Verify(t.Context(), s, events.VerifyOptions{Gapless: f.Gapless}); err != nil || r.Events != 0 {
		t.Fatalf("Verify(empty) = %+v, %v", r, err)
	}
	all := fill(t, s)
	r, err := events.Verify(t.Context(), s, events.VerifyOptions{Gapless: f.Gapless})
	if err != nil {
		t.Fatalf("Verify() error = %v", err)
	}
	if r.Events != 12 || r.Streams != 3 || r.Head != all[11].Position {
		t.Errorf("Verify() = %+v, want 12 events in 3 streams up to %d", r, all[11].Position)
	}
}

func testVerifyTampered(t *testing.T, f Features, newStore func(*testing.T) events.Store) {
	if f.Rewrite == nil {
		t.Skip("store has no Rewrite hook")
	}
	tests := []struct {
		name   string
		tamper func(all []events.Envelope) []events.Envelope
		at     int // index in the original log of the event Verify must name
		atGaps int // the same where positions may have gaps, if different
		want   string
	}{
		{"edited data", func(all []events.Envelope) []events.Envelope {
			all[4].Data = events.RawJSON(`{"n":999}`)
			return all
		}, 4, 0, "edited"},
		{"edited actor", func(all []events.Envelope) []events.Envelope {
			all[6].Actor = "user:mallory"
			return all
		}, 6, 0, "edited"},
		{"edited and re-hashed", func(all []events.Envelope) []events.Envelope {
			all[4].Data = events.RawJSON(`{"n":999}`)
			all[4].Hash = all[4].ComputeHash()
			return all
		}, 7, 0, "prev does not match"},
		{"removed event", func(all []events.Envelope) []events.Envelope {
			return append(all[:4], all[5:]...)
		}, 5, 7, "missing"},
		{"reordered within a stream", func(all []events.Envelope) []events.Envelope {
			all[3].Position, all[6].Position = all[6].Position, all[3].Position
			all[3], all[6] = all[6], all[3]
			return all
		}, 3, 0, "out of order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			orig := fill(t, s)
			f.Rewrite(t, s, tt.tamper(append([]events.Envelope(nil), orig...)))
			_, err := events.Verify(t.Context(), s, events.VerifyOptions{Gapless: f.Gapless})
			if !f.Gapless && tt.atGaps != 0 {
				tt.at = tt.atGaps
			}
			var te *events.TamperError
			if !errors.Is(err, events.ErrTampered) || !errors.As(err, &te) {
				t.Fatalf("Verify() error = %v, want a *TamperError", err)
			}
			if te.Position != orig[tt.at].Position || te.Stream != orig[tt.at].Stream || !strings.Contains(te.Problem, tt.want) {
				t.Errorf("Verify() = %v; want position %d in %s, problem containing %q", te, orig[tt.at].Position, orig[tt.at].Stream, tt.want)
			}
		})
	}
}

func mustExport(t *testing.T, s events.Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := events.Export(t.Context(), s, &buf); err != nil {
		t.Fatalf("Export() error = %v", err)
	}
	return buf.Bytes()
}

func testExportImport(t *testing.T, f Features, newStore func(*testing.T) events.Store) {
	src, dst := newStore(t), newStore(t)
	all := fill(t, src)
	file := mustExport(t, src)
	r, err := events.Import(t.Context(), dst, bytes.NewReader(file), events.ImportOptions{})
	if err != nil {
		t.Fatalf("Import() error = %v", err)
	}
	if r.Events != len(all) {
		t.Errorf("Import() = %+v, want %d events", r, len(all))
	}
	got := mustReadAll(t, dst)
	ignore := cmp.Options{}
	if !f.Gapless {
		ignore = append(ignore, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Position" }, cmp.Ignore()))
	}
	if diff := cmp.Diff(all, got, ignore); diff != "" {
		t.Errorf("imported log (-exported +imported):\n%s", diff)
	}
	if again := mustExport(t, dst); f.Gapless && !bytes.Equal(file, again) {
		t.Errorf("exporting the imported log gives a different file")
	}
	if _, err := events.Import(t.Context(), dst, bytes.NewReader(file), events.ImportOptions{}); !errors.Is(err, events.ErrNotEmpty) {
		t.Errorf("Import(into a non-empty store) error = %v, want ErrNotEmpty", err)
	}
}

func testImportRefuses(t *testing.T, _ Features, newStore func(*testing.T) events.Store) {
	src := newStore(t)
	fill(t, src)
	file := mustExport(t, src)
	lines := strings.SplitAfter(string(file), "\n")
	lines = lines[:len(lines)-1] // the last element is the empty string after the final newline
	join := func(ls []string) []byte { return []byte(strings.Join(ls, "")) }
	edit := func(i int, old, new string) []byte {
		ls := append([]string(nil), lines...)
		if !strings.Contains(ls[i], old) {
			t.Fatalf("line %d has no %q: %s", i+1, old, ls[i])
		}
		ls[i] = strings.Replace(ls[i], old, new, 1)
		return join(ls)
	}
	tests := []struct {
		name string
		file []byte
		kind error
		line string
	}{
		{"edited payload", edit(5, `"n":4`, `"n":5`), events.ErrTampered, "line 6:"},
		{"edited actor", edit(3, `"actor":"user:alice"`, `"actor":"user:bob"`), events.ErrTampered, "line 4:"},
		{"removed line", join(append(append([]string(nil), lines[:5]...), lines[6:]...)), events.ErrTampered, "line 8:"},
		{"swapped lines", join(append(append(append([]string(nil), lines[:4]...), lines[7], lines[5], lines[6], lines[4]), lines[8:]...)), events.ErrTampered, "line 5:"},
		{"cut at a line boundary", join(lines[:len(lines)-3]), events.ErrTampered, "cut short"},
		{"cut inside a line", join(lines[:6])[:len(join(lines[:6]))-20], events.ErrInvalid, "line 6:"},
		{"trailer lies", edit(len(lines)-1, `"events":12`, `"events":13`), events.ErrTampered, "trailer"},
		{"not JSON", edit(2, `{`, `[`), events.ErrInvalid, "line 3:"},
		{"unknown field", edit(2, `{`, `{"extra":1,`), events.ErrInvalid, "line 3:"},
		{"no header", join(lines[1:]), events.ErrInvalid, "line 1:"},
		{"empty file", nil, events.ErrInvalid, "line 1:"},
		{"line too long", append(join(lines[:2]), bytes.Repeat([]byte("x"), 3*events.MaxDataLen)...), events.ErrInvalid, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := newStore(t)
			_, err := events.Import(t.Context(), dst, bytes.NewReader(tt.file), events.ImportOptions{})
			if !errors.Is(err, tt.kind) || !strings.Contains(fmt.Sprint(err), tt.line) {
				t.Errorf("Import() error = %v, want %v naming %q", err, tt.kind, tt.line)
			}
			if got := mustReadAll(t, dst); len(got) != 0 {
				t.Errorf("a refused import wrote %d events, want 0", len(got))
			}
		})
	}
}
