package projections

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/stratahq/strata/events"
)

// Now is the position that means "the current state" in the bitemporal queries.
const Now = events.Position(math.MaxUint64)

// AsOf selects a moment of the past: a position of the log, or a time (the last event
// recorded at or before it). The zero AsOf is now.
type AsOf struct {
	Position events.Position
	Time     time.Time
}

// IsNow reports whether a is the zero AsOf.
func (a AsOf) IsNow() bool { return a.Position == 0 && a.Time.IsZero() }

// key joins parts with NUL bytes.
func key(parts ...string) []byte {
	n := len(parts)
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			out = append(out, 0)
		}
		out = append(out, p...)
	}
	return out
}

// prefixOf is key(parts...) followed by a NUL: the prefix of every longer key.
func prefixOf(parts ...string) []byte { return append(key(parts...), 0) }

func withPos(k []byte, p events.Position) []byte { return binary.BigEndian.AppendUint64(k, uint64(p)) }

func withUint(k []byte, n uint64) []byte { return binary.BigEndian.AppendUint64(k, n) }

func posAtEnd(k []byte) events.Position {
	if len(k) < 8 {
		return 0
	}
	return events.Position(binary.BigEndian.Uint64(k[len(k)-8:]))
}

func getJSON(r Reader, k []byte, v any) (bool, error) {
	b, ok, err := r.Get(k)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode %q: %w", k, err)
	}
	return true, nil
}

func putJSON(tx Txn, k []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", k, err)
	}
	return tx.Set(k, b)
}

// scanJSON decodes every value under prefix, in key order, into a fresh T for fn.
func scanJSON[T any](r Reader, prefix, seek []byte, reverse bool, fn func(k []byte, v T) bool) error {
	var derr error
	err := r.Scan(prefix, seek, reverse, func(k, b []byte) bool {
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			derr = fmt.Errorf("decode %q: %w", k, err)
			return false
		}
		return fn(k, v)
	})
	if err != nil {
		return err
	}
	return derr
}

// valid reports whether a fact true from position from until to (0: still true) holds at p.
func valid(from, to, p events.Position) bool {
	return from <= p && (to == 0 || to > p)
}
