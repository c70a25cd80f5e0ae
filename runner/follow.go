package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
)

// active is one execution this runner follows.
type active struct {
	st  execution.State
	dir string

	stopCh   chan struct{}
	stopOnce sync.Once
	reason   atomic.Value // string: why the runner ended the run

	lastOutput     atomic.Int64 // unix nanoseconds of the last line
	stdout, stderr *lineWriter

	mu sync.Mutex
	// guards points
	points []execution.MetadataPoint
	kick   chan struct{}
}

func (r *Runner) newActive(st execution.State) *active {
	a := &active{st: st, dir: filepath.Join(r.cfg.WorkDir, string(st.ID())), stopCh: make(chan struct{}), kick: make(chan struct{}, 1)}
	a.lastOutput.Store(r.now().UnixNano())
	emit := func(ln Line) {
		a.lastOutput.Store(ln.Time.UnixNano())
		r.logs.Append(st.ID(), ln)
		if ln.Stream != Stdout {
			return
		}
		if p, ok := ParseMetadata(ln.Message, ln.Time); ok {
			a.mu.Lock()
			a.points = append(a.points, p)
			full := len(a.points) >= MaxBatchPoints
			a.mu.Unlock()
			if full {
				select {
				case a.kick <- struct{}{}:
				default:
				}
			}
		}
	}
	a.stdout = &lineWriter{stream: Stdout, now: r.now, emit: emit}
	a.stderr = &lineWriter{stream: Stderr, now: r.now, emit: emit}
	r.mu.Lock()
	r.active[st.ID()] = a
	r.mu.Unlock()
	return a
}

func (r *Runner) forget(id domain.ExecutionID) {
	r.mu.Lock()
	delete(r.active, id)
	r.mu.Unlock()
}

func (a *active) attachOutput(s Spec) Spec {
	s.Stdout, s.Stderr = a.stdout, a.stderr
	return s
}

// requestStop makes the runner end the run; the first reason given is kept.
func (a *active) requestStop(reason string) {
	a.stopOnce.Do(func() {
		a.reason.Store(reason)
		close(a.stopCh)
	})
}

func (a *active) endReason() string {
	s, _ := a.reason.Load().(string)
	return s
}

// takePoints returns at most MaxBatchPoints waiting points.
func (a *active) takePoints() []execution.MetadataPoint {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := min(len(a.points), MaxBatchPoints)
	if n == 0 {
		return nil
	}
	out := a.points[:n:n]
	a.points = a.points[n:]
	return out
}

// recordMetadata records the waiting points, in batches of at most MaxBatchPoints.
func (r *Runner) recordMetadata(ctx context.Context, a *active) {
	for {
		pts := a.takePoints()
		if len(pts) == 0 {
			return
		}
		if _, err := r.exec(ctx, a.st.ID(), execution.RecordMetadata{Points: pts}, ""); err != nil {
			r.logger.Error("runner: record metadata", "execution", a.st.ID(), "points", len(pts), "err", err)
		}
	}
}

