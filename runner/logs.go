package runner

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/stratahq/strata/domain"
)

// Stream names where a log line came from.
type Stream string

// The streams of a log: the commands' stdout and stderr, and the runner's own status lines.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
	Status Stream = "status"
)

// Line is one line of an execution's log.
type Line struct {
	Time    time.Time `json:"time"`
	Stream  Stream    `json:"stream"`
	Message string    `json:"message"`
}

// maxLine bounds one log line; longer lines are cut into pieces.
const maxLine = 64 << 10

// LogStore keeps execution logs, chunked per execution. Logs are not events. Every
// implementation must pass runnertest.RunLogStore.
type LogStore interface {
	// Append adds lines, in order, to the end of the log of id. A crash may lose lines of an
	// Append in progress, never earlier ones, and never leaves a line half written.
	Append(ctx context.Context, id domain.ExecutionID, lines []Line) error
	// Lines returns the lines of the log of id from the from-th on (0-based), in order; a
	// log that does not exist, or is shorter, yields none.
	Lines(ctx context.Context, id domain.ExecutionID, from int) ([]Line, error)
}

// Logs puts execution logs into a LogStore and streams new lines to subscribers. The zero
// value keeps logs in memory; NewLogs puts them in a store. It is safe for concurrent use.
type Logs struct {
	store  LogStore
	logger *slog.Logger

	mu sync.Mutex
	// guards mem and subs; held while appending, so a subscriber sees history and live
	// lines without a gap or a duplicate
	mem  *MemoryLogStore
	subs map[domain.ExecutionID]map[chan struct{}]struct{}
}

// NewLogs returns Logs writing to store (nil: in memory) and reporting store failures to
// logger (nil: slog.Default()).
func NewLogs(store LogStore, logger *slog.Logger) *Logs {
	return &Logs{store: store, logger: logger}
}

// storeLocked returns the store; l.mu is held.
func (l *Logs) storeLocked() LogStore {
	if l.store != nil {
		return l.store
	}
	if l.mem == nil {
		l.mem = &MemoryLogStore{}
	}
	return l.mem
}

func (l *Logs) report(msg string, id domain.ExecutionID, err error) {
	lg := l.logger
	if lg == nil {
		lg = slog.Default()
	}
	lg.Error(msg, "execution", id, "err", err)
}

// Append adds lines to the log of id and wakes its subscribers. A store failure is
// logged: a run does not fail because its log cannot be written.
func (l *Logs) Append(id domain.ExecutionID, lines ...Line) {
	if len(lines) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.storeLocked().Append(context.Background(), id, lines); err != nil {
		l.report("runner: append to the log", id, err)
	}
	for ch := range l.subs[id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Lines returns the log of id so far; a store failure is logged and yields what was read.
func (l *Logs) Lines(id domain.ExecutionID) []Line {
	l.mu.Lock()
	st := l.storeLocked()
	l.mu.Unlock()
	lines, err := st.Lines(context.Background(), id, 0)
	if err != nil {
		l.report("runner: read the log", id, err)
	}
	return lines
}

// Subscribe returns the log of id so far and a channel of the lines that follow, without a
// gap or a duplicate, until ctx is done, when the channel is closed. A subscriber that
// does not keep up falls behind (lines are read back from the store), it loses none.
func (l *Logs) Subscribe(ctx context.Context, id domain.ExecutionID) ([]Line, <-chan Line) {
	wake := make(chan struct{}, 1)
	l.mu.Lock()
	st := l.storeLocked()
	past, err := st.Lines(ctx, id, 0)
	if err != nil {
		l.report("runner: read the log", id, err)
	}
	if l.subs == nil {
		l.subs = map[domain.ExecutionID]map[chan struct{}]struct{}{}
	}
	if l.subs[id] == nil {
		l.subs[id] = map[chan struct{}]struct{}{}
	}
	l.subs[id][wake] = struct{}{}
	l.mu.Unlock()
	out := make(chan Line, 256)
	go func() {
		defer close(out)
		defer func() {
			l.mu.Lock()
			delete(l.subs[id], wake)
			if len(l.subs[id]) == 0 {
				delete(l.subs, id)
			}
			l.mu.Unlock()
		}()
		next := len(past)
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			lines, err := st.Lines(ctx, id, next)
			if err != nil {
				if ctx.Err() == nil {
					l.report("runner: read the log", id, err)
				}
				return
			}
			for _, ln := range lines {
				select {
				case out <- ln:
				case <-ctx.Done():
					return
				}
			}
			next += len(lines)
		}
	}()
	return past, out
}

// MemoryLogStore is a LogStore in memory, in chunks. The zero value is ready to use; it
// is safe for concurrent use.
type MemoryLogStore struct {
	mu sync.Mutex
	// guards logs
	logs map[domain.ExecutionID][][]Line
}

var _ LogStore = (*MemoryLogStore)(nil)

// Append adds lines to the log of id.
func (m *MemoryLogStore) Append(ctx context.Context, id domain.ExecutionID, lines []Line) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.logs == nil {
		m.logs = map[domain.ExecutionID][][]Line{}
	}
	chunks := m.logs[id]
	for _, ln := range lines {
		if n := len(chunks); n == 0 || len(chunks[n-1]) == ChunkLines {
			chunks = append(chunks, make([]Line, 0, 16))
		}
		chunks[len(chunks)-1] = append(chunks[len(chunks)-1], ln)
	}
	m.logs[id] = chunks
	return nil
}

// Lines returns the lines of id from the from-th on.
func (m *MemoryLogStore) Lines(ctx context.Context, id domain.ExecutionID, from int) ([]Line, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Line
	for i := max(from, 0) / ChunkLines; i < len(m.logs[id]); i++ {
		c := m.logs[id][i]
		if skip := from - i*ChunkLines; skip > 0 {
			c = c[min(skip, len(c)):]
		}
		out = append(out, c...)
	}
	return out, nil
}

// ChunkLines is how many lines one chunk of a log holds.
const ChunkLines = 1024

// lineWriter splits what a run writes into timestamped lines and hands each to emit.
type lineWriter struct {
	stream Stream
	now    func() time.Time
	emit   func(Line)
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			for len(w.buf) >= maxLine {
				w.line(w.buf[:maxLine])
				w.buf = append(w.buf[:0], w.buf[maxLine:]...)
			}
			break
		}
		w.buf = append(w.buf, p[:i]...)
		p = p[i+1:]
		w.line(w.buf)
		w.buf = w.buf[:0]
	}
	return n, nil
}

// Flush emits a last line without a newline.
func (w *lineWriter) Flush() {
	if len(w.buf) > 0 {
		w.line(w.buf)
		w.buf = w.buf[:0]
	}
}

func (w *lineWriter) line(b []byte) {
	b = bytes.TrimSuffix(b, []byte{'\r'})
	w.emit(Line{Time: w.now().UTC(), Stream: w.stream, Message: string(b)})
}
