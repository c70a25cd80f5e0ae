package valohaiyaml_test

import (
	"fmt"

	"github.com/stratahq/strata/adapters/valohaiyaml"
	"github.com/stratahq/strata/runner"
)

func ExampleLint() {
	data := []byte(`- step:
    name: train
    image: python:3.12
    command: python train.py {parameters}
    parameters:
      - name: lr
        type: float
        min: 5
        max: 1
      - name: verbose
        type: flag
        optional: true
`)
	problems := valohaiyaml.Lint("valohai.yaml", data)
	for _, p := range problems {
		fmt.Println(p)
	}
	fmt.Println("exit non-zero:", valohaiyaml.HasErrors(problems))
	// Output:
	// valohai.yaml:8: step "train": parameters: parameter "lr": min: 5 is greater than max 1
	// valohai.yaml:12: warning: step "train": parameters: parameter "verbose": optional: has no effect on flag-type parameters
	// exit non-zero: true
}

func ExampleStep_BuildCommand() {
	data := []byte(`- step:
    name: train
    image: python:3.12
    command:
      - pip install -r requirements.txt
      - python train.py {parameters}
    parameters:
      - name: epochs
        type: integer
        default: 10
      - name: layers
        type: integer
        multiple: separate
        multiple-separator: "-"
        default: [64, 32]
`)
	cfg, _, err := valohaiyaml.Parse("valohai.yaml", data)
	if err != nil {
		fmt.Println(err)
		return
	}
	cmds, err := cfg.Step("train").BuildCommand(map[string]any{"epochs": int64(3)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(runner.JoinCommand(cmds, " && "))
	// Output:
	// pip install -r requirements.txt && python train.py --epochs=3 --layers=64-32
}
