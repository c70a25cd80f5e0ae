package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratahq/strata/domain"
)

// execInfo is the part of the API's Execution the exec commands show.
type execInfo struct {
	ID          string          `json:"id"`
	Project     string          `json:"project"`
	Number      int             `json:"number"`
	Counter     string          `json:"counter"`
	Step        string          `json:"step"`
	Title       *string         `json:"title"`
	Image       string          `json:"image"`
	Commit      *string         `json:"commit"`
	Commands    []string        `json:"commands"`
	Environment string          `json:"environment"`
	Creator     string          `json:"creator"`
	Tags        []string        `json:"tags"`
	Status      string          `json:"status"`
	ExitCode    *int            `json:"exitCode"`
	Reason      *string         `json:"reason"`
	CreatedAt   time.Time       `json:"createdAt"`
	StartedAt   *time.Time      `json:"startedAt"`
	EndedAt     *time.Time      `json:"endedAt"`
	Duration    float64         `json:"duration"`
	Cost        string          `json:"cost"`
	Outputs     []execOutput    `json:"outputs"`
	Metadata    json.RawMessage `json:"metadata"`
	Warnings    []struct {
		Message string `json:"message"`
	} `json:"warnings"`
}

type execOutput struct {
	Datum string `json:"datum"`
	Path  string `json:"path"`
}

const execListFields = `id project number counter step status createdAt duration`

const execFields = execListFields + ` title image commit commands environment creator tags exitCode reason startedAt endedAt cost
  outputs { datum path } metadata warnings { message }`

// terminal reports whether an execution in status s has ended.
func terminal(s string) bool {
	switch s {
	case "STOPPED", "COMPLETE", "ERROR", "CRASHED":
		return true
	}
	return false
}

func newCmdExec(f *factory) *cobra.Command {
	a := &apiFlags{}
	c := &cobra.Command{
		Use:   "exec",
		Short: "List, inspect, stop and follow executions",
		Long: `Executions are referred to as in valohai-cli: #42 or 42 (the number within --project),
latest (the project's newest), or the execution's ID.`,
	}
	a.register(c, true)
	c.AddCommand(newCmdExecList(f, a), newCmdExecInfo(f, a), newCmdExecStop(f, a), newCmdExecLogs(f, a))
	c.AddCommand(newCmdExecRun(f, a), newCmdExecOutputs(f, a), newCmdExecMetadata(f, a), newCmdExecDiff(f, a))
	return c
}

// resolveExecution finds the execution REF names (see newCmdExec) and returns it.
func resolveExecution(ctx context.Context, cl *apiClient, a *apiFlags, ref, fields string) (execInfo, error) {
	ref = strings.TrimSpace(ref)
	var res struct {
		Execution  *execInfo `json:"execution"`
		Executions struct {
			Nodes []execInfo `json:"nodes"`
		} `json:"executions"`
	}
	if _, err := domain.ParseExecutionID(ref); err == nil {
		err := cl.do(ctx, `query($id: ID) { execution(id: $id) { `+fields+` } }`, map[string]any{"id": ref}, &res)
		return deref0(res.Execution), err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(ref, "#"))
	if ref != "latest" && (err != nil || n < 1) {
		return execInfo{}, &usageError{fmt.Errorf("execution %q: want #N, N, latest or an execution ID", ref)}
	}
	pid, err := cl.project(ctx, a)
	if err != nil {
		return execInfo{}, err
	}
	if ref == "latest" {
		// The table names the latest; its detail (with input warnings) is read by ID.
		err := cl.do(ctx, `query($p: ID!) { executions(project: $p, sort: {field: NUMBER, descending: true}, first: 1) { nodes { id } } }`,
			map[string]any{"p": pid}, &res)
		if err != nil {
			return execInfo{}, err
		}
		if len(res.Executions.Nodes) == 0 {
			return execInfo{}, fmt.Errorf("project %s has no executions yet", a.project)
		}
		return resolveExecution(ctx, cl, a, res.Executions.Nodes[0].ID, fields)
	}
	err = cl.do(ctx, `query($ref: String) { execution(ref: $ref) { `+fields+` } }`, map[string]any{"ref": pid + ":" + strconv.Itoa(n)}, &res)
	return deref0(res.Execution), err
}

