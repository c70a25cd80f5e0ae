package projections

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/events"
)

// Projection is one read model the Engine keeps current.
type Projection interface {
	// Name identifies the projection and its keys. It is fixed forever, non-empty and
	// without NUL bytes.
	Name() string
	// Version is bumped whenever Apply changes what it writes: a projection whose stored
	// version differs is rebuilt from position 0.
	Version() int
	// Apply applies one event to the projection's keys in tx. It is deterministic: it
	// depends only on what tx holds, env and ev (never the clock or randomness), so a
	// rebuild writes exactly the same keys. An error stops the engine; nothing of the
	// batch is written.
	Apply(tx Txn, env events.Envelope, ev events.Event) error
}

// BatchProjection is a Projection that applies a run of consecutive events at once, so
// that it can keep what it reads and changes in memory and write each key once per batch
// instead of once per event (decoding and encoding a record thirteen times is what made
// rebuilds slow). The keys it leaves must be exactly those that Apply, event by event,
// would leave: batch boundaries never show in the state.
type BatchProjection interface {
	Projection
	// ApplyBatch applies envs (decoded as evs, in log order) to the projection's keys in tx.
	ApplyBatch(tx Txn, envs []events.Envelope, evs []events.Event) error
}

// Config tunes an Engine. The zero value is usable.
type Config struct {
	// BatchSize is the most events applied in one transaction (default 4000). Under
	// load, batches fill up; when idle, every event is applied as it arrives.
	BatchSize int
	// Logger receives progress of rebuilds; default discards.
	Logger *slog.Logger
	// CompactAfter: when the engine starts following the log (on start, or for a
	// rebuild) at least this many events behind its head, it has a store that can (a
	// Compacter) compact itself for reads once it has caught up (default 100,000;
	// negative: never).
	CompactAfter int
}

func (c Config) withDefaults() Config {
	if c.BatchSize <= 0 {
		c.BatchSize = 4000
	}
	if c.CompactAfter == 0 {
		c.CompactAfter = 100_000
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Errors of the engine.
var (
	// ErrUnknownProjection: the name is not one of the engine's projections.
	ErrUnknownProjection = fmt.Errorf("projections: unknown projection: %w", domain.ErrNotFound)
	// ErrNotReady: the projection's stored state is of another version and has not been
	// reset yet (the engine has not started since the version changed).
	ErrNotReady = fmt.Errorf("projections: projection not ready: %w", domain.ErrConflict)
	// ErrRunning: Run was called while the engine already runs.
	ErrRunning = fmt.Errorf("projections: engine already running: %w", domain.ErrConflict)
	// ErrStopped: Run returned while WaitSettled waited.
	ErrStopped = fmt.Errorf("projections: engine stopped: %w", domain.ErrConflict)
)

// meta is a projection's stored version, key generation and checkpoint (the position of
// the last event applied).
type meta struct {
	version    int
	generation uint64
	checkpoint events.Position
}

// Status is where a projection stands.
type Status struct {
	Name       string
	Version    int
	Generation uint64
	// Checkpoint is the position of the last event applied.
	Checkpoint events.Position
	// Head is the position of the last event in the log.
	Head events.Position
	// Lag is Head − Checkpoint: how many positions the projection is behind.
	Lag uint64
}

// Engine feeds projections from the log. Create one with New, start it with Run.
type Engine struct {
	cfg    Config
	log    events.Store
	codec  *events.Codec
	store  Store
	projs  []Projection
	byName map[string]Projection

	applyMu sync.Mutex // serialises batches, resets and the metas they commit
	epoch   uint64     // guarded by applyMu: bumped by every reset, voiding staged batches

	compactions sync.WaitGroup // the compaction running, which Run waits for

	mu         sync.Mutex // guards the fields below
	metas      map[string]meta
	wake       chan struct{} // closed when a checkpoint moves, a projection is reset or a compaction ends
	running    bool
	runsEnded  int // Runs that have returned
	compacting bool

	restart chan struct{} // tells Run to resubscribe from the lowest checkpoint
}

// New returns an engine feeding projs from log, decoding with codec and keeping state in
// store. Names must be unique.
func New(log events.Store, codec *events.Codec, store Store, cfg Config, projs ...Projection) (*Engine, error) {
	e := &Engine{cfg: cfg.withDefaults(), log: log, codec: codec, store: store, projs: projs,
		byName: map[string]Projection{}, metas: map[string]meta{}, wake: make(chan struct{}), restart: make(chan struct{}, 1)}
	var errs []error
	for _, p := range projs {
		name := p.Name()
		switch {
		case name == "" || strings.ContainsRune(name, 0):
			errs = append(errs, fmt.Errorf("new engine: projection name %q: want non-empty, without NUL: %w", name, domain.ErrInvalid))
		case e.byName[name] != nil:
			errs = append(errs, fmt.Errorf("new engine: projection %s given twice: %w", name, domain.ErrInvalid))
		}
		e.byName[name] = p
	}
	if log == nil || codec == nil || store == nil {
		errs = append(errs, fmt.Errorf("new engine: log, codec and store are required: %w", domain.ErrInvalid))
	}
	return e, errors.Join(errs...)
}

// Projections returns the engine's projections.
func (e *Engine) Projections() []Projection { return append([]Projection(nil), e.projs...) }

// Run prepares the projections (resetting those whose version changed), catches each up
// from its checkpoint and then follows the log until ctx ends (it returns ctx's error) or
// applying fails (it returns that error, having written nothing of the failed batch). A
// catch-up of Config.CompactAfter events or more ends with the store compacted in the
// background (see Compacter); Run returns once that has ended.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	if e.running {
		e.mu.Unlock()
		return ErrRunning
	}
	e.running = true
	e.mu.Unlock()
	defer func() {
		e.compactions.Wait()
		e.mu.Lock()
		e.running = false
		e.runsEnded++
		close(e.wake) // WaitSettled returns
		e.wake = make(chan struct{})
		e.mu.Unlock()
	}()
	if err := e.init(ctx); err != nil {
		return err
	}
	for {
		err := e.follow(ctx)
		if !errors.Is(err, errRestart) {
			return err
		}
	}
}

