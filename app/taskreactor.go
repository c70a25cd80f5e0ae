package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/domain/task"
	"github.com/stratahq/strata/events"
)

// TaskReactorActor is the actor of the commands the TaskReactor runs.
const TaskReactorActor domain.UserID = "reactor:tasks"

// Checkpoint keeps the position a reactor resumes from (runner.FileCheckpoint is one).
type Checkpoint interface {
	// Load returns the saved position, 0 when none was saved.
	Load(ctx context.Context) (events.Position, error)
	// Save records pos; a later Load returns it.
	Save(ctx context.Context, pos events.Position) error
}

// TaskReactor keeps tasks current: it follows the event log and records on each task the
// status every attached execution reaches (task.RecordExecutionStatus), with the
// execution's event as causation, so a task's summary and status follow its executions
// and the task ends when they all have. An execution whose status changes before it is
// attached (CreateTask attaches it just after creating it) is brought up to date by its
// ExecutionAttached event.
//
// Delivery is at least once: the checkpoint is saved at most every second, so after a
// crash the events since are applied again, and the task aggregate ignores a status it
// has already recorded or passed. Nothing is missed: the reactor resumes from the
// checkpoint, and an event that cannot be applied (the log or the store failing) is tried
// again, after a pause, until it is.
type TaskReactor struct {
	s      *Service
	cp     Checkpoint
	logger *slog.Logger
	// owners is each execution's task (none: ""), learnt from its Created event, kept
	// until it ends; an execution created before the reactor resumed is read from the log.
	// Only the Run goroutine touches it and the positions below.
	owners  map[domain.ExecutionID]domain.TaskID
	read    events.Position // the last position applied
	saved   events.Position
	savedAt time.Time
}

// NewTaskReactor returns a TaskReactor running commands on s. cp nil starts from the
// beginning of the log on every Run (every event is applied again, to no effect); logger
// nil is slog.Default().
func NewTaskReactor(s *Service, cp Checkpoint, logger *slog.Logger) *TaskReactor {
	if logger == nil {
		logger = slog.Default()
	}
	return &TaskReactor{s: s, cp: cp, logger: logger}
}

// Run follows the log from the checkpoint until ctx ends, then saves the checkpoint and
// returns ctx's error. A failure is logged and the log followed again from the event that
// failed, after a pause that grows to 30 seconds while nothing can be applied.
func (r *TaskReactor) Run(ctx context.Context) error {
	r.owners = map[domain.ExecutionID]domain.TaskID{}
	r.read, r.saved = 0, 0
	if r.cp != nil {
		from, err := r.cp.Load(ctx)
		if err != nil {
			return fmt.Errorf("task reactor: %w", err)
		}
		r.read, r.saved = from, from
	}
	r.savedAt = r.s.now()
	pause := time.Second
	for {
		before := r.read
		err := r.s.log.Subscribe(ctx, r.read, func(env events.Envelope) error { return r.apply(ctx, env) })
		if ctx.Err() != nil {
			break
		}
		if r.read > before {
			pause = time.Second
		}
		r.logger.Warn("task reactor: follow the log; trying again", "after", r.read, "pause", pause, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 30*time.Second)
	}
	if err := r.save(context.WithoutCancel(ctx)); err != nil {
		return errors.Join(ctx.Err(), err)
	}
	return ctx.Err()
}

// apply records on its task the status change env makes, if any, then notes env as read.
func (r *TaskReactor) apply(ctx context.Context, env events.Envelope) error {
	if err := r.react(ctx, env); err != nil {
		return fmt.Errorf("apply %s at %d: %w", env.Type, env.Position, err)
	}
	r.read = env.Position
	if r.s.now().Sub(r.savedAt) >= time.Second {
		return r.save(ctx)
	}
	return nil
}

func (r *TaskReactor) react(ctx context.Context, env events.Envelope) error {
	switch env.Type {
	case execution.Created{}.EventType(), execution.Queued{}.EventType(), execution.Started{}.EventType(), execution.StopRequested{}.EventType(),
		execution.Finished{}.EventType(), execution.Stopped{}.EventType(), execution.Crashed{}.EventType(), task.ExecutionAttached{}.EventType():
	default:
		return nil
	}
	ev, err := r.s.codec.Decode(env)
	if err != nil {
		return err
	}
	var x domain.ExecutionID
	var status domain.ExecutionStatus
	switch e := ev.(type) {
	case execution.Created:
		r.owners[e.Execution] = e.Task // "" for an execution of no task
		return nil
	case task.ExecutionAttached:
		st, err := r.s.loadExecution(ctx, e.Execution)
		if err != nil {
			return err
		}
		if st.Status() == domain.StatusCreated {
			return nil
		}
		return r.record(ctx, env, e.Task, e.Execution, st.Status())
	case execution.Queued:
		x, status = e.Execution, domain.StatusQueued
	case execution.Started:
		x, status = e.Execution, domain.StatusStarted
	case execution.StopRequested:
		x, status = e.Execution, domain.StatusStopping
	case execution.Finished:
		x, status = e.Execution, e.Status
	case execution.Stopped:
		x, status = e.Execution, domain.StatusStopped
	case execution.Crashed:
		x, status = e.Execution, domain.StatusCrashed
	default:
		return nil
	}
	owner, known := r.owners[x]
	if !known {
		st, err := r.s.loadExecution(ctx, x)
		if err != nil {
			return err
		}
		owner = st.Spec().Task
	}
	if status.IsTerminal() {
		delete(r.owners, x)
	} else {
		r.owners[x] = owner
	}
	if owner == "" {
		return nil
	}
	return r.record(ctx, env, owner, x, status)
}

// record runs task.RecordExecutionStatus on task id, caused by env. An execution not yet
// attached is skipped (its ExecutionAttached event records it), as are a task that does
// not exist and a status the task refuses: neither changes by trying again.
func (r *TaskReactor) record(ctx context.Context, env events.Envelope, id domain.TaskID, x domain.ExecutionID, status domain.ExecutionStatus) error {
	corr := env.CorrelationID
	if corr == "" {
		corr = env.ID.String()
	}
	ctx = WithCausationID(WithCorrelationID(WithActor(ctx, TaskReactorActor), corr), env.ID.String())
	_, err := execute(ctx, r.s, TaskStream(id), taskDecider,
		task.Command(task.RecordExecutionStatus{Execution: x, Status: status, At: env.RecordedAt}))
	switch {
	case err == nil, errors.Is(err, task.ErrNotAttached):
		return nil
	case errors.Is(err, task.ErrNotFound), errors.Is(err, domain.ErrConflict), errors.Is(err, domain.ErrInvalid):
		r.logger.Warn("task reactor: status not recorded", "task", id, "execution", x, "status", status, "position", env.Position, "err", err)
		return nil
	}
	return fmt.Errorf("record status of execution %s on task %s: %w", x, id, err)
}

func (r *TaskReactor) save(ctx context.Context) error {
	if r.cp == nil || r.read == r.saved {
		return nil
	}
	if err := r.cp.Save(ctx, r.read); err != nil {
		return fmt.Errorf("task reactor: %w", err)
	}
	r.saved, r.savedAt = r.read, r.s.now()
	return nil
}
