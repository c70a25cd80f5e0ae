package badger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	bdb "github.com/dgraph-io/badger/v4"
)

// The write-ahead log. Badger runs without syncing its own logs; durability comes from this
// log instead: each batch's badger entries are written here as one record and the file is
// fdatasynced, while badger indexes the same batch in memory, at the same time. A batch is
// acknowledged once both are done (writer.go).
//
// Why not badger's own sync (ADR 0001): badger syncs the memory-mapped log of its memtable,
// a sparse file that every sync grows (a journal commit each time), plus a clean msync of the
// value log, and it cannot insert the next batch while it syncs. Here a sync is one
// fdatasync of blocks written before (segments are recycled or filled with zeros ahead of
// use), about half of badger's, and it overlaps the indexing.
//
// Layout: <dir>/wal/<seq>.wal segments, each a header (magic, the ts of the last record
// before the segment) then records [crc32c][len][ts][entries…], ts strictly increasing
// within and across segments. A segment is forgotten once badger holds every batch in it in
// a table on disk (badger syncs its tables, and flushes memtables in order, so the highest
// version among its tables bounds what is durable there). On open every record newer than
// that is written to badger again, which is idempotent (same keys, same versions, same
// values). The end of the log is the first record that does not check out: a torn write
// there was never acknowledged.

const (
	walMagic     = "STRWAL01"
	walHeader    = len(walMagic) + 8
	recordHeader = 4 + 4 + 8
	walSuffix    = ".wal"
	spareName    = "spare"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type segment struct {
	seq    uint64
	lastTs uint64 // ts of its last record; 0 while empty
}

// wal is owned by the writer goroutine, except the spare, which a helper goroutine prepares.
type wal struct {
	dir     string
	segSize int64
	log     *slog.Logger

	segs    []segment // live segments in order; the last is being written
	f       *os.File  // the last segment
	off     int64     // where the next record goes in f
	lastTs  uint64    // ts of the last record written
	primed  bool      // the spare was asked for during this segment
	spareMu sync.Mutex
	spare   bool          // <dir>/spare is a complete segment-sized file ready to take
	prepare chan struct{} // asks the preparer for a spare
	retired chan string   // segments the preparer recycles as the spare or removes
	wg      sync.WaitGroup
	stop    chan struct{}
}

func segName(seq uint64) string { return fmt.Sprintf("%016x%s", seq, walSuffix) }

func (w *wal) path(name string) string { return filepath.Join(w.dir, name) }

// openWAL reads the log in dir, writes to db every batch that db may not hold durably, and
// starts a new segment for what follows.
func openWAL(dir string, segSize int64, db *bdb.DB, l *slog.Logger) (*wal, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create write-ahead log directory: %w", err)
	}
	w := &wal{dir: dir, segSize: segSize, log: l, prepare: make(chan struct{}, 1), retired: make(chan string, 64), stop: make(chan struct{})}
	_ = os.Remove(w.path(spareName + ".tmp"))
	if _, err := os.Stat(w.path(spareName)); err == nil {
		w.spare = true
	}
	seqs, err := w.list()
	if err != nil {
		return nil, err
	}
	durable := durableVersion(db)
	var next uint64 = 1
	for i, seq := range seqs {
		seg, err := w.replay(seq, i == len(seqs)-1, durable, db)
		if err != nil {
			return nil, err
		}
		next = seq + 1
		if seg.lastTs == 0 { // nothing in it: a segment begun just before a crash
			if err := os.Remove(w.path(segName(seq))); err != nil {
				return nil, fmt.Errorf("write-ahead log: remove empty segment: %w", err)
			}
			continue
		}
		w.segs = append(w.segs, seg)
	}
	if err := w.begin(next); err != nil {
		return nil, err
	}
	w.wg.Add(1)
	go w.preparer()
	return w, nil
}

