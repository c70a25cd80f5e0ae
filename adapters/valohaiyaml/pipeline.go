package valohaiyaml

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// edgeTypes are the socket types an edge may connect.
var edgeTypes = []string{"output", "input", "parameter", "metadata", "file", "environment-variable", "dependency", "deployment"}

func (d *decoder) pipeline(n *yaml.Node, index int) *Pipeline {
	pl := &Pipeline{Line: resolve(n).Line}
	field := topNamed("pipeline", peekString(n, "name"), index)
	ok := d.object(n, field, []string{"name", "nodes", "edges"}, func(p pair) bool {
		f := join(field, p.key)
		switch p.key {
		case "name":
			pl.Name, _ = d.str(p.value, f)
		case "nodes":
			for i, item := range d.list(p.value, f) {
				if nd := d.node(item, f, i); nd != nil {
					pl.Nodes = append(pl.Nodes, nd)
				}
			}
		case "edges":
			for i, item := range d.list(p.value, f) {
				if e := d.edge(item, f, i); e != nil {
					pl.Edges = append(pl.Edges, e)
				}
			}
		case "parameters":
			for i, item := range d.list(p.value, f) {
				if pp := d.pipelineParameter(item, f, i); pp != nil {
					pl.Parameters = append(pl.Parameters, pp)
				}
			}
		case "reuse-executions":
			pl.ReuseExecutions, _ = d.boolean(p.value, f)
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	return pl
}

func (d *decoder) node(n *yaml.Node, parent string, index int) *Node {
	nd := &Node{Line: resolve(n).Line}
	field := join(parent, named("node", peekString(n, "name"), index))
	typ := peekString(n, "type")
	switch NodeType(typ) {
	case NodeExecution, NodeTask, NodeDeployment:
	default:
		if _, ok := d.mapping(n, field); !ok {
			return nil
		}
		if typ == "" {
			d.errorf(resolve(n), join(field, "type"), "missing: must be one of %s", quoteAll([]string{"execution", "task", "deployment"}))
		} else {
			d.errorf(resolve(n), join(field, "type"), "%q is not one of %s", typ, quoteAll([]string{"execution", "task", "deployment"}))
		}
		return nil
	}
	nd.Type = NodeType(typ)
	required := []string{"name", "type", "step"}
	switch nd.Type {
	case NodeDeployment:
		required = []string{"name", "type", "deployment"}
	case NodeTask:
		required = []string{"name", "type"}
	}
	ok := d.object(n, field, required, func(p pair) bool {
		f := join(field, p.key)
		isDeploy := nd.Type == NodeDeployment
		switch {
		case p.key == "name":
			nd.Name, _ = d.str(p.value, f)
		case p.key == "type":
		case p.key == "actions":
			for i, item := range d.list(p.value, f) {
				if a := d.action(item, f, i); a != nil {
					nd.Actions = append(nd.Actions, a)
				}
			}
		case p.key == "on-error" && isDeploy:
			nd.OnError, _ = d.enum(p.value, f, "stop-all", "stop-next", "continue")
		case p.key == "on-error":
			nd.OnError, _ = d.enum(p.value, f, "stop-all", "stop-next", "continue", "retry")
		case p.key == "step" && !isDeploy:
			nd.Step, _ = d.str(p.value, f)
		case p.key == "task" && nd.Type == NodeTask:
			nd.Task, _ = d.str(p.value, f)
		case p.key == "commit" && !isDeploy:
			nd.Commit, _ = d.str(p.value, f)
		case p.key == "edge-merge-mode" && !isDeploy:
			nd.EdgeMergeMode, _ = d.enum(p.value, f, "replace", "append")
		case p.key == "override" && !isDeploy:
			nd.Override = d.override(p.value, f)
		case p.key == "deployment" && isDeploy:
			nd.Deployment, _ = d.str(p.value, f)
		case p.key == "aliases" && isDeploy:
			nd.Aliases = d.strList(p.value, f)
		case p.key == "endpoints" && isDeploy:
			nd.Endpoints = d.strList(p.value, f)
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	if nd.Type == NodeTask {
		hasStep, hasTask := peekString(n, "step") != "", peekString(n, "task") != ""
		switch {
		case hasStep && hasTask:
			d.errorf(resolve(n), field, `has both "step" and "task"; a task node takes exactly one`)
		case !hasStep && !hasTask && nd.Step == "" && nd.Task == "":
			d.errorf(resolve(n), field, `missing required field "step" or "task"`)
		}
	}
	if nd.OnError == "" {
		nd.OnError = "stop-all"
	}
	if nd.EdgeMergeMode == "" && nd.Type != NodeDeployment {
		nd.EdgeMergeMode = "replace"
	}
	return nd
}

func (d *decoder) override(n *yaml.Node, field string) *Override {
	o := &Override{Line: resolve(n).Line}
	ok := d.object(n, field, nil, func(p pair) bool {
		f := join(field, p.key)
		switch p.key {
		case "image":
			o.Image, _ = d.str(p.value, f)
		case "command":
			o.Command, _ = d.strs(p.value, f)
		case "environment":
			o.Environment, _ = d.str(p.value, f)
		case "runtime-config-preset":
			o.RuntimeConfigPreset, _ = d.str(p.value, f)
		case "autorestart":
			if b, ok := d.boolean(p.value, f); ok {
				o.Autorestart = &b
			}
		case "parameters":
			o.Parameters = d.parameters(p.value, f, true)
		case "inputs":
			o.Inputs = d.inputs(p.value, f)
		case "mounts":
			o.Mounts = d.mounts(p.value, f)
		case "environment-variables":
			o.EnvironmentVariables = d.envVars(p.value, f)
		default:
			d.errorf(p.keyN, join(field, p.key), "unknown field in override; should it be nested under \"parameters\" or \"inputs\"?")
		}
		return true
	})
	if !ok {
		return nil
	}
	return o
}

func (d *decoder) action(n *yaml.Node, parent string, index int) *NodeAction {
	a := &NodeAction{Line: resolve(n).Line}
	field := fmt.Sprintf("%s[%d]", parent, index)
	ok := d.object(n, field, []string{"when", "then"}, func(p pair) bool {
		f := join(field, p.key)
		switch p.key {
		case "when":
			a.When, _ = d.strs(p.value, f)
			for i, w := range a.When {
				a.When[i] = strings.ToLower(w)
				switch a.When[i] {
				case "node-starting", "node-complete", "node-error":
				default:
					d.warnf(resolve(p.value), f, "%q is not well-known; the action might never be triggered", w)
				}
			}
		case "if":
			a.If, _ = d.strs(p.value, f)
			for _, e := range a.If {
				d.expression(p.value, f, e)
			}
		case "then":
			a.Then, _ = d.strs(p.value, f)
			for _, t := range a.Then {
				switch t {
				case "noop", "stop-pipeline", "error-pipeline":
				default:
					d.warnf(resolve(p.value), f, "%q is not well-known; the action might do nothing", t)
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
	return a
}

var errSocketParts = errors.New("must have 3 parts, node.type.key")

// ParseSocket splits "node.type.key" on its first two dots, so the key may
// contain dots ("train.output.model.pb"). It fails unless there are three parts.
func ParseSocket(s string) (Socket, error) {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) != 3 {
		return Socket{}, fmt.Errorf("%q %w (it has %d)", s, errSocketParts, len(parts))
	}
	return Socket{Node: parts[0], Type: parts[1], Key: parts[2]}, nil
}

func (d *decoder) socket(n *yaml.Node, field string) (Socket, bool) {
	s, ok := d.str(n, field)
	if !ok {
		return Socket{}, false
	}
	sock, err := ParseSocket(s)
	if err != nil {
		d.errorf(resolve(n), field, "%v", err)
		return Socket{}, false
	}
	return sock, true
}

func (d *decoder) edge(n *yaml.Node, parent string, index int) *Edge {
	r := resolve(n)
	e := &Edge{Line: r.Line}
	field := fmt.Sprintf("%s[%d]", parent, index)
	switch r.Kind {
	case yaml.SequenceNode:
		if len(r.Content) != 2 {
			parts := make([]string, len(r.Content))
			for i, c := range r.Content {
				parts[i] = fmt.Sprint(value(c))
			}
			d.errorf(r, field, "malformed edge shorthand [%s]: it must list exactly a source and a target", strings.Join(parts, ", "))
			return nil
		}
		src, ok1 := d.socket(r.Content[0], join(field, "source"))
		dst, ok2 := d.socket(r.Content[1], join(field, "target"))
		if !ok1 || !ok2 {
			return nil
		}
		e.Source, e.Target = src, dst
		return e
	case yaml.MappingNode:
		good, seen := true, 0
		ok := d.object(r, field, []string{"source", "target"}, func(p pair) bool {
			f := join(field, p.key)
			var ok bool
			switch p.key {
			case "source":
				e.Source, ok = d.socket(p.value, f)
				good, seen = good && ok, seen+1
			case "target":
				e.Target, ok = d.socket(p.value, f)
				good, seen = good && ok, seen+1
			case "configuration":
				e.Configuration = d.anyMap(p.value, f)
			default:
				return false
			}
			return true
		})
		if !ok || !good || seen != 2 {
			return nil
		}
		return e
	default:
		d.errorf(r, field, "must be [source, target] or a mapping with source and target, got %s", describe(r))
		return nil
	}
}

func (d *decoder) pipelineParameter(n *yaml.Node, parent string, index int) *PipelineParameter {
	pp := &PipelineParameter{Line: resolve(n).Line}
	field := join(parent, named("parameter", peekString(n, "name"), index))
	var hasTarget, hasTargets bool
	ok := d.object(n, field, []string{"name"}, func(p pair) bool {
		f := join(field, p.key)
		switch p.key {
		case "name":
			pp.Name, _ = d.str(p.value, f)
		case "default":
			pp.Default = value(p.value)
		case "description":
			pp.Description, _ = d.str(p.value, f)
		case "category":
			pp.Category, _ = d.str(p.value, f)
		case "target":
			hasTarget = true
			if s, ok := d.str(p.value, f); ok {
				pp.Targets = append(pp.Targets, s)
			}
		case "targets":
			hasTargets = true
			ts, _ := d.strs(p.value, f)
			pp.Targets = append(pp.Targets, ts...)
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	if hasTarget && hasTargets {
		d.errorf(resolve(n), field, `has both "target" and "targets"; use one`)
	}
	return pp
}
