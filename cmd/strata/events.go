package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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
hash-chained event. 'tail' reads it from a running 'strata serve' (--server); verify,
export and import work on the embedded log in --data-dir: stop 'strata serve' first.`,
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

// apiEvent is the API's Event.
type apiEvent struct {
	Position      uint64          `json:"position"`
	Stream        string          `json:"stream"`
	Version       int             `json:"version"`
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Schema        int             `json:"schema"`
	RecordedAt    time.Time       `json:"recordedAt"`
	Actor         *string         `json:"actor"`
	CorrelationID *string         `json:"correlationId"`
	CausationID   *string         `json:"causationId"`
	Data          json.RawMessage `json:"data"`
}

const eventFields = `position stream version id type schema recordedAt actor correlationId causationId data`

// eventsPage is how many events one events query asks for: within the API's complexity
// limit for eventFields.
const eventsPage = 300

// maxReconnects bounds how many times in a row 'tail -f' reconnects without an event.
const maxReconnects = 20

func newCmdEventsTail(f *factory) *cobra.Command {
	a := &apiFlags{}
	var (
		follow bool
		last   int
		filter eventFilter
	)
	c := &cobra.Command{
		Use:   "tail [-f] [-n N] [--project P] [--stream S] [--type T] [--actor A]",
		Short: "Print the latest events of a running server's log, and with -f every new one",
		Long: `Asks a running 'strata serve' (--server) for the last N events of its log, or of one
project's (--project); the whole log needs a server-admin token. --stream, --type and
--actor keep only the events of one stream (e.g. execution-<id>), of one type (e.g.
alias.Moved) or recorded by one actor. With -f it then follows new events live over
the API's events subscription until interrupted; when the connection drops it
reconnects from the last position printed, so no event is missed or printed twice.
--json prints one JSON event per line.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if last < 0 {
				return &usageError{fmt.Errorf("-n %d: want 0 or more", last)}
			}
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			if strings.TrimSpace(a.project) != "" {
				pid, err := cl.project(c.Context(), a)
				if err != nil {
					return err
				}
				filter.project = &pid
			}
			var head struct {
				Head uint64 `json:"head"`
			}
			if err := cl.do(c.Context(), `{ head }`, nil, &head); err != nil {
				return err
			}
			evs, err := lastEvents(c.Context(), cl, filter, last, head.Head)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			print := func(e apiEvent) error {
				if f.JSON {
					return f.printJSONLine(e)
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%s\n", e.Position, e.RecordedAt.Format(time.RFC3339), e.Stream, e.Version, e.Type, deref(e.Actor))
				if follow {
					return w.Flush()
				}
				return nil
			}
			if !f.JSON {
				fmt.Fprintln(w, "POSITION\tTIME\tSTREAM\tVERSION\tTYPE\tACTOR")
			}
			for _, e := range evs {
				if err := print(e); err != nil {
					return err
				}
			}
			if err := w.Flush(); err != nil || !follow {
				return err
			}
			return followEvents(c.Context(), cl, filter, head.Head, print, f.Err)
		},
	}
	a.register(c, true)
	c.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events until interrupted")
	c.Flags().IntVarP(&last, "lines", "n", 20, "how many of the latest events to print first")
	c.Flags().StringVar(&filter.stream, "stream", "", "only the events of this stream (e.g. execution-<id>)")
	c.Flags().StringVar(&filter.typ, "type", "", "only the events of this type (e.g. alias.Moved)")
	c.Flags().StringVar(&filter.actor, "actor", "", "only the events recorded by this actor")
	return c
}

// eventFilter is what 'events tail' keeps: the events that match every field set.
type eventFilter struct {
	project            *string // nil: every project's (the whole log)
	stream, typ, actor string
}

