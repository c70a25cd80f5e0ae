package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
)

// Dispatch asks a worker to run one execution. It carries only the execution's id: the
// worker reads everything else from the event log, so a stale or repeated dispatch is
// harmless.
type Dispatch struct {
	Execution domain.ExecutionID `json:"execution"`
	// Position is the position of the event that made the execution runnable (its
	// Created or Queued event).
	Position events.Position `json:"position"`
}

// Queue carries dispatches from the Dispatcher to workers (adapters/bus over watermill).
// Delivery is at least once: a worker may get the same dispatch more than once, or a
// dispatch for an execution that has already run, and must treat both as no-ops.
type Queue interface {
	// Publish hands d to a worker. A nil error means the transport accepted it; it may
	// still be lost (an in-process transport loses what is in flight when the process
	// ends), which the Dispatcher makes up for by publishing again.
	Publish(ctx context.Context, d Dispatch) error
	// Consume calls handle with every dispatch delivered to this worker until ctx ends,
	// then returns ctx's error. A dispatch whose handle returns an error is delivered
	// again later; one whose handle returns nil is acknowledged and not delivered again.
	Consume(ctx context.Context, handle func(context.Context, Dispatch) error) error
}

// Checkpoint keeps the position the Dispatcher resumes from.
type Checkpoint interface {
	// Load returns the saved position, 0 when none was saved.
	Load(ctx context.Context) (events.Position, error)
	// Save records pos; a later Load returns it.
	Save(ctx context.Context, pos events.Position) error
}

// FileCheckpoint is a Checkpoint in one file, replaced atomically on Save.
type FileCheckpoint struct{ Path string }

// Load reads the position from the file; a missing file is position 0.
func (c FileCheckpoint) Load(context.Context) (events.Position, error) {
	b, err := os.ReadFile(c.Path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("load checkpoint: %w", err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("load checkpoint %s: %w", c.Path, err)
	}
	return events.Position(n), nil
}

// Save writes pos to a temporary file and renames it over the file.
func (c FileCheckpoint) Save(_ context.Context, pos events.Position) error {
	tmp, err := os.CreateTemp(filepath.Dir(c.Path), filepath.Base(c.Path)+".*")
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if _, err := tmp.WriteString(strconv.FormatUint(uint64(pos), 10) + "\n"); err != nil {
		_ = tmp.Close() // the write error is the one to report
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.Path); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// memoryCheckpoint keeps the position in memory, for a Dispatcher given no Checkpoint.
type memoryCheckpoint struct {
	mu sync.Mutex
	// guards pos
	pos events.Position
}

func (c *memoryCheckpoint) Load(context.Context) (events.Position, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos, nil
}

func (c *memoryCheckpoint) Save(_ context.Context, pos events.Position) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pos = pos
	return nil
}

// DispatcherConfig tunes a Dispatcher. Zero durations take their defaults.
type DispatcherConfig struct {
	// Republish is how long an execution may stay waiting (dispatched, not started) before
	// it is published again, in case the dispatch was lost; default 30s. Workers ignore
	// the repeats of an execution they already hold.
	Republish time.Duration
	// SaveEvery is the longest a changed checkpoint waits before it is saved; default 1s.
	SaveEvery time.Duration
}

func (c DispatcherConfig) withDefaults() DispatcherConfig {
	if c.Republish <= 0 {
		c.Republish = 30 * time.Second
	}
	if c.SaveEvery <= 0 {
		c.SaveEvery = time.Second
	}
	return c
}

// Dispatcher is the reactor that hands runnable executions to workers: it follows the
// event log from its checkpoint and publishes a Dispatch on the Queue for every execution
// that is created or queued, once per execution, and again every Republish while it has
// not started. Its checkpoint is a low-water mark: the position just before the oldest
// execution still waiting to start (or the last position read when none waits), so after
// a restart every execution that had not started is dispatched again and none is missed.
type Dispatcher struct {
	log    events.Store
	codec  *events.Codec
	queue  Queue
	cp     Checkpoint
	cfg    DispatcherConfig
	now    func() time.Time
	logger *slog.Logger

	mu sync.Mutex
	// guards waiting, read and saved
	waiting map[domain.ExecutionID]waitingExecution
	read    events.Position // the last position applied
	saved   events.Position // the last checkpoint saved
}

type waitingExecution struct {
	pos       events.Position // of the event that made it runnable
	published time.Time       // zero: not yet
}

// NewDispatcher returns a Dispatcher publishing on q; cp nil keeps the checkpoint in
// memory, logger nil is slog.Default().
func NewDispatcher(log events.Store, codec *events.Codec, q Queue, cp Checkpoint, cfg DispatcherConfig, logger *slog.Logger) *Dispatcher {
	if cp == nil {
		cp = &memoryCheckpoint{}
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Dispatcher{log: log, codec: codec, queue: q, cp: cp, cfg: cfg.withDefaults(), now: time.Now, logger: logger,
		waiting: map[domain.ExecutionID]waitingExecution{}}
}

// Run follows the log until ctx ends, then saves the checkpoint and returns ctx's error.
func (d *Dispatcher) Run(ctx context.Context) error {
	from, err := d.cp.Load(ctx)
	if err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	d.mu.Lock()
	d.read, d.saved = from, from
	d.mu.Unlock()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.tick(ctx, done)
	}()
	err = d.log.Subscribe(ctx, from, func(env events.Envelope) error { return d.apply(ctx, env) })
	close(done)
	wg.Wait()
	if serr := d.save(context.WithoutCancel(ctx)); serr != nil {
		err = errors.Join(err, serr)
	}
	return err
}

// tick saves the checkpoint and republishes waiting executions until done closes.
func (d *Dispatcher) tick(ctx context.Context, done <-chan struct{}) {
	t := time.NewTicker(min(d.cfg.SaveEvery, d.cfg.Republish))
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		if err := d.save(ctx); err != nil && ctx.Err() == nil {
			d.logger.Warn("runner: save the dispatch checkpoint", "err", err)
		}
		d.republish(ctx)
	}
}

