package domain

import "errors"

// Error kinds. Specific errors wrap exactly one of them so callers (and the GraphQL error
// mapping) can classify a failure with errors.Is.
var (
	// ErrInvalid: the request is malformed or breaks a rule; retrying it unchanged fails again.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound: the thing named does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request contradicts the current state (already exists, wrong state).
	ErrConflict = errors.New("conflict")
)
