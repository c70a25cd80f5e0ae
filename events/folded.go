package events

import (
	"context"
	"fmt"
	"sync"
)

// Folded keeps the states of one kind of aggregate folded so far, so that reading a
// stream again reads only the events appended to it since: what Fold returns, for a
// fraction of the cost when a stream is read far more often than it is written (an API
// token on every request, a project on every role check). Streams that do not exist are
// not kept, so a caller naming streams at random adds nothing to it. The zero value is
// not usable: set Evolve.
type Folded[S any, E Event] struct {
	Initial S
	Evolve  func(S, E) S
	// Copy, if set, returns what State hands out of a kept state, for a state with maps
	// or slices that Evolve changes in place.
	Copy func(S) S

	m sync.Map // StreamID → *folded[S]
}

type folded[S any] struct {
	mu      sync.Mutex // guards st and version
	st      S
	version Version
}

// State returns stream's state as store holds it now, and its version (0 if the stream
// does not exist). The log is read and the events decoded outside the stream's lock, so
// concurrent readers of one stream do not queue behind each other's reads; an event
// another reader applied meanwhile is skipped.
func (f *Folded[S, E]) State(ctx context.Context, store Store, codec *Codec, stream StreamID) (S, Version, error) {
	var after Version
	kept, ok := f.m.Load(stream)
	if ok {
		e := kept.(*folded[S])
		e.mu.Lock()
		after = e.version
		e.mu.Unlock()
	}
	envs, err := store.Load(ctx, stream, after)
	if err != nil {
		return f.Initial, 0, fmt.Errorf("load %s: %w", stream, err)
	}
	evs := make([]E, len(envs))
	for i, env := range envs {
		ev, err := codec.Decode(env)
		if err != nil {
			return f.Initial, 0, err
		}
		if evs[i], ok = ev.(E); !ok {
			return f.Initial, 0, fmt.Errorf("fold %s: event %s at version %d does not belong to this aggregate: %w", stream, env.Type, env.Version, ErrInvalid)
		}
	}
	if kept == nil {
		if len(envs) == 0 {
			return f.Initial, 0, nil
		}
		kept, _ = f.m.LoadOrStore(stream, &folded[S]{st: f.Initial})
	}
	e := kept.(*folded[S])
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, env := range envs {
		if env.Version == e.version+1 {
			e.st, e.version = f.Evolve(e.st, evs[i]), env.Version
		}
	}
	if f.Copy != nil {
		return f.Copy(e.st), e.version, nil
	}
	return e.st, e.version, nil
}