func deref0[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func fmtDuration(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

func newCmdExecList(f *factory, a *apiFlags) *cobra.Command {
	var (
		limit  int
		status []string
	)
	c := &cobra.Command{
		Use:     "list --project P",
		Aliases: []string{"ls"},
		Short:   "List a project's executions, newest first",
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if limit < 1 || limit > 1000 {
				return &usageError{fmt.Errorf("--limit %d: want 1 to 1000", limit)}
			}
			cl, pid, err := f.projectClient(c.Context(), a)
			if err != nil {
				return err
			}
			vars := map[string]any{"p": pid, "first": limit, "filter": nil}
			if len(status) > 0 {
				up := make([]string, len(status))
				for i, s := range status {
					up[i] = strings.ToUpper(s)
				}
				vars["filter"] = map[string]any{"statuses": up}
			}
			var res struct {
				Executions struct {
					Nodes []execInfo `json:"nodes"`
					Total int        `json:"total"`
				} `json:"executions"`
			}
			if err := cl.do(c.Context(), `query($p: ID!, $first: Int, $filter: ExecutionFilter) {
  executions(project: $p, filter: $filter, sort: {field: NUMBER, descending: true}, first: $first) { nodes { `+execListFields+` warnings { message } } total } }`,
				vars, &res); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(res.Executions.Nodes)
			}
			if len(res.Executions.Nodes) == 0 {
				_, err := fmt.Fprintln(f.Out, "no executions yet")
				return err
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "#\tSTATUS\tSTEP\tCREATED\tDURATION\tWARNINGS")
			for _, x := range res.Executions.Nodes {
				warn := ""
				if n := len(x.Warnings); n > 0 {
					warn = fmt.Sprintf("%d input changed (exec info %d)", n, x.Number)
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", x.Number, strings.ToLower(x.Status), x.Step, x.CreatedAt.Local().Format(time.DateTime), fmtDuration(x.Duration), warn)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if n := len(res.Executions.Nodes); res.Executions.Total > n {
				fmt.Fprintf(f.Err, "showing the newest %d of %d executions (--limit N for more)\n", n, res.Executions.Total)
			}
			return nil
		},
	}
	c.Flags().IntVarP(&limit, "limit", "n", 50, "how many executions to list (1 to 1000)")
	c.Flags().StringSliceVar(&status, "status", nil, "only these statuses (created, queued, started, stopping, stopped, complete, error, crashed)")
	return c
}

func newCmdExecInfo(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "info REF",
		Short: "Show an execution: status, step, image, timing, outputs, metadata",
		Args:  exactArgs(1, "REF (#N, N, latest or an ID)"),
		RunE: func(c *cobra.Command, args []string) error {
			_, x, err := f.execClient(c.Context(), a, args[0], execFields)
			if err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(x)
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			row := func(k, v string) { fmt.Fprintf(w, "%s:\t%s\n", k, v) }
			row("execution", fmt.Sprintf("#%d (%s)", x.Number, x.ID))
			row("status", strings.ToLower(x.Status))
			if x.ExitCode != nil {
				row("exit code", strconv.Itoa(*x.ExitCode))
			}
			if x.Reason != nil {
				row("reason", *x.Reason)
			}
			row("step", x.Step)
			if x.Title != nil {
				row("title", *x.Title)
			}
			row("image", x.Image)
			row("commit", deref(x.Commit))
			row("commands", strings.Join(x.Commands, " && "))
			row("creator", x.Creator)
			if len(x.Tags) > 0 {
				row("tags", strings.Join(x.Tags, ", "))
			}
			row("created", x.CreatedAt.Local().Format(time.DateTime))
			row("duration", fmtDuration(x.Duration))
			row("cost", "$"+x.Cost)
			for _, o := range x.Outputs {
				row("output", o.Path+"  datum://"+o.Datum)
			}
			if len(x.Metadata) > 0 && string(x.Metadata) != "null" {
				row("metadata", string(x.Metadata))
			}
			for _, wr := range x.Warnings {
				row("warning", wr.Message)
			}
			return w.Flush()
		},
	}
}

func newCmdExecStop(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "stop REF",
		Short: "Ask an execution to stop",
		Args:  exactArgs(1, "REF (#N, N, latest or an ID)"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, x, err := f.execClient(c.Context(), a, args[0], execListFields)
			if err != nil {
				return err
			}
			if terminal(x.Status) {
				return fmt.Errorf("execution #%d has already ended (%s): nothing to stop", x.Number, strings.ToLower(x.Status))
			}
			var res struct {
				StopExecution struct {
					Position uint64 `json:"position"`
				} `json:"stopExecution"`
			}
			if err := cl.do(c.Context(), `mutation($id: ID!) { stopExecution(id: $id) { position } }`, map[string]any{"id": x.ID}, &res); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(map[string]any{"execution": x.ID, "number": x.Number, "position": res.StopExecution.Position})
			}
			_, err = fmt.Fprintf(f.Out, "asked execution #%d to stop ('strata exec info #%d' shows when it has)\n", x.Number, x.Number)
			return err
		},
	}
}

