package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratahq/strata/domain"
)

// Store is the projection store: an ordered key/value store with atomic read-write
// transactions. Every implementation passes projectionstest.Run, which checks each
// sentence below.
type Store interface {
	// Update runs fn in a read-write transaction. If fn returns nil, all its writes are
	// committed atomically: after a crash either all of them are visible or none. If fn
	// returns an error, nothing is written and Update returns that error. A transaction
	// with more writes than the store can hold in one commit fails with an error matching
	// ErrTooBig and writes nothing. Updates are serialised: one runs at a time.
	Update(ctx context.Context, fn func(Txn) error) error
	// View runs fn on a consistent snapshot: it sees every Update committed before View
	// began and nothing committed after. It returns fn's error.
	View(ctx context.Context, fn func(Reader) error) error
}

// Reader reads keys. The byte slices it hands out are valid only until fn (of View,
// Update or Scan) returns: copy what you keep.
type Reader interface {
	// Get returns the value of key and true, or nil and false if key is not set.
	Get(key []byte) ([]byte, bool, error)
	// Scan calls fn for every key with prefix, in ascending byte order (descending if
	// reverse), starting at seek: the first key ≥ seek ascending, ≤ seek descending; a nil
	// seek starts at the first (last) key of the prefix. fn returns false to stop early.
	// Inside Update, Scan sees the transaction's own writes.
	Scan(prefix, seek []byte, reverse bool, fn func(key, value []byte) bool) error
}

// Txn is a read-write transaction: it reads its own writes.
type Txn interface {
	Reader
	// Set sets key to value. Neither may be modified afterwards by the caller.
	Set(key, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(key []byte) error
}

// ErrTooBig: a transaction holds more writes than the store commits at once. The engine
// answers it by applying fewer events per transaction.
var ErrTooBig = errors.New("projections: transaction too big")

// ErrNotFound is what queries return for something the read model does not hold.
var ErrNotFound = fmt.Errorf("%w", domain.ErrNotFound) // the message names what is missing
