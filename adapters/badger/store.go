package badger

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	bdb "github.com/dgraph-io/badger/v4"
	"github.com/stratahq/strata/events"
)

var _ events.Store = (*Store)(nil)

// Config configures a Store. The zero value of every field but Dir has a sensible default.
type Config struct {
	// Dir holds the database; it is created if missing.
	Dir string
	// MemTableSize, NumMemtables, BlockCacheSize and IndexCacheSize size badger's memory:
	// about MemTableSize×NumMemtables + BlockCacheSize + IndexCacheSize in all.
	MemTableSize   int64
	NumMemtables   int
	BlockCacheSize int64
	IndexCacheSize int64
	// ValueThreshold: events larger than this are kept in the value log, smaller in the tree.
	ValueThreshold int64
	// GCInterval is how often the value log is garbage-collected (default 10 minutes).
	GCInterval time.Duration
	// Logger receives badger's warnings and errors and the store's own; default discards.
	Logger *slog.Logger
	// Now stamps RecordedAt; default time.Now.
	Now func() time.Time
}

// Small is a memory profile for tests and small deployments: about 24 MiB in all.
func Small(dir string) Config {
	return Config{Dir: dir, MemTableSize: 4 << 20, NumMemtables: 2, BlockCacheSize: 8 << 20, IndexCacheSize: 4 << 20}
}

func (c Config) withDefaults() Config {
	if c.MemTableSize == 0 {
		c.MemTableSize = 64 << 20
	}
	if c.NumMemtables == 0 {
		c.NumMemtables = 3
	}
	if c.BlockCacheSize == 0 {
		c.BlockCacheSize = 64 << 20
	}
	if c.IndexCacheSize == 0 {
		c.IndexCacheSize = 32 << 20
	}
	if c.ValueThreshold == 0 {
		c.ValueThreshold = 32 << 10
	}
	if c.GCInterval == 0 {
		c.GCInterval = 10 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("badger: Dir is empty"))
	}
	if c.MemTableSize < 1<<20 {
		errs = append(errs, fmt.Errorf("badger: MemTableSize %d is under 1 MiB", c.MemTableSize))
	}
	if c.NumMemtables < 1 {
		errs = append(errs, fmt.Errorf("badger: NumMemtables %d, want 1 or more", c.NumMemtables))
	}
	if c.BlockCacheSize < 0 || c.IndexCacheSize < 0 || c.ValueThreshold < 0 || c.GCInterval < 0 {
		errs = append(errs, errors.New("badger: sizes and intervals must not be negative"))
	}
	return errors.Join(errs...)
}

// Store is an events.Store on badger. Open one with Open and Close it when done.
type Store struct {
	cfg Config
	db  *bdb.DB
	sig events.Signal

	closeMu sync.RWMutex // guards closed and sends on reqs
	closed  bool
	reqs    chan *appendReq

	// Owned by the writer goroutine.
	next   events.Position          // the position the next event gets
	heads  map[events.StreamID]head // committed heads, a cache of the 'h' keys
	failed error                    // set after a failed commit: nothing more is written
	// Bounds of one transaction, clearly below badger's own (ErrTxnTooBig).
	maxTxnSize, maxTxnCount int64

	wg   sync.WaitGroup
	stop chan struct{}
}

type head struct {
	version events.Version
	hash    events.Hash
}

type appendReq struct {
	stream   events.StreamID
	expected events.Version
	recs     []events.Record
	res      events.AppendResult
	err      error
	done     chan struct{}
}

// maxCachedHeads bounds the head cache; past it the cache is dropped and refilled from disk.
const maxCachedHeads = 1 << 18