// apply notes one envelope: runnable executions are published, started or ended ones
// stop waiting.
func (d *Dispatcher) apply(ctx context.Context, env events.Envelope) error {
	switch env.Type {
	case execution.Created{}.EventType(), execution.Queued{}.EventType(), execution.Started{}.EventType(),
		execution.Finished{}.EventType(), execution.Stopped{}.EventType(), execution.Crashed{}.EventType():
	default:
		d.mu.Lock()
		d.read = env.Position
		d.mu.Unlock()
		return nil
	}
	ev, err := d.codec.Decode(env)
	if err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	var id domain.ExecutionID
	runnable := false
	switch e := ev.(type) {
	case execution.Created:
		id, runnable = e.Execution, true
	case execution.Queued:
		id, runnable = e.Execution, true
	case execution.Started:
		id = e.Execution
	case execution.Finished:
		id = e.Execution
	case execution.Stopped:
		id = e.Execution
	case execution.Crashed:
		id = e.Execution
	}
	d.mu.Lock()
	d.read = env.Position
	_, known := d.waiting[id]
	switch {
	case !runnable:
		delete(d.waiting, id)
		d.mu.Unlock()
		return nil
	case known:
		d.mu.Unlock()
		return nil // already dispatched (Created, then Queued)
	}
	w := waitingExecution{pos: env.Position}
	d.waiting[id] = w
	d.mu.Unlock()
	d.publish(ctx, id, w)
	return nil
}

// publish hands id to the queue; a failure is retried by republish.
func (d *Dispatcher) publish(ctx context.Context, id domain.ExecutionID, w waitingExecution) {
	if err := d.queue.Publish(ctx, Dispatch{Execution: id, Position: w.pos}); err != nil {
		if ctx.Err() == nil {
			d.logger.Warn("runner: dispatch execution", "execution", id, "err", err)
		}
		return
	}
	d.mu.Lock()
	if cur, ok := d.waiting[id]; ok && cur.pos == w.pos {
		cur.published = d.now()
		d.waiting[id] = cur
	}
	d.mu.Unlock()
}

// republish publishes again every execution waiting longer than Republish since it was
// last published (or never published).
func (d *Dispatcher) republish(ctx context.Context) {
	cutoff := d.now().Add(-d.cfg.Republish)
	d.mu.Lock()
	var due []domain.ExecutionID
	for id, w := range d.waiting {
		if w.published.Before(cutoff) {
			due = append(due, id)
		}
	}
	d.mu.Unlock()
	for _, id := range due {
		d.mu.Lock()
		w, ok := d.waiting[id]
		d.mu.Unlock()
		if ok {
			d.publish(ctx, id, w)
		}
	}
}

// checkpoint is the low-water mark: just before the oldest waiting execution, else the
// last position read.
func (d *Dispatcher) checkpointLocked() events.Position {
	mark := d.read
	for _, w := range d.waiting {
		mark = min(mark, w.pos-1)
	}
	return mark
}

func (d *Dispatcher) save(ctx context.Context) error {
	d.mu.Lock()
	mark := d.checkpointLocked()
	changed := mark != d.saved
	d.mu.Unlock()
	if !changed {
		return nil
	}
	if err := d.cp.Save(ctx, mark); err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	d.mu.Lock()
	d.saved = mark
	d.mu.Unlock()
	return nil
}

// Waiting returns how many executions the Dispatcher has dispatched that have not
// started yet.
func (d *Dispatcher) Waiting() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.waiting)
}

// Worker takes dispatches from a Queue and runs them on a Scheduler.
type Worker struct {
	s      *Scheduler
	q      Queue
	logger *slog.Logger
}

// NewWorker returns a worker feeding s from q.
func NewWorker(s *Scheduler, q Queue) *Worker {
	return &Worker{s: s, q: q, logger: s.r.logger}
}

// Serve consumes dispatches and runs them until ctx ends, then waits for the executions
// running and returns.
func (w *Worker) Serve(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.s.Serve(ctx)
	}()
	err := w.q.Consume(ctx, w.Handle)
	wg.Wait()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// Handle submits the dispatched execution to the scheduler if it is created or queued. It
// is idempotent: an execution already submitted here, started or ended (or unknown) is
// acknowledged and skipped. An error (reading the log, recording Queued) asks for the
// dispatch again.
func (w *Worker) Handle(ctx context.Context, d Dispatch) error {
	st, err := w.s.r.load(ctx, d.Execution)
	if errors.Is(err, execution.ErrNotFound) {
		w.logger.Warn("runner: dispatched execution not found; dropped", "execution", d.Execution)
		return nil
	} else if err != nil {
		return err
	}
	if s := st.Status(); s != domain.StatusCreated && s != domain.StatusQueued {
		return nil
	}
	// ErrNotQueued: it started or ended since it was read; nothing to do.
	if err := w.s.Submit(ctx, d.Execution, st.Spec().Priority); err != nil && !errors.Is(err, ErrNotQueued) {
		return err
	}
	return nil
}
