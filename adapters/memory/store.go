package memory

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/stratahq/strata/events"
)

var _ events.Store = (*Store)(nil)

// Store is an events.Store in memory: the reference implementation of the contract.
// Positions are gapless. The zero value is not usable; call NewStore.
type Store struct {
	// Now stamps RecordedAt; it defaults to time.Now.
	Now func() time.Time

	sig events.Signal

	mu      sync.RWMutex // guards the fields below
	log     []events.Envelope
	streams map[events.StreamID][]int // indexes into log, in version order
	ids     map[[16]byte]events.Written
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{Now: time.Now, streams: map[events.StreamID][]int{}, ids: map[[16]byte]events.Written{}}
}

// Append implements events.Store.
func (s *Store) Append(ctx context.Context, stream events.StreamID, expected events.Version, recs ...events.Record) (events.AppendResult, error) {
	if err := events.ValidateRecords(stream, expected, recs); err != nil {
		return events.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return events.AppendResult{}, err
	}
	s.mu.Lock()
	res, err := s.appendLocked(stream, expected, recs)
	s.mu.Unlock()
	if err == nil {
		s.sig.Notify()
	}
	return res, err
}

func (s *Store) appendLocked(stream events.StreamID, expected events.Version, recs []events.Record) (events.AppendResult, error) {
	lookup := func(id [16]byte) (events.Written, bool) { w, ok := s.ids[id]; return w, ok }
	if res, retry, err := events.DetectRetry(stream, recs, lookup); err != nil || retry {
		return res, err
	}
	idx := s.streams[stream]
	version := events.Version(len(idx))
	if err := events.CheckExpected(stream, expected, version); err != nil {
		return events.AppendResult{}, err
	}
	var prev events.Hash
	if len(idx) > 0 {
		prev = s.log[idx[len(idx)-1]].Hash
	}
	now := s.Now().UTC()
	res := events.AppendResult{Positions: make([]events.Position, len(recs))}
	for i, r := range recs {
		version++
		e := events.Envelope{
			Position: events.Position(len(s.log) + 1), Stream: stream, Version: version,
			ID: r.ID, Type: r.Type, Schema: r.Schema, RecordedAt: now,
			Actor: r.Actor, CorrelationID: r.CorrelationID, CausationID: r.CausationID,
			Data: append(events.RawJSON(nil), r.Data...),
		}
		if !r.RecordedAt.IsZero() {
			e.RecordedAt = r.RecordedAt.UTC()
		}
		events.Seal(&e, prev)
		prev = e.Hash
		s.streams[stream] = append(s.streams[stream], len(s.log))
		s.ids[r.ID] = events.Written{Stream: stream, Version: version, Position: e.Position}
		s.log = append(s.log, e)
		res.Positions[i] = e.Position
	}
	res.Version = version
	return res, nil
}

// Load implements events.Store.
func (s *Store) Load(ctx context.Context, stream events.StreamID, after events.Version) ([]events.Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	idx := s.streams[stream]
	if after < 0 {
		after = 0
	}
	if int(after) >= len(idx) {
		return nil, nil
	}
	out := make([]events.Envelope, 0, len(idx)-int(after))
	for _, i := range idx[after:] {
		out = append(out, s.log[i])
	}
	return out, nil
}

// ReadAll implements events.Store.
func (s *Store) ReadAll(ctx context.Context, after events.Position, limit int) ([]events.Envelope, error) {
	if err := events.CheckLimit(limit); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	start := sort.Search(len(s.log), func(i int) bool { return s.log[i].Position > after })
	end := min(start+limit, len(s.log))
	return append([]events.Envelope(nil), s.log[start:end]...), nil
}

// Head implements events.Store.
func (s *Store) Head(ctx context.Context) (events.Position, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.log) == 0 {
		return 0, nil
	}
	return s.log[len(s.log)-1].Position, nil
}

// Subscribe implements events.Store.
func (s *Store) Subscribe(ctx context.Context, after events.Position, fn func(events.Envelope) error) error {
	return events.Follow(ctx, s.ReadAll, &s.sig, after, fn)
}
