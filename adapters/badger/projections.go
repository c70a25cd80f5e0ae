package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	bdb "github.com/dgraph-io/badger/v4"
	"github.com/stratahq/strata/projections"
)

var _ projections.Store = (*Projections)(nil)

// ProjectionsConfig configures a Projections store. The zero value of every field but Dir
// has a sensible default.
type ProjectionsConfig struct {
	// Dir holds the database; it is created if missing. It must not be the event store's.
	Dir string
	// MemTableSize, NumMemtables, BlockCacheSize and IndexCacheSize size badger's memory.
	MemTableSize   int64
	NumMemtables   int
	BlockCacheSize int64
	IndexCacheSize int64
	// SyncWrites fsyncs every commit. Off by default: a projection can always be rebuilt
	// from the log, and badger recovers whole transactions only, so a power cut loses at
	// most the last commits, state and checkpoint together, and they are applied again.
	SyncWrites bool
	// Logger receives badger's warnings and errors; default discards.
	Logger *slog.Logger
}

// SmallProjections is a memory profile for tests and small deployments: about 24 MiB.
func SmallProjections(dir string) ProjectionsConfig {
	return ProjectionsConfig{Dir: dir}.withMemory(smallMemory)
}

func (c ProjectionsConfig) memory() memory {
	return memory{memTable: c.MemTableSize, memtables: c.NumMemtables, blockCache: c.BlockCacheSize, indexCache: c.IndexCacheSize}
}

func (c ProjectionsConfig) withMemory(m memory) ProjectionsConfig {
	c.MemTableSize, c.NumMemtables, c.BlockCacheSize, c.IndexCacheSize = m.memTable, m.memtables, m.blockCache, m.indexCache
	return c
}

func (c ProjectionsConfig) withDefaults() ProjectionsConfig {
	c = c.withMemory(c.memory().withDefaults())
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every problem with c.
func (c ProjectionsConfig) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, fmt.Errorf("badger projections: Dir is empty: %w", ErrConfig))
	}
	errs = append(errs, c.memory().check("badger projections")...)
	if c.BlockCacheSize < 0 || c.IndexCacheSize < 0 {
		errs = append(errs, fmt.Errorf("badger projections: cache sizes must not be negative: %w", ErrConfig))
	}
	return errors.Join(errs...)
}

// Projections is a projections.Store on its own badger database. Open one with
// OpenProjections and Close it when done.
type Projections struct {
	db *bdb.DB
	mu sync.Mutex // serialises Update: badger runs without conflict detection
}

// OpenProjections opens (or creates) the projection store in cfg.Dir.
func OpenProjections(cfg ProjectionsConfig) (*Projections, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := cfg.memory().options(cfg.Dir, cfg.Logger).
		WithSyncWrites(cfg.SyncWrites).
		WithValueThreshold(32 << 10).
		// A rebuild writes fast: more level-0 tables before compacting, and before
		// stalling writes, was worth a sixth of a 1M-event rebuild.
		WithNumLevelZeroTables(10).
		WithNumLevelZeroTablesStall(30)
	if err := removeEmptyMemtables(cfg.Dir, cfg.Logger); err != nil {
		return nil, fmt.Errorf("open badger projections in %s: %w", cfg.Dir, err)
	}
	db, err := bdb.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open badger projections in %s: %w", cfg.Dir, translateOpen(err))
	}
	return &Projections{db: db}, nil
}

// Close closes the database.
func (p *Projections) Close() error {
	if err := p.db.Close(); err != nil {
		return fmt.Errorf("close badger projections: %w", err)
	}
	return nil
}

// Size returns the bytes the database takes on disk (LSM tree and value log).
func (p *Projections) Size() int64 {
	lsm, vlog := p.db.Size()
	return lsm + vlog
}

// Update implements projections.Store.
func (p *Projections) Update(ctx context.Context, fn func(projections.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	txn := p.db.NewTransaction(true)
	defer txn.Discard()
	if err := fn(projTxn{projReader{txn}}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("commit projections: %w", err)
	}
	return nil
}

// View implements projections.Store.
func (p *Projections) View(ctx context.Context, fn func(projections.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	txn := p.db.NewTransaction(false)
	defer txn.Discard()
	return fn(projReader{txn})
}

type projReader struct{ txn *bdb.Txn }

func (r projReader) Get(key []byte) ([]byte, bool, error) {
	item, err := r.txn.Get(key)
	if errors.Is(err, bdb.ErrKeyNotFound) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("get projection key: %w", err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, false, fmt.Errorf("get projection key: %w", err)
	}
	return v, true, nil
}

func (r projReader) Scan(prefix, seek []byte, reverse bool, fn func(key, value []byte) bool) error {
	opts := bdb.DefaultIteratorOptions
	opts.Prefix, opts.Reverse = prefix, reverse
	opts.PrefetchValues = false
	it := r.txn.NewIterator(opts)
	defer it.Close()
	switch {
	case seek != nil && reverse && !bytes.HasPrefix(seek, prefix) && bytes.Compare(seek, prefix) > 0:
		it.Seek(prefixEnd(prefix))
	case seek != nil:
		it.Seek(seek)
	case reverse:
		it.Seek(prefixEnd(prefix))
	default:
		it.Seek(prefix)
	}
	var buf []byte
	for ; it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		v, err := item.ValueCopy(buf[:0])
		if err != nil {
			return fmt.Errorf("scan projection keys: %w", err)
		}
		buf = v
		if !fn(item.Key(), v) {
			return nil
		}
	}
	return nil
}

// prefixEnd returns a key after every key with prefix, for a reverse seek: prefix followed
// by 0xff bytes (badger keys in a reverse iteration seek to the last key ≤ the seek key).
func prefixEnd(prefix []byte) []byte {
	return append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, 16)...)
}

type projTxn struct{ projReader }

func (t projTxn) Set(key, value []byte) error {
	if err := t.txn.Set(key, value); errors.Is(err, bdb.ErrTxnTooBig) {
		return fmt.Errorf("set projection key: %w", projections.ErrTooBig)
	} else if err != nil {
		return fmt.Errorf("set projection key: %w", err)
	}
	return nil
}

func (t projTxn) Delete(key []byte) error {
	if err := t.txn.Delete(key); errors.Is(err, bdb.ErrTxnTooBig) {
		return fmt.Errorf("delete projection key: %w", projections.ErrTooBig)
	} else if err != nil {
		return fmt.Errorf("delete projection key: %w", err)
	}
	return nil
}

// Compact flattens the store's levels into one (projections.Compacter). A rebuild writes
// the whole store through level 0, and the tables it leaves there are each seeked by
// every read until enough writes follow to compact them: at 1,000,000 events that was
// half the cost of a lineage query. Reads and writes go on meanwhile. A store whose
// tables are all still in level 0 (fewer than ten memtables flushed) is left as it is:
// badger flattens level 0 only into a level below that holds tables.
func (p *Projections) Compact(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := p.db.Flatten(1); err != nil {
		return fmt.Errorf("compact projections: %w", err)
	}
	return nil
}