// list returns the sequence numbers of the segments in order.
func (w *wal) list() ([]uint64, error) {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return nil, fmt.Errorf("read write-ahead log directory: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), walSuffix)
		if !ok {
			continue
		}
		var seq uint64
		if _, err := fmt.Sscanf(name, "%016x", &seq); err != nil || segName(seq) != e.Name() {
			return nil, fmt.Errorf("write-ahead log: unexpected file %s in %s (move it away): %w", e.Name(), w.dir, ErrCorrupt)
		}
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	return seqs, nil
}

// durableVersion is the highest version badger holds in a table on disk.
func durableVersion(db *bdb.DB) uint64 {
	var v uint64
	for _, t := range db.Tables() {
		v = max(v, t.MaxVersion)
	}
	return v
}

// replay reads segment seq and writes every record newer than durable to db. A segment
// without a header is empty; so is the last one when its header is older than the previous
// segment's end (a recycled segment taken but never written).
func (w *wal) replay(seq uint64, last bool, durable uint64, db *bdb.DB) (segment, error) {
	name := w.path(segName(seq))
	data, err := os.ReadFile(name)
	if err != nil {
		return segment{}, fmt.Errorf("write-ahead log: %w", err)
	}
	seg := segment{seq: seq}
	if len(data) < walHeader || string(data[:len(walMagic)]) != walMagic {
		return seg, nil // begun but never written, or retired (recycling wipes the header first)
	}
	prev := binary.BigEndian.Uint64(data[len(walMagic):])
	if len(w.segs) > 0 && last && prev < w.lastTs {
		return seg, nil
	}
	// A gap between segments loses nothing when badger's tables hold it (segments removed
	// out of order); above that, batches are gone.
	if len(w.segs) > 0 && prev != w.lastTs && prev > durable {
		return segment{}, fmt.Errorf("write-ahead log: %s follows the batch at version %d, but the previous segment ends at %d: batches are missing (restore the log from an export with strata events import): %w",
			name, prev, w.lastTs, ErrCorrupt)
	}
	ts := prev
	for off := walHeader; ; {
		rec, recTs, n := readRecord(data[off:], ts)
		if n == 0 {
			break
		}
		if recTs > durable {
			if err := applyRecord(db, recTs, rec); err != nil {
				return segment{}, fmt.Errorf("write-ahead log: %s at offset %d: %w", name, off, err)
			}
		}
		off += n
		ts = recTs
		seg.lastTs = recTs
	}
	if seg.lastTs != 0 {
		w.lastTs = seg.lastTs
	}
	return seg, nil
}

// readRecord decodes the record at the start of b if it is whole, checks out and is newer
// than after; n is 0 otherwise (the end of the log).
func readRecord(b []byte, after uint64) (payload []byte, ts uint64, n int) {
	if len(b) < recordHeader {
		return nil, 0, 0
	}
	size := int64(binary.BigEndian.Uint32(b[4:]))
	if size == 0 || size > int64(len(b)-recordHeader) {
		return nil, 0, 0
	}
	end := recordHeader + int(size)
	if crc32.Checksum(b[4:end], castagnoli) != binary.BigEndian.Uint32(b) {
		return nil, 0, 0
	}
	ts = binary.BigEndian.Uint64(b[8:])
	if ts <= after {
		return nil, 0, 0 // an older record: what a recycled segment held before
	}
	return b[recordHeader:end], ts, end
}

// applyRecord writes a record's entries to db at version ts.
func applyRecord(db *bdb.DB, ts uint64, payload []byte) error {
	txn := db.NewTransactionAt(ts, true)
	defer txn.Discard()
	for len(payload) > 0 {
		k, rest, err := cutBytes(payload)
		if err != nil {
			return err
		}
		v, rest, err := cutBytes(rest)
		if err != nil {
			return err
		}
		if err := txn.Set(k, v); err != nil {
			return err
		}
		payload = rest
	}
	return txn.CommitAt(ts, nil)
}

func cutBytes(b []byte) (field, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, fmt.Errorf("record entry is cut short: %w", ErrCorrupt)
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

// appendEntry adds one badger entry to a record being built.
func appendEntry(rec, k, v []byte) []byte {
	rec = append(binary.AppendUvarint(rec, uint64(len(k))), k...)
	return append(binary.AppendUvarint(rec, uint64(len(v))), v...)
}

// newRecord returns a buffer with room for the record header; write fills it in.
func newRecord() []byte { return make([]byte, recordHeader, 16<<10) }

// begin makes segment seq the one being written: the spare if one is ready, a new file if not.
func (w *wal) begin(seq uint64) error {
	name := w.path(segName(seq))
	w.spareMu.Lock()
	took := w.spare
	if took {
		if err := os.Rename(w.path(spareName), name); err != nil {
			w.spareMu.Unlock()
			return fmt.Errorf("write-ahead log: take the spare segment: %w", err)
		}
		w.spare = false
	}
	w.spareMu.Unlock()
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("write-ahead log: %w", err)
	}
	if err := syncDir(w.dir); err != nil {
		_ = f.Close()
		return err
	}
	if w.f != nil {
		_ = w.f.Close()
	}
	w.f, w.off, w.primed = f, 0, false
	w.segs = append(w.segs, segment{seq: seq})
	return nil
}

// write appends rec (from newRecord, entries appended) as the batch at version ts, moving to
// a new segment when it does not fit; sync makes it durable.
func (w *wal) write(ts uint64, rec []byte, db *bdb.DB) error {
	binary.BigEndian.PutUint32(rec[4:], uint32(len(rec)-recordHeader))
	binary.BigEndian.PutUint64(rec[8:], ts)
	binary.BigEndian.PutUint32(rec, crc32.Checksum(rec[4:], castagnoli))
	if w.off > 0 && w.off+int64(len(rec)) > w.segSize {
		w.retire(durableVersion(db))
		if err := w.begin(w.segs[len(w.segs)-1].seq + 1); err != nil {
			return err
		}
	}
	if w.off == 0 { // the header goes out with the first record, under the same sync
		hdr := binary.BigEndian.AppendUint64([]byte(walMagic), w.lastTs)
		if _, err := w.f.WriteAt(hdr, 0); err != nil {
			return fmt.Errorf("write-ahead log: %w", err)
		}
		w.off = int64(len(hdr))
	}
	if _, err := w.f.WriteAt(rec, w.off); err != nil {
		return fmt.Errorf("write-ahead log: %w", err)
	}
	w.off += int64(len(rec))
	w.lastTs = ts
	w.segs[len(w.segs)-1].lastTs = ts
	if !w.primed && w.off > w.segSize/2 {
		w.primed = true
		select {
		case w.prepare <- struct{}{}:
		default:
		}
	}
	return nil
}

// retire hands every full segment that badger holds durably to the preparer.
func (w *wal) retire(durable uint64) {
	live := w.segs[:0]
	for i, seg := range w.segs {
		if i < len(w.segs)-1 && seg.lastTs <= durable {
			select {
			case w.retired <- w.path(segName(seg.seq)):
				continue
			default: // the preparer is behind: keep it for the next time
			}
		}
		live = append(live, seg)
	}
	w.segs = live
}

// preparer keeps a spare segment ready: a retired segment if there is one (its blocks are
// written, so overwriting them needs no allocation), else a file of zeros. Other retired
// segments are removed.
func (w *wal) preparer() {
	defer w.wg.Done()
	for {
		select {
		case <-w.stop:
			return
		case name := <-w.retired:
			if err := w.recycle(name); err != nil {
				w.log.Warn("write-ahead log: recycle a segment", "error", err)
			}
		case <-w.prepare:
			w.spareMu.Lock()
			ready := w.spare
			w.spareMu.Unlock()
			if ready {
				continue
			}
			if err := w.zeroSpare(); err != nil {
				w.log.Warn("write-ahead log: prepare a spare segment", "error", err)
			}
		}
	}
}

// recycle makes the retired segment name the spare, or removes it when there is one. Its
// header is wiped first, so a spare taken but never written reads as an empty segment.
func (w *wal) recycle(name string) error {
	w.spareMu.Lock()
	ready := w.spare
	w.spareMu.Unlock()
	if ready {
		return os.Remove(name)
	}
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(make([]byte, walHeader), 0)
	if err = errors.Join(err, datasync(f), f.Close()); err != nil {
		return errors.Join(err, os.Remove(name))
	}
	w.spareMu.Lock()
	defer w.spareMu.Unlock()
	if w.spare {
		return os.Remove(name)
	}
	if err := os.Rename(name, w.path(spareName)); err != nil {
		return errors.Join(err, os.Remove(name))
	}
	w.spare = true
	return syncDir(w.dir)
}

func (w *wal) zeroSpare() error {
	tmp := w.path(spareName + ".tmp")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	zeros := make([]byte, 1<<20)
	for n := int64(0); n < w.segSize; n += int64(len(zeros)) {
		if _, err := f.Write(zeros); err != nil {
			return errors.Join(err, f.Close(), os.Remove(tmp))
		}
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	w.spareMu.Lock()
	defer w.spareMu.Unlock()
	if w.spare { // a recycled segment came first
		return os.Remove(tmp)
	}
	if err := os.Rename(tmp, w.path(spareName)); err != nil {
		return err
	}
	w.spare = true
	return syncDir(w.dir)
}

// close stops the preparer and closes the segment; with forget (badger closed cleanly, so
// every batch is in its tables) the segments are removed.
func (w *wal) close(forget bool) error {
	close(w.stop)
	w.wg.Wait()
	err := w.f.Close()
	if forget && err == nil {
		for _, seg := range w.segs {
			err = errors.Join(err, os.Remove(w.path(segName(seg.seq))))
		}
	}
	if err != nil {
		return fmt.Errorf("write-ahead log: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("write-ahead log: %w", err)
	}
	if err := errors.Join(d.Sync(), d.Close()); err != nil {
		return fmt.Errorf("write-ahead log: sync %s: %w", dir, err)
	}
	return nil
}
