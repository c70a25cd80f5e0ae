// Package valohaiyaml parses, validates and lints valohai.yaml files and
// renders step commands exactly as Valohai does.
//
// It owns the configuration format (reference/valohai-compat.md §1): steps,
// parameters, inputs, environment variables, mounts, resources, durations,
// tasks, pipelines (nodes, edges, actions, overrides), endpoints and
// deployments, as plain Go types. It imports only the standard library and
// gopkg.in/yaml.v3; it must not import domain, events or other adapters.
//
// Validation mirrors valohai-yaml's JSON Schema and linter: unknown fields,
// wrong types, bad enum values and broken references are errors; what
// Valohai only warns about (duplicate names, ineffective options, bad
// parameter defaults, unknown top-level items) are warnings. Every problem
// names its file, line and field, and all problems are collected rather than
// stopping at the first. Scalars follow YAML 1.1 where Valohai (PyYAML) does:
// an unquoted `yes` or `on` is a boolean, so `image: yes` is an error.
//
// Hostile input is bounded: at most MaxSize bytes, MaxDepth levels of nesting
// and MaxNodes nodes with aliases expanded (alias bombs fail fast), and
// aliases that contain themselves are rejected.
//
// The `strata lint FILE...` command uses Lint like this; it prints warnings
// without failing and exits non-zero exactly when there is an error:
//
//	failed := false
//	for _, path := range files {
//		data, err := os.ReadFile(path)
//		if err != nil {
//			fmt.Fprintf(stderr, "%s: %v\n", path, err)
//			failed = true
//			continue
//		}
//		problems := valohaiyaml.Lint(path, data)
//		for _, p := range problems {
//			fmt.Fprintln(stdout, p) // file:line: [warning: ]field: message
//		}
//		failed = failed || valohaiyaml.HasErrors(problems)
//	}
//	if failed {
//		return exitError(1)
//	}
//
// The runner builds a step's command with Step.BuildCommand and joins it with
// runner.JoinCommand before running it with /bin/sh -e -c.
package valohaiyaml
