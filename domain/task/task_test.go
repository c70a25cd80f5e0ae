package task_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/domain/task"
)

const (
	taskID domain.TaskID      = "0190f5a2-0000-7000-8000-000000000004"
	projID domain.ProjectID   = "0190f5a2-0000-7000-8000-000000000002"
	e1     domain.ExecutionID = "0190f5a2-0000-7000-8000-000000000011"
	e2     domain.ExecutionID = "0190f5a2-0000-7000-8000-000000000012"
	e3     domain.ExecutionID = "0190f5a2-0000-7000-8000-000000000013"
	alice  domain.UserID      = "alice"
)

var at = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func variants() []task.Variant {
	return []task.Variant{
		{Name: "lr", Style: task.StyleLogspace, Start: -4, End: -1, Count: 4, Base: 10},
		{Name: "opt", Style: task.StyleMultiple, Items: []string{"adam", "sgd"}},
		{Name: "epochs", Style: task.StyleLinear, Start: 5, End: 20, Step: 5},
		{Name: "seed", Style: task.StyleSingle, Value: "42"},
		{Name: "dropout", Style: task.StyleRandom, Min: 0.1, Max: 0.5, Count: 3, Distribution: "uniform", Seed: 7},
	}
}

func create() task.Create {
	return task.Create{Task: taskID, Project: projID, Number: 2, Step: "train", Type: task.GridSearch,
		Variants: variants(), BatchSize: 4, Creator: alice, At: at}
}

func created() task.Created {
	return task.Created{Task: taskID, Project: projID, Number: 2, Step: "train", Type: task.GridSearch,
		Variants: variants(), BatchSize: 4, Creator: alice, At: at}
}

// planned is created() with n executions planned.
func planned(n int) task.Created {
	c := created()
	c.Planned = n
	return c
}

func with(c task.Create, edit func(*task.Create)) task.Create {
	edit(&c)
	return c
}

func withVariant(v task.Variant) task.Create {
	return with(create(), func(c *task.Create) { c.Variants = []task.Variant{v} })
}

func attached(e domain.ExecutionID) task.ExecutionAttached {
	return task.ExecutionAttached{Task: taskID, Execution: e, At: at}
}

func status(e domain.ExecutionID, s domain.ExecutionStatus) task.ExecutionStatusRecorded {
	return task.ExecutionStatusRecorded{Task: taskID, Execution: e, Status: s, At: at}
}

func fold(events []task.Event) task.State {
	var s task.State
	for _, e := range events {
		s = task.Evolve(s, e)
	}
	return s
}

