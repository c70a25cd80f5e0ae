package events

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every failure of this package and of every Store matches one of them (or
// a context error) with errors.Is.
var (
	// ErrConflict: Append's expected version did not match the stream. The error is a
	// *ConflictError carrying both versions.
	ErrConflict = errors.New("events: version conflict")
	// ErrDuplicateID: a record's ID is already used by another event in a way that is not a
	// plain retry: in another stream, or only some records of the call were appended before.
	ErrDuplicateID = errors.New("events: duplicate event id")
	// ErrInvalid: the call's arguments are malformed (empty stream, data that is not compact
	// JSON, a limit that is not positive, too large an append …). Retrying it unchanged fails.
	ErrInvalid = errors.New("events: invalid argument")
	// ErrUnknownType: the codec has no registration for an event type, or no upcaster path
	// from a stored schema version. Such an event is never skipped.
	ErrUnknownType = errors.New("events: unknown event type")
	// ErrNotEmpty: Import was asked to write into a store that already holds events.
	ErrNotEmpty = errors.New("events: store is not empty")
	// ErrTampered: Verify or Import found an event whose hash, chain link, version or
	// position is not what the log says it must be. The error is a *TamperError.
	ErrTampered = errors.New("events: log failed verification")
	// ErrClosed: the store was closed, or stopped accepting writes after a storage failure.
	ErrClosed = errors.New("events: store closed")
)

// ConflictError reports an Append whose expected version did not match the stream.
type ConflictError struct {
	Stream           StreamID
	Expected, Actual Version
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("append %s: expected version %s, stream at %d", e.Stream, e.Expected, e.Actual)
}

// Is makes a *ConflictError match ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// TamperError names the first event that fails verification.
type TamperError struct {
	Position Position
	Stream   StreamID
	Version  Version
	// Line is the 1-based line of an export file, when the event was read from one.
	Line int
	// Problem says what is wrong, e.g. "hash does not match content".
	Problem string
}

func (e *TamperError) Error() string {
	where := ""
	if e.Line > 0 {
		where = fmt.Sprintf("line %d: ", e.Line)
	}
	return fmt.Sprintf("%sevent at position %d (stream %s, version %d): %s", where, e.Position, e.Stream, e.Version, e.Problem)
}

// Is makes a *TamperError match ErrTampered.
func (e *TamperError) Is(target error) bool { return target == ErrTampered }
