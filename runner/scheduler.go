package runner

import (
	"container/heap"
	"context"
	"fmt"
	"sync"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/environment"
	"github.com/stratahq/strata/events"
)

// Scheduler runs queued executions on a Runner, at most Slots at a time, by priority
// (higher first) then in submission order, within the limits of each execution's
// environment: at most its maximum scale (environment.Spec.MaxScale) of its executions at
// once, and at most its per-user quota (PerUserQuota) of one creator's. An execution that
// may not start yet waits, queued, and does not hold back those behind it that may. The
// limits are counted over the executions of this scheduler, read from the environment when
// an execution is submitted. It is safe for concurrent use.
type Scheduler struct {
	r     *Runner
	slots int

	mu sync.Mutex
	// guards q, seq, wake, running, perUser and held
	q       queue
	seq     int
	wake    chan struct{}
	running map[domain.EnvironmentID]int
	perUser map[userKey]int
	held    map[domain.ExecutionID]bool // submitted, not yet run to its end

	// Done, if set, is called after each execution with how it ended.
	Done func(domain.ExecutionID, Result, error)
}

type userKey struct {
	env  domain.EnvironmentID
	user domain.UserID
}

// NewScheduler returns a scheduler running at most slots executions at once on r.
func NewScheduler(r *Runner, slots int) *Scheduler {
	return &Scheduler{r: r, slots: max(slots, 1), wake: make(chan struct{}, 1),
		running: map[domain.EnvironmentID]int{}, perUser: map[userKey]int{}, held: map[domain.ExecutionID]bool{}}
}

// Submit queues execution id (recording Queued if it is only created) with priority.
// Submitting an execution this scheduler already holds (waiting or running) is a no-op,
// so a dispatch delivered twice runs once; one that is neither created nor queued is
// refused with an error matching ErrNotQueued.
func (s *Scheduler) Submit(ctx context.Context, id domain.ExecutionID, priority int) (err error) {
	s.mu.Lock()
	if s.held[id] {
		s.mu.Unlock()
		return nil
	}
	s.held[id] = true
	s.mu.Unlock()
	defer func() {
		if err != nil {
			s.mu.Lock()
			delete(s.held, id)
			s.mu.Unlock()
		}
	}()
	st, err := s.r.load(ctx, id)
	if err != nil {
		return err
	}
	if status := st.Status(); status != domain.StatusCreated && status != domain.StatusQueued {
		return fmt.Errorf("submit execution #%d (%s): %w", st.Number(), status, ErrNotQueued)
	}
	spec := st.Spec()
	var lim environment.Spec
	if spec.Environment != "" {
		env, _, err := events.Fold(ctx, s.r.log, s.r.codec, app.EnvironmentStream(spec.Environment), environment.State{}, environment.Evolve)
		if err != nil {
			return fmt.Errorf("submit execution #%d: environment %s: %w", st.Number(), spec.Environment, err)
		}
		lim = env.Spec()
	}
	if st.Status() == domain.StatusCreated {
		if _, err := s.r.queue(ctx, id); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.seq++
	heap.Push(&s.q, item{id: id, priority: priority, seq: s.seq, env: spec.Environment, user: spec.Creator,
		maxScale: lim.MaxScale, quota: lim.PerUserQuota})
	s.mu.Unlock()
	s.signal()
	return nil
}

func (s *Scheduler) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// allowedLocked reports whether it may start now; s.mu is held.
func (s *Scheduler) allowedLocked(it item) bool {
	if it.maxScale > 0 && s.running[it.env] >= it.maxScale {
		return false
	}
	return it.quota <= 0 || s.perUser[userKey{it.env, it.user}] < it.quota
}

// nextLocked takes the first queued execution that may start now, counting it as
// running; s.mu is held. more reports whether another could start too.
func (s *Scheduler) nextLocked() (it item, ok, more bool) {
	var skipped []item
	for s.q.Len() > 0 {
		c := heap.Pop(&s.q).(item)
		if !ok && s.allowedLocked(c) {
			it, ok = c, true
			s.running[c.env]++
			s.perUser[userKey{c.env, c.user}]++
			continue
		}
		if ok && s.allowedLocked(c) {
			more = true
			skipped = append(skipped, c)
			break
		}
		skipped = append(skipped, c)
	}
	for _, c := range skipped {
		heap.Push(&s.q, c)
	}
	return it, ok, more
}

func (s *Scheduler) release(it item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[it.env]--; s.running[it.env] <= 0 {
		delete(s.running, it.env)
	}
	k := userKey{it.env, it.user}
	if s.perUser[k]--; s.perUser[k] <= 0 {
		delete(s.perUser, k)
	}
	delete(s.held, it.id)
}

// Serve runs submitted executions until ctx is done, then waits for those running.
func (s *Scheduler) Serve(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for range s.slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				s.mu.Lock()
				it, ok, more := s.nextLocked()
				s.mu.Unlock()
				if more {
					s.signal()
				}
				if !ok {
					select {
					case <-ctx.Done():
						return
					case <-s.wake:
						continue
					}
				}
				res, err := s.r.Run(ctx, it.id)
				s.release(it)
				if err != nil {
					s.r.logger.Error("runner: run execution", "execution", it.id, "err", err)
				}
				if s.Done != nil {
					s.Done(it.id, res, err)
				}
				s.signal() // a slot and maybe a quota are free: more may start
			}
		}()
	}
}

type item struct {
	id       domain.ExecutionID
	priority int
	seq      int
	env      domain.EnvironmentID
	user     domain.UserID
	maxScale int // 0: no limit
	quota    int // per user; 0: no limit
}

type queue []item

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].priority != q[j].priority {
		return q[i].priority > q[j].priority
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(item)) }
func (q *queue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
