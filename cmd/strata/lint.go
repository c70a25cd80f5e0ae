package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/stratahq/strata/adapters/valohaiyaml"
)

func newCmdLint(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "lint FILE...",
		Short: "Check valohai.yaml files",
		Long: `Prints one line per problem, file:line: field: message, like a compiler. Warnings are
printed but do not fail; the exit code is 1 exactly when some file has an error.
Use - to read standard input.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{fmt.Errorf("lint needs at least one FILE (try: strata lint valohai.yaml)")}
			}
			return nil
		},
		RunE: func(_ *cobra.Command, files []string) error {
			type problem struct {
				Line     int    `json:"line"`
				Column   int    `json:"column,omitempty"`
				Field    string `json:"field,omitempty"`
				Message  string `json:"message"`
				Severity string `json:"severity"`
			}
			type result struct {
				File     string    `json:"file"`
				Problems []problem `json:"problems"`
			}
			var results []result
			failed := false
			for _, path := range files {
				data, err := readInput(f, path)
				if err != nil {
					fmt.Fprintf(f.Err, "%s: %v\n", path, err)
					failed = true
					continue
				}
				problems := valohaiyaml.Lint(path, data)
				failed = failed || valohaiyaml.HasErrors(problems)
				r := result{File: path, Problems: []problem{}}
				for _, p := range problems {
					r.Problems = append(r.Problems, problem{p.Line, p.Column, p.Field, p.Message, p.Severity.String()})
				}
				results = append(results, r)
				if !f.JSON {
					for _, p := range problems {
						fmt.Fprintln(f.Out, p)
					}
				}
			}
			if f.JSON {
				if err := f.printJSON(results); err != nil {
					return err
				}
			}
			if failed {
				return &codeError{code: exitFailure}
			}
			return nil
		},
	}
}

// maxInput bounds what lint reads; valohaiyaml refuses anything larger with a clear message.
const maxInput = valohaiyaml.MaxSize + 1

func readInput(f *factory, path string) ([]byte, error) {
	r := f.In
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer func() { _ = file.Close() }() // read-only: nothing to lose
		r = file
	}
	return io.ReadAll(io.LimitReader(r, maxInput))
}
