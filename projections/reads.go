package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/events"
)

// All returns one of every read model, for New.
func All() []Projection {
	return []Projection{Executions{}, Inputs{}, Aliases{}, Datasets{}, Lineage{}, Audit{}}
}

// Reads answers queries from an engine running All(), as of any moment: the bitemporal
// read models directly, the others by replaying the log into a scratch store.
type Reads struct {
	Engine *Engine
	// Log and Codec are what the replays read.
	Log   events.Store
	Codec *events.Codec
	// Scratch returns an empty store for a replay (adapters/memory.NewProjections).
	Scratch func() Store
	// Now measures running executions; default time.Now.
	Now func() time.Time
}

// Position maps a to a position of the log: Now for the zero AsOf, the position itself,
// or the last position recorded at or before the time.
func (rd *Reads) Position(ctx context.Context, a AsOf) (events.Position, error) {
	switch {
	case a.Position != 0:
		return a.Position, nil
	case a.Time.IsZero():
		return Now, nil
	}
	var p events.Position
	err := rd.Engine.View(ctx, Audit{}.Name(), func(r Reader) error {
		var err error
		p, err = Audit{}.PositionAt(r, a.Time)
		return err
	})
	return p, err
}

// Events returns the audit entries that match f, in position order (see Audit.List). A
// stream filter reads the stream's positions from the log's own index of streams (Load)
// and then only their entries, where the audit alone would read every entry: streams are
// many and short. Entries the audit has not applied yet are left out, as List leaves them.
func (rd *Reads) Events(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Stream != "" {
		applied, ok := rd.Engine.Checkpoint(Audit{}.Name()) // the View below sees at least this
		if !ok {
			return nil, fmt.Errorf("list audit entries: %w", ErrNotReady)
		}
		envs, err := rd.Log.Load(ctx, f.Stream, 0)
		if err != nil {
			return nil, fmt.Errorf("list audit entries of stream %s: %w", f.Stream, err)
		}
		f.streamPositions = make([]events.Position, 0, len(envs))
		for _, env := range envs {
			if env.Position <= applied {
				f.streamPositions = append(f.streamPositions, env.Position)
			}
		}
		if len(f.streamPositions) == 0 {
			return nil, nil
		}
	}
	var out []AuditEntry
	err := rd.Engine.View(ctx, Audit{}.Name(), func(r Reader) error {
		var err error
		out, err = Audit{}.List(r, f)
		return err
	})
	return out, err
}

// view runs fn on the projection name at the current state, or, for a past position, on
// a replay of it (and the other projections given) into a scratch store.
func (rd *Reads) view(ctx context.Context, a AsOf, fn func(view func(name string, fn func(Reader) error) error) error, replay ...Projection) error {
	p, err := rd.Position(ctx, a)
	if err != nil {
		return err
	}
	if p == Now {
		return fn(func(name string, f func(Reader) error) error { return rd.Engine.View(ctx, name, f) })
	}
	eng, err := Replay(ctx, rd.Log, rd.Codec, rd.Scratch(), p, replay...)
	if err != nil {
		return err
	}
	return fn(func(name string, f func(Reader) error) error { return eng.View(ctx, name, f) })
}

// Replay applies the log up to and including position through to projs in store and
// returns an engine to query them with (not running).
func Replay(ctx context.Context, log events.Store, codec *events.Codec, store Store, through events.Position, projs ...Projection) (*Engine, error) {
	eng, err := New(log, codec, store, Config{}, projs...)
	if err != nil {
		return nil, err
	}
	if err := eng.init(ctx); err != nil {
		return nil, err
	}
	var after events.Position
	for after < through {
		page, err := log.ReadAll(ctx, after, eng.cfg.BatchSize)
		if err != nil {
			return nil, fmt.Errorf("replay to %d: %w", through, err)
		}
		for i, env := range page {
			if env.Position > through {
				page = page[:i]
				break
			}
		}
		if len(page) == 0 {
			break
		}
		if err := eng.Apply(ctx, after, page...); err != nil {
			return nil, err
		}
		after = page[len(page)-1].Position
	}
	return eng, nil
}

func (rd *Reads) now() time.Time {
	if rd.Now != nil {
		return rd.Now()
	}
	return time.Now()
}

// Execution returns the detail of an execution as of a, with its input warnings.
func (rd *Reads) Execution(ctx context.Context, id domain.ExecutionID, a AsOf) (Execution, error) {
	var x Execution
	err := rd.view(ctx, a, func(view func(string, func(Reader) error) error) error {
		err := view(Executions{}.Name(), func(r Reader) error {
			var err error
			x, err = Executions{}.Get(r, id)
			return err
		})
		if err != nil {
			return err
		}
		if a.IsNow() {
			// The inputs read model may trail the executions one: wait until it has
			// applied everything the execution read says happened.
			if err := rd.Engine.WaitForProjection(ctx, Inputs{}.Name(), x.Updated); err != nil {
				return fmt.Errorf("input warnings of execution %s: %w", id, err)
			}
		}
		return view(Inputs{}.Name(), func(r Reader) error {
			var err error
			x.Warnings, err = Inputs{}.Warnings(r, id)
			return err
		})
	}, Executions{}, Inputs{})
	return x, err
}

