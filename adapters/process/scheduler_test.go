package process_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/process"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/environment"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/runner"
	"github.com/stratahq/strata/runner/runnertest"
)

const sleepYAML = `
- step:
    name: nap
    image: busybox
    command: sleep 0.4; echo done > "$VH_OUTPUTS_DIR/done.txt"
`

// TestScheduler_EnvironmentLimits: on an environment with a maximum scale of 3 and a
// per-user quota of 2, no more than 3 executions run at once and no more than 2 of one
// user, while another environment's executions are not held back by them; everything
// completes.
func TestScheduler_EnvironmentLimits(t *testing.T) {
	h := runnertest.NewHarness(t, runnertest.Features{}, process.New(process.Config{}), newEnv(t), runner.Config{})
	const bob domain.UserID = "bob"
	h.AddMember(bob)
	limited := h.AddEnvironment(environment.Spec{Name: "limited", CPUs: 1, MemoryBytes: 1 << 30, PricePerHour: 1, MaxScale: 3, PerUserQuota: 2})
	on := func(env domain.EnvironmentID) func(*app.CreateExecution) {
		return func(c *app.CreateExecution) { c.Environment = env }
	}
	type run struct {
		id   domain.ExecutionID
		env  domain.EnvironmentID
		user domain.UserID
	}
	var runs []run
	for range 4 {
		runs = append(runs, run{h.CreateAs(runnertest.Alice, sleepYAML, "nap", nil, nil, on(limited)), limited, runnertest.Alice})
	}
	for range 3 {
		runs = append(runs, run{h.CreateAs(bob, sleepYAML, "nap", nil, nil, on(limited)), limited, bob})
	}
	for range 3 {
		runs = append(runs, run{h.Create(sleepYAML, "nap", nil, nil, nil), h.Env, runnertest.Alice})
	}

	s := runner.NewScheduler(h.Runner, 10)
	var wg sync.WaitGroup
	wg.Add(len(runs))
	var mu sync.Mutex
	failed := map[domain.ExecutionID]string{}
	s.Done = func(id domain.ExecutionID, res runner.Result, err error) {
		if err != nil || res.Status != domain.StatusComplete {
			mu.Lock()
			failed[id] = res.Reason
			mu.Unlock()
		}
		wg.Done()
	}
	ctx, cancel := context.WithCancel(t.Context())
	for _, r := range runs {
		if err := s.Submit(ctx, r.id, 0); err != nil {
			t.Fatalf("Submit() error = %v", err)
		}
	}
	served := make(chan struct{})
	go func() { s.Serve(ctx); close(served) }()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the executions did not all end")
	}
	cancel()
	<-served
	if len(failed) > 0 {
		t.Fatalf("executions that did not complete: %v", failed)
	}

	// The peak number of overlapping runs, from the Started and Finished times.
	type edge struct {
		at    time.Time
		delta int
	}
	peak := func(keep func(run) bool) int {
		var edges []edge
		for _, r := range runs {
			if !keep(r) {
				continue
			}
			for _, e := range h.Events(r.id) {
				if st, ok := e.(execution.Started); ok {
					edges = append(edges, edge{st.At, +1})
				} else if fin, ok := e.(execution.Finished); ok {
					edges = append(edges, edge{fin.At, -1})
				}
			}
		}
		sort.Slice(edges, func(i, j int) bool {
			if !edges[i].at.Equal(edges[j].at) {
				return edges[i].at.Before(edges[j].at)
			}
			return edges[i].delta < edges[j].delta // an end before a start at the same instant
		})
		n, most := 0, 0
		for _, e := range edges {
			n += e.delta
			most = max(most, n)
		}
		return most
	}
	if got := peak(func(r run) bool { return r.env == limited }); got > 3 || got < 2 {
		t.Errorf("peak runs on the limited environment = %d, want 2 or 3 (maximum scale 3)", got)
	}
	for _, u := range []domain.UserID{runnertest.Alice, bob} {
		if got := peak(func(r run) bool { return r.env == limited && r.user == u }); got > 2 {
			t.Errorf("peak runs of %s on the limited environment = %d, want at most 2 (quota)", u, got)
		}
	}
	if got := peak(func(r run) bool { return r.env == h.Env }); got < 2 {
		t.Errorf("peak runs on the unlimited environment = %d, want them side by side", got)
	}
}
