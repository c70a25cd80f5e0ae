package app_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/domain/task"
	"github.com/stratahq/strata/events"
)

// memCheckpoint is an app.Checkpoint in memory.
type memCheckpoint struct {
	mu sync.Mutex
	// guards pos
	pos events.Position
}

func (c *memCheckpoint) Load(context.Context) (events.Position, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos, nil
}

func (c *memCheckpoint) Save(_ context.Context, pos events.Position) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pos = pos
	return nil
}

// runReactor runs a TaskReactor on h with cp until until(task state) holds, then stops it.
func runReactor(t *testing.T, h *harness, cp app.Checkpoint, id domain.TaskID, what string, until func(task.State) bool) task.State {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- app.NewTaskReactor(h.svc, cp, nil).Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("TaskReactor.Run() = %v, want context.Canceled", err)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, _, err := events.Fold(t.Context(), h.log, h.codec, app.TaskStream(id), task.State{}, task.Evolve)
		if err != nil {
			t.Fatal(err)
		}
		if until(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("task never %s: summary %+v, status %s", what, st.Summary(), st.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTaskReactor(t *testing.T) {
	h := newHarness(t)
	ct, err := h.svc.CreateTask(h.ctx(alice), app.CreateTask{
		Execution: app.CreateExecution{
			Project: h.project, Step: execution.Step{Name: "train", Parameters: []execution.ParameterDef{{Name: "lr"}}},
			Image: "python:3.12", Commands: []string{"python train.py"}, Environment: h.env,
			Code: execution.Code{Repository: "https://github.com/acme/ml", Commit: strings.Repeat("ab", 20)},
		},
		Type: task.ManualSearch, ParameterSets: []map[string]string{{"lr": "0.1"}, {"lr": "0.01"}, {"lr": "0.001"}},
	})
	if err != nil {
		t.Fatalf("CreateTask() error = %v", err)
	}
	x := func(i int) domain.ExecutionID { return ct.Executions[i].ID }
	if st, _, err := events.Fold(t.Context(), h.log, h.codec, app.TaskStream(ct.ID), task.State{}, task.Evolve); err != nil || st.Spec().Planned != 3 {
		t.Fatalf("the task records %d planned executions (%v), want 3", st.Spec().Planned, err)
	}
	run := func(id domain.ExecutionID, cmds ...execution.Command) {
		t.Helper()
		for _, c := range cmds {
			mustRun(t, h, app.ExecutionStream(id), execution.Decide, execution.Evolve, c)
		}
	}
	run(x(0), execution.Queue{At: h.tick()}, execution.Start{Host: "h", At: h.tick()}, execution.Finish{ExitCode: 0, At: h.tick()})
	run(x(1), execution.Queue{At: h.tick()}, execution.Start{Host: "h", At: h.tick()}, execution.Finish{ExitCode: 1, Reason: "exit code 1", At: h.tick()})
	run(x(2), execution.Queue{At: h.tick()})

	cp := &memCheckpoint{}
	st := runReactor(t, h, cp, ct.ID, "followed two ends", func(s task.State) bool { return s.Summary().Error == 1 && s.Summary().Queued == 1 })
	if diff := cmp.Diff(task.Summary{Count: 3, Queued: 1, Complete: 1, Error: 1}, st.Summary()); diff != "" || st.Status() != task.StatusStarted {
		t.Errorf("summary (-want +got):\n%s\nstatus %s, want started", diff, st.Status())
	}
	head, _ := h.log.Head(t.Context())
	if got, _ := cp.Load(t.Context()); got == 0 || got > head {
		t.Errorf("checkpoint after Run = %d, want the last position read (1 to the head %d)", got, head)
	}

	// An execution of the task whose status changes before it is attached is recorded when
	// it is attached.
	late, err := h.svc.CreateExecution(h.ctx(alice), app.CreateExecution{
		Project: h.project, Step: execution.Step{Name: "train", Parameters: []execution.ParameterDef{{Name: "lr"}}},
		Parameters: map[string][]string{"lr": {"1"}}, Image: "python:3.12", Commands: []string{"python train.py"}, Environment: h.env,
		Code: execution.Code{Repository: "https://github.com/acme/ml", Commit: strings.Repeat("ab", 20)}, Task: ct.ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	run(late.ID, execution.Queue{At: h.tick()}, execution.Start{Host: "h", At: h.tick()})
	run(x(2), execution.Start{Host: "h", At: h.tick()}, execution.Finish{ExitCode: 0, At: h.tick()})
	st = runReactor(t, h, cp, ct.ID, "followed the third end", func(s task.State) bool { return s.Summary().Complete == 2 })
	if diff := cmp.Diff(task.Summary{Count: 3, Complete: 2, Error: 1}, st.Summary()); diff != "" || st.Status() != task.StatusComplete {
		t.Errorf("summary (-want +got):\n%s\nstatus %s, want complete", diff, st.Status())
	}
	mustRun(t, h, app.TaskStream(ct.ID), task.Decide, task.Evolve, task.Command(task.AttachExecution{Execution: late.ID, At: h.tick()}))
	st = runReactor(t, h, cp, ct.ID, "followed the attached execution", func(s task.State) bool { return s.Summary().Started == 1 })
	if st.Status() != task.StatusStarted {
		t.Errorf("status with an execution running = %s, want started", st.Status())
	}
	run(late.ID, execution.Finish{ExitCode: 0, At: h.tick()})

	// A reactor from the start of the log (no checkpoint) applies everything again: the
	// task takes no second event for any status.
	st = runReactor(t, h, nil, ct.ID, "complete", func(s task.State) bool { return s.Summary().Complete == 3 })
	if diff := cmp.Diff(task.Summary{Count: 4, Complete: 3, Error: 1}, st.Summary()); diff != "" || st.Status() != task.StatusComplete {
		t.Errorf("summary (-want +got):\n%s\nstatus %s, want complete", diff, st.Status())
	}
	envs, err := h.log.Load(t.Context(), app.TaskStream(ct.ID), 0)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]int{}
	for _, env := range envs {
		ev, err := h.codec.Decode(env)
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := ev.(task.ExecutionStatusRecorded); ok {
			recorded[string(e.Execution)+" "+string(e.Status)]++
			if env.Actor != string(app.TaskReactorActor) || env.CausationID == "" {
				t.Errorf("%s %s recorded by %q caused by %q, want the reactor and the execution's event", e.Execution, e.Status, env.Actor, env.CausationID)
			}
		}
	}
	// Executions that moved before the reactor saw them attached are recorded as they were
	// then; later changes one by one.
	want := map[string]int{}
	for _, r := range []struct {
		x domain.ExecutionID
		s domain.ExecutionStatus
	}{
		{x(0), domain.StatusComplete}, {x(1), domain.StatusError},
		{x(2), domain.StatusQueued}, {x(2), domain.StatusStarted}, {x(2), domain.StatusComplete},
		{late.ID, domain.StatusStarted}, {late.ID, domain.StatusComplete},
	} {
		want[string(r.x)+" "+string(r.s)] = 1
	}
	if diff := cmp.Diff(want, recorded); diff != "" {
		t.Errorf("statuses recorded on the task (-want +got):\n%s", diff)
	}
}