var errRestart = errors.New("restart subscription")

// errMalformed marks a stored record or key that cannot be decoded.
var errMalformed = errors.New("malformed projection record")

// follow subscribes from the lowest checkpoint and applies batches until ctx ends, a
// restart is asked for (errRestart) or something fails. It is a pipeline: the
// subscription fills a channel, a decoder cuts it into batches and decodes each on every
// core, and this goroutine applies one batch while the next is being decoded.
func (e *Engine) follow(ctx context.Context) error {
	from := e.lowest()
	subCtx, cancel := context.WithCancel(ctx)
	ch := make(chan events.Envelope, 4*e.cfg.BatchSize)
	batches := make(chan decodedBatch, 1)
	subErr := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		subErr <- e.log.Subscribe(subCtx, from, func(env events.Envelope) error {
			select {
			case ch <- env:
				return nil
			case <-subCtx.Done():
				return subCtx.Err()
			}
		})
	}()
	go func() {
		defer wg.Done()
		e.decodeBatches(subCtx, ch, batches)
	}()
	defer func() {
		cancel()
		wg.Wait()
	}()
	var pending *staged // applied, not committed: dropped if follow returns
	// A catch-up of CompactAfter events or more ends in a compaction.
	var compactAt events.Position
	if head, err := e.log.Head(ctx); err == nil && e.cfg.CompactAfter >= 0 && head > from && uint64(head-from) >= uint64(e.cfg.CompactAfter) {
		compactAt = head
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.restart:
			return errRestart
		case err := <-subErr:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("follow the log from %d: %w", from, err)
		case b := <-batches:
			if b.err != nil {
				return fmt.Errorf("apply: %w", b.err)
			}
			// The batch is staged; it commits while the next one is applied, or now if
			// no next one is waiting.
			e.applyMu.Lock()
			s, err := e.stage(ctx, from, b.envs, b.evs, pending)
			pending = nil
			if err == nil && len(batches) > 0 {
				pending = s
			} else if err == nil {
				// Caught up, for now. A compaction that is due is marked as running
				// before the checkpoints show the catch-up (see WaitSettled).
				due := compactAt != 0 && b.envs[len(b.envs)-1].Position >= compactAt && e.compactionDue()
				switch err = e.commitNow(ctx, s); {
				case due && err == nil:
					compactAt = 0
					e.compact(ctx)
				case due:
					e.compactionEnded(ctx)
				}
			}
			e.applyMu.Unlock()
			if err != nil {
				return err
			}
			from = b.envs[len(b.envs)-1].Position
		}
	}
}

