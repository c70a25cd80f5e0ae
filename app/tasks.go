package app

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/domain/task"
	"github.com/stratahq/strata/events"
)

var taskDecider = events.Decider[task.State, task.Command, task.Event]{Decide: task.Decide, Evolve: task.Evolve}

// CreateTask asks for a task: one execution of a step per parameter set of its space.
type CreateTask struct {
	// Execution is what every execution of the task runs. Its Parameters hold the values
	// that do not vary; each execution's set is laid over them. Its Task is set by
	// CreateTask. Every parameter a set names must be one of Execution.Step's.
	Execution     CreateExecution
	Type          task.Type
	Variants      []task.Variant
	ParameterSets []map[string]string
	// ExecutionCount is how many executions random search draws; a grid's is its size.
	ExecutionCount int
	BatchSize      int
	// MaxExecutions refuses a task of more executions than this; 0: task.MaxExecutions.
	MaxExecutions int
}

// CreatedTask is the task CreateTask created, with its executions in parameter-set order.
type CreatedTask struct {
	ID         domain.TaskID
	Number     int
	Executions []CreatedExecution
	Position   events.Position
}

// CreateTask lists the parameter sets of c's space (task.ParameterSets), allocates the
// task's number (!N), creates the task, then creates and attaches one execution per set.
// It needs the editor role. Everything that can be checked up front is checked before
// anything is written. The task records how many executions it plans, so it reads as
// started until all are attached; an execution refused later leaves the task with those
// created before it, stopped (so it ends when they do), and the error says how many.
func (s *Service) CreateTask(ctx context.Context, c CreateTask) (CreatedTask, error) {
	fail := func(err error) (CreatedTask, error) { return CreatedTask{}, fmt.Errorf("create task: %w", err) }
	pid := c.Execution.Project
	p, actor, err := s.authorize(ctx, pid, project.RoleEditor)
	if err != nil {
		return fail(err)
	}
	if !p.EnvironmentEnabled(c.Execution.Environment) {
		return fail(fmt.Errorf("environment %s is not enabled for project %s: %w", c.Execution.Environment, pid, domain.ErrInvalid))
	}
	id := domain.TaskID(s.newID())
	at := s.at()
	create := task.Create{Task: id, Project: pid, Number: 1, Step: c.Execution.Step.Name, Type: c.Type, Variants: c.Variants,
		ParameterSets: c.ParameterSets, ExecutionCount: c.ExecutionCount, BatchSize: c.BatchSize, Creator: actor, At: at}
	sets, err := task.ParameterSets(create) // checks create too, before a number is allocated
	if err != nil {
		return CreatedTask{}, err // it says "create task" already
	}
	limit := c.MaxExecutions
	if limit <= 0 {
		limit = task.MaxExecutions
	}
	if len(sets) > limit {
		return fail(fmt.Errorf("%d executions, at most %d at once: %w", len(sets), limit, domain.ErrInvalid))
	}
	create.Planned = len(sets)
	defined := map[string]bool{}
	for _, d := range c.Execution.Step.Parameters {
		defined[d.Name] = true
	}
	for _, set := range sets {
		for name := range set {
			if !defined[name] {
				return fail(fmt.Errorf("parameter %q: not a parameter of step %q: %w", name, c.Execution.Step.Name, domain.ErrInvalid))
			}
		}
	}
	pres, err := execute(ctx, s, ProjectStream(pid), projectDecider,
		project.Command(project.AllocateNumber{Counter: project.CounterTask, For: string(id), At: at}))
	if err != nil {
		return fail(fmt.Errorf("allocate its number: %w", err))
	}
	create.Number, _ = pres.State.Number(project.CounterTask, string(id))
	res, err := execute(ctx, s, TaskStream(id), taskDecider, task.Command(create))
	if err != nil {
		return fail(err)
	}
	out := CreatedTask{ID: id, Number: create.Number, Position: res.Last()}
	// cut ends a task that could not get all its executions: it is stopped, so that it
	// ends with those it has instead of waiting for the rest forever.
	cut := func(err error) (CreatedTask, error) {
		if _, serr := execute(ctx, s, TaskStream(id), taskDecider, task.Command(task.Stop{By: actor, At: s.at()})); serr != nil {
			err = errors.Join(err, fmt.Errorf("stop task !%d: %w", out.Number, serr))
		}
		return out, err
	}
	for i, set := range sets {
		ec := c.Execution
		ec.Task = id
		ec.Parameters = maps.Clone(c.Execution.Parameters)
		if ec.Parameters == nil {
			ec.Parameters = map[string][]string{}
		}
		for name, v := range set {
			ec.Parameters[name] = []string{v}
		}
		x, err := s.CreateExecution(ctx, ec)
		if err != nil {
			return cut(fmt.Errorf("create task !%d: execution %d of %d (%d created; the task is stopped): %w", out.Number, i+1, len(sets), len(out.Executions), err))
		}
		ares, err := execute(ctx, s, TaskStream(id), taskDecider, task.Command(task.AttachExecution{Execution: x.ID, At: s.at()}))
		if err != nil {
			return cut(fmt.Errorf("create task !%d: attach execution #%d (the task is stopped): %w", out.Number, x.Number, err))
		}
		out.Executions = append(out.Executions, x)
		out.Position = ares.Last()
	}
	return out, nil
}

