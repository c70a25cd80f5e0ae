package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratahq/strata/events"
)

func newCmdEvents(f *factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "events",
		Short: "Read, verify, back up and restore the event log",
		Long: `The event log is the single source of truth: every action is an immutable,
hash-chained event. These commands work on the embedded log in --data-dir; stop
'strata serve' first.`,
	}
	c.AddCommand(newCmdEventsVerify(f), newCmdEventsExport(f), newCmdEventsImport(f), newCmdEventsTail(f))
	return c
}

func newCmdEventsVerify(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Prove that no event was edited, removed or reordered",
		Long: `Walks the whole log and checks every event's hash, its link to the previous event of
its stream, the version order of every stream and that no position is missing.
Exits 3 and names the first bad event if the log fails.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := f.openLog(false)
			if err != nil {
				return err
			}
			defer closeLog(f, s)
			p := newCountProgress(f.Err, "verifying", "events")
			if head, err := s.Head(c.Context()); err == nil {
				p.total = int64(head)
			}
			r, err := events.Verify(c.Context(), s, events.VerifyOptions{Gapless: true, Progress: p.count})
			p.done()
			var te *events.TamperError
			if errors.As(err, &te) {
				if f.JSON {
					_ = f.printJSON(map[string]any{"ok": false, "verified": r.Events, "position": te.Position, "stream": te.Stream, "version": te.Version, "problem": te.Problem})
				}
				return &codeError{code: exitTampered, err: fmt.Errorf("the event log FAILED verification after %d good events: %w", r.Events, te)}
			}
			if err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(map[string]any{"ok": true, "events": r.Events, "streams": r.Streams, "head": r.Head, "chain": r.Chain})
			}
			_, err = fmt.Fprintf(f.Out, "ok: %d events in %d streams verified up to position %d\nchain: %s\n", r.Events, r.Streams, r.Head, r.Chain)
			return err
		},
	}
}

func newCmdEventsExport(f *factory) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "export [-o FILE]",
		Short: "Write the whole log as JSON lines (the backup format)",
		Long: `Writes a header, every event with its hashes in position order, and a trailer that
lets 'events import' detect a file that was edited or cut short. Without -o the
export goes to standard output.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := f.openLog(false)
			if err != nil {
				return err
			}
			defer closeLog(f, s)
			w := f.Out
			var file *os.File
			if output != "" && output != "-" {
				if file, err = os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
					return fmt.Errorf("create %s: %w (choose a new file name; export never overwrites)", output, err)
				}
				w = file
			}
			r, err := events.Export(c.Context(), s, w)
			if file != nil {
				if cerr := file.Sync(); err == nil {
					err = cerr
				}
				if cerr := file.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					_ = os.Remove(output)
				}
			}
			if err != nil {
				return err
			}
			if file != nil {
				fmt.Fprintf(f.Err, "exported %d events up to position %d to %s\n", r.Events, r.Head, output)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "", "write to this new file instead of standard output")
	return c
}

func newCmdEventsImport(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Restore an export into a new, empty log",
		Long: `Checks the whole file first (header, every hash and chain link, trailer) and refuses
a tampered, truncated or malformed file with the line at fault, writing nothing.
Then it appends the events, keeping their IDs and times, and verifies the result.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			file, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer func() { _ = file.Close() }() // read-only: nothing to lose
			s, err := f.openLog(true)
			if err != nil {
				return err
			}
			defer closeLog(f, s)
			p := newCountProgress(f.Err, "importing", "events")
			r, err := events.Import(c.Context(), s, file, events.ImportOptions{Progress: p.count})
			p.done()
			if errors.Is(err, events.ErrTampered) {
				return &codeError{code: exitTampered, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if f.JSON {
				return f.printJSON(map[string]any{"events": r.Events, "streams": r.Streams, "head": r.Head, "chain": r.Chain})
			}
			_, err = fmt.Fprintf(f.Out, "imported and verified %d events in %d streams up to position %d\n", r.Events, r.Streams, r.Head)
			return err
		},
	}
}

func newCmdEventsTail(f *factory) *cobra.Command {
	var (
		follow bool
		last   int
	)
	c := &cobra.Command{
		Use:   "tail [-f] [-n N]",
		Short: "Print the latest events, and with -f every new one",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if last < 0 {
				return &usageError{fmt.Errorf("-n %d: want 0 or more", last)}
			}
			s, err := f.openLog(false)
			if err != nil {
				return err
			}
			defer closeLog(f, s)
			head, err := s.Head(c.Context())
			if err != nil {
				return err
			}
			from := events.Position(0)
			if uint64(head) > uint64(last) {
				from = head - events.Position(last)
			}
			ctx := c.Context()
			if !follow {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			if !f.JSON {
				fmt.Fprintln(w, "POSITION\tTIME\tSTREAM\tVERSION\tTYPE\tACTOR")
			}
			err = s.Subscribe(ctx, from, func(e events.Envelope) error {
				if f.JSON {
					if err := f.printJSONLine(e); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%s\n", e.Position, e.RecordedAt.Format(time.RFC3339), e.Stream, e.Version, e.Type, e.Actor)
					if follow {
						if err := w.Flush(); err != nil {
							return err
						}
					}
				}
				if !follow && e.Position >= head {
					return errStop
				}
				return nil
			})
			if ferr := w.Flush(); err == nil || errors.Is(err, errStop) {
				err = ferr
			}
			if errors.Is(err, context.Canceled) && follow {
				return nil // interrupted
			}
			return err
		},
	}
	c.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events until interrupted")
	c.Flags().IntVarP(&last, "lines", "n", 20, "how many of the latest events to print first")
	return c
}

// errStop ends a subscription once it has printed what was asked.
var errStop = errors.New("stop")

func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return &usageError{fmt.Errorf("%s needs %s, got %d argument(s): usage: %s", c.CommandPath(), names, len(args), c.UseLine())}
		}
		return nil
	}
}

func (f *factory) printJSONLine(v any) error {
	b, err := jsonMarshalLine(v)
	if err != nil {
		return err
	}
	_, err = f.Out.Write(b)
	return err
}

func closeLog(f *factory, s io.Closer) {
	if err := s.Close(); err != nil {
		fmt.Fprintln(f.Err, "strata: close the event log:", err)
	}
}
