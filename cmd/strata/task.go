package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratahq/strata/domain"
)

// taskInfo is the API's Task.
type taskInfo struct {
	ID             string          `json:"id"`
	Project        string          `json:"project"`
	Number         int             `json:"number"`
	Counter        string          `json:"counter"`
	Step           string          `json:"step"`
	Type           string          `json:"type"`
	Variants       json.RawMessage `json:"variants"`
	ParameterSets  json.RawMessage `json:"parameterSets"`
	ExecutionCount int             `json:"executionCount"`
	BatchSize      int             `json:"batchSize"`
	Planned        int             `json:"planned"`
	Creator        string          `json:"creator"`
	CreatedAt      time.Time       `json:"createdAt"`
	Status         string          `json:"status"`
	StopRequested  bool            `json:"stopRequested"`
	Executions     []string        `json:"executions"`
	Summary        map[string]int  `json:"summary"`
}

const taskFields = `id project number counter step type variants parameterSets executionCount batchSize planned creator createdAt status stopRequested executions
  summary { count created queued started stopping stopped complete error crashed }`

// progress renders the summary as "3/10 complete, 1 error" (ended of planned, then the
// statuses met).
func (t taskInfo) progress() string {
	planned := strconv.Itoa(cmp.Or(t.Planned, t.ExecutionCount))
	if planned == "0" { // a task recorded before it said how many it plans
		planned = "?"
	}
	s := fmt.Sprintf("%d/%s", t.Summary["count"], planned)
	var parts []string
	for _, k := range []string{"created", "queued", "started", "stopping", "stopped", "complete", "error", "crashed"} {
		if n := t.Summary[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

func newCmdTask(f *factory) *cobra.Command {
	a := &apiFlags{}
	c := &cobra.Command{
		Use:   "task",
		Short: "List and inspect tasks (parameter sweeps: one step run with many parameter sets)",
		Long: `A task runs one step many times over a grid, random or manual set of parameters.
Tasks are referred to as in valohai-cli: !3 or 3 (the number within --project), or
the task's ID.`,
	}
	a.register(c, true)
	c.AddCommand(newCmdTaskList(f, a), newCmdTaskInfo(f, a))
	return c
}

func newCmdTaskList(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "list --project P",
		Aliases: []string{"ls"},
		Short:   "List a project's tasks, oldest first",
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, pid, err := f.projectClient(c.Context(), a)
			if err != nil {
				return err
			}
			var res struct {
				Tasks []taskInfo `json:"tasks"`
			}
			if err := cl.do(c.Context(), `query($p: ID!) { tasks(project: $p) { `+taskFields+` } }`, map[string]any{"p": pid}, &res); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(res.Tasks)
			}
			if len(res.Tasks) == 0 {
				_, err := fmt.Fprintln(f.Out, "no tasks yet")
				return err
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "TASK\tSTATUS\tSTEP\tTYPE\tEXECUTIONS\tCREATED\tBY")
			for _, x := range res.Tasks {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Counter, x.Status, x.Step, x.Type, x.progress(), x.CreatedAt.Local().Format(time.DateTime), x.Creator)
			}
			return w.Flush()
		},
	}
}

// resolveTask finds the task ref names (!N, N or an ID) and returns it.
func resolveTask(ctx context.Context, cl *apiClient, a *apiFlags, ref string) (taskInfo, error) {
	ref = strings.TrimSpace(ref)
	if id, err := domain.ParseTaskID(ref); err == nil {
		var res struct {
			Task taskInfo `json:"task"`
		}
		err := cl.do(ctx, `query($id: ID!) { task(id: $id) { `+taskFields+` } }`, map[string]any{"id": string(id)}, &res)
		return res.Task, err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(ref, "!"))
	if err != nil || n < 1 {
		return taskInfo{}, &usageError{fmt.Errorf("task %q: want !N, N or a task ID ('strata task list' shows them)", ref)}
	}
	pid, err := cl.project(ctx, a)
	if err != nil {
		return taskInfo{}, err
	}
	var res struct {
		Tasks []taskInfo `json:"tasks"`
	}
	if err := cl.do(ctx, `query($p: ID!) { tasks(project: $p) { `+taskFields+` } }`, map[string]any{"p": pid}, &res); err != nil {
		return taskInfo{}, err
	}
	for _, t := range res.Tasks {
		if t.Number == n {
			return t, nil
		}
	}
	return taskInfo{}, fmt.Errorf("the project has no task !%d ('strata task list' shows its tasks)", n)
}

func newCmdTaskInfo(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "info REF",
		Short: "Show a task and the status of each of its executions",
		Args:  exactArgs(1, "REF (!N, N or a task ID)"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			t, err := resolveTask(c.Context(), cl, a, args[0])
			if err != nil {
				return err
			}
			execs, err := fetchEach[execInfo](c.Context(), cl, "execution", "ID", execListFields, t.Executions)
			if err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(map[string]any{"task": t, "executions": execs})
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			row := func(k, v string) { fmt.Fprintf(w, "%s:\t%s\n", k, v) }
			row("task", fmt.Sprintf("%s (%s)", t.Counter, t.ID))
			row("status", t.Status)
			if t.StopRequested {
				row("stop", "requested")
			}
			row("step", t.Step)
			row("type", t.Type)
			row("executions", t.progress())
			if t.BatchSize > 0 {
				row("batch size", strconv.Itoa(t.BatchSize))
			}
			for _, p := range []struct {
				k string
				v json.RawMessage
			}{{"variants", t.Variants}, {"parameter sets", t.ParameterSets}} {
				if len(p.v) > 0 && string(p.v) != "null" {
					row(p.k, string(p.v))
				}
			}
			row("creator", t.Creator)
			row("created", t.CreatedAt.Local().Format(time.DateTime))
			if err := w.Flush(); err != nil {
				return err
			}
			if len(execs) == 0 {
				return nil
			}
			fmt.Fprintln(f.Out)
			w = tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "#\tSTATUS\tSTEP\tCREATED\tDURATION")
			for _, x := range execs {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", x.Number, strings.ToLower(x.Status), x.Step, x.CreatedAt.Local().Format(time.DateTime), fmtDuration(x.Duration))
			}
			return w.Flush()
		},
	}
}