// logLine is the API's LogLine.
type logLine struct {
	Time    time.Time `json:"time"`
	Stream  string    `json:"stream"`
	Message string    `json:"message"`
}

func newCmdExecLogs(f *factory, a *apiFlags) *cobra.Command {
	var follow bool
	c := &cobra.Command{
		Use:   "logs REF [-f]",
		Short: "Print an execution's log, and with -f follow it until it ends",
		Long: `Prints the log lines kept so far (stdout, stderr, and the runner's status lines on
standard error). With -f it follows new lines live (over the executionLog
subscription) until the execution ends or you interrupt it.`,
		Args: exactArgs(1, "REF (#N, N, latest or an ID)"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, x, err := f.execClient(c.Context(), a, args[0], execListFields)
			if err != nil {
				return err
			}
			print := func(l logLine) error {
				if f.JSON {
					return f.printJSONLine(l)
				}
				w := f.Out
				if l.Stream == "status" {
					w = f.Err
				}
				_, err := fmt.Fprintln(w, l.Message)
				return err
			}
			if !follow || terminal(x.Status) {
				var res struct {
					ExecutionLog []logLine `json:"executionLog"`
				}
				if err := cl.do(c.Context(), `query($id: ID!) { executionLog(id: $id) { time stream message } }`, map[string]any{"id": x.ID}, &res); err != nil {
					return err
				}
				for _, l := range res.ExecutionLog {
					if err := print(l); err != nil {
						return err
					}
				}
				return nil
			}
			return followLog(c.Context(), cl, x.ID, print)
		},
	}
	c.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until the execution ends")
	return c
}

// followLog prints the log of execution id as it grows, until the execution ends (and a
// moment after, for the last lines) or ctx is done.
func followLog(ctx context.Context, cl *apiClient, id string, print func(logLine) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := cl.subscribe(ctx, map[string]map[string]any{
		"log":  {"query": `subscription($id: ID!) { executionLog(id: $id) { time stream message } }`, "variables": map[string]any{"id": id}},
		"exec": {"query": `subscription($id: ID!) { execution(id: $id) { status } }`, "variables": map[string]any{"id": id}},
	})
	if err != nil {
		return err
	}
	defer sub.close()
	var grace <-chan time.Time // runs once the execution has ended
	type msg struct {
		id   string
		data json.RawMessage
		done bool
		err  error
	}
	msgs := make(chan msg)
	go func() {
		for {
			id, data, done, err := sub.next(ctx)
			select {
			case msgs <- msg{id, data, done, err}:
			case <-ctx.Done():
				return
			}
			if err != nil && id == "" {
				return
			}
		}
	}()
	// The status feed says when the execution ends; a poll is the fallback should a
	// change slip between the feed's reads.
	poll := time.NewTicker(2 * time.Second)
	defer poll.Stop()
	for {
		select {
		case <-poll.C:
			var res struct{ Execution struct{ Status string } }
			if err := cl.do(ctx, `query($id: ID) { execution(id: $id) { status } }`, map[string]any{"id": id}, &res); err == nil &&
				terminal(res.Execution.Status) && grace == nil {
				grace = time.After(time.Second)
			}
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil // interrupted
			}
			return ctx.Err()
		case <-grace:
			return nil
		case m := <-msgs:
			switch {
			case m.err != nil && m.id == "":
				if grace != nil || ctx.Err() != nil {
					return nil // the connection closed after the end
				}
				return fmt.Errorf("the log feed broke: %w (run the command again to resume)", m.err)
			case m.err != nil:
				return m.err
			case m.id == "exec" && m.done:
				if grace == nil {
					grace = time.After(time.Second)
				}
			case m.id == "exec":
				var x struct{ Execution struct{ Status string } }
				if json.Unmarshal(m.data, &x) == nil && terminal(x.Execution.Status) && grace == nil {
					grace = time.After(time.Second)
				}
			case m.id == "log" && !m.done:
				var l struct {
					ExecutionLog logLine `json:"executionLog"`
				}
				if err := json.Unmarshal(m.data, &l); err != nil {
					return err
				}
				if err := print(l.ExecutionLog); err != nil {
					return err
				}
			}
		}
	}
}
