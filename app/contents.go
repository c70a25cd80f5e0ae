package app

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/datum"
	"github.com/stratahq/strata/events"
)

// contentIndex knows, for every piece of content, which datums refer to it: per store
// location and BLAKE3 (the purge reference count) and per project and BLAKE3 (duplicate
// uploads). It is derived from the log (datum.Created and datum.Purged) and caught up to
// the log's head before every decision, so it never answers from a stale view of what
// this process wrote. See docs/adr/0002-content-references.md.
type contentIndex struct {
	mu     sync.Mutex // guards the fields below
	after  events.Position
	datums map[domain.DatumID]indexedDatum
	stored map[storedContent]map[domain.DatumID]struct{}
	// inProject lists the live datums of a project with some content, oldest first.
	inProject map[projectContent][]domain.DatumID
}

type indexedDatum struct {
	project domain.ProjectID
	store   string
	blake3  domain.Digest
	purged  bool
}

type storedContent struct {
	store  string // location URL, "" for the built-in store
	blake3 domain.Digest
}

type projectContent struct {
	project domain.ProjectID
	blake3  domain.Digest
}

func newContentIndex() *contentIndex {
	return &contentIndex{datums: map[domain.DatumID]indexedDatum{}, stored: map[storedContent]map[domain.DatumID]struct{}{},
		inProject: map[projectContent][]domain.DatumID{}}
}

const indexPage = 1000

// catchUp applies every datum event of the log after the last one applied. Call with mu held.
func (x *contentIndex) catchUp(ctx context.Context, log events.Store, codec *events.Codec) error {
	for {
		page, err := log.ReadAll(ctx, x.after, indexPage)
		if err != nil {
			return fmt.Errorf("read the log for content references: %w", err)
		}
		for _, env := range page {
			x.after = env.Position
			if env.Type != (datum.Created{}).EventType() && env.Type != (datum.Purged{}).EventType() {
				continue
			}
			ev, err := codec.Decode(env)
			if err != nil {
				return err
			}
			x.apply(ev)
		}
		if len(page) < indexPage {
			return nil
		}
	}
}

func (x *contentIndex) apply(ev events.Event) {
	switch e := ev.(type) {
	case datum.Created:
		if _, seen := x.datums[e.Datum]; seen {
			return
		}
		x.datums[e.Datum] = indexedDatum{project: e.Project, store: e.Store, blake3: e.BLAKE3}
		sc := storedContent{e.Store, e.BLAKE3}
		if x.stored[sc] == nil {
			x.stored[sc] = map[domain.DatumID]struct{}{}
		}
		x.stored[sc][e.Datum] = struct{}{}
		pc := projectContent{e.Project, e.BLAKE3}
		x.inProject[pc] = append(x.inProject[pc], e.Datum)
	case datum.Purged:
		d, ok := x.datums[e.Datum]
		if !ok || d.purged {
			return
		}
		d.purged = true
		x.datums[e.Datum] = d
		sc := storedContent{d.store, d.blake3}
		delete(x.stored[sc], e.Datum)
		if len(x.stored[sc]) == 0 {
			delete(x.stored, sc)
		}
		pc := projectContent{d.project, d.blake3}
		x.inProject[pc] = slices.DeleteFunc(x.inProject[pc], func(id domain.DatumID) bool { return id == e.Datum })
		if len(x.inProject[pc]) == 0 {
			delete(x.inProject, pc)
		}
	}
}

// references returns how many live datums keep content b in the store at location store.
func (s *Service) references(ctx context.Context, store string, b domain.Digest) (int, error) {
	s.index.mu.Lock()
	defer s.index.mu.Unlock()
	if err := s.index.catchUp(ctx, s.log, s.codec); err != nil {
		return 0, err
	}
	return len(s.index.stored[storedContent{store, b}]), nil
}

// sameContent returns the live datums of project p with content b, oldest first.
func (s *Service) sameContent(ctx context.Context, p domain.ProjectID, b domain.Digest) ([]domain.DatumID, error) {
	s.index.mu.Lock()
	defer s.index.mu.Unlock()
	if err := s.index.catchUp(ctx, s.log, s.codec); err != nil {
		return nil, err
	}
	return slices.Clone(s.index.inProject[projectContent{p, b}]), nil
}

// contentLocks serialise, per store and content, the decisions that must not interleave
// in this process: an upload recording a datum for content, and a purge deleting it.
type contentLocks struct {
	seed    maphash.Seed
	once    sync.Once
	stripes [64]sync.Mutex
}

func (l *contentLocks) lock(store string, b domain.Digest) func() {
	l.once.Do(func() { l.seed = maphash.MakeSeed() })
	var h maphash.Hash
	h.SetSeed(l.seed)
	_, _ = h.WriteString(store)
	_, _ = h.Write(b[:])
	m := &l.stripes[h.Sum64()%uint64(len(l.stripes))]
	m.Lock()
	return m.Unlock
}