// Executions returns one page of the execution table as of q.AsOf.
func (rd *Reads) Executions(ctx context.Context, q ExecutionQuery) (ExecutionPage, error) {
	if q.Now.IsZero() {
		q.Now = rd.now()
	}
	var page ExecutionPage
	replay := []Projection{Executions{}}
	if q.Warnings {
		replay = append(replay, Inputs{})
	}
	err := rd.view(ctx, q.AsOf, func(view func(string, func(Reader) error) error) error {
		err := view(Executions{}.Name(), func(r Reader) error {
			var err error
			page, err = Executions{}.List(r, q)
			return err
		})
		if err != nil || !q.Warnings {
			return err
		}
		if q.AsOf.IsNow() {
			var last events.Position
			for _, x := range page.Items {
				last = max(last, x.Updated)
			}
			if err := rd.Engine.WaitForProjection(ctx, Inputs{}.Name(), last); err != nil {
				return fmt.Errorf("input warnings of the executions: %w", err)
			}
		}
		return view(Inputs{}.Name(), func(r Reader) error {
			for i := range page.Items {
				var err error
				if page.Items[i].Warnings, err = (Inputs{}).Warnings(r, page.Items[i].ID); err != nil {
					return err
				}
			}
			return nil
		})
	}, replay...)
	return page, err
}

// bitemporal runs fn on the current state of the projection name with a mapped to a
// position: no replay.
func (rd *Reads) bitemporal(ctx context.Context, name string, a AsOf, fn func(Reader, events.Position) error) error {
	p, err := rd.Position(ctx, a)
	if err != nil {
		return err
	}
	return rd.Engine.View(ctx, name, func(r Reader) error { return fn(r, p) })
}

// Alias returns what the datum alias pointed at as of a.
func (rd *Reads) Alias(ctx context.Context, project domain.ProjectID, name string, a AsOf) (AliasFact, error) {
	var f AliasFact
	err := rd.bitemporal(ctx, Aliases{}.Name(), a, func(r Reader, p events.Position) error {
		var err error
		f, err = Aliases{}.Get(r, project, name, p)
		return err
	})
	return f, err
}

// AliasHistory returns the history of a datum alias as of a.
func (rd *Reads) AliasHistory(ctx context.Context, project domain.ProjectID, name string, a AsOf) ([]AliasFact, error) {
	var out []AliasFact
	err := rd.bitemporal(ctx, Aliases{}.Name(), a, func(r Reader, p events.Position) error {
		var err error
		out, err = Aliases{}.History(r, project, name, p)
		return err
	})
	return out, err
}

// DatasetVersion returns version ref (a name, an alias or "latest") of the dataset named
// name as of a.
func (rd *Reads) DatasetVersion(ctx context.Context, project domain.ProjectID, name, ref string, a AsOf) (DatasetVersion, error) {
	var v DatasetVersion
	err := rd.bitemporal(ctx, Datasets{}.Name(), a, func(r Reader, p events.Position) error {
		d, err := Datasets{}.Get(r, project, name, p)
		if err != nil {
			return err
		}
		v, err = Datasets{}.Resolve(r, d.ID, ref, p)
		return err
	})
	return v, err
}

// Lineage walks the lineage graph from node in dir to depth as of a.
func (rd *Reads) Lineage(ctx context.Context, node string, dir Direction, depth int, a AsOf) (Graph, error) {
	var g Graph
	err := rd.bitemporal(ctx, Lineage{}.Name(), a, func(r Reader, p events.Position) error {
		var err error
		g, err = Lineage{}.Traverse(r, node, dir, depth, p)
		return err
	})
	return g, err
}

// LineageNode returns the lineage node id as of a.
func (rd *Reads) LineageNode(ctx context.Context, id string, a AsOf) (Node, error) {
	var n Node
	err := rd.bitemporal(ctx, Lineage{}.Name(), a, func(r Reader, p events.Position) error {
		var err error
		n, err = Lineage{}.Node(r, id, p)
		return err
	})
	return n, err
}

// ImpactOfURL returns everything downstream of the executions that used the input URL
// uri in project (every use, or with changedOnly only those whose files differed from
// the previous use), as of now.
func (rd *Reads) ImpactOfURL(ctx context.Context, project domain.ProjectID, uri string, changedOnly bool) (Impact, error) {
	var uses []InputUse
	changed := map[domain.ExecutionID]bool{}
	err := rd.Engine.View(ctx, Inputs{}.Name(), func(r Reader) error {
		var err error
		if uses, err = (Inputs{}).History(r, project, uri); err != nil {
			return err
		}
		for _, u := range uses {
			ws, err := Inputs{}.Warnings(r, u.Execution)
			if err != nil {
				return err
			}
			for _, w := range ws {
				if w.URI == uri {
					changed[u.Execution] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		return Impact{}, err
	}
	var out Impact
	seen := map[string]bool{}
	err = rd.Engine.View(ctx, Lineage{}.Name(), func(r Reader) error {
		for _, u := range uses {
			x := ExecutionNode(u.Execution)
			if seen[x] || changedOnly && !changed[u.Execution] {
				continue
			}
			g, err := Lineage{}.Traverse(r, x, Downstream, -1, Now)
			if err != nil {
				return err
			}
			var fresh []Node
			for _, n := range g.Nodes {
				if !seen[n.ID] {
					seen[n.ID] = true
					fresh = append(fresh, n)
				}
			}
			out.add(fresh)
		}
		return nil
	})
	return out, err
}