// Open opens (or creates) the store in cfg.Dir and recovers the head position.
func Open(cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := bdb.DefaultOptions(cfg.Dir).
		WithSyncWrites(true).
		WithDetectConflicts(false).
		WithLogger(logger{cfg.Logger}).
		WithMemTableSize(cfg.MemTableSize).
		WithNumMemtables(cfg.NumMemtables).
		WithBlockCacheSize(cfg.BlockCacheSize).
		WithIndexCacheSize(cfg.IndexCacheSize).
		WithValueThreshold(cfg.ValueThreshold).
		WithBaseTableSize(cfg.MemTableSize / 2).
		WithNumCompactors(2)
	db, err := bdb.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open badger store in %s: %w", cfg.Dir, err)
	}
	s := &Store{cfg: cfg, db: db, reqs: make(chan *appendReq, 4096), heads: map[events.StreamID]head{}, stop: make(chan struct{})}
	last, err := s.lastPosition()
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	s.next = last + 1
	s.maxTxnSize, s.maxTxnCount = db.MaxBatchSize()*9/10, db.MaxBatchCount()*9/10
	s.wg.Add(2)
	go s.writer()
	go s.collectGarbage()
	return s, nil
}

// Close stops accepting appends, finishes those already accepted and closes the database.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.reqs)
	close(s.stop)
	s.closeMu.Unlock()
	s.wg.Wait()
	s.sig.Notify()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close badger store: %w", err)
	}
	return nil
}

// Append implements events.Store.
func (s *Store) Append(ctx context.Context, stream events.StreamID, expected events.Version, recs ...events.Record) (events.AppendResult, error) {
	if err := events.ValidateRecords(stream, expected, recs); err != nil {
		return events.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return events.AppendResult{}, err
	}
	req := &appendReq{stream: stream, expected: expected, recs: recs, done: make(chan struct{})}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return events.AppendResult{}, fmt.Errorf("append %s: %w", stream, events.ErrClosed)
	}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return events.AppendResult{}, ctx.Err()
	}
	s.closeMu.RUnlock()
	select {
	case <-req.done:
		return req.res, req.err
	case <-ctx.Done():
		return events.AppendResult{}, ctx.Err() // it may still be written: a retry with the same IDs is safe
	}
}

// writer is the only goroutine that writes events. It group-commits: everything waiting
// when it starts a transaction goes into that one transaction and its one sync.
func (s *Store) writer() {
	defer s.wg.Done()
	for req := range s.reqs {
		group := []*appendReq{req}
	drain:
		for len(group) < cap(s.reqs) {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
			default:
				break drain
			}
		}
		s.commitGroup(group)
	}
}

// batch is one transaction being filled by the writer.
type batch struct {
	txn   *bdb.Txn
	reqs  []*appendReq             // accepted into txn, to acknowledge after commit
	heads map[events.StreamID]head // heads as of this transaction
	ids   map[[16]byte]events.Written
	start events.Position
	n     int // positions taken
	size  int64
	count int64
}

func (s *Store) newBatch() *batch {
	return &batch{txn: s.db.NewTransaction(true), heads: map[events.StreamID]head{}, ids: map[[16]byte]events.Written{}, start: s.next}
}

func (s *Store) commitGroup(group []*appendReq) {
	b := s.newBatch()
	for _, req := range group {
		if s.failed != nil {
			req.err = fmt.Errorf("append %s: %w: %w", req.stream, events.ErrClosed, s.failed)
			close(req.done)
			continue
		}
		err := s.add(b, req)
		if errors.Is(err, errBatchFull) {
			s.commit(b)
			b = s.newBatch()
			err = s.add(b, req)
		}
		if err != nil {
			if errors.Is(err, errBatchFull) {
				err = fmt.Errorf("append %s: %d records are too large for one transaction (limit %d bytes): %w", req.stream, len(req.recs), s.maxTxnSize, events.ErrInvalid)
			}
			req.err = err
			close(req.done)
		}
	}
	s.commit(b)
}

var errBatchFull = errors.New("batch full")

