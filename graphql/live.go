package graphql

import (
	"context"
	"errors"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/graphql/generated"
	"github.com/stratahq/strata/projections"
	"github.com/stratahq/strata/runner"
)

// LogFollower is where execution logs come from: the runner keeps them in memory, not in
// the event log (*runner.Logs implements it). cmd wires the runner's.
type LogFollower interface {
	// Subscribe returns the log of id so far and a channel of the lines that follow, until
	// ctx is done, when the channel is closed.
	Subscribe(ctx context.Context, id domain.ExecutionID) ([]runner.Line, <-chan runner.Line)
}

// errNoLogs: the server was started without a log source.
var errNoLogs = errors.New("this server keeps no execution logs")

func lineOf(l runner.Line) *generated.LogLine {
	return &generated.LogLine{Time: l.Time, Stream: string(l.Stream), Message: l.Message}
}

// logFeed sends the log of id so far, then each line as the runner appends it, until
// ctx ends.
func (r *Resolver) logFeed(ctx context.Context, id domain.ExecutionID) <-chan *generated.LogLine {
	past, live := r.logs.Subscribe(ctx, id)
	ch := make(chan *generated.LogLine, 64)
	go func() {
		defer close(ch)
		for _, l := range past {
			select {
			case ch <- lineOf(l):
			case <-ctx.Done():
				return
			}
		}
		for {
			select {
			case l, ok := <-live:
				if !ok {
					return
				}
				select {
				case ch <- lineOf(l):
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// metadataFeed sends the metadata points of id recorded so far, then each one as the
// projections apply it, in order and each once, until the execution ends (and its last
// points are sent) or ctx does.
func (r *Resolver) metadataFeed(ctx context.Context, id domain.ExecutionID) <-chan *generated.MetadataPoint {
	ch := make(chan *generated.MetadataPoint, 64)
	name := projections.Executions{}.Name()
	go func() {
		defer close(ch)
		sent := 0
		for {
			cp, _ := r.engine.Checkpoint(name)
			var points []projections.MetadataPoint
			var ended bool
			err := r.engine.View(ctx, name, func(rd projections.Reader) error {
				x, err := projections.Executions{}.Get(rd, id)
				if err != nil {
					return err
				}
				ended = x.Status.IsTerminal()
				points, err = projections.Executions{}.Metadata(rd, id)
				return err
			})
			if err != nil {
				return
			}
			for _, p := range points[min(sent, len(points)):] {
				gp := pointOf(p)
				select {
				case ch <- &gp:
					sent++
				case <-ctx.Done():
					return
				}
			}
			if ended {
				return
			}
			if err := r.engine.WaitFor(ctx, cp+1); err != nil {
				return
			}
		}
	}()
	return ch
}