// StopTask asks task id to stop: no execution is attached afterwards, and each attached
// execution that has not ended is asked to stop. It needs the editor role.
func (s *Service) StopTask(ctx context.Context, id domain.TaskID) (events.Position, error) {
	fail := func(err error) (events.Position, error) { return 0, fmt.Errorf("stop task %s: %w", id, err) }
	st, _, err := events.Fold(ctx, s.log, s.codec, TaskStream(id), task.State{}, task.Evolve)
	if err != nil {
		return fail(err)
	}
	if !st.Exists() {
		return fail(task.ErrNotFound)
	}
	_, actor, err := s.authorize(ctx, st.Project(), project.RoleEditor)
	if err != nil {
		return fail(err)
	}
	res, err := execute(ctx, s, TaskStream(id), taskDecider, task.Command(task.Stop{By: actor, At: s.at()}))
	if err != nil {
		return fail(err)
	}
	last := res.Last()
	for _, x := range st.Executions() {
		pos, err := s.StopExecution(ctx, x) // one that is stopping already is left as it is
		if errors.Is(err, domain.ErrConflict) {
			continue // it has ended
		} else if err != nil {
			return fail(err)
		}
		last = max(last, pos)
	}
	return last, nil
}

// TaskAsOf returns task id as it was at position p of the log (events.Position 0 or
// beyond the head: now) if the caller may view its project now.
func (s *Service) TaskAsOf(ctx context.Context, id domain.TaskID, p events.Position) (task.State, error) {
	st, err := foldThrough(ctx, s, TaskStream(id), p, task.State{}, task.Evolve)
	if err != nil {
		return task.State{}, fmt.Errorf("task %s: %w", id, err)
	}
	if !st.Exists() {
		return task.State{}, fmt.Errorf("task %s: %w", id, task.ErrNotFound)
	}
	if _, err := s.Access(ctx, st.Project(), project.RoleViewer); err != nil {
		return task.State{}, fmt.Errorf("task %s: %w", id, err)
	}
	return st, nil
}

// foldThrough folds the events of stream at positions up to through (0: all of them).
func foldThrough[S any, E events.Event](ctx context.Context, s *Service, stream events.StreamID, through events.Position, initial S, evolve func(S, E) S) (S, error) {
	envs, err := s.log.Load(ctx, stream, 0)
	if err != nil {
		return initial, fmt.Errorf("load %s: %w", stream, err)
	}
	state := initial
	for _, env := range envs {
		if through > 0 && env.Position > through {
			break
		}
		ev, err := s.codec.Decode(env)
		if err != nil {
			return initial, err
		}
		e, ok := ev.(E)
		if !ok {
			return initial, fmt.Errorf("fold %s: event %s at version %d does not belong to this aggregate: %w", stream, env.Type, env.Version, events.ErrInvalid)
		}
		state = evolve(state, e)
	}
	return state, nil
}
