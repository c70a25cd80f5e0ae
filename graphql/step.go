package graphql

import (
	"fmt"
	"strconv"

	"github.com/stratahq/strata/adapters/valohaiyaml"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
)

// FromStep turns a valohai.yaml step, the parameter values given (laid over the defaults)
// and the input URIs given (laid over the defaults) into the request that creates an
// execution of it: the commands rendered, the definitions the aggregate validates against,
// the time limits. Project, Code and Environment are left to the caller.
//
// It lives here, above the inner packages, because it reads the valohai.yaml adapter's
// types and builds app's request: runStep uses it, and so do suites that create
// executions from a valohai.yaml (runnertest, examples/quickstart).
func FromStep(s *valohaiyaml.Step, values map[string]any, inputs map[string][]string) (app.CreateExecution, error) {
	cmds, err := s.BuildCommand(values)
	if err != nil {
		return app.CreateExecution{}, fmt.Errorf("build command of step %s: %w: %w", s.Name, err, domain.ErrInvalid)
	}
	c := app.CreateExecution{
		Step: execution.Step{Name: s.Name}, Image: s.Image, Commands: cmds,
		Parameters: map[string][]string{}, Inputs: map[string][]string{},
		TimeLimit: s.TimeLimit, NoOutput: s.NoOutputTimeout,
	}
	merged := s.DefaultValues()
	for k, v := range values {
		merged[k] = v
	}
	for _, p := range s.Parameters {
		d := execution.ParameterDef{Name: p.Name, Type: execution.ParameterType(p.Type), Optional: p.Optional, Min: p.Min, Max: p.Max}
		if p.Type == "" {
			d.Type = execution.TypeString
		}
		if p.Multiple != valohaiyaml.MultipleNone {
			d.Multiple = execution.Multiple(p.Multiple)
		}
		for _, ch := range p.Choices {
			d.Choices = append(d.Choices, text(ch)...)
		}
		if p.Default != nil {
			d.Default = text(p.Default)
		}
		c.Step.Parameters = append(c.Step.Parameters, d)
		if v, ok := merged[p.Name]; ok && v != nil {
			c.Parameters[p.Name] = text(v)
		}
	}
	for _, in := range s.Inputs {
		c.Step.Inputs = append(c.Step.Inputs, execution.InputDef{
			Name: in.Name, Optional: in.Optional, Default: in.Default, Filename: in.Filename, KeepDirectories: string(in.KeepDirectories),
		})
		if uris, ok := inputs[in.Name]; ok {
			c.Inputs[in.Name] = uris
		} else if len(in.Default) > 0 {
			c.Inputs[in.Name] = in.Default
		}
	}
	for name := range inputs {
		if s.Input(name) == nil {
			return app.CreateExecution{}, fmt.Errorf("step %s has no input %q: %w", s.Name, name, domain.ErrInvalid)
		}
	}
	for _, v := range s.EnvironmentVariables {
		if v.HasDefault {
			c.Variables = append(c.Variables, execution.EnvironmentVariable{Name: v.Name, Value: v.Default})
		}
	}
	return c, nil
}

// text renders a valohai.yaml value as the aggregate's canonical text values.
func text(v any) []string {
	switch v := v.(type) {
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, text(x)...)
		}
		return out
	case bool:
		return []string{strconv.FormatBool(v)}
	case int64:
		return []string{strconv.FormatInt(v, 10)}
	case int:
		return []string{strconv.Itoa(v)}
	case float64:
		return []string{strconv.FormatFloat(v, 'g', -1, 64)}
	case string:
		return []string{v}
	}
	return []string{fmt.Sprint(v)}
}
