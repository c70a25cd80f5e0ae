package badger

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"

	bdb "github.com/dgraph-io/badger/v4"
	"github.com/stratahq/strata/events"
)

// The write path. One goroutine, the writer, turns appends into batches, each one badger
// transaction and one write-ahead log record with one fdatasync (wal.go). While batch k is
// synced and indexed (the two at once), the writer fills batch k+1 with every append that
// arrives (hashing, encoding, staging; badger's managed mode lets it read without waiting for
// k), and submits it the moment k is durable. So a sync carries every append that waited for
// it, and the CPU work overlaps the disk's. Batches are acknowledged strictly in order: a
// caller hears back only after its batch and every batch before it are durable, and readers
// see a batch only from then on.

// batch is one transaction being filled by the writer.
type batch struct {
	ts    uint64 // badger commit timestamp, set when staged
	txn   *bdb.Txn
	reqs  []*appendReq             // accepted into txn, to acknowledge after it is durable
	heads map[events.StreamID]head // heads as of this batch
	ids   map[[16]byte]events.Written
	rec   []byte // the batch as a write-ahead log record
	start events.Position
	n     int // positions taken
	size  int64
	count int64

	pending atomic.Int32 // of the log sync and the badger commit, how many are not done
	errMu   sync.Mutex
	err     error // the first failure of either
}

// syncJob asks the syncer to make the log file durable up to batch b.
type syncJob struct {
	f *os.File
	b *batch
}

var errBatchFull = errors.New("batch full")

func (s *Store) writer() {
	defer s.wg.Done()
	defer close(s.syncs) // the writer is the only sender, and nothing is in flight when it ends
	open := s.newBatch()
	reqs := s.reqs
	for reqs != nil || len(open.reqs) > 0 || s.submitted > 0 {
		// Submit the open batch as soon as badger has nothing of ours in flight: until then
		// it keeps filling, so each sync carries as many appends as were waiting for it.
		if s.submitted == 0 && len(open.reqs) > 0 {
			s.submit(open)
			open = s.newBatch()
		}
		select {
		case req, ok := <-reqs:
			if !ok {
				reqs = nil // closed: finish what is open and in flight
				continue
			}
			s.accept(open, req, func() *batch {
				for s.submitted > 0 { // the open batch is full: it goes next
					<-s.durable
					s.submitted--
				}
				s.submit(open)
				open = s.newBatch()
				return open
			})
		case <-s.durable:
			s.submitted--
		}
	}
	open.txn.Discard()
}

// accept adds req to b; when b is full, next submits it and returns a fresh batch.
func (s *Store) accept(b *batch, req *appendReq, next func() *batch) {
	if err := s.failure(); err != nil {
		req.fail(err)
		return
	}
	err := s.add(b, req)
	if errors.Is(err, errBatchFull) && len(b.reqs) > 0 {
		err = s.add(next(), req)
	}
	if errors.Is(err, errBatchFull) {
		err = fmt.Errorf("append %s: %d records are too large for one transaction (limit %d bytes): %w", req.stream, len(req.recs), s.maxTxnSize, events.ErrInvalid)
	}
	if err != nil {
		req.fail(err)
	}
}

func (r *appendReq) fail(err error) {
	r.res, r.err = events.AppendResult{}, err
	close(r.done)
}

func (s *Store) newBatch() *batch {
	visible := s.visible.Load()
	live := s.inflight[:0]
	for _, b := range s.inflight {
		if b.ts > visible {
			live = append(live, b)
		}
	}
	clear(s.inflight[len(live):])
	s.inflight = live
	if len(s.heads) > maxCachedHeads && len(s.inflight) == 0 {
		clear(s.heads) // every head is on disk now: refill from there
	}
	// Reading at the newest timestamp sees everything written; what is still in flight is
	// answered from s.heads and s.inflight first.
	return &batch{txn: s.db.NewTransactionAt(math.MaxUint64, true), heads: map[events.StreamID]head{},
		ids: map[[16]byte]events.Written{}, start: s.next, rec: newRecord()}
}

