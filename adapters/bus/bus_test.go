package bus_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/bus"
	"github.com/stratahq/strata/adapters/fs"
	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/adapters/process"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/runner"
	"github.com/stratahq/strata/runner/runnertest"
)

func newHarness(t *testing.T) *runnertest.Harness {
	t.Helper()
	b, err := fs.New(fs.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("fs.New() error = %v", err)
	}
	return runnertest.NewHarness(t, runnertest.Features{}, process.New(process.Config{}), runnertest.Env{Log: memory.NewStore(), Blobs: b}, runner.Config{})
}

func mustOpen(t *testing.T) *bus.Queue {
	t.Helper()
	q, err := bus.OpenGoChannel(t.Context(), bus.Config{RetryAfter: 10 * time.Millisecond})
	if err != nil {
		t.Fatalf("OpenGoChannel() error = %v", err)
	}
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	})
	return q
}

// worker runs a scheduler fed from q until the test ends; every handled dispatch is sent
// on the returned channel after the worker's Handle returned.
func worker(t *testing.T, h *runnertest.Harness, q *bus.Queue) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	s := runner.NewScheduler(h.Runner, 2)
	w := runner.NewWorker(s, q)
	handled := make(chan error, 64)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.Serve(ctx) }()
	go func() {
		defer wg.Done()
		_ = q.Consume(ctx, func(ctx context.Context, d runner.Dispatch) error {
			err := w.Handle(ctx, d)
			handled <- err
			return err
		})
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return handled
}

func dispatcher(t *testing.T, h *runnertest.Harness, q runner.Queue, cp runner.Checkpoint) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	d := runner.NewDispatcher(h.Log, h.Codec, q, cp, runner.DispatcherConfig{Republish: 200 * time.Millisecond, SaveEvery: 20 * time.Millisecond}, nil)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Dispatcher.Run() = %v, want context.Canceled", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func waitStatus(t *testing.T, h *runnertest.Harness, id domain.ExecutionID, want domain.ExecutionStatus) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := status(t, h, id)
		if st == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s is %s, want %s\n%s", id, st, want, h.LogText(id))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func status(t *testing.T, h *runnertest.Harness, id domain.ExecutionID) domain.ExecutionStatus {
	t.Helper()
	var st execution.State
	for _, ev := range h.Events(id) {
		st = execution.Evolve(st, ev)
	}
	return st.Status()
}

// TestQueue_DispatchRunsExecution: an execution created through the app is dispatched by
// the reactor over the GoChannel bus, run by a worker and completes; delivering the same
// dispatch again afterwards is acknowledged and changes nothing.
func TestQueue_DispatchRunsExecution(t *testing.T) {
	h := newHarness(t)
	q := mustOpen(t)
	handled := worker(t, h, q)
	dispatcher(t, h, q, nil)

	id := h.Create(runnertest.NoopYAML, "noop", nil, nil, nil)
	waitStatus(t, h, id, domain.StatusComplete)
	if got := len(h.Outputs(id)); got != 1 {
		t.Errorf("outputs = %d, want 1", got)
	}
	drain(handled)
	before := len(h.Events(id))
	for range 3 {
		if err := q.Publish(t.Context(), runner.Dispatch{Execution: id}); err != nil {
			t.Fatalf("Publish() error = %v", err)
		}
	}
	for range 3 {
		select {
		case err := <-handled:
			if err != nil {
				t.Errorf("Handle(redelivered) error = %v, want nil (acknowledged)", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("redelivered dispatch was not handled")
		}
	}
	if after := len(h.Events(id)); after != before {
		t.Errorf("events after redelivery = %d, want %d (no-op)", after, before)
	}
}

func drain(c <-chan error) {
	for {
		select {
		case err := <-c:
			_ = err // earlier handling, checked by the caller's own waits
		default:
			return
		}
	}
}

// TestQueue_DuplicateWhileQueued: the same execution dispatched several times before it
// starts runs exactly once.
func TestQueue_DuplicateWhileQueued(t *testing.T) {
	h := newHarness(t)
	q := mustOpen(t)
	id := h.Create(runnertest.NoopYAML, "noop", nil, nil, nil)
	for range 5 {
		if err := q.Publish(t.Context(), runner.Dispatch{Execution: id}); err != nil {
			t.Fatalf("Publish() error = %v", err)
		}
	}
	worker(t, h, q)
	waitStatus(t, h, id, domain.StatusComplete)
	time.Sleep(200 * time.Millisecond) // let the repeats be handled
	starts := 0
	for _, ev := range h.Events(id) {
		if _, ok := ev.(execution.Started); ok {
			starts++
		}
	}
	if starts != 1 {
		t.Errorf("Started events = %d, want 1", starts)
	}
}

// TestQueue_NackRedelivers: a dispatch whose handler fails is delivered again.
func TestQueue_NackRedelivers(t *testing.T) {
	q := mustOpen(t)
	var calls atomic.Int32
	got := make(chan runner.Dispatch, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		_ = q.Consume(ctx, func(_ context.Context, d runner.Dispatch) error {
			if calls.Add(1) < 3 {
				return errors.New("not yet")
			}
			got <- d
			return nil
		})
	}()
	want := runner.Dispatch{Execution: "0190f5a2-0000-7000-8000-000000000001", Position: 7}
	if err := q.Publish(t.Context(), want); err != nil {
		t.Fatalf("Publish() error = %v", err)
	}
	select {
	case d := <-got:
		if d != want {
			t.Errorf("delivered %+v, want %+v", d, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the failed dispatch was not delivered again")
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("handler calls = %d, want 3", n)
	}
}

// TestDispatcher_RestartRedispatches: an execution dispatched while no worker listened
// (the in-process message is lost with its process) is dispatched again by the next
// dispatcher, which resumes from the saved checkpoint, and completes.
func TestDispatcher_RestartRedispatches(t *testing.T) {
	h := newHarness(t)
	cp := runner.FileCheckpoint{Path: filepath.Join(t.TempDir(), "dispatch.checkpoint")}
	lost := mustOpen(t)
	stop := dispatcher(t, h, lost, cp)
	done := h.Create(runnertest.NoopYAML, "noop", nil, nil, nil)
	h.MustStart(done) // started elsewhere: no longer waiting
	id := h.Create(runnertest.NoopYAML, "noop", nil, nil, nil)
	time.Sleep(100 * time.Millisecond)
	stop()
	if err := lost.Close(); err != nil {
		t.Fatal(err)
	}
	pos, err := cp.Load(t.Context())
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	head, _ := h.Log.Head(t.Context())
	if pos == 0 || pos >= head {
		t.Errorf("checkpoint = %d, want past the started execution and before the waiting one (head %d)", pos, head)
	}

	q := mustOpen(t)
	worker(t, h, q)
	dispatcher(t, h, q, cp)
	waitStatus(t, h, id, domain.StatusComplete)
	if st := status(t, h, done); st != domain.StatusStarted {
		t.Errorf("execution started elsewhere is %s, want started (not dispatched again)", st)
	}
}
