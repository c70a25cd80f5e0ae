package blob

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/zeebo/blake3"

	"github.com/stratahq/strata/domain"
)

// Source wraps the reader given to Store.Put for a backend: every byte read through it is
// hashed (single pass, all four digests) and counted, reads stop with ctx.Err() once ctx is
// cancelled, and the first read error is remembered so the backend can report it even when
// its SDK wraps it beyond errors.Is. Backends read Source to EOF, then call Object.
type Source struct {
	ctx context.Context // the Put call's context, checked on every Read
	r   io.Reader
	h   *Hasher
	err error
}

// NewSource returns a Source reading r on behalf of a Put running under ctx.
func NewSource(ctx context.Context, r io.Reader) *Source {
	return &Source{ctx: ctx, r: r, h: NewHasher()}
}

// Read reads from the underlying reader and hashes what it returns.
func (s *Source) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return 0, err
	}
	n, err := s.r.Read(p)
	if n > 0 {
		_, _ = s.h.Write(p[:n]) // cannot fail before Sum
	}
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// Err returns the first error Read returned other than io.EOF (a read failure or ctx.Err()),
// or ctx.Err() if ctx has been cancelled since; nil otherwise. Backends return it in
// preference to their SDK's error so callers can match it with errors.Is.
func (s *Source) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.ctx.Err()
}

// Size returns the number of bytes read so far.
func (s *Source) Size() int64 { return s.h.Size() }

// Object stops the hashing and returns the digests and size of everything read. Call it
// exactly once, also on failure paths, to release the hashing goroutines.
func (s *Source) Object() Object {
	size := s.h.Size()
	return Object{Digests: s.h.Sum(), Size: size}
}

// PutError returns the error a failed Put reports: the Source's own error (read failure or
// cancelled context) when there is one, else err; wrapped as "put: ...".
func (s *Source) PutError(err error) error {
	if serr := s.Err(); serr != nil {
		return fmt.Errorf("put: %w", serr)
	}
	return fmt.Errorf("put: %w", err)
}

// Verify wraps rc, the raw content of d from a backend, into the reader Store.Open returns:
// it hashes what it reads and, when rc reaches EOF, returns a *DigestMismatchError instead
// of io.EOF if the content does not hash to d. Reads fail with ctx.Err() once ctx is
// cancelled. Closing it closes rc.
func Verify(ctx context.Context, rc io.ReadCloser, d domain.Digest) io.ReadCloser {
	return &verifier{ctx: ctx, rc: rc, want: d, h: blake3.New()}
}

type verifier struct {
	ctx  context.Context // the Open call's context
	rc   io.ReadCloser
	want domain.Digest
	h    *blake3.Hasher
	err  error // sticky: io.EOF, a mismatch or a read error
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if err := v.ctx.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", v.want, err)
	}
	n, err := v.rc.Read(p)
	_, _ = v.h.Write(p[:n]) // blake3.Hasher.Write never fails
	switch {
	case err == io.EOF:
		var got domain.Digest
		v.h.Sum(got[:0])
		if got != v.want {
			v.err = &DigestMismatchError{Want: v.want, Got: got}
		} else {
			v.err = io.EOF
		}
		if n > 0 && v.err == io.EOF {
			return n, nil // report EOF on the next call, as most readers do
		}
		return n, v.err
	case err != nil:
		if cerr := v.ctx.Err(); cerr != nil {
			err = cerr
		}
		v.err = fmt.Errorf("read %s: %w", v.want, err)
		return n, v.err
	}
	return n, nil
}

func (v *verifier) Close() error {
	if err := v.rc.Close(); err != nil {
		return fmt.Errorf("close %s: %w", v.want, err)
	}
	return nil
}

// CheckList validates the arguments of Store.List and returns an error matching
// domain.ErrInvalid if they break its contract.
func CheckList(prefix, after string, limit int) error {
	switch {
	case limit < 1:
		return fmt.Errorf("list: limit %d < 1: %w", limit, domain.ErrInvalid)
	case !isHex(prefix) || len(prefix) > 64:
		return fmt.Errorf("list: prefix %.80q is not lowercase hex of at most 64 characters: %w", prefix, domain.ErrInvalid)
	case !isHex(after) || len(after) > 64:
		return fmt.Errorf("list: after %.80q is not lowercase hex of at most 64 characters: %w", after, domain.ErrInvalid)
	}
	return nil
}

func isHex(s string) bool {
	return strings.Trim(s, "0123456789abcdef") == ""
}

// ParseKey parses name, the last element of a backend's object key, as a content address.
// It reports false for anything that is not 64 lowercase hex characters (temporary uploads,
// foreign objects), which List skips.
func ParseKey(name string) (domain.Digest, bool) {
	if len(name) != 64 || !isHex(name) {
		return domain.Digest{}, false
	}
	d, err := domain.ParseDigest(name)
	return d, err == nil
}
