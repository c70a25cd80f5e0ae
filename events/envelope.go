package events

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/zeebo/blake3"
)

// StreamID names one aggregate's stream, such as "execution-0192…" or "alias-proj/model-prod".
type StreamID string

// Version is the 1-based number of an event within its stream; a stream's version is that
// of its last event, and 0 means the stream has no events.
type Version int64

// Expected versions for Append besides an exact Version.
const (
	// Any appends whatever the stream's version.
	Any Version = -1
	// NoStream appends only if the stream has no events yet. It equals the exact version 0.
	NoStream Version = 0
	// StreamExists appends only if the stream has at least one event.
	StreamExists Version = -2
)

func (v Version) String() string {
	switch v {
	case Any:
		return "any"
	case StreamExists:
		return "stream-exists"
	}
	return fmt.Sprint(int64(v))
}

// Position is an event's place in the global log: strictly increasing in append order,
// assigned by the store. 0 means "before the first event".
type Position uint64

// Hash is a BLAKE3-256 hash in the event chain.
type Hash [32]byte

// IsZero reports whether h is the zero hash (the Prev of a stream's first event).
func (h Hash) IsZero() bool { return h == Hash{} }

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText encodes h as 64 lowercase hex characters.
func (h Hash) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(h)))
	hex.Encode(out, h[:])
	return out, nil
}

// UnmarshalText decodes 64 hex characters.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != hex.EncodedLen(len(h)) {
		return fmt.Errorf("parse hash: want %d hex characters, got %d: %w", hex.EncodedLen(len(h)), len(b), ErrInvalid)
	}
	if _, err := hex.Decode(h[:], b); err != nil {
		return fmt.Errorf("parse hash: %w: %w", err, ErrInvalid)
	}
	return nil
}

// Record is what a writer appends: the event's identity, type, metadata and payload. The store
// adds the position, version, time and hash chain and returns the result as an Envelope.
type Record struct {
	// ID is the event's UUIDv7 (see NewID), chosen by the writer so a retried Append is
	// recognised: appending an ID the stream already holds is a no-op success.
	ID uuid.UUID
	// Type is the stable wire name, "<aggregate>.<Event>".
	Type string
	// Schema is the payload's schema version, 1 or more.
	Schema int
	// Actor is who caused the event: a user, a token or a runner.
	Actor string
	// CorrelationID ties together everything done for one request.
	CorrelationID string
	// CausationID is the ID of the event or command that caused this one, if any.
	CausationID string
	// Data is the payload as compact JSON.
	Data []byte
	// RecordedAt is zero for every ordinary append: the store stamps the time. Import sets
	// it to preserve the history it copies.
	RecordedAt time.Time
}

// Envelope is a stored event: the Record plus what the store assigned.
type Envelope struct {
	Position      Position  `json:"position"`
	Stream        StreamID  `json:"stream"`
	Version       Version   `json:"version"`
	ID            uuid.UUID `json:"id"`
	Type          string    `json:"type"`
	Schema        int       `json:"schema"`
	RecordedAt    time.Time `json:"recordedAt"`
	Actor         string    `json:"actor,omitempty"`
	CorrelationID string    `json:"correlationId,omitempty"`
	CausationID   string    `json:"causationId,omitempty"`
	Data          RawJSON   `json:"data"`
	// Prev is the Hash of the stream's previous event, zero for its first.
	Prev Hash `json:"prev"`
	// Hash is BLAKE3 of the event's canonical bytes (see Canonical), which include Prev.
	Hash Hash `json:"hash"`
}

// RawJSON is a JSON payload kept byte for byte (encoding/json.RawMessage re-escapes HTML
// characters when marshalled, which would change the hashed bytes).
type RawJSON []byte

// MarshalJSON returns r unchanged.
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

// UnmarshalJSON keeps a copy of b.
func (r *RawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// Seal stamps e as the event following prev in its stream: it sets Prev and computes Hash.
func Seal(e *Envelope, prev Hash) {
	e.Prev = prev
	e.Hash = e.ComputeHash()
}

// ComputeHash returns the BLAKE3 hash of e's canonical bytes. Position and Hash are not
// covered: positions may differ between backends, so a log keeps its hashes when migrated.
func (e *Envelope) ComputeHash() Hash {
	var buf [512]byte
	return blake3.Sum256(e.Canonical(buf[:0]))
}

const canonicalFormat = 1

// Canonical appends e's canonical bytes to buf and returns it: a versioned, length-prefixed
// binary encoding of every field but Position and Hash. It is the hash input and, followed
// by Hash, the storage format of the binary backends (MarshalBinary).
func (e *Envelope) Canonical(buf []byte) []byte {
	buf = append(buf, canonicalFormat)
	buf = appendString(buf, string(e.Stream))
	buf = binary.AppendVarint(buf, int64(e.Version))
	buf = append(buf, e.ID[:]...)
	buf = appendString(buf, e.Type)
	buf = binary.AppendVarint(buf, int64(e.Schema))
	buf = binary.AppendVarint(buf, e.RecordedAt.UnixNano())
	buf = appendString(buf, e.Actor)
	buf = appendString(buf, e.CorrelationID)
	buf = appendString(buf, e.CausationID)
	buf = appendString(buf, string(e.Data))
	return append(buf, e.Prev[:]...)
}

// MarshalBinary encodes e without its Position: the canonical bytes followed by Hash.
func (e *Envelope) MarshalBinary() ([]byte, error) {
	return e.AppendBinary(make([]byte, 0, 128+len(e.Data)+len(e.Stream)+len(e.Type)))
}

// AppendBinary appends the MarshalBinary form of e to buf.
func (e *Envelope) AppendBinary(buf []byte) ([]byte, error) {
	return append(e.Canonical(buf), e.Hash[:]...), nil
}

// UnmarshalBinary decodes the MarshalBinary form into e, leaving e.Position unchanged. The
// envelope does not alias b.
func (e *Envelope) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	if f := d.byte(); f != canonicalFormat && d.err == nil {
		return fmt.Errorf("decode envelope: unknown format %d: %w", f, errMalformed)
	}
	e.Stream = StreamID(d.string())
	e.Version = Version(d.varint())
	copy(e.ID[:], d.bytes(16))
	e.Type = d.string()
	e.Schema = int(d.varint())
	e.RecordedAt = time.Unix(0, d.varint()).UTC()
	e.Actor = d.string()
	e.CorrelationID = d.string()
	e.CausationID = d.string()
	if data := d.bytesN(); data != nil {
		e.Data = append(RawJSON(nil), data...)
	} else {
		e.Data = nil
	}
	copy(e.Prev[:], d.bytes(32))
	copy(e.Hash[:], d.bytes(32))
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d trailing bytes: %w", len(d.b), errMalformed)
	}
	if d.err != nil {
		return fmt.Errorf("decode envelope: %w", d.err)
	}
	return nil
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// decoder reads the canonical encoding, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

var (
	errMalformed = fmt.Errorf("malformed envelope: %w", ErrInvalid)
	errShort     = fmt.Errorf("truncated: %w", errMalformed)
)

func (d *decoder) byte() byte {
	if b := d.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = errShort
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytesN() []byte {
	if d.err != nil {
		return nil
	}
	l, n := binary.Uvarint(d.b)
	if n <= 0 || l > uint64(len(d.b)-n) {
		d.err = errShort
		return nil
	}
	d.b = d.b[n:]
	return d.bytes(int(l))
}

func (d *decoder) string() string { return string(d.bytesN()) }
