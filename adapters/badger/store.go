package badger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
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
	// WALSegmentSize is the size of a write-ahead log segment (default 16 MiB; never less than
	// twice the largest transaction).
	WALSegmentSize int64
	// GCInterval is how often the value log is garbage-collected (default 10 minutes).
	GCInterval time.Duration
	// Logger receives badger's warnings and errors and the store's own; default discards.
	Logger *slog.Logger
	// Now stamps RecordedAt; default time.Now.
	Now func() time.Time
}

// Small is a memory profile for tests and small deployments: about 24 MiB in all.
func Small(dir string) Config {
	return Config{Dir: dir}.withMemory(smallMemory)
}

func (c Config) memory() memory {
	return memory{memTable: c.MemTableSize, memtables: c.NumMemtables, blockCache: c.BlockCacheSize, indexCache: c.IndexCacheSize}
}

func (c Config) withMemory(m memory) Config {
	c.MemTableSize, c.NumMemtables, c.BlockCacheSize, c.IndexCacheSize = m.memTable, m.memtables, m.blockCache, m.indexCache
	return c
}

func (c Config) withDefaults() Config {
	c = c.withMemory(c.memory().withDefaults())
	if c.ValueThreshold == 0 {
		c.ValueThreshold = 32 << 10
	}
	if c.GCInterval == 0 {
		c.GCInterval = 10 * time.Minute
	}
	if c.WALSegmentSize == 0 {
		c.WALSegmentSize = 16 << 20
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
		errs = append(errs, fmt.Errorf("badger: Dir is empty: %w", ErrConfig))
	}
	errs = append(errs, c.memory().check("badger")...)
	if c.BlockCacheSize < 0 || c.IndexCacheSize < 0 || c.ValueThreshold < 0 || c.GCInterval < 0 || c.WALSegmentSize < 0 {
		errs = append(errs, fmt.Errorf("badger: sizes and intervals must not be negative: %w", ErrConfig))
	}
	return errors.Join(errs...)
}

// Store is an events.Store on badger. Open one with Open and Close it when done.
type Store struct {
	cfg   Config
	db    *bdb.DB
	wal   *wal         // owned by the writer
	syncs chan syncJob // the writer's batches to fdatasync, for the syncer
	sig   events.Signal

	closeMu sync.RWMutex // guards closed and sends on reqs
	closed  bool
	reqs    chan *appendReq

	// Owned by the writer goroutine (writer.go).
	next      events.Position          // the position the next event gets
	heads     map[events.StreamID]head // heads as of every submitted batch; a cache of the 's' keys
	inflight  []*batch                 // submitted, maybe not yet durable, in commit order
	ts        uint64                   // badger commit timestamp of the last submitted batch
	submitted int                      // batches submitted whose durable signal is not yet taken
	durable   chan struct{}            // one signal per submitted batch, once finished
	// Bounds of one transaction, clearly below badger's own (ErrTxnTooBig).
	maxTxnSize, maxTxnCount int64

	pipeMu  sync.Mutex    // guards failed, shared with commit callbacks
	failed  error         // set after a failed commit: nothing more is written
	visible atomic.Uint64 // readers' snapshot: every batch up to it is acknowledged

	batches, batched atomic.Uint64 // batches committed and the events in them, for Stats

	wg   sync.WaitGroup
	stop chan struct{}
}

// Stats counts the store's group commits since Open.
type Stats struct {
	// Batches is how many transactions (each one sync) the appends went into.
	Batches uint64
	// Events is how many events those held.
	Events uint64
}

// Stats returns the group-commit counters: Events/Batches is the mean events per sync.
func (s *Store) Stats() Stats {
	return Stats{Batches: s.batches.Load(), Events: s.batched.Load()}
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
// Keeping every head in memory would make a log of millions of streams cost gigabytes.
const maxCachedHeads = 1 << 18

// Open opens (or creates) the store in cfg.Dir and recovers the head position.
func Open(cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := cfg.memory().options(cfg.Dir, cfg.Logger).
		WithSyncWrites(false). // the write-ahead log makes each batch durable (wal.go)
		WithValueThreshold(cfg.ValueThreshold)
	if err := removeEmptyMemtables(cfg.Dir, cfg.Logger); err != nil {
		return nil, fmt.Errorf("open badger store in %s: %w", cfg.Dir, err)
	}
	db, err := bdb.OpenManaged(opts)
	if err != nil {
		return nil, fmt.Errorf("open badger store in %s: %w", cfg.Dir, translateOpen(err))
	}
	w, err := openWAL(filepath.Join(cfg.Dir, "wal"), max(cfg.WALSegmentSize, 2*db.MaxBatchSize()), db, cfg.Logger)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open badger store in %s: %w", cfg.Dir, err), db.Close())
	}
	s := &Store{cfg: cfg, db: db, wal: w, syncs: make(chan syncJob, 16), reqs: make(chan *appendReq, 4096),
		heads: map[events.StreamID]head{}, stop: make(chan struct{}), durable: make(chan struct{}, 16)}
	s.ts = db.MaxVersion()
	s.visible.Store(s.ts)
	last, err := s.lastPosition(math.MaxUint64)
	if err != nil {
		return nil, errors.Join(err, w.close(false), db.Close())
	}
	s.next = last + 1
	s.maxTxnSize, s.maxTxnCount = db.MaxBatchSize()*9/10, db.MaxBatchCount()*9/10
	s.wg.Add(3)
	go s.writer()
	go s.syncer()
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
		return errors.Join(fmt.Errorf("close badger store: %w", err), s.wal.close(false))
	}
	// Badger wrote every batch to its tables on closing: the log has nothing more to keep.
	return s.wal.close(s.failure() == nil)
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