// api returns the filter as the API's EventFilter.
func (f eventFilter) api() map[string]any {
	m := map[string]any{"project": f.project}
	for k, v := range map[string]string{"stream": f.stream, "type": f.typ, "actor": f.actor} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// match reports whether e passes the filter's fields that the events subscription does
// not filter itself (all but the project).
func (f eventFilter) match(e apiEvent) bool {
	return (f.stream == "" || e.Stream == f.stream) && (f.typ == "" || e.Type == f.typ) && (f.actor == "" || deref(e.Actor) == f.actor)
}

// lastEvents returns the last n events that match filter up to position head, oldest
// first, reading ever wider windows back from head.
func lastEvents(ctx context.Context, cl *apiClient, filter eventFilter, n int, head uint64) ([]apiEvent, error) {
	var got []apiEvent
	hi, width := head, uint64(max(n, eventsPage))
	for hi > 0 && len(got) < n {
		lo := hi - min(width, hi)
		page, err := eventsBetween(ctx, cl, filter, lo, hi)
		if err != nil {
			return nil, err
		}
		got = append(page, got...)
		hi, width = lo, min(width*4, head)
	}
	return got[max(0, len(got)-n):], nil
}

// eventsBetween returns the events that match filter at positions lo < p <= hi, oldest
// first.
func eventsBetween(ctx context.Context, cl *apiClient, filter eventFilter, lo, hi uint64) ([]apiEvent, error) {
	var out []apiEvent
	after := lo
	for {
		var res struct {
			Events struct {
				Nodes []apiEvent `json:"nodes"`
				Next  *uint64    `json:"next"`
			} `json:"events"`
		}
		if err := cl.do(ctx, `query($f: EventFilter, $first: Int, $after: Position) { events(filter: $f, first: $first, after: $after) { nodes { `+eventFields+` } next } }`,
			map[string]any{"f": filter.api(), "first": eventsPage, "after": after}, &res); err != nil {
			return nil, err
		}
		for _, e := range res.Events.Nodes {
			if e.Position > hi {
				return out, nil
			}
			out = append(out, e)
		}
		if res.Events.Next == nil {
			return out, nil
		}
		after = *res.Events.Next
	}
}

// followEvents prints every event after position from that matches filter as it arrives,
// until ctx ends. A dropped connection is resumed after the last position received; an
// error the API answers ends it.
func followEvents(ctx context.Context, cl *apiClient, filter eventFilter, from uint64, print func(apiEvent) error, warn io.Writer) error {
	last := from
	for failures := 0; ; failures++ {
		got, err := followOnce(ctx, cl, filter, &last, print)
		if got {
			failures = 0
		}
		var ae *apiError
		switch {
		case ctx.Err() != nil:
			return nil // interrupted
		case errors.As(err, &ae) || errors.Is(err, errPrint):
			return err
		case failures >= maxReconnects:
			return fmt.Errorf("the event feed failed %d times in a row: %w (run the command again to resume)", failures+1, err)
		}
		fmt.Fprintf(warn, "strata: the event feed broke (%v): reconnecting after position %d\n", err, last)
		select {
		case <-time.After(min(time.Duration(1<<failures)*100*time.Millisecond, 5*time.Second)):
		case <-ctx.Done():
			return nil
		}
	}
}

// errPrint wraps a failure to print an event: following cannot go on.
var errPrint = errors.New("print an event")

// followOnce reads one connection of the events subscription after *last, printing the
// events that match filter and moving *last past every event received, and reports
// whether it received any.
func followOnce(ctx context.Context, cl *apiClient, filter eventFilter, last *uint64, print func(apiEvent) error) (bool, error) {
	sub, err := cl.subscribe(ctx, map[string]map[string]any{"events": {
		"query":     `subscription($after: Position, $p: ID) { events(after: $after, project: $p) { ` + eventFields + ` } }`,
		"variables": map[string]any{"after": *last, "p": filter.project},
	}})
	if err != nil {
		return false, err
	}
	defer sub.close()
	got := false
	for {
		_, data, done, err := sub.next(ctx)
		switch {
		case err != nil:
			return got, err
		case done:
			return got, errors.New("the server ended the subscription")
		}
		var m struct {
			Events apiEvent `json:"events"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return got, fmt.Errorf("decode an event: %w", err)
		}
		if m.Events.Position <= *last {
			continue // already printed: never twice
		}
		if filter.match(m.Events) {
			if err := print(m.Events); err != nil {
				return got, fmt.Errorf("%w: %w", errPrint, err)
			}
		}
		*last, got = m.Events.Position, true
	}
}

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
