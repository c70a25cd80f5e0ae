package graphql

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/domain/task"
	"github.com/stratahq/strata/graphql/generated"
)

// maxTaskExecutions bounds the executions one createTask request creates, so it ends
// within the request timeout.
const maxTaskExecutions = 1000

// createExecutionOf turns createExecution's input into the command: every parameter and
// input given is declared on the step (text parameters), as the request names them.
func (r *Resolver) createExecutionOf(ctx context.Context, input generated.CreateExecutionInput) (app.CreateExecution, error) {
	p, err := r.app.ProjectID(ctx, input.Project)
	if err != nil {
		return app.CreateExecution{}, err
	}
	env, err := domain.ParseEnvironmentID(input.Environment)
	if err != nil {
		return app.CreateExecution{}, err
	}
	c := app.CreateExecution{Project: p, Step: execution.Step{Name: input.Step}, Image: input.Image, Commands: input.Commands,
		Environment: env, Tags: input.Tags, Parameters: map[string][]string{}, Inputs: map[string][]string{}}
	if input.Repository != nil {
		c.Code.Repository = *input.Repository
	}
	if input.Commit != nil {
		c.Code.Commit = *input.Commit
	}
	if input.Adhoc != nil {
		if c.Code.Adhoc, err = domain.ParseDatumID(*input.Adhoc); err != nil {
			return app.CreateExecution{}, fmt.Errorf("adhoc: %w", err)
		}
	}
	if input.Title != nil {
		c.Title = *input.Title
	}
	if input.Network != nil {
		c.Network = *input.Network
	}
	for _, pv := range input.Parameters {
		c.Parameters[pv.Name] = pv.Values
		c.Step.Parameters = append(c.Step.Parameters, execution.ParameterDef{Name: pv.Name, Type: execution.TypeString})
	}
	for _, in := range input.Inputs {
		c.Inputs[in.Name] = in.Uris
		c.Step.Inputs = append(c.Step.Inputs, execution.InputDef{Name: in.Name})
	}
	return c, nil
}

// createTaskOf turns createTask's input into the command. The parameters that vary are
// declared on the template's step (text parameters) beside those it gives.
func (r *Resolver) createTaskOf(ctx context.Context, input generated.CreateTaskInput) (app.CreateTask, error) {
	if input.Execution == nil {
		return app.CreateTask{}, fmt.Errorf("execution: missing: %w", domain.ErrInvalid)
	}
	x, err := r.createExecutionOf(ctx, *input.Execution)
	if err != nil {
		return app.CreateTask{}, fmt.Errorf("execution: %w", err)
	}
	c := app.CreateTask{Execution: x, Type: task.Type(strings.ToLower(string(input.Type))), MaxExecutions: maxTaskExecutions}
	if input.ExecutionCount != nil {
		c.ExecutionCount = *input.ExecutionCount
	}
	if input.BatchSize != nil {
		c.BatchSize = *input.BatchSize
	}
	// A manual set may leave out a parameter another set gives: those are optional.
	declare := func(name string, optional bool) {
		for _, d := range c.Execution.Step.Parameters {
			if d.Name == name {
				return
			}
		}
		c.Execution.Step.Parameters = append(c.Execution.Step.Parameters, execution.ParameterDef{Name: name, Type: execution.TypeString, Optional: optional})
	}
	for _, v := range input.Variants {
		c.Variants = append(c.Variants, variantOf(v))
		declare(v.Name, false)
	}
	for i, raw := range input.ParameterSets {
		set, err := parameterSetOf(raw)
		if err != nil {
			return app.CreateTask{}, fmt.Errorf("parameterSets[%d]: %w", i, err)
		}
		for name := range set {
			declare(name, true)
		}
		c.ParameterSets = append(c.ParameterSets, set)
	}
	return c, nil
}

func variantOf(in generated.VariantInput) task.Variant {
	v := task.Variant{Name: in.Name, Style: task.Style(strings.ToLower(string(in.Style))), Items: in.Items}
	set := func(dst *float64, src *float64) {
		if src != nil {
			*dst = *src
		}
	}
	set(&v.Start, in.Start)
	set(&v.End, in.End)
	set(&v.Step, in.Step)
	set(&v.Base, in.Base)
	set(&v.Min, in.Min)
	set(&v.Max, in.Max)
	if in.Value != nil {
		v.Value = *in.Value
	}
	if in.Count != nil {
		v.Count = *in.Count
	}
	if in.Distribution != nil {
		v.Distribution = *in.Distribution
	}
	if in.Seed != nil {
		v.Seed = int64(*in.Seed)
	}
	if in.Integerify != nil {
		v.Integerify = *in.Integerify
	}
	return v
}

// parameterSetOf reads one manual-search set: a JSON object of parameter values, each a
// string, number or boolean (numbers and booleans as their JSON text).
func parameterSetOf(raw any) (map[string]string, error) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want an object of parameter values, got %s: %w", jsonKind(raw), domain.ErrInvalid)
	}
	out := make(map[string]string, len(obj))
	for name, v := range obj {
		switch v := v.(type) {
		case string:
			out[name] = v
		case json.Number:
			out[name] = v.String()
		case bool, float64, int, int64:
			b, _ := json.Marshal(v)
			out[name] = string(b)
		default:
			return nil, fmt.Errorf("parameter %q: want a string, number or boolean, got %s: %w", name, jsonKind(v), domain.ErrInvalid)
		}
	}
	return out, nil
}

// propertiesOf reads a JSON object of properties; a null value removes one.
func propertiesOf(raw any) (map[string]json.RawMessage, error) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("properties: want a JSON object, got %s: %w", jsonKind(raw), domain.ErrInvalid)
	}
	out := make(map[string]json.RawMessage, len(obj))
	for k, v := range obj {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("properties: %q: %v: %w", k, err, domain.ErrInvalid)
		}
		out[k] = b
	}
	return out, nil
}

// jsonKind names the kind of a decoded JSON value for an error message.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}
