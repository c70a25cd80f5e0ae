package valohaiyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Parse reads a valohai.yaml document. name is used in problems (usually the
// file's path). It returns every problem found, warnings included. When at
// least one problem is an Error, the Config is nil and the error is an
// *InvalidError matching ErrInvalid; otherwise the error is nil and the
// problems, if any, are warnings.
func Parse(name string, data []byte) (*Config, []Problem, error) {
	cfg, problems := parse(name, data)
	if HasErrors(problems) {
		return nil, problems, &InvalidError{File: name, Problems: problems}
	}
	return cfg, problems, nil
}

// Lint returns the problems of a valohai.yaml document, errors and
// warnings, in file order. It is Parse for callers that only report.
func Lint(name string, data []byte) []Problem {
	_, problems := parse(name, data)
	return problems
}

// errInvalidYAML starts the problem reported for a document yaml.v3 cannot read.
var (
	errInvalidYAML = errors.New("invalid YAML")
	errTwoDocs     = fmt.Errorf("%w: the file holds more than one document; Valohai reads exactly one", errInvalidYAML)
)

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// readDocument parses data into a single YAML document node.
func readDocument(data []byte) (doc *yaml.Node, line int, err error) {
	defer func() {
		if r := recover(); r != nil { // yaml.v3 has panicked on malformed input before
			doc, line, err = nil, 0, fmt.Errorf("%w: %v", errInvalidYAML, r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first yaml.Node
	if err := dec.Decode(&first); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, 0, nil
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
			if strings.Contains(msg, "not allowed in this context") || strings.Contains(msg, "did not find expected") {
				msg += " (check the indentation)"
			}
		}
		return nil, line, fmt.Errorf("%w: %s", errInvalidYAML, msg)
	}
	var second yaml.Node
	if err := dec.Decode(&second); !errors.Is(err, io.EOF) {
		l := second.Line
		if err != nil {
			l = 0
		}
		return nil, l, errTwoDocs
	}
	return &first, 0, nil
}

func parse(name string, data []byte) (*Config, []Problem) {
	d := &decoder{file: name}
	if len(data) > MaxSize {
		d.errorf(nil, "", "file is %d bytes, larger than the maximum of %d bytes (1 MiB)", len(data), MaxSize)
		return nil, d.problems
	}
	if !utf8.Valid(data) && !bytes.HasPrefix(data, []byte{0xfe, 0xff}) && !bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		d.errorf(nil, "", "file is not valid UTF-8")
		return nil, d.problems
	}
	doc, line, err := readDocument(data)
	if err != nil {
		d.problems = append(d.problems, Problem{File: name, Line: line, Message: err.Error(), Severity: Error})
		return nil, d.problems
	}
	if doc == nil || isNull(doc) {
		d.errorf(nil, "", "file is empty; expected a list of step, pipeline, endpoint, task and deployment items")
		return nil, d.problems
	}
	if lerr := checkLimits(doc); lerr != nil {
		d.errorf(lerr.node, "", "%s", lerr.msg)
		return nil, d.problems
	}
	root := resolve(doc)
	if root.Kind != yaml.SequenceNode {
		d.errorf(root, "", "the file must be a list of items such as `- step: ...`, got %s", describe(root))
		return nil, d.problems
	}
	cfg := &Config{}
	for i, item := range root.Content {
		d.item(cfg, item, i)
	}
	d.lintConfig(cfg)
	sortProblems(d.problems)
	return cfg, d.problems
}

// topLevelKinds are the keys an item may have, in Valohai's parser order.
var topLevelKinds = []string{"step", "endpoint", "pipeline", "blueprint", "task", "deployment"}

func (d *decoder) item(cfg *Config, n *yaml.Node, index int) {
	field := fmt.Sprintf("item #%d", index+1)
	pairs, ok := d.mapping(n, field)
	if !ok {
		return
	}
	var kind *pair
	var others []pair
	for i, p := range pairs {
		known := false
		for _, k := range topLevelKinds {
			known = known || p.key == k
		}
		switch {
		case known && kind == nil:
			kind = &pairs[i]
		case known:
			d.errorf(p.keyN, field, "holds both %q and %q; each item must hold exactly one", kind.key, p.key)
		default:
			others = append(others, p)
		}
	}
	if kind == nil {
		keys := make([]string, len(pairs))
		for i, p := range pairs {
			keys[i] = strconv.Quote(p.key)
		}
		d.warnf(resolve(n), field, "ignored: no known item type among its keys (%s); expected one of %s", strings.Join(keys, ", "), quoteAll(topLevelKinds))
		return
	}
	for _, p := range others {
		d.warnf(p.keyN, join(field, p.key), "ignored: key next to %q; should it be indented under %q?", kind.key, kind.key)
	}
	v := kind.value
	if isNull(v) {
		hint := ""
		if len(others) > 0 {
			hint = "; the keys after it are not indented under it (check the indentation)"
		}
		d.errorf(kind.keyN, topNamed(kind.key, "", index), "must be a mapping, got null%s", hint)
		return
	}
	switch kind.key {
	case "step":
		if s := d.step(v, index); s != nil {
			cfg.Steps = append(cfg.Steps, s)
		}
	case "pipeline", "blueprint":
		if p := d.pipeline(v, index); p != nil {
			cfg.Pipelines = append(cfg.Pipelines, p)
		}
	case "endpoint":
		if e := d.endpoint(v, index); e != nil {
			cfg.Endpoints = append(cfg.Endpoints, e)
		}
	case "task":
		if t := d.task(v, index); t != nil {
			cfg.Tasks = append(cfg.Tasks, t)
		}
	case "deployment":
		if dep := d.deployment(v, index); dep != nil {
			cfg.Deployments = append(cfg.Deployments, dep)
		}
	}
}

// peekString returns the string value of key in mapping n, if any.
func peekString(n *yaml.Node, key string) string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind == yaml.ScalarNode && k.Value == key && v != nil && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
			return v.Value
		}
	}
	return ""
}

