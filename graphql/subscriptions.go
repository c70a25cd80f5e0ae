package graphql

import (
	"context"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/graphql/generated"
	"github.com/stratahq/strata/projections"
)

// globalFeed sends every event after from, history first, then live ones, in position
// order with no gap and no duplicate (events.Store.Subscribe guarantees both), until ctx
// ends. A client resumes by passing the last position it received.
func (r *Resolver) globalFeed(ctx context.Context, from events.Position) <-chan *generated.Event {
	ch := make(chan *generated.Event, 64)
	go func() {
		defer close(ch)
		_ = r.log.Subscribe(ctx, from, func(env events.Envelope) error { // ends only with ctx
			select {
			case ch <- envelopeEvent(env):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return ch
}

// projectFeed sends the events of project p after from, in position order, from the
// audit read model: each page after the last position sent, then, when it is drained,
// waits for the projections to move on.
func (r *Resolver) projectFeed(ctx context.Context, p domain.ProjectID, from events.Position) <-chan *generated.Event {
	ch := make(chan *generated.Event, 64)
	go func() {
		defer close(ch)
		last := from
		for {
			cp, _ := r.engine.Checkpoint(projections.Audit{}.Name())
			var page []projections.AuditEntry
			err := r.engine.View(ctx, projections.Audit{}.Name(), func(rd projections.Reader) error {
				var err error
				page, err = projections.Audit{}.List(rd, projections.AuditFilter{Project: p, After: last})
				return err
			})
			if err != nil {
				return
			}
			for _, e := range page {
				ev := eventOf(e)
				select {
				case ch <- &ev:
					last = e.Position
				case <-ctx.Done():
					return
				}
			}
			if len(page) == 0 {
				if err := r.engine.WaitFor(ctx, cp+1); err != nil {
					return
				}
			}
		}
	}()
	return ch
}

// executionFeed sends execution id now, then again after every change, until it ends
// (complete, error, stopped or crashed) and that last state is sent, or ctx does.
//
// Each round takes the projection's checkpoint before it reads the execution, then waits
// for the log to move past that checkpoint. Read the other way round, a change applied
// between the read and the checkpoint (the execution's end, typically the log's last event
// for a while) would be missed: it is not in the state read, and waiting for the next
// position after it would wait for an event that may never come.
func (r *Resolver) executionFeed(ctx context.Context, id domain.ExecutionID) <-chan *generated.Execution {
	ch := make(chan *generated.Execution, 8)
	name := projections.Executions{}.Name()
	go func() {
		defer close(ch)
		var sent events.Position
		for {
			cp, _ := r.engine.Checkpoint(name)
			x, err := r.reads.Execution(ctx, id, projections.AsOf{})
			if err != nil {
				return
			}
			if x.Updated != sent {
				select {
				case ch <- r.executionOf(x):
					sent = x.Updated
				case <-ctx.Done():
					return
				}
			}
			if x.Status.IsTerminal() {
				return
			}
			if err := r.engine.WaitFor(ctx, cp+1); err != nil {
				return
			}
		}
	}()
	return ch
}
