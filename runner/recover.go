package runner

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
)

// ErrRunLost: a worker restarted and the run of an execution it followed was gone; the
// execution is recorded as crashed.
var ErrRunLost = errors.New("the run was lost")

// Recovered is what Recover did with one execution that was running on this host.
type Recovered struct {
	Execution domain.ExecutionID
	// Reattached: its run still ran and was followed to its end (Result).
	Reattached bool
	Result     Result
	Err        error
}

// Recover handles the executions a crashed worker on this host (Config.Host) left started
// or stopping: those whose run still runs are reattached and followed to their end like
// any other (logs from now on, outputs collected, final status recorded); the others are
// marked crashed with a reason. Then it removes every run of the launcher that belongs to
// no execution it follows. It returns once the reattached runs have ended.
func (r *Runner) Recover(ctx context.Context) ([]Recovered, error) {
	follow, err := r.RecoverStart(ctx)
	return follow(), err
}

// RecoverStart is Recover up to the reattached runs: it returns once the lost executions
// are recorded crashed and the leftover runs swept, so that this worker may start new runs
// (none of which a sweep could then remove); follow waits for the reattached runs to end
// and returns what was done with every execution. follow is never nil.
func (r *Runner) RecoverStart(ctx context.Context) (follow func() []Recovered, err error) {
	var out []Recovered
	var mu sync.Mutex
	var wg sync.WaitGroup
	follow = func() []Recovered {
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return out
	}
	ids, err := r.startedHere(ctx)
	if err != nil {
		return follow, err
	}
	re, _ := r.launch.(Reattacher)
	following := map[domain.ExecutionID]bool{}
	for _, id := range ids {
		st, err := r.load(ctx, id)
		if err != nil {
			return follow, err
		}
		if s := st.Status(); s != domain.StatusStarted && s != domain.StatusStopping {
			continue
		}
		if re != nil {
			a := r.newActive(st)
			h, err := re.Reattach(ctx, a.attachOutput(Spec{Execution: id, Project: st.Project(), Dir: filepath.Join(r.cfg.WorkDir, string(id))}))
			if err == nil {
				r.status(id, "reattached after a worker restart")
				following[id] = true
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer r.forget(id)
					res, err := r.follow(ctx, a, h)
					mu.Lock()
					out = append(out, Recovered{Execution: id, Reattached: true, Result: res, Err: err})
					mu.Unlock()
				}()
				continue
			}
			r.forget(id)
			if !errors.Is(err, ErrGone) {
				r.logger.Warn("runner: reattach", "execution", id, "err", err)
			}
		}
		res, err := r.crash(ctx, id, fmt.Errorf("worker %s restarted: %w", r.cfg.Host, ErrRunLost))
		if err != nil && res.Status == domain.StatusCrashed {
			err = nil // the cause, recorded as the reason
		}
		mu.Lock()
		out = append(out, Recovered{Execution: id, Result: res, Err: err})
		mu.Unlock()
	}
	var sweepErr error
	if re != nil {
		_, sweepErr = re.Sweep(ctx, func(id domain.ExecutionID) bool { return following[id] })
	}
	return follow, sweepErr
}

// startedHere returns the executions whose Started event names this host, in log order.
func (r *Runner) startedHere(ctx context.Context) ([]domain.ExecutionID, error) {
	var out []domain.ExecutionID
	seen := map[domain.ExecutionID]bool{}
	var after events.Position
	for {
		envs, err := r.log.ReadAll(ctx, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("recover: read the log: %w", err)
		}
		if len(envs) == 0 {
			return out, nil
		}
		for _, env := range envs {
			after = env.Position
			if env.Type != (execution.Started{}).EventType() {
				continue
			}
			ev, err := r.codec.Decode(env)
			if err != nil {
				return nil, fmt.Errorf("recover: %w", err)
			}
			if s, ok := ev.(execution.Started); ok && s.Host == r.cfg.Host && !seen[s.Execution] {
				seen[s.Execution] = true
				out = append(out, s.Execution)
			}
		}
	}
}