// follow watches the launched run h of a until it ends, then collects its outputs and
// records how it ended.
func (r *Runner) follow(ctx context.Context, a *active, h Handle) (Result, error) {
	id, spec := a.st.ID(), a.st.Spec()
	var code int
	var waitErr error
	done := make(chan struct{})
	go func() {
		code, waitErr = h.Wait(ctx)
		close(done)
	}()

	var wg sync.WaitGroup
	batchStop := make(chan struct{})
	wg.Add(1)
	go func() { // metadata: at most one batch per MetadataEvery, or per MaxBatchPoints points
		defer wg.Done()
		t := time.NewTicker(r.cfg.MetadataEvery)
		defer t.Stop()
		for {
			select {
			case <-batchStop:
				return
			case <-t.C:
			case <-a.kick:
			}
			r.recordMetadata(ctx, a)
		}
	}()

	sampler := newSampler(r, a, h)
	sample := time.NewTicker(r.cfg.SampleEvery)
	defer sample.Stop()
	poll := time.NewTicker(r.cfg.PollEvery)
	defer poll.Stop()
	var limit <-chan time.Time
	if spec.TimeLimit > 0 {
		t := time.NewTimer(spec.TimeLimit)
		defer t.Stop()
		limit = t.C
	}
	noOutput := spec.NoOutputTimeout
	if noOutput == 0 {
		noOutput = r.cfg.NoOutputTimeout
	}
	var live outputSet
	stopCh := a.stopCh
loop:
	for {
		select {
		case <-done:
			break loop
		case <-stopCh:
			stopCh = nil
			r.status(id, "stopping (%s): SIGTERM, SIGKILL after %s", a.endReason(), r.cfg.Grace)
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.terminate(context.WithoutCancel(ctx), id, h, done)
			}()
		case <-limit:
			r.status(id, "time limit of %s reached", spec.TimeLimit)
			a.requestStop(reasonTimeLimit)
		case <-sample.C:
			sampler.sample(ctx)
		case <-poll.C:
			if st, err := r.load(ctx, id); err == nil && st.Status() == domain.StatusStopping {
				a.requestStop(reasonStopped)
			}
			if noOutput > 0 && r.now().Sub(time.Unix(0, a.lastOutput.Load())) > noOutput {
				r.status(id, "no output for %s", noOutput)
				a.requestStop(reasonNoOutput)
			}
			r.uploadOutputs(ctx, a, &live, true)
		}
	}
	close(batchStop)
	wg.Wait()
	a.stdout.Flush()
	a.stderr.Flush()
	bg := context.WithoutCancel(ctx)
	r.recordMetadata(bg, a)
	res := Result{Resources: sampler.summary()}
	if waitErr != nil {
		_ = h.Signal(bg, syscall.SIGKILL)
	}
	r.uploadOutputs(bg, a, &live, false)
	r.createVersions(bg, id)
	res.Outputs, res.Refused = live.datums, live.refused
	defer func() {
		if err := h.Remove(bg); err != nil {
			r.logger.Warn("runner: remove run", "execution", id, "err", err)
		}
		r.cleanDir(a.dir)
	}()
	if waitErr != nil {
		cr, err := r.crash(bg, id, fmt.Errorf("wait for the run: %w", waitErr))
		cr.Outputs, cr.Refused, cr.Resources = res.Outputs, res.Refused, res.Resources
		return cr, err
	}
	res.ExitCode = code
	st, err := r.load(bg, id)
	if err != nil {
		return res, err
	}
	if st.Status() == domain.StatusStopping {
		r.status(id, "stopped (exit code %d)", code)
		if _, err := r.exec(bg, id, execution.MarkStopped{At: r.at()}, ""); err != nil {
			return res, fmt.Errorf("record stop of execution #%d: %w", st.Number(), err)
		}
		res.Status = domain.StatusStopped
		return res, nil
	}
	switch a.endReason() {
	case reasonTimeLimit:
		res.Reason = fmt.Sprintf("time limit of %s exceeded", spec.TimeLimit)
	case reasonNoOutput:
		res.Reason = fmt.Sprintf("no output for %s (no-output timeout)", noOutput)
	default:
		if code != 0 {
			res.Reason = fmt.Sprintf("exit code %d", code)
		}
	}
	if res.Reason != "" && res.ExitCode == 0 {
		res.ExitCode = 1 // a run the runner ended is an error even if it exited cleanly
	}
	fin, err := r.exec(bg, id, execution.Finish{ExitCode: res.ExitCode, Reason: res.Reason, Resources: res.Resources.event(), At: r.at()}, "")
	if err != nil {
		return res, fmt.Errorf("finish execution #%d: %w", st.Number(), err)
	}
	res.Status = fin.State.Status()
	r.status(id, "%s (exit code %d)", res.Status, res.ExitCode)
	return res, nil
}