func (d *decoder) step(n *yaml.Node, index int) *Step {
	s := &Step{Line: resolve(n).Line}
	field := topNamed("step", peekString(n, "name"), index)
	ok := d.object(n, field, []string{"name", "image", "command"}, func(p pair) bool {
		f := join(field, p.key)
		switch p.key {
		case "name":
			s.Name, _ = d.str(p.value, f)
		case "image":
			s.Image, _ = d.str(p.value, f)
		case "command":
			s.Command, _ = d.strs(p.value, f)
		case "description":
			s.Description, _ = d.str(p.value, f)
		case "icon":
			s.Icon, _ = d.str(p.value, f)
		case "category":
			s.Category, _ = d.str(p.value, f)
		case "source-path":
			s.SourcePath, _ = d.str(p.value, f)
		case "environment":
			s.Environment, _ = d.str(p.value, f)
		case "runtime-config-preset":
			s.RuntimeConfigPreset, _ = d.str(p.value, f)
		case "autorestart":
			if b, ok := d.boolean(p.value, f); ok {
				s.Autorestart = &b
			}
		case "upload-store":
			if v, ok := d.str(p.value, f); ok {
				if n := utf8.RuneCountInString(v); n > 64 {
					d.errorf(resolve(p.value), f, "%q is %d characters, longer than the maximum of 64", v, n)
				}
				s.UploadStore = v
			}
		case "parameters":
			s.Parameters = d.parameters(p.value, f, false)
		case "inputs":
			s.Inputs = d.inputs(p.value, f)
		case "outputs":
			for i, item := range d.list(p.value, f) {
				if o := d.output(item, f, i); o != nil {
					s.Outputs = append(s.Outputs, o)
				}
			}
		case "environment-variables":
			s.EnvironmentVariables = d.envVars(p.value, f)
		case "environment-variable-groups":
			s.EnvironmentVariableGroups = d.strList(p.value, f)
		case "mounts":
			s.Mounts = d.mounts(p.value, f)
		case "cache-volumes":
			s.CacheVolumes = d.strList(p.value, f)
		case "resources":
			s.Resources = d.resources(p.value, f, false)
		case "time-limit":
			s.TimeLimit, _ = d.duration(p.value, f)
		case "no-output-timeout":
			s.NoOutputTimeout, _ = d.duration(p.value, f)
		case "stop-condition":
			if v, ok := d.str(p.value, f); ok {
				s.StopCondition = v
				d.expression(p.value, f, v)
			}
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	if s.RuntimeConfigPreset != "" && s.Environment == "" {
		d.errorf(resolve(n), join(field, "runtime-config-preset"), `missing "environment": when specifying a runtime config preset, you must also specify an environment`)
	}
	if s.Autorestart != nil && *s.Autorestart && s.Environment == "" {
		d.errorf(resolve(n), join(field, "autorestart"), `missing "environment": when enabling autorestart, you must also specify a spot instance environment`)
	}
	uniqueNamesOf(d, field, "parameter", s.Parameters, func(p *Parameter) (string, int) { return p.Name, p.Line })
	uniqueNamesOf(d, field, "input", s.Inputs, func(i *Input) (string, int) { return i.Name, i.Line })
	uniqueNamesOf(d, field, "environment variable", s.EnvironmentVariables, func(e *EnvironmentVariable) (string, int) { return e.Name, e.Line })
	return s
}

// uniqueNamesOf warns about repeated names in a list: Valohai keeps the last.
func uniqueNamesOf[T any](d *decoder, field, kind string, items []*T, key func(*T) (string, int)) {
	seen := map[string]bool{}
	for _, it := range items {
		name, line := key(it)
		if name == "" {
			continue
		}
		if seen[name] {
			d.problems = append(d.problems, Problem{File: d.file, Line: line, Field: join(field, fmt.Sprintf("%s %q", kind, name)), Message: "duplicate name; the last one wins", Severity: Warning})
		}
		seen[name] = true
	}
}

func (d *decoder) parameters(n *yaml.Node, field string, override bool) []*Parameter {
	var out []*Parameter
	for i, item := range d.list(n, field) {
		if p := d.parameter(item, field, i, override); p != nil {
			out = append(out, p)
		}
	}
	return out
}

func (d *decoder) parameter(n *yaml.Node, parent string, index int, override bool) *Parameter {
	p := &Parameter{Type: TypeString, MultipleSeparator: ",", Line: resolve(n).Line}
	field := join(parent, named("parameter", peekString(n, "name"), index))
	nodes := map[string]*yaml.Node{}
	var defaultN *yaml.Node
	ok := d.object(n, field, []string{"name"}, func(kv pair) bool {
		f := join(field, kv.key)
		nodes[kv.key] = kv.value
		switch kv.key {
		case "name":
			p.Name, _ = d.str(kv.value, f)
		case "type":
			if t, ok := d.enum(kv.value, f, "string", "integer", "float", "flag"); ok {
				p.Type = ParameterType(t)
			}
		case "description":
			p.Description, _ = d.str(kv.value, f)
		case "category":
			p.Category, _ = d.str(kv.value, f)
		case "default":
			defaultN = kv.value
		case "optional":
			p.Optional, _ = d.boolean(kv.value, f)
		case "min":
			p.Min = d.numberPtr(kv.value, f)
		case "max":
			p.Max = d.numberPtr(kv.value, f)
		case "choices":
			for _, c := range d.list(kv.value, f) {
				p.Choices = append(p.Choices, value(c))
			}
		case "pass-as":
			p.PassAs, _ = d.str(kv.value, f)
		case "pass-true-as":
			p.PassTrueAs, _ = d.str(kv.value, f)
		case "pass-false-as":
			p.PassFalseAs, _ = d.str(kv.value, f)
		case "multiple":
			if m, ok := d.enum(kv.value, f, "none", "repeat", "separate"); ok && m != "none" {
				p.Multiple = MultipleMode(m)
			}
		case "multiple-separator":
			if s, ok := d.str(kv.value, f); ok && s != "" {
				p.MultipleSeparator = s
			}
		case "widget":
			p.Widget = d.widget(kv.value, f)
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	if defaultN != nil {
		p.Default = value(defaultN)
		if p.Type == TypeFlag {
			if b, ok := isYAML11Bool(resolve(defaultN)); ok {
				p.Default = b
			}
		}
		if p.Multiple != MultipleNone {
			p.Default = listify(p.Default)
		}
	}
	if p.Type == TypeFlag {
		if p.Multiple != MultipleNone {
			d.errorf(resolve(nodes["multiple"]), join(field, "multiple"), "flag parameters can't be multiple")
		}
		if nodes["optional"] != nil && p.Optional {
			d.warnf(resolve(nodes["optional"]), join(field, "optional"), "has no effect on flag-type parameters")
		}
		if p.PassAs != "" && (p.PassTrueAs != "" || p.PassFalseAs != "") {
			d.warnf(resolve(nodes["pass-as"]), join(field, "pass-as"), "has no effect with pass-true-as/pass-false-as")
		}
		if nodes["choices"] != nil {
			d.warnf(resolve(nodes["choices"]), join(field, "choices"), "has no effect on flag-type parameters")
		}
		if nodes["min"] != nil || nodes["max"] != nil {
			d.warnf(resolve(n), field, "min and max have no effect on flag-type parameters")
		}
		p.Optional = true
	} else {
		for _, k := range []string{"pass-true-as", "pass-false-as"} {
			if nodes[k] != nil {
				d.warnf(resolve(nodes[k]), join(field, k), "has no effect on non-flag parameters")
			}
		}
		p.PassTrueAs, p.PassFalseAs = "", ""
	}
	if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
		d.errorf(resolve(nodes["min"]), join(field, "min"), "%s is greater than max %s", formatNumber(*p.Min), formatNumber(*p.Max))
	}
	if p.PassAs != "" {
		if _, err := formatTemplate(p.PassAs, p.Name, ""); err != nil {
			d.errorf(resolve(nodes["pass-as"]), join(field, "pass-as"), "%v", err)
		}
	}
	if !override && defaultN != nil {
		d.lintDefault(p, defaultN, join(field, "default"))
	}
	return p
}

// lintDefault mirrors Valohai's warnings about a default its own validation would reject.
func (d *decoder) lintDefault(p *Parameter, n *yaml.Node, field string) {
	if !truthy(p.Default) {
		return
	}
	if list, isList := p.Default.([]any); isList && p.Multiple == MultipleNone {
		_ = list
		d.warnf(resolve(n), field, "is a list but the parameter is not multiple")
		return
	}
	for _, atom := range listify(p.Default) {
		if p.Type == TypeString {
			if _, ok := atom.(string); !ok {
				d.warnf(resolve(n), field, "value %s is not a string", pyRepr(atom))
				continue
			}
		}
		for _, msg := range p.check(atom) {
			d.warnf(resolve(n), field, "%s", msg)
		}
	}
}

func (d *decoder) widget(n *yaml.Node, field string) *Widget {
	r := resolve(n)
	if r != nil && r.Kind == yaml.ScalarNode {
		if s, ok := d.str(r, field); ok {
			return &Widget{Type: s}
		}
		return nil
	}
	w := &Widget{}
	d.object(n, field, []string{"type"}, func(p pair) bool {
		switch p.key {
		case "type":
			w.Type, _ = d.str(p.value, join(field, p.key))
		case "settings":
			w.Settings = d.anyMap(p.value, join(field, p.key))
		default:
			return false
		}
		return true
	})
	return w
}

func (d *decoder) inputs(n *yaml.Node, field string) []*Input {
	var out []*Input
	for i, item := range d.list(n, field) {
		if in := d.input(item, field, i); in != nil {
			out = append(out, in)
		}
	}
	return out
}

func (d *decoder) input(n *yaml.Node, parent string, index int) *Input {
	in := &Input{KeepDirectories: KeepNone, Download: "always", Line: resolve(n).Line}
	field := join(parent, named("input", peekString(n, "name"), index))
	ok := d.object(n, field, []string{"name"}, func(p pair) bool {
		f := join(field, p.key)
		switch p.key {
		case "name":
			if v, ok := d.str(p.value, f); ok {
				if n := utf8.RuneCountInString(v); n > 64 {
					d.errorf(resolve(p.value), f, "%q is %d characters, longer than the maximum of 64", v, n)
				}
				in.Name = v
			}
		case "default":
			if !isNull(p.value) {
				in.Default, _ = d.strs(p.value, f)
			}
		case "optional":
			in.Optional, _ = d.boolean(p.value, f)
		case "description":
			in.Description, _ = d.str(p.value, f)
		case "filename":
			in.Filename, _ = d.str(p.value, f)
		case "keep-directories":
			r := resolve(p.value)
			if r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() == "!!bool" {
				if b, _ := d.boolean(r, f); b {
					in.KeepDirectories = KeepFull
				}
			} else if k, ok := d.enum(r, f, "none", "full", "suffix"); ok {
				in.KeepDirectories = KeepDirectories(k)
			}
		case "download":
			in.Download, _ = d.enum(p.value, f, "always", "on-demand")
		case "edge-merge-mode":
			in.EdgeMergeMode, _ = d.enum(p.value, f, "replace", "append")
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	return in
}

func (d *decoder) output(n *yaml.Node, parent string, index int) *Output {
	o := &Output{Line: resolve(n).Line}
	field := join(parent, named("output", peekString(n, "name"), index))
	ok := d.object(n, field, []string{"name"}, func(p pair) bool {
		switch p.key {
		case "name":
			o.Name, _ = d.str(p.value, join(field, p.key))
		case "description":
			o.Description, _ = d.str(p.value, join(field, p.key))
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	return o
}

func (d *decoder) envVars(n *yaml.Node, field string) []*EnvironmentVariable {
	var out []*EnvironmentVariable
	for i, item := range d.list(n, field) {
		e := &EnvironmentVariable{Optional: true, Line: resolve(item).Line}
		f := join(field, named("environment variable", peekString(item, "name"), i))
		ok := d.object(item, f, []string{"name"}, func(p pair) bool {
			ff := join(f, p.key)
			switch p.key {
			case "name":
				e.Name, _ = d.str(p.value, ff)
			case "default":
				e.Default, e.HasDefault = d.str(p.value, ff)
			case "description":
				e.Description, _ = d.str(p.value, ff)
			case "optional":
				e.Optional, _ = d.boolean(p.value, ff)
			default:
				return false
			}
			return true
		})
		if ok {
			out = append(out, e)
		}
	}
	return out
}

var (
	shortMount = regexp.MustCompile(`^/.+:/.+$`)
	absPath    = regexp.MustCompile(`^/.+$`)
)

func (d *decoder) mounts(n *yaml.Node, field string) []*Mount {
	var out []*Mount
	for i, item := range d.list(n, field) {
		f := fmt.Sprintf("%s[%d]", field, i)
		r := resolve(item)
		m := &Mount{Line: r.Line}
		if r.Kind == yaml.ScalarNode {
			s, ok := d.str(r, f)
			if !ok {
				continue
			}
			if !shortMount.MatchString(s) {
				d.errorf(r, f, "%q must be \"/source:/destination\" with both paths absolute", s)
				continue
			}
			m.Source, m.Destination, _ = strings.Cut(s, ":")
			out = append(out, m)
			continue
		}
		ok := d.object(r, f, []string{"source", "destination"}, func(p pair) bool {
			ff := join(f, p.key)
			switch p.key {
			case "source":
				m.Source, _ = d.str(p.value, ff)
			case "destination":
				if s, ok := d.str(p.value, ff); ok {
					if !absPath.MatchString(s) {
						d.errorf(resolve(p.value), ff, "%q must be an absolute path", s)
					}
					m.Destination = s
				}
			case "readonly":
				m.Readonly, _ = d.boolean(p.value, ff)
			case "type":
				m.Type, _ = d.str(p.value, ff)
			case "options":
				m.Options = d.anyMap(p.value, ff)
			default:
				return false
			}
			return true
		})
		if ok {
			out = append(out, m)
		}
	}
	return out
}

func (d *decoder) resources(n *yaml.Node, field string, endpoint bool) *Resources {
	res := &Resources{}
	ok := d.object(n, field, nil, func(p pair) bool {
		f := join(field, p.key)
		switch p.key {
		case "cpu":
			res.CPU = d.minMax(p.value, f)
		case "memory":
			res.Memory = d.minMax(p.value, f)
		case "ephemeral-storage":
			if !endpoint {
				return false
			}
			res.EphemeralStorage = d.minMax(p.value, f)
		case "devices":
			pairs, ok := d.mapping(p.value, f)
			if !ok {
				return true
			}
			res.Devices = map[string]float64{}
			for _, dev := range pairs {
				if v, ok := d.number(dev.value, join(f, dev.key)); ok {
					if v < 1 {
						d.errorf(resolve(dev.value), join(f, dev.key), "%s is less than the minimum of 1", formatNumber(v))
					}
					res.Devices[dev.key] = v
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
	return res
}

func (d *decoder) minMax(n *yaml.Node, field string) *MinMax {
	mm := &MinMax{}
	var minN *yaml.Node
	ok := d.object(n, field, nil, func(p pair) bool {
		switch p.key {
		case "min":
			minN = p.value
			mm.Min = d.numberPtr(p.value, join(field, p.key))
		case "max":
			mm.Max = d.numberPtr(p.value, join(field, p.key))
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	for _, v := range []*float64{mm.Min, mm.Max} {
		if v != nil && *v < 0 {
			d.errorf(resolve(n), field, "%s is negative", formatNumber(*v))
		}
	}
	if mm.Min != nil && mm.Max != nil && *mm.Min > *mm.Max {
		d.errorf(resolve(minN), join(field, "min"), "%s is greater than max %s", formatNumber(*mm.Min), formatNumber(*mm.Max))
	}
	return mm
}

func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
