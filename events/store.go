package events

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Store is the append-only log of streams. Every implementation passes eventstest.Run, which
// checks each sentence below.
type Store interface {
	// Append writes recs at the end of stream, atomically: all of them or none.
	//
	// expected is Any, NoStream, StreamExists or the exact version the stream must be at;
	// otherwise nothing is written and the error is a *ConflictError matching ErrConflict.
	//
	// On success it returns the stream's new version and the positions written, one per
	// record, strictly increasing; nothing is acknowledged before it is durable.
	//
	// If every record's ID is already in stream at consecutive versions (a retry after a
	// timeout), Append writes nothing and returns the versions and positions of the first
	// write, whatever expected says. An ID found elsewhere, or for only some of the records,
	// is ErrDuplicateID.
	//
	// Records are validated first (see ValidateRecords): a malformed one is ErrInvalid.
	// A cancelled ctx returns its error; the append may or may not have been written, and
	// retrying it with the same IDs is safe.
	Append(ctx context.Context, stream StreamID, expected Version, recs ...Record) (AppendResult, error)

	// Load returns the envelopes of stream with Version > after, in version order. A stream
	// without events yields none and no error.
	Load(ctx context.Context, stream StreamID, after Version) ([]Envelope, error)

	// ReadAll returns at most limit envelopes with Position > after, in increasing position
	// order. It never returns an event while an earlier one (smaller position) is still to
	// be acknowledged, so a reader that pages by the last position it saw misses nothing.
	// limit must be positive (ErrInvalid otherwise).
	ReadAll(ctx context.Context, after Position, limit int) ([]Envelope, error)

	// Head returns the position of the last event a ReadAll would return now, 0 for an
	// empty log.
	Head(ctx context.Context) (Position, error)

	// Subscribe calls fn for every envelope with Position > after, in position order: first
	// the history, then live events as they are appended, with no gap and no duplicate
	// across the boundary. It reads in bounded pages, so a slow fn holds back only its own
	// subscription and memory stays bounded. It returns when ctx ends (ctx's error) or fn
	// returns an error (that error).
	Subscribe(ctx context.Context, after Position, fn func(Envelope) error) error
}

// AppendResult is what a successful Append wrote.
type AppendResult struct {
	// Version is the stream's version after the append (of its last record, for a retry).
	Version Version
	// Positions are the records' global positions, in order.
	Positions []Position
}

// Last returns the position of the last record written, 0 if none.
func (r AppendResult) Last() Position {
	if len(r.Positions) == 0 {
		return 0
	}
	return r.Positions[len(r.Positions)-1]
}

// Limits every Store enforces through ValidateRecords.
const (
	MaxStreamIDLen  = 512
	MaxTypeLen      = 256
	MaxMetaLen      = 1024
	MaxDataLen      = 4 << 20
	MaxAppendEvents = 10_000
)

// ValidateRecords checks the arguments of an Append: a stream ID of 1 to MaxStreamIDLen
// bytes of printable UTF-8; 1 to MaxAppendEvents records, each with a UUIDv7 ID unique in
// the call, a printable Type, Schema ≥ 1, metadata within MaxMetaLen and Data that is compact
// JSON within MaxDataLen. Errors match ErrInvalid and name the record and field.
func ValidateRecords(stream StreamID, expected Version, recs []Record) error {
	if err := validText("stream id", string(stream), MaxStreamIDLen); err != nil {
		return fmt.Errorf("append: %w", err)
	}
	if expected < StreamExists {
		return fmt.Errorf("append %s: expected version %d is not Any, NoStream, StreamExists or a version: %w", stream, expected, ErrInvalid)
	}
	if len(recs) == 0 || len(recs) > MaxAppendEvents {
		return fmt.Errorf("append %s: %d records, want 1 to %d: %w", stream, len(recs), MaxAppendEvents, ErrInvalid)
	}
	seen := make(map[[16]byte]struct{}, len(recs))
	for i, r := range recs {
		if err := validateRecord(r); err != nil {
			return fmt.Errorf("append %s: record %d: %w", stream, i, err)
		}
		if _, dup := seen[r.ID]; dup {
			return fmt.Errorf("append %s: record %d: id %s appears twice in one append: %w", stream, i, r.ID, ErrInvalid)
		}
		seen[r.ID] = struct{}{}
	}
	return nil
}

