package badger

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	bdb "github.com/dgraph-io/badger/v4"
)

// Settings the event store and the projection store share.

// memory is badger's memory budget: about memTable×memtables + blockCache + indexCache.
type memory struct {
	memTable, blockCache, indexCache int64
	memtables                        int
}

// smallMemory is the profile for tests and small deployments: about 24 MiB in all.
var smallMemory = memory{memTable: 4 << 20, memtables: 2, blockCache: 8 << 20, indexCache: 4 << 20}

// withDefaults fills what is zero with the default profile (about 350 MiB).
func (m memory) withDefaults() memory {
	if m.memTable == 0 {
		m.memTable = 64 << 20
	}
	if m.memtables == 0 {
		m.memtables = 3
	}
	if m.blockCache == 0 {
		m.blockCache = 64 << 20
	}
	if m.indexCache == 0 {
		m.indexCache = 32 << 20
	}
	return m
}

// check reports the problems of m, each prefixed with what (the config's name).
func (m memory) check(what string) []error {
	var errs []error
	if m.memTable < 1<<20 {
		errs = append(errs, fmt.Errorf("%s: MemTableSize %d is under 1 MiB: %w", what, m.memTable, ErrConfig))
	}
	if m.memtables < 1 {
		errs = append(errs, fmt.Errorf("%s: NumMemtables %d, want 1 or more: %w", what, m.memtables, ErrConfig))
	}
	return errs
}

// options returns badger's options for a database in dir with memory m, no conflict
// detection (each store serialises its writes itself) and logs to l.
func (m memory) options(dir string, l *slog.Logger) bdb.Options {
	return bdb.DefaultOptions(dir).
		WithDetectConflicts(false).
		WithLogger(logger{l}).
		WithMemTableSize(m.memTable).
		WithNumMemtables(m.memtables).
		WithBlockCacheSize(m.blockCache).
		WithIndexCacheSize(m.indexCache).
		WithBaseTableSize(m.memTable / 2).
		WithNumCompactors(2)
}

// Errors of the badger adapter.
var (
	// ErrLocked: another process has the database open.
	ErrLocked = errors.New("the database is in use by another process")
	// ErrConfig: a Config is not valid.
	ErrConfig = errors.New("invalid badger configuration")
	// ErrCorrupt: the database holds something the store did not write; run events.Verify.
	ErrCorrupt = errors.New("badger store is corrupt")
)

// removeEmptyMemtables deletes the zero-length memtable logs (*.mem) in dir before badger
// opens it. Badger deletes a flushed memtable's log by truncating it to zero and then
// removing it; a crash between the two leaves an empty file that badger then refuses to
// open ("while opening fid: N err: Create a new file"). An empty log holds no entries, so
// removing it loses nothing. TestCrash met it once in a few hundred kills.
func removeEmptyMemtables(dir string, l *slog.Logger) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".mem") || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || info.Size() != 0 {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("remove the empty memtable log %s: %w", e.Name(), err)
		}
		l.Warn("badger: removed an empty memtable log left by a crash", "file", e.Name())
	}
	return nil
}

// translateOpen turns badger's directory-lock failure, which has no sentinel, into ErrLocked.
func translateOpen(err error) error {
	if strings.Contains(err.Error(), "Another process is using this Badger database") {
		return ErrLocked
	}
	return err
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
