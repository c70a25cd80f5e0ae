package valohaiyaml

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	taskTypes        = []string{"grid_search", "random_search", "manual_search", "bayesian_tpe", "distributed"}
	taskChildErrors  = []string{"continue-and-complete", "continue-and-error", "stop-all-and-error"}
	variantStyles    = []string{"single", "multiple", "linear", "logspace", "random"}
	endpointNameRe   = regexp.MustCompile(`^[a-z][a-z0-9-]+$`)
	numericRuleKeys  = map[string]bool{"start": true, "end": true, "step": true, "count": true, "base": true, "min": true, "max": true, "seed": true}
	booleanRuleKeys  = map[string]bool{"integerify": true, "numberify": true}
	bayesianOnlyKeys = []string{"engine", "optimization-target-metric", "optimization-target-value"}
)

func (d *decoder) task(n *yaml.Node, index int) *Task {
	t := &Task{Type: "grid_search", Line: resolve(n).Line}
	field := topNamed("task", peekString(n, "name"), index)
	nodes := map[string]*yaml.Node{}
	ok := d.object(n, field, []string{"name", "step"}, func(p pair) bool {
		f := join(field, p.key)
		nodes[p.key] = p.value
		switch p.key {
		case "name":
			t.Name, _ = d.str(p.value, f)
		case "step":
			t.Step, _ = d.str(p.value, f)
		case "description":
			t.Description, _ = d.str(p.value, f)
		case "type":
			if s, ok := d.str(p.value, f); ok {
				t.Type = normalizeEnum(s, "-", "_")
				if !contains(taskTypes, t.Type) {
					d.errorf(resolve(p.value), f, "%q is not one of %s", s, quoteAll(taskTypes))
				}
			}
		case "parameters":
			for i, item := range d.list(p.value, f) {
				if vp := d.variantParameter(item, f, i); vp != nil {
					t.Parameters = append(t.Parameters, vp)
				}
			}
		case "parameter-sets":
			for i, item := range d.list(p.value, f) {
				if m := d.anyMap(item, fmt.Sprintf("%s[%d]", f, i)); len(m) > 0 {
					t.ParameterSets = append(t.ParameterSets, m)
				}
			}
		case "execution-count":
			t.ExecutionCount = d.intPtr(p.value, f)
		case "execution-batch-size":
			t.ExecutionBatchSize = d.intPtr(p.value, f)
		case "maximum-queued-executions":
			t.MaximumQueuedExecutions = d.intPtr(p.value, f)
		case "on-child-error":
			if s, ok := d.str(p.value, f); ok {
				t.OnChildError = normalizeEnum(s, "_", "-")
				if !contains(taskChildErrors, t.OnChildError) {
					d.errorf(resolve(p.value), f, "%q is not one of %s", s, quoteAll(taskChildErrors))
				}
			}
		case "engine":
			t.Engine, _ = d.str(p.value, f)
		case "optimization-target-metric":
			t.OptimizationTargetMetric, _ = d.str(p.value, f)
		case "optimization-target-value":
			t.OptimizationTargetValue = d.numberPtr(p.value, f)
		case "stop-condition":
			if s, ok := d.str(p.value, f); ok {
				t.StopCondition = s
				d.expression(p.value, f, s)
			}
		case "reuse-children":
			t.ReuseChildren, _ = d.boolean(p.value, f)
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	if nodes["parameters"] == nil && nodes["parameter-sets"] == nil {
		d.errorf(resolve(n), field, `missing required field "parameters" or "parameter-sets"`)
	}
	if nodes["parameter-sets"] != nil && t.Type != "manual_search" {
		d.warnf(resolve(nodes["parameter-sets"]), join(field, "parameter-sets"), "only make sense with manual search")
	}
	if t.Type != "bayesian_tpe" {
		for _, k := range bayesianOnlyKeys {
			if nodes[k] != nil {
				d.warnf(resolve(nodes[k]), join(field, k), "only makes sense for Bayesian TPE tasks")
			}
		}
	}
	return t
}

func normalizeEnum(s, from, to string) string {
	return strings.ReplaceAll(strings.ToLower(s), from, to)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (d *decoder) intPtr(n *yaml.Node, field string) *int64 {
	if i, ok := d.integer(n, field); ok {
		if i < 0 {
			d.errorf(resolve(n), field, "%d is negative", i)
		}
		return &i
	}
	return nil
}

func (d *decoder) variantParameter(n *yaml.Node, parent string, index int) *VariantParameter {
	vp := &VariantParameter{Line: resolve(n).Line}
	field := join(parent, named("parameter", peekString(n, "name"), index))
	ok := d.object(n, field, []string{"name", "style", "rules"}, func(p pair) bool {
		f := join(field, p.key)
		switch p.key {
		case "name":
			vp.Name, _ = d.str(p.value, f)
		case "style":
			vp.Style, _ = d.enum(p.value, f, variantStyles...)
		case "rules":
			vp.Rules = d.rules(p.value, f)
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	return vp
}

func (d *decoder) rules(n *yaml.Node, field string) map[string]any {
	out := map[string]any{}
	ok := d.object(n, field, nil, func(p pair) bool {
		f := join(field, p.key)
		switch {
		case numericRuleKeys[p.key]:
			if v, ok := d.number(p.value, f); ok {
				out[p.key] = value(p.value)
				_ = v
			}
		case booleanRuleKeys[p.key]:
			if b, ok := d.boolean(p.value, f); ok {
				out[p.key] = b
			}
		case p.key == "distribution":
			if s, ok := d.str(p.value, f); ok {
				out[p.key] = s
			}
		case p.key == "value":
			out[p.key] = value(p.value)
		case p.key == "items":
			items := d.list(p.value, f)
			vals := make([]any, 0, len(items))
			for _, it := range items {
				vals = append(vals, value(it))
			}
			out[p.key] = vals
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	return out
}

func (d *decoder) endpoint(n *yaml.Node, index int) *Endpoint {
	e := &Endpoint{Port: 8000, Line: resolve(n).Line}
	field := topNamed("endpoint", peekString(n, "name"), index)
	var hasServer, hasWSGI bool
	ok := d.object(n, field, []string{"name", "image"}, func(p pair) bool {
		f := join(field, p.key)
		switch p.key {
		case "name":
			if s, ok := d.str(p.value, f); ok {
				if !endpointNameRe.MatchString(s) {
					d.errorf(resolve(p.value), f, "%q must be lowercase, start with a letter and contain only letters, digits and dashes (pattern %s)", s, endpointNameRe)
				}
				e.Name = s
			}
		case "image":
			e.Image, _ = d.str(p.value, f)
		case "description":
			e.Description, _ = d.str(p.value, f)
		case "server-command":
			hasServer = true
			e.ServerCommand, _ = d.strs(p.value, f)
		case "wsgi":
			hasWSGI = true
			e.WSGI, _ = d.str(p.value, f)
		case "port":
			if i, ok := d.integer(p.value, f); ok {
				if i < 1025 || i > 65535 {
					d.errorf(resolve(p.value), f, "%d is outside 1025..65535", i)
				}
				e.Port = int(i)
			}
		case "files":
			for i, item := range d.list(p.value, f) {
				if ef := d.endpointFile(item, f, i); ef != nil {
					e.Files = append(e.Files, ef)
				}
			}
		case "node-selector":
			if s, ok := d.str(p.value, f); ok {
				if !strings.Contains(s, "=") {
					d.errorf(resolve(p.value), f, "%q must be key=value", s)
				}
				e.NodeSelector = s
			}
		case "resources":
			e.Resources = d.resources(p.value, f, true)
		case "tolerations":
			for i, item := range d.list(p.value, f) {
				if t := d.toleration(item, f, i); t != nil {
					e.Tolerations = append(e.Tolerations, t)
				}
			}
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	switch {
	case hasServer && hasWSGI:
		d.errorf(resolve(n), field, `has both "server-command" and "wsgi"; use exactly one`)
	case !hasServer && !hasWSGI:
		d.errorf(resolve(n), field, `missing "server-command" or "wsgi"; use exactly one`)
	}
	return e
}

func (d *decoder) endpointFile(n *yaml.Node, parent string, index int) *EndpointFile {
	ef := &EndpointFile{Line: resolve(n).Line}
	field := join(parent, named("file", peekString(n, "name"), index))
	ok := d.object(n, field, []string{"name", "path"}, func(p pair) bool {
		f := join(field, p.key)
		switch p.key {
		case "name":
			ef.Name, _ = d.str(p.value, f)
		case "path":
			ef.Path, _ = d.str(p.value, f)
		case "description":
			ef.Description, _ = d.str(p.value, f)
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	return ef
}

func (d *decoder) toleration(n *yaml.Node, parent string, index int) *Toleration {
	t := &Toleration{Line: resolve(n).Line}
	field := fmt.Sprintf("%s[%d]", parent, index)
	ok := d.object(n, field, nil, func(p pair) bool {
		f := join(field, p.key)
		switch p.key {
		case "key":
			t.Key, _ = d.str(p.value, f)
		case "operator":
			t.Operator, _ = d.enum(p.value, f, "Exists", "Equal")
		case "value":
			t.Value, _ = d.str(p.value, f)
		case "effect":
			t.Effect, _ = d.enum(p.value, f, "NoSchedule", "PreferNoSchedule", "NoExecute")
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	if t.Key == "" && t.Operator != "Exists" {
		d.errorf(resolve(n), field, `missing "key"; only operator "Exists" may leave it out`)
	}
	return t
}

func (d *decoder) deployment(n *yaml.Node, index int) *Deployment {
	dep := &Deployment{Line: resolve(n).Line}
	field := topNamed("deployment", peekString(n, "name"), index)
	ok := d.object(n, field, []string{"name"}, func(p pair) bool {
		f := join(field, p.key)
		switch p.key {
		case "name":
			dep.Name, _ = d.str(p.value, f)
		case "defaults":
			pairs, ok := d.mapping(p.value, f)
			if !ok {
				return true
			}
			dep.Defaults = map[string]any{}
			hasTarget := false
			for _, kv := range pairs {
				if kv.key == "target" {
					hasTarget = true
					if s, ok := d.str(kv.value, join(f, "target")); ok {
						dep.Defaults["target"] = s
					}
					continue
				}
				dep.Defaults[kv.key] = value(kv.value)
			}
			if !hasTarget {
				d.errorf(resolve(p.value), f, `missing required field "target"`)
			}
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	return dep
}
