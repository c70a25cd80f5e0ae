package main

import (
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// aliasFact is the API's AliasFact.
type aliasFact struct {
	Project  string    `json:"project"`
	Alias    string    `json:"alias"`
	Target   *string   `json:"target"`
	Previous *string   `json:"previous"`
	Deleted  bool      `json:"deleted"`
	Actor    *string   `json:"actor"`
	At       time.Time `json:"at"`
	From     uint64    `json:"from"`
	To       *uint64   `json:"to"`
}

const aliasFields = `project alias target previous deleted actor at from to`

func newCmdAlias(f *factory) *cobra.Command {
	a := &apiFlags{}
	c := &cobra.Command{
		Use:   "alias",
		Short: "Name datums: set, read and trace the history of datum aliases",
		Long: `A datum alias is a project-wide name for a datum ("model-latest") that executions use
as the input datum://<alias>. Moving it is recorded: 'alias history' shows every
target it had, and --as-of reads it as it was.`,
	}
	a.register(c, true)
	c.AddCommand(newCmdAliasSet(f, a), newCmdAliasGet(f, a), newCmdAliasHistory(f, a))
	return c
}

func newCmdAliasSet(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "set NAME DATUM --project P",
		Short: "Point an alias at a datum (creating or moving it)",
		Args:  exactArgs(2, "NAME and DATUM"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, pid, err := f.projectClient(c.Context(), a)
			if err != nil {
				return err
			}
			var res struct {
				SetAlias struct {
					Position uint64 `json:"position"`
				} `json:"setAlias"`
			}
			if err := cl.do(c.Context(), `mutation($p: ID!, $n: String!, $d: ID!) { setAlias(project: $p, name: $n, datum: $d) { position } }`,
				map[string]any{"p": pid, "n": args[0], "d": args[1]}, &res); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(map[string]any{"alias": args[0], "datum": args[1], "position": res.SetAlias.Position})
			}
			if res.SetAlias.Position == 0 {
				_, err = fmt.Fprintf(f.Out, "alias %s already points at datum %s: nothing changed\n", args[0], args[1])
				return err
			}
			_, err = fmt.Fprintf(f.Out, "alias %s now points at datum %s (use it as an input: datum://%s)\n", args[0], args[1], args[0])
			return err
		},
	}
}

// asOfVar adds --as-of to c: a log position (a number) or a time (RFC 3339, or a date).
func asOfVar(c *cobra.Command, s *string) {
	c.Flags().StringVar(s, "as-of", "", "read as of a log position (a number) or a time (RFC 3339, or YYYY-MM-DD)")
}

// asOf turns --as-of into the API's AsOf input; nil for now.
func asOf(s string) (map[string]any, error) {
	if s == "" {
		return nil, nil // no --as-of: read now
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return map[string]any{"position": n}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateTime, time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return map[string]any{"time": t.UTC().Format(time.RFC3339Nano)}, nil
		}
	}
	return nil, &usageError{fmt.Errorf("--as-of %q: want a log position (a number) or a time such as 2025-01-31T12:00:00Z or 2025-01-31", s)}
}

func newCmdAliasGet(f *factory, a *apiFlags) *cobra.Command {
	var at string
	c := &cobra.Command{
		Use:   "get NAME --project P [--as-of T]",
		Short: "Show the datum an alias points at",
		Args:  exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			as, err := asOf(at)
			if err != nil {
				return err
			}
			cl, pid, err := f.projectClient(c.Context(), a)
			if err != nil {
				return err
			}
			var res struct {
				Alias aliasFact `json:"alias"`
			}
			if err := cl.do(c.Context(), `query($p: ID!, $n: String!, $as: AsOf) { alias(project: $p, name: $n, asOf: $as) { `+aliasFields+` } }`,
				map[string]any{"p": pid, "n": args[0], "as": as}, &res); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(res.Alias)
			}
			x := res.Alias
			if x.Deleted || x.Target == nil {
				_, err = fmt.Fprintf(f.Out, "alias %s was deleted by %s at %s\n", x.Alias, deref(x.Actor), x.At.Local().Format(time.DateTime))
				return err
			}
			_, err = fmt.Fprintf(f.Out, "%s\n(alias %s, set by %s at %s, position %d)\n", *x.Target, x.Alias, deref(x.Actor), x.At.Local().Format(time.DateTime), x.From)
			return err
		},
	}
	asOfVar(c, &at)
	return c
}

func newCmdAliasHistory(f *factory, a *apiFlags) *cobra.Command {
	var at string
	c := &cobra.Command{
		Use:   "history NAME --project P [--as-of T]",
		Short: "List every datum an alias pointed at, oldest first",
		Args:  exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			as, err := asOf(at)
			if err != nil {
				return err
			}
			cl, pid, err := f.projectClient(c.Context(), a)
			if err != nil {
				return err
			}
			var res struct {
				AliasHistory []aliasFact `json:"aliasHistory"`
			}
			if err := cl.do(c.Context(), `query($p: ID!, $n: String!, $as: AsOf) { aliasHistory(project: $p, name: $n, asOf: $as) { `+aliasFields+` } }`,
				map[string]any{"p": pid, "n": args[0], "as": as}, &res); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(res.AliasHistory)
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "AT\tTARGET\tACTOR\tFROM\tTO")
			for _, x := range res.AliasHistory {
				target, to := deref(x.Target), "now"
				if x.Deleted {
					target = "(deleted)"
				}
				if x.To != nil {
					to = strconv.FormatUint(*x.To, 10)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", x.At.Local().Format(time.DateTime), target, deref(x.Actor), x.From, to)
			}
			return w.Flush()
		},
	}
	asOfVar(c, &at)
	return c
}

// deref returns *s, or "-" for nil.
func deref(s *string) string {
	if s == nil || *s == "" {
		return "-"
	}
	return *s
}
