package valohaiyaml

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// This file holds the walker over yaml.v3 nodes: it resolves aliases and
// merge keys, checks scalar types the way Valohai's JSON Schema does, and
// records every problem with its line and field path.

// decoder collects problems while a file is turned into a Config.
type decoder struct {
	file     string
	problems []Problem
}

func (d *decoder) add(sev Severity, n *yaml.Node, field, format string, args ...any) {
	p := Problem{File: d.file, Field: field, Message: fmt.Sprintf(format, args...), Severity: sev}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.problems = append(d.problems, p)
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	d.add(Error, n, field, format, args...)
}

func (d *decoder) warnf(n *yaml.Node, field, format string, args ...any) {
	d.add(Warning, n, field, format, args...)
}

// join builds a field path: join(`step "a"`, "inputs") = `step "a": inputs`.
func join(parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ": ")
}

// named renders a path element for a named item: named("step", "train") = `step "train"`,
// or `step #2` when the item has no name yet.
func named(kind, name string, index int) string {
	if name == "" {
		return fmt.Sprintf("%s #%d", kind, index+1)
	}
	return fmt.Sprintf("%s %q", kind, name)
}

// topNamed names a top-level item: `step "train"`, or `item #3 (step)` when
// it has no name, counting every item of the file.
func topNamed(kind, name string, index int) string {
	if name == "" {
		return fmt.Sprintf("item #%d (%s)", index+1, kind)
	}
	return fmt.Sprintf("%s %q", kind, name)
}

// resolve follows alias nodes. Cycles were excluded by checkLimits.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return resolve(n.Content[0])
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// yaml11Bools are the plain scalars PyYAML (YAML 1.1), and so Valohai, reads as
// booleans while yaml.v3 (YAML 1.2) reads them as strings.
var yaml11Bools = map[string]bool{
	"yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

func isYAML11Bool(n *yaml.Node) (value, ok bool) {
	if n.Kind != yaml.ScalarNode || n.Style != 0 || n.ShortTag() != "!!str" {
		return false, false
	}
	v, ok := yaml11Bools[n.Value]
	return v, ok
}

// describe names the YAML type of n for messages: "integer 8", "a list", "null".
func describe(n *yaml.Node) string {
	n = resolve(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if _, ok := isYAML11Bool(n); ok {
			return fmt.Sprintf("boolean %s (YAML 1.1, as Valohai reads it; quote it to make it a string)", n.Value)
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "boolean " + v
		case "!!int":
			return "integer " + v
		case "!!float":
			return "number " + v
		case "!!str":
			return strconv.Quote(v)
		default:
			return n.ShortTag() + " " + strconv.Quote(v)
		}
	}
	return "an unknown node"
}

// pair is one key and value of a mapping, after merge keys are applied.
type pair struct {
	key   string
	keyN  *yaml.Node
	value *yaml.Node
}

// mapping returns the pairs of the mapping n in order, with `<<` merge keys
// applied (explicit keys win) and duplicate keys reported. ok is false, and
// an error recorded, when n is not a mapping.
func (d *decoder) mapping(n *yaml.Node, field string) ([]pair, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.errorf(n, field, "must be a mapping, got %s", describe(n))
		return nil, false
	}
	var explicit, merged []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergeSources(v, field)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, field, "keys must be strings, got %s", describe(k))
			continue
		}
		if seen[k.Value] {
			d.warnf(k, join(field, k.Value), "duplicate key; the last value wins")
			for j := range explicit {
				if explicit[j].key == k.Value {
					explicit[j] = pair{k.Value, k, v}
				}
			}
			continue
		}
		seen[k.Value] = true
		explicit = append(explicit, pair{k.Value, k, v})
	}
	for _, p := range merged {
		if !seen[p.key] {
			seen[p.key] = true
			explicit = append(explicit, p)
		}
	}
	return explicit, true
}

