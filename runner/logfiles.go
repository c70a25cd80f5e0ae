package runner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/stratahq/strata/domain"
)

// FileLogStore is a LogStore in a directory: the log of an execution is Dir/<execution
// id>/<chunk>.jsonl, chunks of ChunkLines JSON lines ({"time", "stream", "message"})
// numbered from 000000. Lines survive a restart of the process; a line being written when
// the process died is dropped on the next Append. Against a power loss only what the
// operating system had written out survives: logs are not fsynced line by line. It is safe
// for concurrent use within one process; two processes must not write the same log.
type FileLogStore struct {
	dir string

	mu sync.Mutex
	// guards counts: lines in each log touched so far
	counts map[domain.ExecutionID]int
}

var _ LogStore = (*FileLogStore)(nil)

// NewFileLogStore returns a FileLogStore in dir, which it creates if missing.
func NewFileLogStore(dir string) (*FileLogStore, error) {
	if dir == "" {
		return nil, fmt.Errorf("new log store: directory missing: %w", domain.ErrInvalid)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("new log store: %w", err)
	}
	return &FileLogStore{dir: dir, counts: map[domain.ExecutionID]int{}}, nil
}

func (s *FileLogStore) chunk(id domain.ExecutionID, n int) string {
	return filepath.Join(s.dir, string(id), fmt.Sprintf("%06d.jsonl", n))
}

// countLocked returns the lines in the log of id, counting them the first time and
// cutting a line left half written by a crash; s.mu is held.
func (s *FileLogStore) countLocked(id domain.ExecutionID) (int, error) {
	if n, ok := s.counts[id]; ok {
		return n, nil
	}
	chunks := 0
	for {
		if _, err := os.Stat(s.chunk(id, chunks)); errors.Is(err, fs.ErrNotExist) {
			break
		} else if err != nil {
			return 0, fmt.Errorf("count log lines of %s: %w", id, err)
		}
		chunks++
	}
	n := 0
	if chunks > 0 {
		last := s.chunk(id, chunks-1)
		b, err := os.ReadFile(last)
		if err != nil {
			return 0, fmt.Errorf("count log lines of %s: %w", id, err)
		}
		if cut := bytes.LastIndexByte(b, '\n') + 1; cut < len(b) {
			if err := os.Truncate(last, int64(cut)); err != nil {
				return 0, fmt.Errorf("cut the torn last line of the log of %s: %w", id, err)
			}
			b = b[:cut]
		}
		n = (chunks-1)*ChunkLines + bytes.Count(b, []byte{'\n'})
	}
	s.counts[id] = n
	return n, nil
}

// Append adds lines to the log of id.
func (s *FileLogStore) Append(ctx context.Context, id domain.ExecutionID, lines []Line) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := domain.CheckID("execution", id); err != nil {
		return fmt.Errorf("append to a log: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.countLocked(id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(s.dir, string(id)), 0o750); err != nil {
		return fmt.Errorf("append to the log of %s: %w", id, err)
	}
	for len(lines) > 0 {
		room := ChunkLines - n%ChunkLines
		batch := lines[:min(room, len(lines))]
		var buf bytes.Buffer
		for _, ln := range batch {
			b, err := json.Marshal(ln)
			if err != nil {
				return fmt.Errorf("append to the log of %s: %w", id, err)
			}
			buf.Write(b)
			buf.WriteByte('\n')
		}
		if err := appendFile(s.chunk(id, n/ChunkLines), buf.Bytes()); err != nil {
			return fmt.Errorf("append to the log of %s: %w", id, err)
		}
		n += len(batch)
		s.counts[id] = n
		lines = lines[len(batch):]
	}
	return nil
}

func appendFile(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close() // the write error is the one to report
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	return nil
}

// Lines returns the lines of id from the from-th on.
func (s *FileLogStore) Lines(ctx context.Context, id domain.ExecutionID, from int) ([]Line, error) {
	if err := domain.CheckID("execution", id); err != nil {
		return nil, fmt.Errorf("read a log: %w", err)
	}
	s.mu.Lock()
	total, err := s.countLocked(id)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	from = max(from, 0)
	var out []Line
	for c := from / ChunkLines; c*ChunkLines < total; c++ {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		lines, err := readChunk(s.chunk(id, c), from-c*ChunkLines, total-c*ChunkLines)
		if err != nil {
			return out, fmt.Errorf("read the log of %s: %w", id, err)
		}
		out = append(out, lines...)
	}
	return out, nil
}

// readChunk returns the lines of chunk file name from the skip-th, up to the upto-th.
func readChunk(name string, skip, upto int) ([]Line, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read only
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4*maxLine+1024)
	var out []Line
	for i := 0; i < upto && sc.Scan(); i++ {
		if i < skip {
			continue
		}
		var ln Line
		if err := json.Unmarshal(sc.Bytes(), &ln); err != nil {
			return out, fmt.Errorf("%s line %d: %w", filepath.Base(name), i+1, err)
		}
		out = append(out, ln)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%s: %w", filepath.Base(name), err)
	}
	return out, nil
}