// add puts req into b, or answers it at once (retry, conflict), or returns errBatchFull
// without touching b.
func (s *Store) add(b *batch, req *appendReq) error {
	var lookupErr error
	pending := false // some ID is in b, not yet durable
	lookup := func(id [16]byte) (events.Written, bool) {
		if w, ok := b.ids[id]; ok {
			pending = true
			return w, true
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
		req.res = res // acknowledged with the original, after b commits
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
		req.err = err
		close(req.done)
		return nil
	}

	now := s.cfg.Now().UTC()
	type kv struct{ k, v []byte }
	entries := make([]kv, 0, 3*len(req.recs)+1)
	size, count := b.size, b.count
	put := func(k, v []byte) {
		vs := int64(len(v))
		if vs >= s.cfg.ValueThreshold {
			vs = 12
		}
		size += int64(len(k)) + vs + 12
		count++
		entries = append(entries, kv{k, v})
	}
	pos := b.start + events.Position(b.n)
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
		put(streamKey(req.stream, h.version), posBytes(pos))
		put(idKey(r.ID), posBytes(pos))
		res.Positions[i] = pos
		ids[i] = events.Written{Stream: req.stream, Version: h.version, Position: pos}
		pos++
	}
	put(headKey(req.stream), headValue(h))
	if size >= s.maxTxnSize || count >= s.maxTxnCount {
		return errBatchFull
	}
	for _, e := range entries {
		if err := b.txn.Set(e.k, e.v); err != nil {
			// The budget keeps us below badger's limits, so this is a storage failure.
			s.failed = fmt.Errorf("stage append: %w", err)
			return fmt.Errorf("append %s: %w", req.stream, s.failed)
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

// commit writes b durably, then acknowledges its appends and wakes subscribers.
func (s *Store) commit(b *batch) {
	if len(b.reqs) == 0 {
		b.txn.Discard()
		return
	}
	err := s.failed
	if err == nil {
		if err = b.txn.Commit(); err != nil {
			// After a failed commit badger's state is unknown: stop writing, keep reading.
			s.failed = fmt.Errorf("commit: %w", err)
			s.cfg.Logger.Error("badger commit failed; the store accepts no more appends", "error", err)
		}
	} else {
		b.txn.Discard()
	}
	if err != nil {
		for _, r := range b.reqs {
			r.res, r.err = events.AppendResult{}, fmt.Errorf("append %s: %w: %w", r.stream, events.ErrClosed, err)
			close(r.done)
		}
		return
	}
	if len(s.heads)+len(b.heads) > maxCachedHeads {
		clear(s.heads)
	}
	for stream, h := range b.heads {
		s.heads[stream] = h
	}
	s.next = b.start + events.Position(b.n)
	for _, r := range b.reqs {
		close(r.done)
	}
	s.sig.Notify()
}

// head returns the stream's head as b sees it.
func (s *Store) head(b *batch, stream events.StreamID) (head, error) {
	if h, ok := b.heads[stream]; ok {
		return h, nil
	}
	if h, ok := s.heads[stream]; ok {
		return h, nil
	}
	item, err := b.txn.Get(headKey(stream))
	if errors.Is(err, bdb.ErrKeyNotFound) {
		return head{}, nil
	}
	if err != nil {
		return head{}, fmt.Errorf("read head of %s: %w", stream, err)
	}
	var h head
	err = item.Value(func(v []byte) error {
		if len(v) != 8+32 {
			return fmt.Errorf("head of %s is %d bytes, want 40", stream, len(v))
		}
		h.version = events.Version(binary.BigEndian.Uint64(v))
		copy(h.hash[:], v[8:])
		return nil
	})
	if err != nil {
		return head{}, fmt.Errorf("read head of %s: %w", stream, err)
	}
	s.heads[stream] = h
	return h, nil
}

func (s *Store) lookupID(txn *bdb.Txn, id [16]byte) (events.Written, bool, error) {
	item, err := txn.Get(idKey(id))
	if errors.Is(err, bdb.ErrKeyNotFound) {
		return events.Written{}, false, nil
	}
	if err != nil {
		return events.Written{}, false, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return events.Written{}, false, err
	}
	e, err := s.getEvent(txn, events.Position(binary.BigEndian.Uint64(v)))
	if err != nil {
		return events.Written{}, false, err
	}
	return events.Written{Stream: e.Stream, Version: e.Version, Position: e.Position}, true, nil
}

func (s *Store) getEvent(txn *bdb.Txn, pos events.Position) (events.Envelope, error) {
	item, err := txn.Get(eventKey(pos))
	if err != nil {
		return events.Envelope{}, fmt.Errorf("read event at %d: %w", pos, err)
	}
	e := events.Envelope{Position: pos}
	if err := item.Value(e.UnmarshalBinary); err != nil {
		return events.Envelope{}, fmt.Errorf("read event at %d: %w", pos, err)
	}
	return e, nil
}

// Load implements events.Store.
func (s *Store) Load(ctx context.Context, stream events.StreamID, after events.Version) ([]events.Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if after < 0 {
		after = 0
	}
	var out []events.Envelope
	err := s.db.View(func(txn *bdb.Txn) error {
		prefix := streamKey(stream, 0)
		prefix = prefix[:len(prefix)-8]
		it := txn.NewIterator(bdb.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Seek(streamKey(stream, after+1)); it.Valid(); it.Next() {
			if len(out)%256 == 255 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			e, err := s.getEvent(txn, events.Position(binary.BigEndian.Uint64(v)))
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", stream, err)
	}
	return out, nil
}

// ReadAll implements events.Store.
func (s *Store) ReadAll(ctx context.Context, after events.Position, limit int) ([]events.Envelope, error) {
	if err := events.CheckLimit(limit); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]events.Envelope, 0, min(limit, 4096))
	err := s.db.View(func(txn *bdb.Txn) error {
		opts := bdb.DefaultIteratorOptions
		opts.Prefix = []byte{'e'}
		opts.PrefetchSize = min(limit, 256)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(eventKey(after + 1)); it.Valid() && len(out) < limit; it.Next() {
			item := it.Item()
			e := events.Envelope{Position: events.Position(binary.BigEndian.Uint64(item.Key()[1:]))}
			if err := item.Value(e.UnmarshalBinary); err != nil {
				return fmt.Errorf("at position %d: %w", e.Position, err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read all after %d: %w", after, err)
	}
	return out, nil
}

// Subscribe implements events.Store.
func (s *Store) Subscribe(ctx context.Context, after events.Position, fn func(events.Envelope) error) error {
	return events.Follow(ctx, s.ReadAll, &s.sig, after, fn)
}

func (s *Store) lastPosition() (events.Position, error) {
	var last events.Position
	err := s.db.View(func(txn *bdb.Txn) error {
		it := txn.NewIterator(bdb.IteratorOptions{Reverse: true, Prefix: []byte{'e'}})
		defer it.Close()
		it.Seek(eventKey(^events.Position(0)))
		if it.Valid() {
			last = events.Position(binary.BigEndian.Uint64(it.Item().Key()[1:]))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("recover head position: %w", err)
	}
	return last, nil
}

// collectGarbage runs badger's value-log GC every GCInterval until Close.
func (s *Store) collectGarbage() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			for s.db.RunValueLogGC(0.5) == nil {
				select {
				case <-s.stop:
					return
				default:
				}
			}
		}
	}
}

func eventKey(p events.Position) []byte {
	k := make([]byte, 9)
	k[0] = 'e'
	binary.BigEndian.PutUint64(k[1:], uint64(p))
	return k
}

func streamKey(stream events.StreamID, v events.Version) []byte {
	k := make([]byte, 0, 1+len(stream)+1+8)
	k = append(append(append(k, 's'), stream...), 0)
	return binary.BigEndian.AppendUint64(k, uint64(v))
}

func headKey(stream events.StreamID) []byte { return append([]byte{'h'}, stream...) }

func idKey(id [16]byte) []byte { return append([]byte{'i'}, id[:]...) }

func posBytes(p events.Position) []byte { return binary.BigEndian.AppendUint64(nil, uint64(p)) }

func headValue(h head) []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 40), uint64(h.version)), h.hash[:]...)
}

// logger sends badger's warnings and errors to slog; its chatter (info, debug) is dropped.
type logger struct{ l *slog.Logger }

func (l logger) Errorf(f string, a ...any) {
	l.l.Error("badger: " + string(bytes.TrimSpace([]byte(fmt.Sprintf(f, a...)))))
}

func (l logger) Warningf(f string, a ...any) {
	l.l.Warn("badger: " + string(bytes.TrimSpace([]byte(fmt.Sprintf(f, a...)))))
}
func (logger) Infof(string, ...any)  {}
func (logger) Debugf(string, ...any) {}