func validateRecord(r Record) error {
	if r.ID.Version() != 7 || r.ID.Variant() != uuid.RFC4122 {
		return fmt.Errorf("id %s is not a UUIDv7 (use events.NewID): %w", r.ID, ErrInvalid)
	}
	if err := validText("type", r.Type, MaxTypeLen); err != nil {
		return err
	}
	if r.Schema < 1 {
		return fmt.Errorf("type %s: schema %d, want 1 or more: %w", r.Type, r.Schema, ErrInvalid)
	}
	for _, f := range []struct{ name, v string }{{"actor", r.Actor}, {"correlation id", r.CorrelationID}, {"causation id", r.CausationID}} {
		if len(f.v) > MaxMetaLen || !utf8.ValidString(f.v) {
			return fmt.Errorf("type %s: %s is not UTF-8 of at most %d bytes: %w", r.Type, f.name, MaxMetaLen, ErrInvalid)
		}
	}
	if len(r.Data) > MaxDataLen {
		return fmt.Errorf("type %s: data is %d bytes, limit %d: %w", r.Type, len(r.Data), MaxDataLen, ErrInvalid)
	}
	if !json.Valid(r.Data) {
		return fmt.Errorf("type %s: data is not JSON: %w", r.Type, ErrInvalid)
	}
	if !compact(r.Data) {
		return fmt.Errorf("type %s: data is not compact JSON (encode it with the Codec or json.Marshal): %w", r.Type, ErrInvalid)
	}
	return nil
}

// compact reports whether valid JSON b has no whitespace outside its strings, so that it
// is stored, hashed and exported as the very same bytes.
func compact(b []byte) bool {
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return true
}

func validText(field, s string, max int) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("%s %.80q: want 1 to %d bytes: %w", field, s, max, ErrInvalid)
	}
	for _, c := range s {
		if c == utf8.RuneError || c < 0x20 || c == 0x7f {
			return fmt.Errorf("%s %.80q: only printable UTF-8 is allowed: %w", field, s, ErrInvalid)
		}
	}
	return nil
}

// Signal wakes waiters whenever the log grows. Stores embed one and call Notify after each
// acknowledged append; Follow uses it to implement Subscribe. The zero value is ready.
type Signal struct {
	mu sync.Mutex // guards ch
	ch chan struct{}
}

// C returns a channel that is closed at the next Notify.
func (s *Signal) C() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Notify wakes everyone waiting on a channel from C.
func (s *Signal) Notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// SubscribePage is how many envelopes Follow reads at a time: the bound on what a
// subscription holds in memory.
const SubscribePage = 256

// Follow implements Store.Subscribe on top of ReadAll and a Signal: it pages through the log
// from after, and when it reaches the head waits for the signal. Because it only ever reads
// by position, history and live events join with no gap and no duplicate.
func Follow(ctx context.Context, readAll func(context.Context, Position, int) ([]Envelope, error), sig *Signal, after Position, fn func(Envelope) error) error {
	for {
		wake := sig.C() // taken before reading, so an append during the read is not missed
		page, err := readAll(ctx, after, SubscribePage)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
			after = e.Position
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(page) == SubscribePage {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

// CheckLimit returns ErrInvalid unless a ReadAll limit is positive.
func CheckLimit(limit int) error {
	if limit <= 0 {
		return fmt.Errorf("read all: limit %d, want 1 or more: %w", limit, ErrInvalid)
	}
	return nil
}

// CheckExpected returns a *ConflictError if a stream at version actual does not satisfy
// expected, and nil if it does.
func CheckExpected(stream StreamID, expected, actual Version) error {
	switch {
	case expected == Any,
		expected == StreamExists && actual > 0,
		expected == actual:
		return nil
	}
	return &ConflictError{Stream: stream, Expected: expected, Actual: actual}
}

// Written is where an event ID was stored, as a Store's ID index records it.
type Written struct {
	Stream   StreamID
	Version  Version
	Position Position
}

// DetectRetry decides whether an Append of recs to stream repeats one already written, using
// the store's ID index lookup. It returns ok=false and no error when no record's ID is known
// (a new append); the original result and ok=true when every ID is in stream at consecutive
// versions, in order; and ErrDuplicateID otherwise.
func DetectRetry(stream StreamID, recs []Record, lookup func(id [16]byte) (Written, bool)) (res AppendResult, ok bool, err error) {
	for i, r := range recs {
		w, found := lookup(r.ID)
		switch {
		case i == 0 && !found:
			for _, r := range recs[1:] {
				if w, found := lookup(r.ID); found {
					return AppendResult{}, false, fmt.Errorf("append %s: id %s is already in stream %s at version %d: %w", stream, r.ID, w.Stream, w.Version, ErrDuplicateID)
				}
			}
			return AppendResult{}, false, nil
		case !found:
			return AppendResult{}, false, fmt.Errorf("append %s: only the first %d of %d records were appended before: %w", stream, i, len(recs), ErrDuplicateID)
		case w.Stream != stream:
			return AppendResult{}, false, fmt.Errorf("append %s: id %s is already in stream %s at version %d: %w", stream, r.ID, w.Stream, w.Version, ErrDuplicateID)
		case i > 0 && w.Version != res.Version+1:
			return AppendResult{}, false, fmt.Errorf("append %s: id %s was appended at version %d, not right after the previous record: %w", stream, r.ID, w.Version, ErrDuplicateID)
		}
		res.Version = w.Version
		res.Positions = append(res.Positions, w.Position)
	}
	return res, true, nil
}
