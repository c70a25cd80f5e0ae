package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratahq/strata/projections"
)

func newCmdProjections(f *factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "projections",
		Short: "Inspect and rebuild the read models",
		Long: `Projections are read models built from the event log: they can always be rebuilt from
it. These commands work on the embedded stores in --data-dir; stop 'strata serve' first.`,
	}
	c.AddCommand(newCmdProjectionsStatus(f), newCmdProjectionsRebuild(f))
	return c
}

func newCmdProjectionsStatus(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show each projection's version, checkpoint and lag behind the log",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, engine, closeAll, err := f.openEngine(false, slog.New(slog.DiscardHandler))
			if err != nil {
				return err
			}
			defer closeAll()
			st, err := engine.Status(c.Context())
			if err != nil {
				return err
			}
			return f.printStatus(st)
		},
	}
}

func (f *factory) printStatus(st []projections.Status) error {
	if f.JSON {
		type row struct {
			Name       string `json:"name"`
			Version    int    `json:"version"`
			Checkpoint uint64 `json:"checkpoint"`
			Head       uint64 `json:"head"`
			Lag        uint64 `json:"lag"`
		}
		rows := make([]row, 0, len(st))
		for _, s := range st {
			rows = append(rows, row{s.Name, s.Version, uint64(s.Checkpoint), uint64(s.Head), s.Lag})
		}
		return f.printJSON(rows)
	}
	w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "NAME\tVERSION\tCHECKPOINT\tHEAD\tLAG\t")
	for _, s := range st {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t\n", s.Name, s.Version, s.Checkpoint, s.Head, s.Lag)
	}
	return w.Flush()
}

func newCmdProjectionsRebuild(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "rebuild [NAME...]",
		Short: "Rebuild projections from the start of the log (all of them without NAME)",
		RunE: func(c *cobra.Command, names []string) error {
			_, engine, closeAll, err := f.openEngine(false, slog.New(slog.DiscardHandler))
			if err != nil {
				return err
			}
			defer closeAll()
			var known []string
			for _, p := range engine.Projections() {
				known = append(known, p.Name())
			}
			if len(names) == 0 {
				names = known
			}
			for _, n := range names {
				if !slices.Contains(known, n) {
					return &usageError{fmt.Errorf("no projection %q: choose from %v", n, known)}
				}
			}
			return rebuild(c.Context(), f, engine, names)
		},
	}
}

// rebuild resets the named projections and runs the engine until every one has caught up
// with the log, showing progress.
func rebuild(ctx context.Context, f *factory, engine *projections.Engine, names []string) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	var runErr error
	done := make(chan struct{})
	go func() { defer close(done); runErr = engine.Run(ctx) }()
	// stopped waits for Run to return and says why it did.
	stopped := func(what string) error {
		<-done
		if runErr == nil || errors.Is(runErr, context.Canceled) {
			return errors.New(what)
		}
		return runErr
	}
	defer func() { // the store is closed after: the engine must have stopped
		cancel()
		if <-done; err == nil && runErr != nil && !errors.Is(runErr, context.Canceled) {
			fmt.Fprintln(f.Err, "strata: projections engine:", runErr)
		}
	}()
	for _, n := range names {
		if err := engine.Rebuild(ctx, n); err != nil {
			return err
		}
	}
	p := newCountProgress(f.Err, "rebuilding", "events")
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := engine.Status(ctx)
		if err != nil {
			return err
		}
		var head, behind uint64
		for _, s := range st {
			if slices.Contains(names, s.Name) {
				head, behind = uint64(s.Head), max(behind, s.Lag)
			}
		}
		p.total = int64(head)
		p.update(int64(head - behind))
		if behind == 0 {
			p.done()
			// A long rebuild ends with the store compacted for reads.
			if err := engine.WaitSettled(ctx); errors.Is(err, projections.ErrStopped) {
				return fmt.Errorf("compact after the rebuild: %w", stopped("the engine stopped"))
			} else if err != nil {
				return err
			}
			return f.printStatus(st)
		}
		select {
		case <-done:
			return stopped("the engine stopped before the rebuild finished")
		case <-tick.C:
		}
	}
}
