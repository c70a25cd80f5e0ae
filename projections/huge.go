package projections

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/stratahq/strata/events"
)

// An event whose writes do not fit in one transaction (a dataset version of a million
// files) is applied through a redo log, so that it still counts as applied entirely or
// not at all:
//
//  1. its writes, and the new checkpoints, are computed in memory on a snapshot;
//  2. they are written, in chunks of one transaction each, under "r" seq;
//  3. one transaction sets "rc": from then on the event counts as applied;
//  4. each chunk is copied to its keys and deleted in one transaction (split in two
//     first if that is too big); the last transaction deletes "rc".
//
// A crash before 3 leaves chunks that init deletes (the event is applied again from the
// checkpoint, which has not moved); a crash after 3 leaves chunks that init copies (every
// write is an absolute value, so copying one twice is harmless). Between 3 and the end,
// readers may see part of the event's writes.

var redoDone = []byte("rc")

func redoKey(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte("r\x00"), seq) }

// redoChunk bounds a chunk: writes and bytes.
const (
	redoChunkWrites = 1000
	redoChunkBytes  = 1 << 20
)

// applyHuge applies one event through the redo log. Called with applyMu held.
func (e *Engine) applyHuge(ctx context.Context, after events.Position, envs []events.Envelope, decoded []events.Event) error {
	cur := e.currentMetas()
	writes := map[string][]byte{}
	var next map[string]meta
	err := e.store.View(ctx, func(r Reader) error {
		var err error
		next, err = e.applyTo(&layered{cur: writes, r: r}, cur, after, envs, decoded)
		return err
	})
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(writes))
	for k := range writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var seq uint64
	for len(keys) > 0 {
		var chunk []byte
		n := 0
		for n < len(keys) && n < redoChunkWrites && (n == 0 || len(chunk) < redoChunkBytes) {
			chunk = appendRedo(chunk, keys[n], writes[keys[n]])
			n++
		}
		keys = keys[n:]
		k := redoKey(seq)
		seq++
		if err := e.store.Update(ctx, func(tx Txn) error { return tx.Set(k, chunk) }); err != nil {
			return fmt.Errorf("stage the writes of position %d: %w", envs[0].Position, err)
		}
	}
	if err := e.store.Update(ctx, func(tx Txn) error { return tx.Set(redoDone, nil) }); err != nil {
		return fmt.Errorf("stage the writes of position %d: %w", envs[0].Position, err)
	}
	if err := e.redo(ctx); err != nil {
		return err
	}
	e.publish(next)
	return nil
}

func appendRedo(b []byte, k string, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(k)))
	b = append(b, k...)
	if v == nil {
		return append(b, 1)
	}
	b = append(b, 0)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

var errBadRedo = errors.New("projections: malformed redo chunk")

// redo finishes a redo log: copies its chunks if "rc" is set, and deletes them.
func (e *Engine) redo(ctx context.Context) error {
	var complete bool
	err := e.store.View(ctx, func(r Reader) error {
		_, ok, err := r.Get(redoDone)
		complete = ok
		return err
	})
	if err != nil {
		return fmt.Errorf("read the redo log: %w", err)
	}
	for {
		var done bool
		var k, chunk []byte
		err := e.store.Update(ctx, func(tx Txn) error {
			k, chunk = nil, nil
			if err := tx.Scan([]byte("r\x00"), nil, false, func(key, v []byte) bool {
				k, chunk = bytes.Clone(key), bytes.Clone(v)
				return false
			}); err != nil {
				return err
			}
			if k == nil {
				done = true
				return tx.Delete(redoDone)
			}
			if complete {
				if err := replayRedo(tx, chunk); err != nil {
					return err
				}
			}
			return tx.Delete(k)
		})
		if errors.Is(err, ErrTooBig) && k != nil {
			err = splitRedo(ctx, e.store, k, chunk) // the store takes fewer writes than we thought
		}
		if err != nil {
			return fmt.Errorf("apply the redo log: %w", err)
		}
		if done {
			return nil
		}
	}
}

// splitRedo replaces the chunk k by two halves, under keys that sort where it did.
func splitRedo(ctx context.Context, store Store, k, chunk []byte) error {
	var ends []int // where each write ends
	r := rowReader{b: chunk}
	for len(r.b) > 0 && !r.bad {
		r.str()
		if flag := r.bytes(1); !r.bad && flag[0] == 0 {
			r.str()
		}
		ends = append(ends, len(chunk)-len(r.b))
	}
	if r.bad || len(ends) < 2 {
		return fmt.Errorf("one write of %d bytes: %w", len(chunk), ErrTooBig)
	}
	mid := ends[len(ends)/2-1]
	return store.Update(ctx, func(tx Txn) error {
		if err := tx.Set(append(bytes.Clone(k), 0), chunk[:mid]); err != nil {
			return err
		}
		if err := tx.Set(append(bytes.Clone(k), 1), chunk[mid:]); err != nil {
			return err
		}
		return tx.Delete(k)
	})
}

func replayRedo(tx Txn, chunk []byte) error {
	r := rowReader{b: chunk}
	for len(r.b) > 0 && !r.bad {
		k := r.str()
		flag := r.bytes(1)
		if r.bad {
			break
		}
		var err error
		if flag[0] == 1 {
			err = tx.Delete(k)
		} else {
			err = tx.Set(k, bytes.Clone(r.str()))
		}
		if err != nil {
			return err
		}
	}
	if r.bad {
		return errBadRedo
	}
	return nil
}
