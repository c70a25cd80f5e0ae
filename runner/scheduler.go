package runner

import (
	"container/heap"
	"context"
	"sync"

	"github.com/stratahq/strata/domain"
)

// Scheduler runs queued executions on a Runner, at most Slots at a time, by priority
// (higher first) then in submission order; the others wait, queued. It is safe for
// concurrent use.
type Scheduler struct {
	r     *Runner
	slots int

	mu sync.Mutex
	// guards q, seq and wake
	q    queue
	seq  int
	wake chan struct{}

	// Done, if set, is called after each execution with how it ended.
	Done func(domain.ExecutionID, Result, error)
}

// NewScheduler returns a scheduler running at most slots executions at once on r.
func NewScheduler(r *Runner, slots int) *Scheduler {
	return &Scheduler{r: r, slots: max(slots, 1), wake: make(chan struct{}, 1)}
}

// Submit queues execution id (recording Queued if it is only created) with priority.
func (s *Scheduler) Submit(ctx context.Context, id domain.ExecutionID, priority int) error {
	st, err := s.r.load(ctx, id)
	if err != nil {
		return err
	}
	if st.Status() == domain.StatusCreated {
		if _, err := s.r.queue(ctx, id); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.seq++
	heap.Push(&s.q, item{id: id, priority: priority, seq: s.seq})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
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
				var it item
				ok := s.q.Len() > 0
				if ok {
					it = heap.Pop(&s.q).(item)
				}
				more := s.q.Len() > 0
				s.mu.Unlock()
				if more {
					select {
					case s.wake <- struct{}{}:
					default:
					}
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
				if err != nil {
					s.r.logger.Error("runner: run execution", "execution", it.id, "err", err)
				}
				if s.Done != nil {
					s.Done(it.id, res, err)
				}
				select { // pass the wake-up on: more may be queued
				case s.wake <- struct{}{}:
				default:
				}
			}
		}()
	}
}

type item struct {
	id       domain.ExecutionID
	priority int
	seq      int
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
