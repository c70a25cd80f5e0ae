package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// diffFields are what 'exec diff' compares.
const diffFields = `id number step image commit adhoc repository environment commands metadata
  parameters { name values } inputFiles { input uri datum fileName }`

// diffExec is an execution as 'exec diff' reads it.
type diffExec struct {
	ID          string         `json:"id"`
	Number      int            `json:"number"`
	Step        string         `json:"step"`
	Image       string         `json:"image"`
	Commit      *string        `json:"commit"`
	Adhoc       *string        `json:"adhoc"`
	Repository  *string        `json:"repository"`
	Environment string         `json:"environment"`
	Commands    []string       `json:"commands"`
	Metadata    map[string]any `json:"metadata"`
	Parameters  []struct {
		Name   string   `json:"name"`
		Values []string `json:"values"`
	} `json:"parameters"`
	InputFiles []struct {
		Input    string  `json:"input"`
		URI      string  `json:"uri"`
		Datum    *string `json:"datum"`
		FileName string  `json:"fileName"`
	} `json:"inputFiles"`
}

// diffRow is one compared field.
type diffRow struct {
	Field string `json:"field"`
	A     string `json:"a"`
	B     string `json:"b"`
	Same  bool   `json:"same"`
}

func newCmdExecDiff(f *factory, a *apiFlags) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "diff A B [--all]",
		Short: "Compare two executions: parameters, inputs, code, environment, image, metadata",
		Long: `Shows side by side what differs between executions A and B (each #N, N, latest or
an ID): step, code (commit or ad-hoc archive), image, environment, commands, every
parameter, every input file with the SHA-256 of its content, and the latest value of
every metadata key. --all shows the fields that are the same too.`,
		Args: exactArgs(2, "A and B (#N, N, latest or an ID)"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			var xs [2]diffExec
			for i, ref := range args {
				x, err := resolveExecution(c.Context(), cl, a, ref, "id")
				if err != nil {
					return err
				}
				var res struct {
					Execution diffExec `json:"execution"`
				}
				if err := cl.do(c.Context(), `query($id: ID) { execution(id: $id) { `+diffFields+` } }`, map[string]any{"id": x.ID}, &res); err != nil {
					return err
				}
				xs[i] = res.Execution
			}
			rows, err := diffRows(c.Context(), cl, xs[0], xs[1])
			if err != nil {
				return err
			}
			shown := rows[:0:0]
			for _, r := range rows {
				if all || !r.Same {
					shown = append(shown, r)
				}
			}
			if f.JSON {
				return f.printJSON(map[string]any{"a": xs[0].ID, "b": xs[1].ID, "rows": shown})
			}
			if len(shown) == 0 {
				_, err := fmt.Fprintf(f.Out, "executions #%d and #%d do not differ in what diff compares (--all shows it)\n", xs[0].Number, xs[1].Number)
				return err
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "FIELD\t#%d\t#%d\n", xs[0].Number, xs[1].Number)
			for _, r := range shown {
				fmt.Fprintf(w, "%s\t%s\t%s\n", r.Field, r.A, r.B)
			}
			return w.Flush()
		},
	}
	c.Flags().BoolVar(&all, "all", false, "show the fields that are the same too")
	return c
}

// diffRows compares a and b field by field, in a stable order.
func diffRows(ctx context.Context, cl *apiClient, a, b diffExec) ([]diffRow, error) {
	var datums []string
	for _, x := range []diffExec{a, b} {
		for _, in := range x.InputFiles {
			if in.Datum != nil {
				datums = append(datums, *in.Datum)
			}
		}
	}
	ds, err := datumsByID(ctx, cl, datums)
	if err != nil {
		return nil, err
	}
	fields := func(x diffExec) map[string]string {
		m := map[string]string{
			"step": x.Step, "image": x.Image, "environment": x.Environment, "commands": strings.Join(x.Commands, " && "),
			"code": codeText(x),
		}
		for _, p := range x.Parameters {
			m["parameter "+p.Name] = strings.Join(p.Values, ", ")
		}
		files := map[string][]string{}
		for _, in := range x.InputFiles {
			v := in.FileName
			if in.Datum != nil {
				v += " sha256:" + ds[*in.Datum].SHA256
			} else {
				v += " " + in.URI
			}
			files[in.Input] = append(files[in.Input], v)
		}
		for name, v := range files {
			sort.Strings(v)
			m["input "+name] = strings.Join(v, "; ")
		}
		for k, v := range x.Metadata {
			m["metadata "+k] = metaText(v)
		}
		return m
	}
	fa, fb := fields(a), fields(b)
	keys := map[string]bool{}
	for k := range fa {
		keys[k] = true
	}
	for k := range fb {
		keys[k] = true
	}
	order := func(k string) int {
		for i, p := range []string{"step", "code", "image", "environment", "commands", "parameter ", "input ", "metadata "} {
			if strings.HasPrefix(k, p) {
				return i
			}
		}
		return 99
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool {
		if oi, oj := order(sorted[i]), order(sorted[j]); oi != oj {
			return oi < oj
		}
		return sorted[i] < sorted[j]
	})
	rows := make([]diffRow, 0, len(sorted))
	for _, k := range sorted {
		va, oka := fa[k]
		vb, okb := fb[k]
		if !oka {
			va = "-"
		}
		if !okb {
			vb = "-"
		}
		rows = append(rows, diffRow{Field: k, A: va, B: vb, Same: oka == okb && va == vb})
	}
	return rows, nil
}

func codeText(x diffExec) string {
	switch {
	case x.Adhoc != nil:
		return "ad-hoc " + *x.Adhoc
	case x.Commit != nil:
		return "commit " + *x.Commit
	}
	return "-"
}
