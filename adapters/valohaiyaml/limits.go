package valohaiyaml

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Limits that keep memory and time bounded on hostile input. A real
// valohai.yaml is a few kilobytes, nests fewer than 15 levels and uses few
// aliases, so these are far above legitimate use.
const (
	// MaxSize is the largest input Parse accepts, in bytes. yaml.v3 allocates
	// about 150 bytes per input byte on the worst input (a flat flow list),
	// so 1 MiB keeps a parse under about 200 MiB.
	MaxSize = 1 << 20
	// MaxDepth is the deepest nesting of lists and mappings Parse accepts,
	// counted through aliases.
	MaxDepth = 64
	// MaxNodes is the largest number of YAML nodes Parse accepts, counted
	// with every alias expanded, so that alias bombs ("billion laughs") are
	// rejected before anything walks them.
	MaxNodes = 1_000_000
)

// limitError says which limit the document exceeded and where.
type limitError struct {
	node *yaml.Node
	msg  string
}

// checkLimits measures the document with aliases expanded, without
// expanding them: each node's expanded size and height are computed once
// (memoized), so the check is linear in the parsed size even for an alias
// bomb. It also rejects an alias inside its own anchor.
func checkLimits(root *yaml.Node) *limitError {
	type measure struct{ size, height int }
	memo := map[*yaml.Node]*measure{}
	var walk func(n *yaml.Node) (measure, *limitError)
	walk = func(n *yaml.Node) (measure, *limitError) {
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return measure{}, &limitError{n, "alias without an anchor"}
			}
			n = n.Alias
		}
		if m, ok := memo[n]; ok {
			if m == nil {
				return measure{}, &limitError{n, fmt.Sprintf("anchor %q contains an alias to itself", n.Anchor)}
			}
			return *m, nil
		}
		memo[n] = nil // in progress
		m := measure{size: 1}
		for _, c := range n.Content {
			cm, err := walk(c)
			if err != nil {
				return measure{}, err
			}
			m.size += cm.size
			if n.Kind != yaml.DocumentNode {
				m.height = max(m.height, cm.height+1)
			} else {
				m.height = max(m.height, cm.height)
			}
			if m.size > MaxNodes {
				return measure{}, &limitError{c, fmt.Sprintf("document has more than the maximum of %d nodes, counting each alias as its expansion (alias bomb?)", MaxNodes)}
			}
			if m.height > MaxDepth {
				return measure{}, &limitError{c, fmt.Sprintf("document nests deeper than the maximum of %d levels", MaxDepth)}
			}
		}
		memo[n] = &m
		return m, nil
	}
	_, err := walk(root)
	return err
}
