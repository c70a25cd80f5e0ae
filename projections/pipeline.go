package projections

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	"github.com/stratahq/strata/events"
)

// The engine pipelines its batches: batch N+1 is applied into memory, on a snapshot of
// the store plus the still uncommitted writes of batch N, while batch N commits. A
// rebuild otherwise alternates between applying (the engine's goroutine) and committing
// (the store's), each idle half the time.

// staged is a batch applied into memory and not yet committed: its writes (the
// projections' keys and their checkpoints) commit in one Update, so it is all or nothing
// like any batch.
type staged struct {
	after  events.Position
	envs   []events.Envelope
	evs    []events.Event
	writes map[string][]byte // nil value: deleted
	next   map[string]meta   // the metas it commits
	epoch  uint64            // Engine.epoch when staged: a reset since voids it
	done   chan struct{}     // closed when commit returns
	err    error             // commit's error
}

// stage applies a batch into memory on a snapshot of the store and, once the snapshot is
// taken, commits prev (the batch staged before, on whose writes this one reads) alongside.
// It returns after prev's commit. Called with applyMu held.
func (e *Engine) stage(ctx context.Context, after events.Position, envs []events.Envelope, evs []events.Event, prev *staged) (*staged, error) {
	if prev != nil && prev.epoch != e.epoch {
		return nil, errRestart // a projection was reset since prev was applied
	}
	cur := e.currentMetas()
	var below map[string][]byte
	if prev != nil {
		for k, v := range prev.next {
			cur[k] = v
		}
		below = prev.writes
	}
	s := &staged{after: after, envs: envs, evs: evs, writes: map[string][]byte{}, epoch: e.epoch, done: make(chan struct{})}
	started := false
	err := e.store.View(ctx, func(r Reader) error {
		if prev != nil {
			started = true
			go prev.commit(ctx, e.store)
		}
		var err error
		s.next, err = e.applyTo(&layered{cur: s.writes, below: below, r: r}, cur, after, envs, evs)
		return err
	})
	if prev != nil {
		if !started {
			go prev.commit(ctx, e.store)
		}
		<-prev.done
		if perr := e.committed(ctx, prev); perr != nil {
			return nil, perr
		}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// commitNow commits s and waits for it. Called with applyMu held.
func (e *Engine) commitNow(ctx context.Context, s *staged) error {
	if s.epoch != e.epoch {
		return errRestart
	}
	s.commit(ctx, e.store)
	return e.committed(ctx, s)
}

// committed publishes the checkpoints of a committed batch; a batch too big for one
// transaction is applied again, split, by the synchronous path.
func (e *Engine) committed(ctx context.Context, s *staged) error {
	switch {
	case errors.Is(s.err, ErrTooBig):
		return e.apply(ctx, s.after, s.envs, s.evs)
	case s.err != nil:
		return s.err
	}
	e.publish(s.next)
	return nil
}

func (s *staged) commit(ctx context.Context, store Store) {
	defer close(s.done)
	s.err = store.Update(ctx, func(tx Txn) error { return writeAll(tx, s.writes) })
}

// writeAll sets (or, for nil values, deletes) every key of writes in tx.
func writeAll(tx Txn, writes map[string][]byte) error {
	for k, v := range writes {
		var err error
		if v == nil {
			err = tx.Delete([]byte(k))
		} else {
			err = tx.Set([]byte(k), v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// layered is a Txn that keeps its writes in cur and reads through cur, then below (the
// writes of the batch before, still being committed), then r.
type layered struct {
	cur, below map[string][]byte // nil value: deleted
	r          Reader
}

func (l *layered) lookup(k string) (v []byte, found bool) {
	if v, ok := l.cur[k]; ok {
		return v, true
	}
	v, ok := l.below[k]
	return v, ok
}

func (l *layered) Get(key []byte) ([]byte, bool, error) {
	if v, ok := l.lookup(string(key)); ok {
		return v, v != nil, nil
	}
	return l.r.Get(key)
}

func (l *layered) Set(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	l.cur[string(key)] = value
	return nil
}

func (l *layered) Delete(key []byte) error {
	l.cur[string(key)] = nil
	return nil
}

// Scan merges the keys written in memory with r's, in order. It walks every key held in
// memory, which is fine for the projections' occasional scans in a batch.
func (l *layered) Scan(prefix, seek []byte, reverse bool, fn func(key, value []byte) bool) error {
	var keys []string
	for _, m := range []map[string][]byte{l.cur, l.below} {
		for k := range m {
			if !strings.HasPrefix(k, string(prefix)) {
				continue
			}
			if seek != nil && (!reverse && k < string(seek) || reverse && k > string(seek)) {
				continue
			}
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	keys = slices.Compact(keys)
	if reverse {
		slices.Reverse(keys)
	}
	before := func(a, b string) bool { return a < b != reverse && a != b }
	i, stopped := 0, false
	emit := func(k []byte, v []byte) bool {
		if !fn(k, v) {
			stopped = true
		}
		return !stopped
	}
	err := l.r.Scan(prefix, seek, reverse, func(k, v []byte) bool {
		for i < len(keys) && before(keys[i], string(k)) {
			if mv, _ := l.lookup(keys[i]); mv != nil && !emit([]byte(keys[i]), mv) {
				return false
			}
			i++
		}
		if i < len(keys) && keys[i] == string(k) {
			mv, _ := l.lookup(keys[i])
			i++
			return mv == nil || emit(k, mv)
		}
		return emit(k, v)
	})
	if err != nil || stopped {
		return err
	}
	for ; i < len(keys); i++ {
		if mv, _ := l.lookup(keys[i]); mv != nil && !emit([]byte(keys[i]), mv) {
			return nil
		}
	}
	return nil
}