type decodedBatch struct {
	envs []events.Envelope
	evs  []events.Event
	err  error // the first envelope that failed to decode; the batch is not applied
}

// decodeBatches cuts what arrives on ch into batches of at most BatchSize (whatever has
// arrived when the previous batch was handed on) and decodes each, until ctx ends.
func (e *Engine) decodeBatches(ctx context.Context, ch <-chan events.Envelope, out chan<- decodedBatch) {
	for {
		var batch []events.Envelope
		select {
		case <-ctx.Done():
			return
		case env := <-ch:
			batch = append(make([]events.Envelope, 0, e.cfg.BatchSize), env)
		}
	drain:
		for len(batch) < e.cfg.BatchSize {
			select {
			case env := <-ch:
				batch = append(batch, env)
			default:
				break drain
			}
		}
		evs, err := e.decode(batch)
		select {
		case out <- decodedBatch{envs: batch, evs: evs, err: err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// decode decodes envs, in parallel when there are many: decoding JSON payloads is a
// good part of what a rebuild costs.
func (e *Engine) decode(envs []events.Envelope) ([]events.Event, error) {
	out := make([]events.Event, len(envs))
	workers := min(runtime.GOMAXPROCS(0), len(envs)/64+1)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(envs); i += workers {
				ev, err := e.codec.Decode(envs[i])
				if err != nil {
					errs[w] = fmt.Errorf("decode position %d: %w", envs[i].Position, err)
					return
				}
				out[i] = ev
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// init resets every projection whose stored version differs (a new key generation,
// checkpoint 0) in one transaction, then deletes keys of old generations.
func (e *Engine) init(ctx context.Context) error {
	e.applyMu.Lock()
	defer e.applyMu.Unlock()
	if err := e.redo(ctx); err != nil { // an event too big for a transaction, cut short
		return fmt.Errorf("prepare projections: %w", err)
	}
	metas := map[string]meta{}
	err := e.store.Update(ctx, func(tx Txn) error {
		for _, p := range e.projs {
			m, ok, err := readMeta(tx, p.Name())
			if err != nil {
				return err
			}
			if !ok || m.version != p.Version() {
				if ok { // a new projection (a fresh store) is built, not rebuilt: nothing to say
					e.cfg.Logger.Info("rebuilding projection", "projection", p.Name(), "from_version", m.version, "to_version", p.Version())
				}
				m = meta{version: p.Version(), generation: m.generation + 1}
				if err := writeMeta(tx, p.Name(), m); err != nil {
					return err
				}
			}
			metas[p.Name()] = m
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prepare projections: %w", err)
	}
	e.publish(metas)
	return e.cleanup(ctx)
}

// Rebuild resets the projection name to a new, empty generation with checkpoint 0; the
// running engine then rebuilds it from the log while the others carry on. The reset is
// one transaction, so a crash leaves either the old state or the empty new one.
func (e *Engine) Rebuild(ctx context.Context, name string) error {
	p := e.byName[name]
	if p == nil {
		return fmt.Errorf("rebuild %s: %w", name, ErrUnknownProjection)
	}
	e.applyMu.Lock()
	var m meta
	err := e.store.Update(ctx, func(tx Txn) error {
		old, _, err := readMeta(tx, name)
		if err != nil {
			return err
		}
		m = meta{version: p.Version(), generation: old.generation + 1}
		return writeMeta(tx, name, m)
	})
	if err == nil {
		e.epoch++
		e.publish(map[string]meta{name: m})
	}
	e.applyMu.Unlock()
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	select {
	case e.restart <- struct{}{}:
	default:
	}
	return e.cleanup(ctx)
}

// Apply applies envs, which must directly follow position after in the log, to every
// projection whose checkpoint is at least after (one that is further behind would skip
// events; it catches up from its own checkpoint later). Envelopes at or below a
// projection's checkpoint are skipped, so applying an envelope again is a no-op. The
// state changes and new checkpoints of one call are one transaction, split in halves
// while the store answers ErrTooBig; a single event too big for a transaction goes
// through a redo log (see applyHuge), still all or nothing.
func (e *Engine) Apply(ctx context.Context, after events.Position, envs ...events.Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	decoded, err := e.decode(envs)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	e.applyMu.Lock()
	defer e.applyMu.Unlock()
	return e.apply(ctx, after, envs, decoded)
}

func (e *Engine) apply(ctx context.Context, after events.Position, envs []events.Envelope, decoded []events.Event) error {
	cur := e.currentMetas()
	var next map[string]meta
	err := e.store.Update(ctx, func(tx Txn) error {
		var err error
		next, err = e.applyTo(tx, cur, after, envs, decoded)
		return err
	})
	if errors.Is(err, ErrTooBig) && len(envs) == 1 {
		return e.applyHuge(ctx, after, envs, decoded)
	}
	if errors.Is(err, ErrTooBig) && len(envs) > 1 {
		half := len(envs) / 2
		if err := e.apply(ctx, after, envs[:half], decoded[:half]); err != nil {
			return err
		}
		return e.apply(ctx, envs[half-1].Position, envs[half:], decoded[half:])
	}
	if err != nil {
		return err
	}
	e.publish(next)
	return nil
}

func (e *Engine) currentMetas() map[string]meta {
	e.mu.Lock()
	defer e.mu.Unlock()
	cur := make(map[string]meta, len(e.metas))
	for k, v := range e.metas {
		cur[k] = v
	}
	return cur
}

// applyTo applies envs (directly after position after) to every projection of cur that
// has reached after, in tx, with their new checkpoints, and returns their new metas.
func (e *Engine) applyTo(tx Txn, cur map[string]meta, after events.Position, envs []events.Envelope, decoded []events.Event) (map[string]meta, error) {
	next := map[string]meta{}
	last := envs[len(envs)-1].Position
	for _, p := range e.projs {
		m, ok := cur[p.Name()]
		if !ok || m.checkpoint < after || m.checkpoint >= last {
			continue
		}
		ptx := &prefixed{tx: tx, prefix: dataPrefix(p.Name(), m.generation)}
		first := 0
		for first < len(envs) && envs[first].Position <= m.checkpoint {
			first++
		}
		if bp, ok := p.(BatchProjection); ok {
			if err := bp.ApplyBatch(ptx, envs[first:], decoded[first:]); err != nil {
				return nil, fmt.Errorf("projection %s: apply positions %d to %d: %w", p.Name(), envs[first].Position, last, err)
			}
		} else {
			for i, env := range envs[first:] {
				if err := p.Apply(ptx, env, decoded[first+i]); err != nil {
					return nil, fmt.Errorf("projection %s: apply %s at position %d: %w", p.Name(), env.Type, env.Position, err)
				}
			}
		}
		m.checkpoint = last
		if err := writeMeta(tx, p.Name(), m); err != nil {
			return nil, err
		}
		next[p.Name()] = m
	}
	return next, nil
}

// cleanup deletes the keys of every projection's old generations, a bounded number per
// transaction: they are invisible already, so deleting them in pieces is safe.
func (e *Engine) cleanup(ctx context.Context) error {
	for _, p := range e.projs {
		m, ok := e.meta(p.Name())
		if !ok {
			continue
		}
		all := dataPrefix(p.Name(), 0)
		all = all[:len(all)-8]
		keep := dataPrefix(p.Name(), m.generation)
		chunk := 10_000
		for {
			var n int
			err := e.store.Update(ctx, func(tx Txn) error {
				var stale [][]byte
				err := tx.Scan(all, nil, false, func(k, _ []byte) bool {
					if bytes.HasPrefix(k, keep) || len(stale) == chunk {
						return false
					}
					stale = append(stale, bytes.Clone(k))
					return true
				})
				if err != nil {
					return err
				}
				for _, k := range stale {
					if err := tx.Delete(k); err != nil {
						return err
					}
				}
				n = len(stale)
				return nil
			})
			if errors.Is(err, ErrTooBig) && chunk > 1 {
				chunk /= 2
				continue
			}
			if err != nil {
				return fmt.Errorf("delete old keys of %s: %w", p.Name(), err)
			}
			if n == 0 {
				break
			}
		}
	}
	return nil
}

func (e *Engine) publish(metas map[string]meta) {
	if len(metas) == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, v := range metas {
		e.metas[k] = v
	}
	close(e.wake)
	e.wake = make(chan struct{})
}

func (e *Engine) meta(name string) (meta, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.metas[name]
	return m, ok
}

// lowest returns the lowest checkpoint of all projections.
func (e *Engine) lowest() events.Position {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lowestLocked()
}

func (e *Engine) lowestLocked() events.Position {
	var low events.Position
	for i, p := range e.projs {
		m := e.metas[p.Name()]
		if i == 0 || m.checkpoint < low {
			low = m.checkpoint
		}
	}
	return low
}

// Compacter is a Store that can rewrite itself for reads after many writes (badger's
// flattens its levels: a rebuild leaves many tables that every read seeks in).
type Compacter interface {
	Compact(ctx context.Context) error
}

// compactionDue reports whether the store can be compacted now (it is a Compacter and
// none is running), and if so marks a compaction as running.
func (e *Engine) compactionDue() bool {
	if _, ok := e.store.(Compacter); !ok {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.compacting {
		return false
	}
	e.compacting = true
	return true
}

// compactionEnded marks the compaction compactionDue marked as ended, and wakes
// WaitSettled unless Run is returning (which wakes it to say it stopped).
func (e *Engine) compactionEnded(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.compacting = false
	if ctx.Err() == nil {
		close(e.wake)
		e.wake = make(chan struct{})
	}
}

// compact compacts the store in the background; reads and writes go on meanwhile.
func (e *Engine) compact(ctx context.Context) {
	e.compactions.Go(func() {
		defer e.compactionEnded(ctx)
		t0 := time.Now()
		switch err := e.store.(Compacter).Compact(ctx); {
		case err == nil:
			e.cfg.Logger.InfoContext(ctx, "projections: store compacted for reads", "took", time.Since(t0).Round(time.Millisecond))
		case ctx.Err() == nil: // else stopped before it began: the next catch-up compacts
			e.cfg.Logger.WarnContext(ctx, "projections: compacting the store failed; reads stay slower until the next", "error", err)
		}
	})
}

// WaitSettled blocks until every projection has applied the log's head as of the call
// and no compaction is running (the store reads as fast as it will), or ctx ends, or Run
// returns meanwhile (ErrStopped).
func (e *Engine) WaitSettled(ctx context.Context) error {
	head, err := e.log.Head(ctx)
	if err != nil {
		return err
	}
	e.mu.Lock()
	ended := e.runsEnded
	e.mu.Unlock()
	stopped := false
	err = e.waitUntil(ctx, head, func() bool {
		stopped = e.runsEnded != ended
		return stopped || len(e.metas) == len(e.projs) && e.lowestLocked() >= head && !e.compacting
	})
	if err == nil && stopped {
		return ErrStopped
	}
	return err
}

// WaitFor blocks until every projection has applied position pos (read your writes), or
// ctx ends (its error).
func (e *Engine) WaitFor(ctx context.Context, pos events.Position) error {
	return e.waitUntil(ctx, pos, func() bool { return len(e.metas) == len(e.projs) && e.lowestLocked() >= pos })
}

// WaitForProjection blocks until the projection name has applied position pos, or ctx
// ends (its error). A read that joins two projections waits with it for the second to
// reach what it read in the first.
func (e *Engine) WaitForProjection(ctx context.Context, name string, pos events.Position) error {
	if e.byName[name] == nil {
		return fmt.Errorf("wait for %s: %w", name, ErrUnknownProjection)
	}
	return e.waitUntil(ctx, pos, func() bool {
		m, ok := e.metas[name]
		return ok && m.checkpoint >= pos
	})
}

// waitUntil blocks until ready (called with e.mu held) holds, or ctx ends.
func (e *Engine) waitUntil(ctx context.Context, pos events.Position, ready func() bool) error {
	for {
		e.mu.Lock()
		ok := ready()
		wake := e.wake
		e.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for position %d: %w", pos, ctx.Err())
		case <-wake:
		}
	}
}

// Status returns where every projection stands, with its lag behind the log's head.
func (e *Engine) Status(ctx context.Context) ([]Status, error) {
	head, err := e.log.Head(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(e.projs))
	err = e.store.View(ctx, func(r Reader) error {
		for _, p := range e.projs {
			m, _, err := readMeta(r, p.Name())
			if err != nil {
				return err
			}
			s := Status{Name: p.Name(), Version: m.version, Generation: m.generation, Checkpoint: m.checkpoint, Head: head}
			if head > m.checkpoint {
				s.Lag = uint64(head - m.checkpoint)
			}
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read projection status: %w", err)
	}
	return out, nil
}

// View runs fn on a snapshot of the projection name's keys.
func (e *Engine) View(ctx context.Context, name string, fn func(Reader) error) error {
	p := e.byName[name]
	if p == nil {
		return fmt.Errorf("view %s: %w", name, ErrUnknownProjection)
	}
	return e.store.View(ctx, func(r Reader) error {
		m, ok, err := readMeta(r, name)
		if err != nil {
			return err
		}
		if !ok || m.version != p.Version() {
			return fmt.Errorf("view %s: %w", name, ErrNotReady)
		}
		return fn(&prefixed{tx: readOnly{r}, prefix: dataPrefix(name, m.generation)})
	})
}

// Checkpoint returns the position of the last event the projection name applied.
func (e *Engine) Checkpoint(name string) (events.Position, bool) {
	m, ok := e.meta(name)
	return m.checkpoint, ok
}

// Digest returns a SHA-256 of every key and value of the projection name, in key order:
// equal digests mean equal state.
func (e *Engine) Digest(ctx context.Context, name string) ([32]byte, error) {
	var sum [32]byte
	err := e.View(ctx, name, func(r Reader) error {
		h := sha256.New()
		var n [8]byte
		err := r.Scan(nil, nil, false, func(k, v []byte) bool {
			h.Write(binary.BigEndian.AppendUint32(n[:0], uint32(len(k))))
			h.Write(k)
			h.Write(binary.BigEndian.AppendUint32(n[:0], uint32(len(v))))
			h.Write(v)
			return true
		})
		h.Sum(sum[:0])
		return err
	})
	return sum, err
}

func metaKey(name string) []byte { return append([]byte("m\x00"), name...) }

func dataPrefix(name string, gen uint64) []byte {
	k := append([]byte("d\x00"), name...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, gen)
}

func readMeta(r Reader, name string) (meta, bool, error) {
	v, ok, err := r.Get(metaKey(name))
	if err != nil || !ok {
		return meta{}, false, err
	}
	if len(v) != 20 {
		return meta{}, false, fmt.Errorf("read checkpoint of %s: %d bytes, want 20: %w", name, len(v), errMalformed)
	}
	return meta{version: int(binary.BigEndian.Uint32(v)), generation: binary.BigEndian.Uint64(v[4:]), checkpoint: events.Position(binary.BigEndian.Uint64(v[12:]))}, true, nil
}

func writeMeta(tx Txn, name string, m meta) error {
	v := binary.BigEndian.AppendUint32(make([]byte, 0, 20), uint32(m.version))
	v = binary.BigEndian.AppendUint64(v, m.generation)
	v = binary.BigEndian.AppendUint64(v, uint64(m.checkpoint))
	return tx.Set(metaKey(name), v)
}

// prefixed is a Txn confined to the keys under prefix, which it hides.
type prefixed struct {
	tx     Txn
	prefix []byte
}

func (p *prefixed) key(k []byte) []byte {
	out := make([]byte, 0, len(p.prefix)+len(k))
	return append(append(out, p.prefix...), k...)
}

func (p *prefixed) Get(key []byte) ([]byte, bool, error) { return p.tx.Get(p.key(key)) }
func (p *prefixed) Set(key, value []byte) error          { return p.tx.Set(p.key(key), value) }
func (p *prefixed) Delete(key []byte) error              { return p.tx.Delete(p.key(key)) }

func (p *prefixed) Scan(prefix, seek []byte, reverse bool, fn func(key, value []byte) bool) error {
	var s []byte
	if seek != nil {
		s = p.key(seek)
	}
	n := len(p.prefix)
	return p.tx.Scan(p.key(prefix), s, reverse, func(k, v []byte) bool { return fn(k[n:], v) })
}

// readOnly makes a Reader a Txn whose writes fail, for View.
type readOnly struct{ Reader }

var errReadOnly = fmt.Errorf("projections: write in a read-only view: %w", domain.ErrInvalid)

func (readOnly) Set(_, _ []byte) error { return errReadOnly }
func (readOnly) Delete(_ []byte) error { return errReadOnly }
