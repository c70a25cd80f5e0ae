package valohaiyaml_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratahq/strata/adapters/valohaiyaml"
)

// The corpus in testdata/{valid,invalid} is a copy of
// shared/conformance/valohai-yaml, itself valohai-yaml's examples and error examples.

func corpus(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("glob testdata/%s: %v (%d files)", dir, err, len(paths))
	}
	out := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[dir+"/"+filepath.Base(p)] = data
	}
	return out
}

func TestParse_validCorpus(t *testing.T) {
	for name, data := range corpus(t, "valid") {
		t.Run(name, func(t *testing.T) {
			cfg, problems, err := valohaiyaml.Parse(name, data)
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if cfg == nil {
				t.Fatal("Parse() config = nil")
			}
			for _, p := range problems {
				t.Errorf("Parse() problem %s, want none", p)
			}
		})
	}
}

// TestParse_invalidCorpus checks that each invalid file is rejected for the
// reason it was written for: each fragment must appear in an error, at its line.
func TestParse_invalidCorpus(t *testing.T) {
	tests := map[string][]string{
		"endpoint-names-invalid.yaml": {
			`:2: endpoint "Server-endpoint": name: "Server-endpoint" must be lowercase`,
			`:8: endpoint "3-server-endpoint": name: "3-server-endpoint" must be lowercase`,
			`:14: endpoint "server@endpoint": name: "server@endpoint" must be lowercase`,
			`:20: endpoint "wsgi_endpoint": name: "wsgi_endpoint" must be lowercase`,
		},
		"input-name-too-long.yaml": {
			`:6: step "very-bad-example": inputs: input "this-input-name-is-way-too-long-and-will-cause-the-validation-to-fail": name: ` +
				`"this-input-name-is-way-too-long-and-will-cause-the-validation-to-fail" is 69 characters, longer than the maximum of 64`,
		},
		"invalid-YAML-indentation.yaml": {
			`:3: invalid YAML: mapping values are not allowed in this context (check the indentation)`,
		},
		"invalid-edge-parts.yaml": {
			`:19: pipeline "Mipeline": edges[0]: target: "batch2.input" must have 3 parts, node.type.key (it has 2)`,
		},
		"invalid-indentation-with-valid-YAML.yaml": {
			`:1: item #1 (step): must be a mapping, got null; the keys after it are not indented under it (check the indentation)`,
		},
		"invalid-on-error-value.yaml": {
			`:24: pipeline "dynamic-task": nodes: node "train-with-errors": on-error: "report-to-sentry" is not one of`,
		},
		"invalid-pipeline-with-override-example.yaml": {
			`:48: pipeline "My overriden input pipeline": node "merged": step "base step": input training-labels-error does not exist in step`,
			`:53: pipeline "My overriden input pipeline": node "merged": step "base step": parameter d does not exist in step`,
			`:55: pipeline "My overriden input pipeline": node "overridden": step: step "secon step" does not exist`,
		},
		"invalid-shorthand-edge.yaml": {
			`:16: pipeline "Mipeline": edges[0]: malformed edge shorthand [batch1.input.training-labels*]: it must list exactly a source and a target`,
		},
		"invalid-task-blueprint-reference.yaml": {
			`:23: pipeline "invalid-task-pipeline": node "task-node": task: task "my-non-existent-task" does not exist`,
		},
		"invalid-upload-store-value.yaml": {
			`:4: step "preprocess": upload-store: "This is a test string exactly with  65 characters long in length." is 65 characters, longer than the maximum of 64`,
		},
		"pipeline-with-preset-override-without-environment.yaml": {
			`:16: pipeline "Training pipeline": node "train-node": step "train": missing "environment": when specifying a runtime config preset`,
		},
		"step-invalid-resources.yaml": {
			`:7: step "contains partial workload resources": resources: cpu: min: must be a number, got "Not a number"`,
		},
		"step-missing-required-properties.yaml": {
			`:2: item #1 (step): image: must be a string, got boolean yes (YAML 1.1`,
			`:2: item #1 (step): missing required field "name"`,
			`:2: item #1 (step): missing required field "command"`,
			`:6: step "hiiii": command: must be a string or a list of strings, got integer 8`,
		},
		"step-preset-without-environment.yaml": {
			`:2: step "preset without environment": runtime-config-preset: missing "environment"`,
		},
		"step-stop-condition.yaml": {
			`:5: step "no-stop": stop-condition: "stop me if you can" is not a valid expression: invalid syntax at column 6 near "me"`,
		},
		"step-with-error-tasks.yaml": {
			`:17: item #2 (task): missing required field "name"`,
			`:22: item #2 (task): parameters: parameter "A": rules: must be a mapping, got null`,
			`:29: task "task 2 linear": parameters: parameter #1: name: must be a string, got null`,
			`:29: task "task 2 linear": parameters: parameter #1: missing required field "style"`,
			`:44: task "task 4 logspace": missing required field "step"`,
			`:61: task "task 5 random": parameters: parameter #1: missing required field "name"`,
			`:61: task "task 5 random": parameters: parameter #1: missing required field "style"`,
		},
		"task-stop-condition.yaml": {
			`:10: task "no-stop": stop-condition: "can't stop me now" is not a valid expression: unterminated string literal`,
		},
		"wrong-edge-merge-mode.yaml": {
			`:15: pipeline "bad-pp": nodes: node "bad-pn": edge-merge-mode: "boo-boo" is not one of "replace", "append"`,
		},
	}
	files := corpus(t, "invalid")
	if len(files) != len(tests) {
		t.Errorf("invalid corpus has %d files, table has %d", len(files), len(tests))
	}
	for base, want := range tests {
		name := "invalid/" + base
		t.Run(base, func(t *testing.T) {
			data, ok := files[name]
			if !ok {
				t.Fatalf("%s missing from testdata", name)
			}
			cfg, problems, err := valohaiyaml.Parse(name, data)
			if !errors.Is(err, valohaiyaml.ErrInvalid) {
				t.Fatalf("Parse() error = %v, want ErrInvalid", err)
			}
			if cfg != nil {
				t.Error("Parse() config != nil with errors")
			}
			var errs []string
			for _, p := range problems {
				if p.Severity == valohaiyaml.Error {
					errs = append(errs, p.String())
				}
			}
			if len(errs) != len(want) {
				t.Errorf("Parse() gave %d errors, want %d:\n%s", len(errs), len(want), strings.Join(errs, "\n"))
			}
			for _, frag := range want {
				found := false
				for _, e := range errs {
					found = found || strings.HasPrefix(e, name+frag[:strings.Index(frag, " ")]) && strings.Contains(e, frag)
				}
				if !found {
					t.Errorf("no error contains %q; errors:\n%s", name+frag, strings.Join(errs, "\n"))
				}
			}
		})
	}
}