// add puts req into b, or answers it at once (retry of a durable append, conflict), or
// returns errBatchFull without touching b.
func (s *Store) add(b *batch, req *appendReq) error {
	var lookupErr error
	pending := false // some ID is staged but not yet durable
	lookup := func(id [16]byte) (events.Written, bool) {
		if w, ok := b.ids[id]; ok {
			pending = true
			return w, true
		}
		for _, ib := range s.inflight {
			if w, ok := ib.ids[id]; ok {
				pending = true
				return w, true
			}
		}
		w, ok, err := s.lookupID(b.txn, id)
		lookupErr = cmp.Or(lookupErr, err)
		return w, ok
	}
	res, retry, err := events.DetectRetry(req.stream, req.recs, lookup)
	if lookupErr != nil {
		return fmt.Errorf("append %s: look up event ids: %w", req.stream, lookupErr)
	}
	switch {
	case retry && pending:
		req.res = res // acknowledged with the original once b, which follows it, is durable
		b.reqs = append(b.reqs, req)
		return nil
	case err != nil || retry:
		req.res, req.err = res, err
		close(req.done)
		return nil
	}
	h, err := s.head(b, req.stream)
	if err != nil {
		return err
	}
	if err := events.CheckExpected(req.stream, req.expected, h.version); err != nil {
		req.fail(err)
		return nil
	}

	now := s.cfg.Now().UTC()
	type kv struct{ k, v []byte }
	entries := make([]kv, 0, 2*len(req.recs)+2)
	size, count := b.size, b.count
	put := func(k, v []byte) {
		vs := int64(len(v))
		if vs >= s.cfg.ValueThreshold {
			vs = 12 // a value pointer
		}
		size += int64(len(k)) + vs + 12 // as badger counts it, with room
		count++
		entries = append(entries, kv{k, v})
	}
	pos := b.start + events.Position(b.n)
	firstVersion, firstPos := h.version+1, pos
	res = events.AppendResult{Positions: make([]events.Position, len(req.recs))}
	ids := make([]events.Written, len(req.recs))
	for i, r := range req.recs {
		h.version++
		e := events.Envelope{Stream: req.stream, Version: h.version, ID: r.ID, Type: r.Type, Schema: r.Schema, RecordedAt: now,
			Actor: r.Actor, CorrelationID: r.CorrelationID, CausationID: r.CausationID, Data: events.RawJSON(r.Data)}
		if !r.RecordedAt.IsZero() {
			e.RecordedAt = r.RecordedAt.UTC()
		}
		events.Seal(&e, h.hash)
		h.hash = e.Hash
		val, _ := e.MarshalBinary() // never fails
		put(eventKey(pos), val)
		put(idKey(r.ID), posBytes(pos))
		res.Positions[i] = pos
		ids[i] = events.Written{Stream: req.stream, Version: h.version, Position: pos}
		pos++
	}
	put(streamKey(req.stream, h.version), rangeValue(firstVersion, firstPos, h.hash))
	if size >= s.maxTxnSize || count >= s.maxTxnCount {
		return errBatchFull
	}
	for _, e := range entries {
		b.rec = appendEntry(b.rec, e.k, e.v)
		if err := b.txn.Set(e.k, e.v); err != nil {
			// The budget keeps us below badger's limits, so this is a storage failure.
			s.setFailure(fmt.Errorf("stage append: %w", err))
			return fmt.Errorf("append %s: %w", req.stream, s.failure())
		}
	}
	b.size, b.count, b.n = size, count, b.n+len(req.recs)
	b.heads[req.stream] = h
	for i, r := range req.recs {
		b.ids[r.ID] = ids[i]
	}
	res.Version = h.version
	req.res = res
	b.reqs = append(b.reqs, req)
	return nil
}

// submit writes b to the log and hands it to the syncer and to badger at once, and moves on
// as if it were durable; finish acknowledges it once both are done.
func (s *Store) submit(b *batch) {
	s.submitted++
	s.batches.Add(1)
	s.batched.Add(uint64(b.n))
	s.ts++
	b.ts = s.ts
	s.next = b.start + events.Position(b.n)
	for stream, h := range b.heads {
		s.heads[stream] = h
	}
	s.inflight = append(s.inflight, b)
	if err := s.wal.write(b.ts, b.rec, s.db); err != nil {
		b.txn.Discard()
		b.pending.Store(1)
		s.done(b, err)
		return
	}
	b.pending.Store(2)
	s.syncs <- syncJob{f: s.wal.f, b: b}
	_ = b.txn.CommitAt(b.ts, func(err error) { s.done(b, err) }) // with a callback, errors go to it
}

// syncer makes each submitted batch's log record durable.
func (s *Store) syncer() {
	defer s.wg.Done()
	for job := range s.syncs {
		s.done(job.b, datasync(job.f))
	}
}

// done records that the log sync or the badger commit of b ended; the later of the two
// finishes b.
func (s *Store) done(b *batch, err error) {
	if err != nil {
		b.errMu.Lock()
		b.err = cmp.Or(b.err, err)
		b.errMu.Unlock()
	}
	if b.pending.Add(-1) == 0 {
		s.finish(b, b.err)
	}
}

// finish runs when b is durable and indexed (or failed). The writer submits one batch at a
// time (the next only once this one's durable signal is taken), so batches finish in commit
// order: finish makes b visible to readers, then acknowledges its appends.
func (s *Store) finish(b *batch, err error) {
	s.pipeMu.Lock()
	if err != nil && s.failed == nil {
		// After a failed write badger's state is unknown: stop writing, keep reading.
		s.failed = fmt.Errorf("commit: %w", err)
		s.cfg.Logger.Error("write failed; the store accepts no more appends", "error", err)
	}
	failed := s.failed
	s.pipeMu.Unlock()
	if failed == nil {
		s.visible.Store(b.ts) // before the callers hear back: they must read their writes
	}
	for _, r := range b.reqs {
		if failed != nil {
			r.fail(fmt.Errorf("append %s: %w: %w", r.stream, events.ErrClosed, failed))
		} else {
			close(r.done)
		}
	}
	s.sig.Notify()
	s.durable <- struct{}{}
}

func (s *Store) failure() error {
	s.pipeMu.Lock()
	defer s.pipeMu.Unlock()
	if s.failed != nil {
		return fmt.Errorf("%w: %w", events.ErrClosed, s.failed)
	}
	return nil
}

func (s *Store) setFailure(err error) {
	s.pipeMu.Lock()
	defer s.pipeMu.Unlock()
	if s.failed == nil {
		s.failed = err
	}
}
