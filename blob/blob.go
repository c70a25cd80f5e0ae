package blob

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/stratahq/strata/domain"
)

// Store keeps immutable blobs addressed by the BLAKE3 digest of their content. Every
// implementation must pass blobtest.Run, which checks each sentence below.
type Store interface {
	// Put reads r to EOF and stores the content under its BLAKE3 digest, returning the four
	// digests and the size.
	// The size need not be known in advance: r is streamed, and an implementation holds at
	// most a bounded buffer in memory, however large the content.
	// Putting content that is already stored is a success that returns the same Object and
	// leaves the stored object as it was; concurrent Puts of the same content all succeed.
	// The object becomes visible to Open, Stat and List only once complete, before Put returns.
	// If reading r fails, the store fails or ctx is cancelled, Put returns an error (matching
	// the read error, or ctx.Err() for a cancelled ctx) and stores nothing under the address.
	Put(ctx context.Context, r io.Reader) (Object, error)

	// Open returns a reader of the content stored under d; the caller must close it.
	// The reader verifies the content as it is read: when the bytes read do not hash to d,
	// the Read that would have returned io.EOF returns an error matching ErrDigestMismatch
	// instead, so a caller that reads to io.EOF has read exactly the content of d.
	// A missing object gives an error matching ErrNotFound (and domain.ErrNotFound).
	// Cancelling ctx makes Open, and later Reads, return an error matching ctx.Err().
	Open(ctx context.Context, d domain.Digest) (io.ReadCloser, error)

	// Stat returns the address and size of the object stored under d, or an error matching
	// ErrNotFound when there is none. It does not read or verify the content.
	Stat(ctx context.Context, d domain.Digest) (Info, error)

	// Delete removes the object stored under d, so Open and Stat give ErrNotFound and List
	// omits it. Deleting a missing object is a success, so an interrupted purge can be
	// retried. Readers already open may or may not go on reading the content. Delete does not
	// know who else refers to the content: callers (purge) decide that it is unreferenced,
	// and a Put of the same content racing a Delete may leave the object present or absent.
	Delete(ctx context.Context, d domain.Digest) error

	// List returns at most limit objects whose lowercase hex address starts with prefix and
	// sorts after after, in increasing order of address. prefix and after are lowercase hex
	// ("" for none); after is normally the last address of the previous page. A page shorter
	// than limit is the last one. A non-hex prefix or after, an after longer than an
	// address, or limit < 1 gives an error matching domain.ErrInvalid.
	List(ctx context.Context, prefix, after string, limit int) ([]Info, error)
}

// Object is what Put reports about content it stored.
type Object struct {
	Digests domain.Digests // Digests.BLAKE3 is the content address
	Size    int64
}

// Info returns the address and size of o.
func (o Object) Info() Info { return Info{Digest: o.Digests.BLAKE3, Size: o.Size} }

// Info describes one stored object.
type Info struct {
	Digest domain.Digest // the content address (BLAKE3)
	Size   int64
}

var (
	// ErrNotFound: no object is stored under the address. It matches domain.ErrNotFound.
	ErrNotFound = fmt.Errorf("blob %w", domain.ErrNotFound)
	// ErrDigestMismatch: stored content does not hash to its address (corruption or
	// tampering in the store). It is an integrity failure, not a client error.
	ErrDigestMismatch = errors.New("blob content does not match its digest")
)

// DigestMismatchError reports content that hashed to Got when it was stored as Want.
// It matches ErrDigestMismatch.
type DigestMismatchError struct {
	Want, Got domain.Digest
}

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("read %s: content hashes to %s: %v", e.Want, e.Got, ErrDigestMismatch)
}

// Is reports whether target is ErrDigestMismatch.
func (e *DigestMismatchError) Is(target error) bool { return target == ErrDigestMismatch }
