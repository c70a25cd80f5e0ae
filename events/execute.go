package events

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Decider is an aggregate's pure logic: the state of a stream that does not exist yet, how a
// command turns a state into new events, and how an event changes the state.
type Decider[S any, C any, E Event] struct {
	Initial S
	Decide  func(S, C) ([]E, error)
	Evolve  func(S, E) S
}

// Result is what Execute did.
type Result[S any] struct {
	// State is the aggregate's state after the command (and its events).
	State S
	// Version is the stream's version after the command.
	Version Version
	// Positions are where the new events were written; none when Decide returned no events.
	Positions []Position
}

// Last returns the position of the last event written, 0 if none.
func (r Result[S]) Last() Position {
	return AppendResult{Positions: r.Positions}.Last()
}

// ExecuteAttempts bounds how often Execute retries after a version conflict.
const ExecuteAttempts = 8

// Execute runs one command against one stream: load the stream, fold it with Evolve, Decide,
// and append the new events at the version it loaded. When another writer got there first
// (ErrConflict) it starts over, at most ExecuteAttempts times, waiting a little longer each
// time; then it returns the last conflict. Decide's errors are returned unwrapped.
func Execute[S any, C any, E Event](ctx context.Context, store Store, codec *Codec, stream StreamID, d Decider[S, C, E], cmd C, meta Meta) (Result[S], error) {
	var lastErr error
	for attempt := range ExecuteAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return Result[S]{}, ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * time.Millisecond):
			}
		}
		res, err := executeOnce(ctx, store, codec, stream, d, cmd, meta)
		if !errors.Is(err, ErrConflict) {
			return res, err
		}
		lastErr = err
	}
	return Result[S]{}, fmt.Errorf("execute on %s: gave up after %d attempts: %w", stream, ExecuteAttempts, lastErr)
}

func executeOnce[S any, C any, E Event](ctx context.Context, store Store, codec *Codec, stream StreamID, d Decider[S, C, E], cmd C, meta Meta) (Result[S], error) {
	state, version, err := Fold(ctx, store, codec, stream, d.Initial, d.Evolve)
	if err != nil {
		return Result[S]{}, err
	}
	evs, err := d.Decide(state, cmd)
	if err != nil {
		return Result[S]{}, err
	}
	if len(evs) == 0 {
		return Result[S]{State: state, Version: version}, nil
	}
	recs := make([]Record, len(evs))
	for i, e := range evs {
		if recs[i], err = codec.Record(e, meta); err != nil {
			return Result[S]{}, err
		}
		state = d.Evolve(state, e)
	}
	res, err := store.Append(ctx, stream, version, recs...)
	if err != nil {
		return Result[S]{}, err
	}
	return Result[S]{State: state, Version: res.Version, Positions: res.Positions}, nil
}

// Fold loads stream and folds its events into initial with evolve, returning the state and
// the stream's version. An event of a type other than E is an error: the stream belongs to
// another aggregate.
func Fold[S any, E Event](ctx context.Context, store Store, codec *Codec, stream StreamID, initial S, evolve func(S, E) S) (S, Version, error) {
	envs, err := store.Load(ctx, stream, 0)
	if err != nil {
		return initial, 0, fmt.Errorf("load %s: %w", stream, err)
	}
	state, version := initial, Version(0)
	for _, env := range envs {
		ev, err := codec.Decode(env)
		if err != nil {
			return initial, 0, err
		}
		e, ok := ev.(E)
		if !ok {
			return initial, 0, fmt.Errorf("fold %s: event %s at version %d does not belong to this aggregate: %w", stream, env.Type, env.Version, ErrInvalid)
		}
		state, version = evolve(state, e), env.Version
	}
	return state, version, nil
}
