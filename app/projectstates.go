package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/events"
)

// projectStates keeps each project's state folded so far, so that a role check reads only
// the events appended to the project stream since the last check instead of the whole
// stream: the stream grows by one event per execution and task (its number), so folding
// it per request costs more with every execution the project ever ran.
type projectStates struct {
	m sync.Map // domain.ProjectID → *projectState
}

type projectState struct {
	mu      sync.Mutex // guards st and version
	st      project.State
	version events.Version
}

func (c *projectStates) entry(id domain.ProjectID) *projectState {
	if e, ok := c.m.Load(id); ok {
		return e.(*projectState)
	}
	e, _ := c.m.LoadOrStore(id, &projectState{})
	return e.(*projectState)
}

// projectSettings returns project id as the log holds it now (the zero State if it does
// not exist), without its per-thing numbers (project.State.Settings): the cached state
// brought forward by the events appended since it was last read. The log is read and the
// events decoded outside the entry's lock, so concurrent checks of one project do not
// queue behind each other's reads; an event another check applied meanwhile is skipped.
func (s *Service) projectSettings(ctx context.Context, id domain.ProjectID) (project.State, error) {
	e := s.projects.entry(id)
	e.mu.Lock()
	after := e.version
	e.mu.Unlock()
	stream := ProjectStream(id)
	envs, err := s.log.Load(ctx, stream, after)
	if err != nil {
		return project.State{}, fmt.Errorf("load %s: %w", stream, err)
	}
	evs := make([]project.Event, len(envs))
	for i, env := range envs {
		ev, err := s.codec.Decode(env)
		if err != nil {
			return project.State{}, err
		}
		pe, ok := ev.(project.Event)
		if !ok {
			return project.State{}, fmt.Errorf("fold %s: event %s at version %d does not belong to this aggregate: %w", stream, env.Type, env.Version, events.ErrInvalid)
		}
		evs[i] = pe
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, env := range envs {
		if env.Version == e.version+1 {
			e.st, e.version = project.Evolve(e.st, evs[i]), env.Version
		}
	}
	return e.st.Settings(), nil
}