func TestDecide(t *testing.T) {
	stopReq := task.StopRequested{Task: taskID, By: alice, At: at}
	random := func(c *task.Create) { c.Type, c.ExecutionCount = task.RandomSearch, 2 }
	tests := []struct {
		name    string
		given   []task.Event
		when    task.Command
		want    []task.Event
		wantErr error
	}{
		{"create a grid search", nil, create(), []task.Event{created()}, nil},
		{"create twice", []task.Event{created()}, create(), nil, task.ErrExists},
		{"create a manual search", nil, with(create(), func(c *task.Create) {
			c.Type, c.Variants, c.ParameterSets = task.ManualSearch, nil, []map[string]string{{"A": "5", "B": "6"}}
		}), []task.Event{task.Created{Task: taskID, Project: projID, Number: 2, Step: "train", Type: task.ManualSearch,
			ParameterSets: []map[string]string{{"A": "5", "B": "6"}}, BatchSize: 4, Creator: alice, At: at}}, nil},
		{"manual search without sets", nil, with(create(), func(c *task.Create) { c.Type, c.Variants = task.ManualSearch, nil }), nil, domain.ErrInvalid},
		{"manual search with variants", nil, with(create(), func(c *task.Create) {
			c.Type, c.ParameterSets = task.ManualSearch, []map[string]string{{"A": "5"}}
		}), nil, domain.ErrInvalid},
		{"manual search with an empty set", nil, with(create(), func(c *task.Create) {
			c.Type, c.Variants, c.ParameterSets = task.ManualSearch, nil, []map[string]string{{}}
		}), nil, domain.ErrInvalid},
		{"sets on a grid search", nil, with(create(), func(c *task.Create) { c.ParameterSets = []map[string]string{{"A": "5"}} }), nil, domain.ErrInvalid},
		{"random search needs an execution count", nil, with(create(), func(c *task.Create) { c.Type = task.RandomSearch }), nil, domain.ErrInvalid},
		{"bayesian needs an execution count", nil, with(create(), func(c *task.Create) { c.Type = task.BayesianTPE }), nil, domain.ErrInvalid},
		{"batch above execution count", nil, with(create(), func(c *task.Create) { random(c); c.BatchSize = 3 }), nil, domain.ErrInvalid},
		{"negative batch", nil, with(create(), func(c *task.Create) { c.BatchSize = -1 }), nil, domain.ErrInvalid},
		{"negative planned", nil, with(create(), func(c *task.Create) { c.Planned = -1 }), nil, domain.ErrInvalid},
		{"planned above the limit", nil, with(create(), func(c *task.Create) { c.Planned = task.MaxExecutions + 1 }), nil, domain.ErrInvalid},
		{"planned is recorded", nil, with(create(), func(c *task.Create) { c.Planned = 6 }), []task.Event{planned(6)}, nil},
		{"unknown type", nil, with(create(), func(c *task.Create) { c.Type = "distributed" }), nil, domain.ErrInvalid},
		{"grid without variants", nil, with(create(), func(c *task.Create) { c.Variants = nil }), nil, domain.ErrInvalid},
		{"a parameter varies twice", nil, with(create(), func(c *task.Create) { c.Variants = append(c.Variants, c.Variants[0]) }), nil, domain.ErrInvalid},
		{"number missing", nil, with(create(), func(c *task.Create) { c.Number = 0 }), nil, domain.ErrInvalid},
		{"step missing", nil, with(create(), func(c *task.Create) { c.Step = "" }), nil, domain.ErrInvalid},
		{"creator missing", nil, with(create(), func(c *task.Create) { c.Creator = "" }), nil, domain.ErrInvalid},
		{"bad id", nil, with(create(), func(c *task.Create) { c.Task = "t" }), nil, domain.ErrInvalid},
		{"single without value", nil, withVariant(task.Variant{Name: "a", Style: task.StyleSingle}), nil, domain.ErrInvalid},
		{"multiple without items", nil, withVariant(task.Variant{Name: "a", Style: task.StyleMultiple}), nil, domain.ErrInvalid},
		{"linear with zero step", nil, withVariant(task.Variant{Name: "a", Style: task.StyleLinear, Start: 1, End: 2}), nil, domain.ErrInvalid},
		{"linear backwards", nil, withVariant(task.Variant{Name: "a", Style: task.StyleLinear, Start: 2, End: 1, Step: 1}), nil, domain.ErrInvalid},
		{"linear too many values", nil, withVariant(task.Variant{Name: "a", Style: task.StyleLinear, Start: 0, End: 1e9, Step: 1}), nil, domain.ErrInvalid},
		{"logspace without count", nil, withVariant(task.Variant{Name: "a", Style: task.StyleLogspace, Start: 1, End: 2}), nil, domain.ErrInvalid},
		{"logspace base 1", nil, withVariant(task.Variant{Name: "a", Style: task.StyleLogspace, Count: 2, Base: 1}), nil, domain.ErrInvalid},
		{"random min above max", nil, withVariant(task.Variant{Name: "a", Style: task.StyleRandom, Min: 2, Max: 1, Count: 1}), nil, domain.ErrInvalid},
		{"random unknown distribution", nil, withVariant(task.Variant{Name: "a", Style: task.StyleRandom, Max: 1, Count: 1, Distribution: "zipf"}), nil, domain.ErrInvalid},
		{"loguniform from zero", nil, withVariant(task.Variant{Name: "a", Style: task.StyleRandom, Max: 1, Count: 1, Distribution: "loguniform"}), nil, domain.ErrInvalid},
		{"NaN rule", nil, withVariant(task.Variant{Name: "a", Style: task.StyleRandom, Max: math.NaN(), Count: 1}), nil, domain.ErrInvalid},
		{"unknown style", nil, withVariant(task.Variant{Name: "a", Style: "sweep"}), nil, domain.ErrInvalid},

		{"attach", []task.Event{created()}, task.AttachExecution{Execution: e1, At: at}, []task.Event{attached(e1)}, nil},
		{"attach again is a no-op", []task.Event{created(), attached(e1)}, task.AttachExecution{Execution: e1, At: at}, nil, nil},
		{"attach to a missing task", nil, task.AttachExecution{Execution: e1, At: at}, nil, task.ErrNotFound},
		{"attach a bad id", []task.Event{created()}, task.AttachExecution{Execution: "x", At: at}, nil, domain.ErrInvalid},
		{"attach after stop", []task.Event{created(), stopReq}, task.AttachExecution{Execution: e1, At: at}, nil, task.ErrStopped},
		{"attach beyond the execution count", []task.Event{func() task.Created {
			c := created()
			c.Type, c.ExecutionCount, c.BatchSize = task.RandomSearch, 2, 1
			return c
		}(), attached(e1), attached(e2)},
			task.AttachExecution{Execution: e3, At: at}, nil, task.ErrFull},

		{"record status", []task.Event{created(), attached(e1)}, task.RecordExecutionStatus{Execution: e1, Status: domain.StatusQueued, At: at}, []task.Event{status(e1, domain.StatusQueued)}, nil},
		{"record the same status is a no-op", []task.Event{created(), attached(e1), status(e1, domain.StatusQueued)}, task.RecordExecutionStatus{Execution: e1, Status: domain.StatusQueued, At: at}, nil, nil},
		{"record status of a stranger", []task.Event{created()}, task.RecordExecutionStatus{Execution: e1, Status: domain.StatusQueued, At: at}, nil, task.ErrNotAttached},
		{"record an unknown status", []task.Event{created(), attached(e1)}, task.RecordExecutionStatus{Execution: e1, Status: "running", At: at}, nil, domain.ErrInvalid},
		{"record the next status", []task.Event{created(), attached(e1), status(e1, domain.StatusQueued)}, task.RecordExecutionStatus{Execution: e1, Status: domain.StatusStarted, At: at}, []task.Event{status(e1, domain.StatusStarted)}, nil},
		{"record an end skipping statuses", []task.Event{created(), attached(e1)}, task.RecordExecutionStatus{Execution: e1, Status: domain.StatusCrashed, At: at}, []task.Event{status(e1, domain.StatusCrashed)}, nil},
		{"an earlier status delivered late is a no-op", []task.Event{created(), attached(e1), status(e1, domain.StatusStarted)}, task.RecordExecutionStatus{Execution: e1, Status: domain.StatusQueued, At: at}, nil, nil},
		{"a status replayed after the end is a no-op", []task.Event{created(), attached(e1), status(e1, domain.StatusComplete)}, task.RecordExecutionStatus{Execution: e1, Status: domain.StatusStarted, At: at}, nil, nil},
		{"stopping replayed after stopped is a no-op", []task.Event{created(), attached(e1), status(e1, domain.StatusStopped)}, task.RecordExecutionStatus{Execution: e1, Status: domain.StatusStopping, At: at}, nil, nil},
		{"the end replayed is a no-op", []task.Event{created(), attached(e1), status(e1, domain.StatusError)}, task.RecordExecutionStatus{Execution: e1, Status: domain.StatusError, At: at}, nil, nil},
		{"a second, different end", []task.Event{created(), attached(e1), status(e1, domain.StatusComplete)}, task.RecordExecutionStatus{Execution: e1, Status: domain.StatusError, At: at}, nil, domain.ErrConflict},

		{"stop", []task.Event{created()}, task.Stop{By: alice, At: at}, []task.Event{stopReq}, nil},
		{"stop again is a no-op", []task.Event{created(), stopReq}, task.Stop{By: alice, At: at}, nil, nil},
		{"stop needs who", []task.Event{created()}, task.Stop{At: at}, nil, domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := task.Decide(fold(tt.given), tt.when)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Decide() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide() events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestState_SummaryAndStatus(t *testing.T) {
	stopReq := task.StopRequested{Task: taskID, By: alice, At: at}
	tests := []struct {
		name   string
		given  []task.Event
		want   task.Summary
		status task.Status
	}{
		{"no executions", []task.Event{created()}, task.Summary{}, task.StatusCreated},
		{"running", []task.Event{created(), attached(e1), attached(e2), status(e1, domain.StatusStarted)},
			task.Summary{Count: 2, Created: 1, Started: 1}, task.StatusStarted},
		{"all ended", []task.Event{created(), attached(e1), attached(e2), attached(e3), status(e1, domain.StatusComplete), status(e2, domain.StatusError), status(e3, domain.StatusCrashed)},
			task.Summary{Count: 3, Complete: 1, Error: 1, Crashed: 1}, task.StatusComplete},
		{"stopping", []task.Event{created(), attached(e1), status(e1, domain.StatusStopping), stopReq},
			task.Summary{Count: 1, Stopping: 1}, task.StatusStopping},
		{"stopped", []task.Event{created(), attached(e1), attached(e2), status(e1, domain.StatusStopped), status(e2, domain.StatusQueued), stopReq, status(e2, domain.StatusStopped)},
			task.Summary{Count: 2, Stopped: 2}, task.StatusStopped},
		// A task planned with three executions is running while only some are attached,
		// even if those have ended; it ends when all three have, or when it is stopped.
		{"planned, the first ended before the others are attached", []task.Event{planned(3), attached(e1), status(e1, domain.StatusComplete)},
			task.Summary{Count: 1, Complete: 1}, task.StatusStarted},
		{"planned, all attached and ended", []task.Event{planned(3), attached(e1), attached(e2), attached(e3), status(e1, domain.StatusComplete), status(e2, domain.StatusComplete), status(e3, domain.StatusError)},
			task.Summary{Count: 3, Complete: 2, Error: 1}, task.StatusComplete},
		{"planned, cut short by a stop", []task.Event{planned(3), attached(e1), status(e1, domain.StatusComplete), stopReq},
			task.Summary{Count: 1, Complete: 1}, task.StatusStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fold(tt.given)
			if diff := cmp.Diff(tt.want, s.Summary()); diff != "" {
				t.Errorf("Summary() (-want +got):\n%s", diff)
			}
			if got := s.Status(); got != tt.status {
				t.Errorf("Status() = %s, want %s", got, tt.status)
			}
		})
	}
	s := fold([]task.Event{created(), attached(e1), stopReq})
	if !s.Exists() || s.ID() != taskID || s.Project() != projID || s.Number() != 2 || !s.StopRequested() || s.Spec().Step != "train" || len(s.Executions()) != 1 {
		t.Error("accessors wrong")
	}
}

// Every transition an execution can make is recorded on its task, and replaying the
// earlier status afterwards changes nothing.
func TestDecide_FollowsTheExecutionLifecycle(t *testing.T) {
	for _, from := range domain.ExecutionStatuses() {
		for _, to := range domain.ExecutionStatuses() {
			if !execution.CanTransition(from, to) {
				continue
			}
			given := []task.Event{created(), attached(e1), status(e1, from)}
			got, err := task.Decide(fold(given), task.RecordExecutionStatus{Execution: e1, Status: to, At: at})
			if err != nil || len(got) != 1 {
				t.Errorf("%s → %s: Decide() = %v, %v, want it recorded", from, to, got, err)
			}
			given = append(given, status(e1, to))
			if got, err := task.Decide(fold(given), task.RecordExecutionStatus{Execution: e1, Status: from, At: at}); err != nil || len(got) != 0 {
				t.Errorf("%s replayed after %s: Decide() = %v, %v, want a no-op", from, to, got, err)
			}
		}
	}
}