// mergeSources returns the pairs contributed by the value of a `<<` key: a
// mapping or a list of mappings, earlier ones winning.
func (d *decoder) mergeSources(v *yaml.Node, field string) []pair {
	v = resolve(v)
	var srcs []*yaml.Node
	switch {
	case v != nil && v.Kind == yaml.MappingNode:
		srcs = []*yaml.Node{v}
	case v != nil && v.Kind == yaml.SequenceNode:
		srcs = v.Content
	default:
		d.errorf(v, join(field, "<<"), "merge value must be a mapping or a list of mappings, got %s", describe(v))
		return nil
	}
	var out []pair
	seen := map[string]bool{}
	for _, s := range srcs {
		ps, ok := d.mapping(s, join(field, "<<"))
		if !ok {
			continue
		}
		for _, p := range ps {
			if !seen[p.key] {
				seen[p.key] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// object decodes a mapping whose keys are all known: each pair goes to set,
// which returns false for an unknown key. Unknown keys are errors, as with
// Valohai's `additionalProperties: false`. required keys missing are errors at
// the mapping's line.
func (d *decoder) object(n *yaml.Node, field string, required []string, set func(p pair) bool) bool {
	pairs, ok := d.mapping(n, field)
	if !ok {
		return false
	}
	present := map[string]bool{}
	for _, p := range pairs {
		present[p.key] = true
		if !set(p) {
			d.errorf(p.keyN, join(field, p.key), "unknown field")
		}
	}
	for _, r := range required {
		if !present[r] {
			d.errorf(resolve(n), field, "missing required field %q", r)
		}
	}
	return true
}

// list returns the items of the sequence n; an error is recorded and nil
// returned when n is something else.
func (d *decoder) list(n *yaml.Node, field string) []*yaml.Node {
	r := resolve(n)
	if r == nil || r.Kind != yaml.SequenceNode {
		d.errorf(r, field, "must be a list, got %s", describe(r))
		return nil
	}
	return r.Content
}

// str decodes a string; numbers, booleans and null are errors, as in Valohai's schema.
func (d *decoder) str(n *yaml.Node, field string) (string, bool) {
	r := resolve(n)
	if r == nil || r.Kind != yaml.ScalarNode || r.ShortTag() != "!!str" {
		d.errorf(r, field, "must be a string, got %s", describe(r))
		return "", false
	}
	if _, ok := isYAML11Bool(r); ok {
		d.errorf(r, field, "must be a string, got %s", describe(r))
		return "", false
	}
	return r.Value, true
}

// strs decodes a string or a list of strings into a list.
func (d *decoder) strs(n *yaml.Node, field string) ([]string, bool) {
	r := resolve(n)
	if r != nil && r.Kind == yaml.SequenceNode {
		out := make([]string, 0, len(r.Content))
		ok := true
		for i, c := range r.Content {
			s, good := d.str(c, fmt.Sprintf("%s[%d]", field, i))
			ok = ok && good
			out = append(out, s)
		}
		return out, ok
	}
	if r == nil || r.Kind != yaml.ScalarNode || r.ShortTag() != "!!str" {
		d.errorf(r, field, "must be a string or a list of strings, got %s", describe(r))
		return nil, false
	}
	s, ok := d.str(r, field)
	return []string{s}, ok
}

// strList decodes a list of strings (a single string is an error).
func (d *decoder) strList(n *yaml.Node, field string) []string {
	items := d.list(n, field)
	out := make([]string, 0, len(items))
	for i, c := range items {
		if s, ok := d.str(c, fmt.Sprintf("%s[%d]", field, i)); ok {
			out = append(out, s)
		}
	}
	return out
}

func (d *decoder) boolean(n *yaml.Node, field string) (bool, bool) {
	r := resolve(n)
	if r != nil && r.Kind == yaml.ScalarNode {
		if r.ShortTag() == "!!bool" {
			var b bool
			if r.Decode(&b) == nil {
				return b, true
			}
		}
		if b, ok := isYAML11Bool(r); ok {
			return b, true
		}
	}
	d.errorf(r, field, "must be a boolean, got %s", describe(r))
	return false, false
}

func (d *decoder) integer(n *yaml.Node, field string) (int64, bool) {
	r := resolve(n)
	if r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() == "!!int" {
		var i int64
		if r.Decode(&i) == nil {
			return i, true
		}
		d.errorf(r, field, "integer %s is out of range", r.Value)
		return 0, false
	}
	d.errorf(r, field, "must be an integer, got %s", describe(r))
	return 0, false
}

func (d *decoder) number(n *yaml.Node, field string) (float64, bool) {
	r := resolve(n)
	if r != nil && r.Kind == yaml.ScalarNode && (r.ShortTag() == "!!int" || r.ShortTag() == "!!float") {
		var f float64
		if r.Decode(&f) == nil && !math.IsNaN(f) {
			return f, true
		}
	}
	d.errorf(r, field, "must be a number, got %s", describe(r))
	return 0, false
}

func (d *decoder) numberPtr(n *yaml.Node, field string) *float64 {
	if f, ok := d.number(n, field); ok {
		return &f
	}
	return nil
}

// enum decodes a string that must be one of allowed.
func (d *decoder) enum(n *yaml.Node, field string, allowed ...string) (string, bool) {
	s, ok := d.str(n, field)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if s == a {
			return s, true
		}
	}
	d.errorf(resolve(n), field, "%q is not one of %s", s, quoteAll(allowed))
	return "", false
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// value converts any node to a plain Go value: nil, bool, int64, float64,
// string, []any or map[string]any. Integers beyond int64 become float64.
func value(n *yaml.Node) any {
	n = resolve(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, value(c))
		}
		return out
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		(&decoder{}).mappingInto(n, out)
		return out
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool":
			var b bool
			if n.Decode(&b) == nil {
				return b
			}
		case "!!int":
			var i int64
			if n.Decode(&i) == nil {
				return i
			}
			var f float64
			if n.Decode(&f) == nil {
				return f
			}
		case "!!float":
			var f float64
			if n.Decode(&f) == nil {
				return f
			}
		}
		return n.Value
	}
	return nil
}

func (d *decoder) mappingInto(n *yaml.Node, out map[string]any) {
	pairs, _ := d.mapping(n, "")
	for _, p := range pairs {
		out[p.key] = value(p.value)
	}
}

// object-valued fields that take arbitrary content.
func (d *decoder) anyMap(n *yaml.Node, field string) map[string]any {
	r := resolve(n)
	if r == nil || r.Kind != yaml.MappingNode {
		d.errorf(r, field, "must be a mapping, got %s", describe(r))
		return nil
	}
	out := map[string]any{}
	d.mappingInto(r, out)
	return out
}
