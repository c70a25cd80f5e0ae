package runner

import (
	"bytes"
	"context"
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

// Logs keeps the logs of executions in memory, in chunks, and streams new lines to
// subscribers. Logs are not events. The zero value is ready to use; it is safe for
// concurrent use.
type Logs struct {
	mu sync.Mutex
	// guards logs and subs
	logs map[domain.ExecutionID][][]Line
	subs map[domain.ExecutionID]map[chan Line]struct{}
}

const chunkLines = 1024

// Append adds lines to the log of id and hands them to its subscribers. A subscriber
// that does not keep up loses lines rather than slowing the run down.
func (l *Logs) Append(id domain.ExecutionID, lines ...Line) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.logs == nil {
		l.logs = map[domain.ExecutionID][][]Line{}
	}
	chunks := l.logs[id]
	for _, ln := range lines {
		if n := len(chunks); n == 0 || len(chunks[n-1]) == chunkLines {
			chunks = append(chunks, make([]Line, 0, 16))
		}
		chunks[len(chunks)-1] = append(chunks[len(chunks)-1], ln)
		for ch := range l.subs[id] {
			select {
			case ch <- ln:
			default:
			}
		}
	}
	l.logs[id] = chunks
}

// Lines returns the log of id so far.
func (l *Logs) Lines(id domain.ExecutionID) []Line {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Line
	for _, c := range l.logs[id] {
		out = append(out, c...)
	}
	return out
}

// Subscribe returns the log of id so far and a channel of the lines that follow, until
// ctx is done, when the channel is closed.
func (l *Logs) Subscribe(ctx context.Context, id domain.ExecutionID) ([]Line, <-chan Line) {
	ch := make(chan Line, 4096)
	l.mu.Lock()
	var past []Line
	for _, c := range l.logs[id] {
		past = append(past, c...)
	}
	if l.subs == nil {
		l.subs = map[domain.ExecutionID]map[chan Line]struct{}{}
	}
	if l.subs[id] == nil {
		l.subs[id] = map[chan Line]struct{}{}
	}
	l.subs[id][ch] = struct{}{}
	l.mu.Unlock()
	go func() {
		<-ctx.Done()
		l.mu.Lock()
		delete(l.subs[id], ch)
		if len(l.subs[id]) == 0 {
			delete(l.subs, id)
		}
		l.mu.Unlock()
		close(ch)
	}()
	return past, ch
}

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
