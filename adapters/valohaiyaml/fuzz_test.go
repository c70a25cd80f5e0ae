package valohaiyaml_test

import (
	"errors"
	"testing"

	"github.com/stratahq/strata/adapters/valohaiyaml"
	"github.com/stratahq/strata/runner"
)

// FuzzParse checks that no input panics, that problems and errors agree, and
// that a successful parse renders every step's command. Under plain
// `go test` it runs the corpus seeds only; run it with
// `go test -fuzz FuzzParse ./adapters/valohaiyaml/`.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		for _, data := range corpus(f, dir) {
			f.Add(data)
		}
	}
	f.Add([]byte("- &a [*a]\n"))
	f.Add([]byte("- step: {name: s, image: i, command: 'x {parameters}', parameters: [{name: p, type: flag}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, problems, err := valohaiyaml.Parse("fuzz.yaml", data)
		if hasErr := valohaiyaml.HasErrors(problems); hasErr != (err != nil) || hasErr != (cfg == nil) {
			t.Fatalf("Parse() cfg=%v err=%v with HasErrors=%v", cfg != nil, err, hasErr)
		}
		if err != nil && !errors.Is(err, valohaiyaml.ErrInvalid) {
			t.Fatalf("Parse() error = %v, want ErrInvalid", err)
		}
		for _, p := range problems {
			_ = p.String()
		}
		if cfg == nil {
			return
		}
		for _, s := range cfg.Steps {
			if cmds, err := s.BuildCommand(s.DefaultValues()); err == nil {
				_ = runner.JoinCommand(cmds, " && ")
			}
		}
	})
}
