package valohaiyaml_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/valohaiyaml"
)

func TestParse_limits(t *testing.T) {
	// billion laughs: 9 levels of 9 aliases each expand to 9^9 nodes.
	var bomb strings.Builder
	bomb.WriteString("- step:\n    name: s\n    image: b\n    command: c\n    description: &a0 [lol]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&bomb, "- x%d: &a%d [", i, i)
		for j := 0; j < 9; j++ {
			if j > 0 {
				bomb.WriteString(", ")
			}
			fmt.Fprintf(&bomb, "*a%d", i-1)
		}
		bomb.WriteString("]\n")
	}
	tests := []struct {
		name string
		data string
		want string
	}{
		{"too large", strings.Repeat("#", valohaiyaml.MaxSize+1), "v.yaml: file is 1048577 bytes, larger than the maximum of 1048576 bytes (1 MiB)"},
		{"alias bomb", bomb.String(), "counting each alias as its expansion (alias bomb?)"},
		{"deep flow nesting", "- step: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000), "nests deeper than the maximum of 64 levels"},
		{"deep block nesting", "- step:\n" + func() string {
			var b strings.Builder
			for i := 1; i < 100; i++ {
				fmt.Fprintf(&b, "%s- \n", strings.Repeat("  ", i))
			}
			return b.String()
		}(), "nests deeper than the maximum of 64 levels"},
		{"parser depth limit", strings.Repeat("[", 20000), "invalid YAML"},
		{"not utf-8", "- step: \xff\xfe\xfd", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			problems := valohaiyaml.Lint("v.yaml", []byte(tt.data))
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Lint() took %v, want it to fail fast", elapsed)
			}
			if len(problems) != 1 || problems[0].Severity != valohaiyaml.Error || !strings.Contains(problems[0].String(), tt.want) {
				t.Errorf("Lint() = %v, want one error containing %q", problems, tt.want)
			}
		})
	}
}

func TestParse_aliasesWithinLimits(t *testing.T) {
	data := []byte(`
- step:
    name: a
    image: &img python:3.12
    command: &cmd [python a.py]
    inputs: &inputs
      - name: data
- step:
    name: b
    image: *img
    command: *cmd
    inputs: *inputs
`)
	cfg, problems, err := valohaiyaml.Parse("v.yaml", data)
	if err != nil || len(problems) != 0 {
		t.Fatalf("Parse() = %v, %v", problems, err)
	}
	if b := cfg.Step("b"); b.Image != "python:3.12" || b.Command[0] != "python a.py" || b.Inputs[0].Name != "data" {
		t.Errorf("step b = %+v", b)
	}
}
