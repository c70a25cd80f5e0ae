package valohaiyaml

import (
	"fmt"
	"sort"
)

// lintConfig runs the checks that span items: duplicate names and the
// references of pipelines to steps, tasks, nodes and parameters.
func (d *decoder) lintConfig(cfg *Config) {
	dupes(d, "step", cfg.Steps, func(s *Step) (string, int) { return s.Name, s.Line })
	dupes(d, "pipeline", cfg.Pipelines, func(p *Pipeline) (string, int) { return p.Name, p.Line })
	dupes(d, "endpoint", cfg.Endpoints, func(e *Endpoint) (string, int) { return e.Name, e.Line })
	dupes(d, "task", cfg.Tasks, func(t *Task) (string, int) { return t.Name, t.Line })
	dupes(d, "deployment", cfg.Deployments, func(x *Deployment) (string, int) { return x.Name, x.Line })
	for _, t := range cfg.Tasks {
		if t.Step != "" && cfg.Step(t.Step) == nil {
			d.problems = append(d.problems, Problem{File: d.file, Line: t.Line, Field: join(fmt.Sprintf("task %q", t.Name), "step"),
				Message: fmt.Sprintf("step %q does not exist", t.Step), Severity: Warning})
		}
	}
	for _, p := range cfg.Pipelines {
		d.lintPipeline(cfg, p)
	}
}

func (d *decoder) at(sev Severity, line int, field, format string, args ...any) {
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Field: field, Message: fmt.Sprintf(format, args...), Severity: sev})
}

func dupes[T any](d *decoder, kind string, items []*T, key func(*T) (string, int)) {
	first := map[string]int{}
	for _, it := range items {
		name, line := key(it)
		if name == "" {
			continue
		}
		if l, ok := first[name]; ok {
			d.at(Warning, line, fmt.Sprintf("%s %q", kind, name), "duplicate %s name (first at line %d); the last one wins", kind, l)
			continue
		}
		first[name] = line
	}
}

func (d *decoder) lintPipeline(cfg *Config, p *Pipeline) {
	pf := fmt.Sprintf("pipeline %q", p.Name)
	seen := map[string]bool{}
	for _, n := range p.Nodes {
		if n.Name == "" {
			continue
		}
		if seen[n.Name] {
			d.at(Error, n.Line, join(pf, fmt.Sprintf("node %q", n.Name)), "duplicate node name")
		}
		seen[n.Name] = true
	}
	for _, n := range p.Nodes {
		nf := join(pf, fmt.Sprintf("node %q", n.Name))
		switch n.Type {
		case NodeExecution, NodeTask:
			if n.Commit != "" {
				break // the step or task lives in another commit's configuration
			}
			if n.Task != "" {
				t := cfg.Task(n.Task)
				if t == nil {
					d.at(Error, n.Line, join(nf, "task"), "task %q does not exist", n.Task)
					break
				}
				s := cfg.Step(t.Step)
				if s == nil {
					d.at(Error, n.Line, join(nf, "task"), "task %q: its step %q does not exist", n.Task, t.Step)
					break
				}
				d.lintOverride(n, s, join(nf, fmt.Sprintf("task %q step %q", n.Task, s.Name)))
			}
			if n.Step != "" {
				s := cfg.Step(n.Step)
				if s == nil {
					d.at(Error, n.Line, join(nf, "step"), "step %q does not exist", n.Step)
					break
				}
				d.lintOverride(n, s, join(nf, fmt.Sprintf("step %q", n.Step)))
			}
		case NodeDeployment:
			for _, e := range n.Endpoints {
				if cfg.Endpoint(e) == nil {
					d.at(Warning, n.Line, join(nf, "endpoints"), "endpoint %q is not defined in this file", e)
				}
			}
		}
	}
	for _, e := range p.Edges {
		ef := join(pf, fmt.Sprintf("edge %s -> %s", e.Source, e.Target))
		for _, s := range []struct {
			role string
			sock Socket
		}{{"source", e.Source}, {"target", e.Target}} {
			if p.Node(s.sock.Node) == nil {
				d.at(Error, e.Line, ef, "%s node %q does not exist", s.role, s.sock.Node)
			}
			if !contains(edgeTypes, s.sock.Type) {
				d.at(Error, e.Line, ef, "%s type %q is not one of %s", s.role, s.sock.Type, quoteAll(edgeTypes))
			}
		}
	}
	for _, pp := range p.Parameters {
		ppf := join(pf, fmt.Sprintf("parameter %q", pp.Name))
		if len(pp.Targets) == 0 {
			d.at(Warning, pp.Line, ppf, "no targets")
		}
		for _, t := range pp.Targets {
			sock, err := ParseSocket(t)
			if err != nil {
				d.at(Error, pp.Line, join(ppf, "target"), "%v", err)
				continue
			}
			if sock.Type != "parameter" {
				d.at(Error, pp.Line, join(ppf, "target"), "%q: socket type %q is not supported; targets are node.parameter.name", t, sock.Type)
			}
			n := p.Node(sock.Node)
			if n == nil {
				d.at(Error, pp.Line, join(ppf, "target"), "%q: node %q does not exist", t, sock.Node)
				continue
			}
			if n.Type == NodeExecution && n.Commit == "" && sock.Type == "parameter" {
				if s := cfg.Step(n.Step); s != nil && s.Parameter(sock.Key) == nil {
					d.at(Error, pp.Line, join(ppf, "target"), "%q: parameter %q does not exist in step %q", t, sock.Key, s.Name)
				}
			}
		}
	}
}

func (d *decoder) lintOverride(n *Node, s *Step, field string) {
	o := n.Override
	if o == nil {
		return
	}
	for _, in := range o.Inputs {
		if s.Input(in.Name) == nil {
			d.at(Error, in.Line, field, "input %s does not exist in step", in.Name)
		}
	}
	for _, p := range o.Parameters {
		if s.Parameter(p.Name) == nil {
			d.at(Error, p.Line, field, "parameter %s does not exist in step", p.Name)
		}
	}
	if o.RuntimeConfigPreset != "" && o.Environment == "" {
		d.at(Error, o.Line, field, `missing "environment": when specifying a runtime config preset, you must also specify an environment`)
	}
	if o.Autorestart != nil && *o.Autorestart && o.Environment == "" && s.Environment == "" {
		d.at(Error, o.Line, field, `missing "environment": when enabling autorestart, you must also specify a spot instance environment`)
	}
}

// sortProblems orders problems by line, keeping the order of discovery otherwise.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
}
