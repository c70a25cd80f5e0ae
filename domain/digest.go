package domain

import (
	"encoding/hex"
	"fmt"
)

// Digest is a BLAKE3-256 hash: the content address of a blob and the hash-chain link of
// events. The zero Digest means "none".
type Digest [32]byte

// MD5 is an MD5 digest, kept for compatibility with stores and tools that report it (ETag).
type MD5 [16]byte

// SHA1 is a SHA-1 digest.
type SHA1 [20]byte

// SHA256 is a SHA-256 digest.
type SHA256 [32]byte

// Digests are the four digests Strata records for every file, computed in one pass.
type Digests struct {
	MD5    MD5
	SHA1   SHA1
	SHA256 SHA256
	BLAKE3 Digest
}

// IsZero reports whether d is the zero Digest.
func (d Digest) IsZero() bool { return d == Digest{} }

// String returns d as lowercase hex.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// MarshalText encodes d as lowercase hex; the zero Digest encodes as the empty string.
func (d Digest) MarshalText() ([]byte, error) { return marshalHex(d[:]) }

// UnmarshalText decodes lowercase or uppercase hex of exactly 64 characters, or the empty string.
func (d *Digest) UnmarshalText(b []byte) error { return unmarshalHex("blake3", d[:], b) }

// ParseDigest parses the hex form of a BLAKE3 digest.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if s == "" {
		return d, fmt.Errorf("parse blake3 digest: empty: %w", ErrInvalid)
	}
	return d, d.UnmarshalText([]byte(s))
}

// String returns d as lowercase hex.
func (d MD5) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether d is the zero digest.
func (d MD5) IsZero() bool { return d == MD5{} }

// MarshalText encodes d as lowercase hex.
func (d MD5) MarshalText() ([]byte, error) { return marshalHex(d[:]) }

// UnmarshalText decodes the hex form of d.
func (d *MD5) UnmarshalText(b []byte) error { return unmarshalHex("md5", d[:], b) }

// String returns d as lowercase hex.
func (d SHA1) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether d is the zero digest.
func (d SHA1) IsZero() bool { return d == SHA1{} }

// MarshalText encodes d as lowercase hex.
func (d SHA1) MarshalText() ([]byte, error) { return marshalHex(d[:]) }

// UnmarshalText decodes the hex form of d.
func (d *SHA1) UnmarshalText(b []byte) error { return unmarshalHex("sha1", d[:], b) }

// String returns d as lowercase hex.
func (d SHA256) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether d is the zero digest.
func (d SHA256) IsZero() bool { return d == SHA256{} }

// MarshalText encodes d as lowercase hex.
func (d SHA256) MarshalText() ([]byte, error) { return marshalHex(d[:]) }

// UnmarshalText decodes the hex form of d.
func (d *SHA256) UnmarshalText(b []byte) error { return unmarshalHex("sha256", d[:], b) }

func marshalHex(b []byte) ([]byte, error) {
	for _, c := range b {
		if c != 0 {
			out := make([]byte, hex.EncodedLen(len(b)))
			hex.Encode(out, b)
			return out, nil
		}
	}
	return []byte{}, nil
}

func unmarshalHex(kind string, dst, text []byte) error {
	if len(text) == 0 {
		clear(dst)
		return nil
	}
	if len(text) != hex.EncodedLen(len(dst)) {
		return fmt.Errorf("parse %s digest %.80q: want %d hex characters, got %d: %w", kind, text, hex.EncodedLen(len(dst)), len(text), ErrInvalid)
	}
	if _, err := hex.Decode(dst, text); err != nil {
		return fmt.Errorf("parse %s digest %.80q: not hex: %w", kind, text, ErrInvalid)
	}
	return nil
}