// head returns the stream's head as b sees it.
func (s *Store) head(b *batch, stream events.StreamID) (head, error) {
	if h, ok := b.heads[stream]; ok {
		return h, nil
	}
	if h, ok := s.heads[stream]; ok {
		return h, nil
	}
	// The head is the last range key of the stream.
	prefix := streamPrefix(stream)
	it := b.txn.NewIterator(bdb.IteratorOptions{Prefix: prefix, Reverse: true})
	defer it.Close()
	var h head
	if it.Seek(streamKey(stream, math.MaxInt64)); it.Valid() {
		key := it.Item().Key()
		h.version = events.Version(binary.BigEndian.Uint64(key[len(prefix):]))
		err := it.Item().Value(func(v []byte) error {
			if len(v) != rangeLen {
				return fmt.Errorf("range index of %s at version %d is %d bytes, want %d: %w", stream, h.version, len(v), rangeLen, ErrCorrupt)
			}
			copy(h.hash[:], v[16:])
			return nil
		})
		if err != nil {
			return head{}, fmt.Errorf("read head of %s: %w", stream, err)
		}
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
	err := s.view(func(txn *bdb.Txn) error {
		ranges := txn.NewIterator(bdb.IteratorOptions{Prefix: streamPrefix(stream)})
		defer ranges.Close()
		// The events' iterator is made for the first range: most loads (a cached state
		// brought up to date) find none, and an iterator over the whole log is not free.
		var evs *bdb.Iterator
		defer func() {
			if evs != nil {
				evs.Close()
			}
		}()
		// Each range key covers one append: versions first…last at positions firstPos….
		for ranges.Seek(streamKey(stream, after+1)); ranges.Valid(); ranges.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			key := ranges.Item().Key()
			last := events.Version(binary.BigEndian.Uint64(key[len(key)-8:]))
			v, err := ranges.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if len(v) != rangeLen {
				return fmt.Errorf("range index of %s at version %d is %d bytes, want %d: %w", stream, last, len(v), rangeLen, ErrCorrupt)
			}
			first, firstPos := events.Version(binary.BigEndian.Uint64(v)), events.Position(binary.BigEndian.Uint64(v[8:]))
			from := max(first, after+1)
			if evs == nil {
				evs = txn.NewIterator(bdb.IteratorOptions{Prefix: []byte{'e'}})
			}
			evs.Seek(eventKey(firstPos + events.Position(from-first)))
			for version := from; version <= last; version++ {
				if !evs.Valid() {
					return fmt.Errorf("event of %s at version %d is missing: %w", stream, version, ErrCorrupt)
				}
				e := events.Envelope{Position: events.Position(binary.BigEndian.Uint64(evs.Item().Key()[1:]))}
				if err := evs.Item().Value(e.UnmarshalBinary); err != nil {
					return fmt.Errorf("at position %d: %w", e.Position, err)
				}
				out = append(out, e)
				evs.Next()
			}
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
	err := s.view(func(txn *bdb.Txn) error {
		// No prefetching (as in Load): events under ValueThreshold are in the tree, and
		// badger's prefetch only copied them ahead in goroutines (a scan read 1.7× faster
		// without it, a load of scattered events 13×: BenchmarkReadAll, BenchmarkLoad).
		it := txn.NewIterator(bdb.IteratorOptions{Prefix: []byte{'e'}})
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

// view runs fn in a read transaction that sees exactly the acknowledged appends.
func (s *Store) view(fn func(txn *bdb.Txn) error) error {
	txn := s.db.NewTransactionAt(s.visible.Load(), false)
	defer txn.Discard()
	return fn(txn)
}

// Subscribe implements events.Store.
func (s *Store) Subscribe(ctx context.Context, after events.Position, fn func(events.Envelope) error) error {
	return events.Follow(ctx, s.ReadAll, &s.sig, after, fn)
}

// Head implements events.Store.
func (s *Store) Head(ctx context.Context) (events.Position, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return s.lastPosition(s.visible.Load())
}

// lastPosition returns the position of the last event visible at badger timestamp ts.
func (s *Store) lastPosition(ts uint64) (events.Position, error) {
	txn := s.db.NewTransactionAt(ts, false)
	defer txn.Discard()
	it := txn.NewIterator(bdb.IteratorOptions{Reverse: true, Prefix: []byte{'e'}})
	defer it.Close()
	if it.Seek(eventKey(^events.Position(0))); it.Valid() {
		return events.Position(binary.BigEndian.Uint64(it.Item().Key()[1:])), nil
	}
	return 0, nil
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

func streamPrefix(stream events.StreamID) []byte {
	k := make([]byte, 0, 1+len(stream)+1+8)
	return append(append(append(k, 's'), stream...), 0)
}

func streamKey(stream events.StreamID, v events.Version) []byte {
	return binary.BigEndian.AppendUint64(streamPrefix(stream), uint64(v))
}

func idKey(id [16]byte) []byte { return append([]byte{'i'}, id[:]...) }

func posBytes(p events.Position) []byte { return binary.BigEndian.AppendUint64(nil, uint64(p)) }

// rangeLen is the size of a range value: first version, first position, last hash.
const rangeLen = 8 + 8 + 32

func rangeValue(first events.Version, firstPos events.Position, last events.Hash) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, rangeLen), uint64(first))
	return append(binary.BigEndian.AppendUint64(v, uint64(firstPos)), last[:]...)
}
