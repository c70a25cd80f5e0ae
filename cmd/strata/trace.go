package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratahq/strata/domain"
)

// maxTraceDepth is the deepest lineage the API walks (its lineage query refuses more).
const maxTraceDepth = 50

// traceNode is a lineage node with what makes it readable: an execution's status, a
// datum's size, a dataset version's dataset name.
type traceNode struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Label  string `json:"label,omitempty"`
	Status string `json:"status,omitempty"`
	Size   *int64 `json:"size,omitempty"`
	// Text is how the tree shows the node.
	Text string `json:"text"`
}

// traceEdge is a lineage edge: from → to, of kind output-of, input-of, member-of,
// points-to or used-by.
type traceEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Kind string `json:"kind"`
}

// trace is what 'data trace --json' prints.
type trace struct {
	Root      string      `json:"root"`
	Direction string      `json:"direction"`
	Depth     int         `json:"depth"`
	Nodes     []traceNode `json:"nodes"`
	Edges     []traceEdge `json:"edges"`
}

func newCmdDataTrace(f *factory, a *apiFlags) *cobra.Command {
	var (
		down  bool
		depth int
		at    string
	)
	c := &cobra.Command{
		Use:   "trace ID|datum://ALIAS [--down] [--depth N] [--as-of T]",
		Short: "Show a datum's lineage as a tree: how it was made, or with --down what relies on it",
		Long: `Walks the lineage graph from a datum (by ID, or datum://ALIAS of --project) and prints
it as an indented tree. Upstream (the default) answers "how was this made": the
execution that wrote it, that execution's inputs, the executions that wrote those, and
so on. --down answers "what relies on this": the executions that read it, what they
wrote, the aliases, dataset versions and deployments that use it.

A node reached twice is printed once and marked "(shown above)" where it repeats.
--depth bounds how many edges away the walk goes (1 to 50); --as-of reads the graph as
it stood at a log position or time. --json prints the nodes and edges.`,
		Example: `  strata data trace datum://model-latest -p vision
  strata data trace 0192f3a4-... --down --depth 10`,
		Args: exactArgs(1, "a datum ID or datum://ALIAS"),
		RunE: func(c *cobra.Command, args []string) error {
			if depth < 1 || depth > maxTraceDepth {
				return &usageError{fmt.Errorf("--depth %d: want 1 to %d edges", depth, maxTraceDepth)}
			}
			as, err := asOf(at)
			if err != nil {
				return err
			}
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			id, err := resolveDatum(c.Context(), cl, a, args[0], as)
			if err != nil {
				return err
			}
			dir := "UPSTREAM"
			if down {
				dir = "DOWNSTREAM"
			}
			t, err := lineage(c.Context(), cl, "datum:"+id, dir, depth, as)
			if err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(t)
			}
			return t.print(f.Out)
		},
	}
	c.Flags().BoolVar(&down, "down", false, "show what relies on the datum instead of how it was made")
	c.Flags().IntVar(&depth, "depth", 5, fmt.Sprintf("how many edges away to go (1 to %d)", maxTraceDepth))
	asOfVar(c, &at)
	return c
}

// resolveDatum turns a datum reference (an ID, datum://ID, or datum://ALIAS of a's
// project as of as) into a datum ID.
func resolveDatum(ctx context.Context, cl *apiClient, a *apiFlags, ref string, as map[string]any) (string, error) {
	ref = strings.TrimSpace(ref)
	if id, err := domain.ParseDatumID(ref); err == nil {
		return string(id), nil
	}
	if !strings.HasPrefix(ref, "datum://") {
		return "", &usageError{fmt.Errorf("datum %q: want a datum ID or datum://ALIAS ('strata data ls' lists the IDs)", ref)}
	}
	u, err := domain.ParseDatumURI(ref)
	if err != nil {
		return "", &usageError{err}
	}
	if u.ID != "" {
		return string(u.ID), nil
	}
	pid, err := cl.project(ctx, a)
	if err != nil {
		return "", err
	}
	var res struct {
		Alias aliasFact `json:"alias"`
	}
	if err := cl.do(ctx, `query($p: ID!, $n: String!, $as: AsOf) { alias(project: $p, name: $n, asOf: $as) { `+aliasFields+` } }`,
		map[string]any{"p": pid, "n": u.Alias, "as": as}, &res); err != nil {
		return "", fmt.Errorf("alias %s: %w", u.Alias, err)
	}
	if res.Alias.Deleted || res.Alias.Target == nil {
		return "", fmt.Errorf("alias %s was deleted at position %d: trace the datum by ID, or pass an --as-of before that", u.Alias, res.Alias.From)
	}
	return *res.Alias.Target, nil
}

// lineage reads the lineage of node in dir ("UPSTREAM" or "DOWNSTREAM") and makes its
// nodes readable.
func lineage(ctx context.Context, cl *apiClient, node, dir string, depth int, as map[string]any) (trace, error) {
	var res struct {
		Lineage struct {
			Nodes []traceNode `json:"nodes"`
			Edges []traceEdge `json:"edges"`
		} `json:"lineage"`
	}
	// Few fields: the API weighs lineage by depth, and 50 deep must stay within its limit.
	err := cl.do(ctx, `query($n: String!, $d: Direction!, $depth: Int, $as: AsOf) {
  lineage(node: $n, direction: $d, depth: $depth, asOf: $as) { nodes { id kind label } edges { from to kind } } }`,
		map[string]any{"n": node, "d": dir, "depth": depth, "as": as}, &res)
	if err != nil {
		return trace{}, err
	}
	t := trace{Root: node, Direction: strings.ToLower(dir), Depth: depth, Nodes: res.Lineage.Nodes, Edges: res.Lineage.Edges}
	if err := describe(ctx, cl, t.Nodes, as); err != nil {
		return trace{}, err
	}
	return t, nil
}

// describe adds to nodes the status of executions, the size of datums and the name of
// datasets, and sets each node's Text.
func describe(ctx context.Context, cl *apiClient, nodes []traceNode, as map[string]any) error {
	const batch = 200               // fields per request, well within the API's complexity limit
	datasets := map[string]string{} // dataset ID → name, for the projects met
	for start := 0; start < len(nodes); start += batch {
		part := nodes[start:min(start+batch, len(nodes))]
		var q, body strings.Builder
		vars := map[string]any{}
		q.WriteString("query(")
		for i, n := range part {
			kind, rest, _ := strings.Cut(n.ID, ":")
			v := "v" + strconv.Itoa(i)
			switch kind {
			case "execution":
				if _, ok := vars["as"]; !ok {
					vars["as"] = as
					q.WriteString("$as: AsOf, ")
				}
				fmt.Fprintf(&q, "$%s: ID, ", v)
				fmt.Fprintf(&body, " n%d: execution(id: $%s, asOf: $as) { status project }", i, v)
			case "datum":
				fmt.Fprintf(&q, "$%s: ID!, ", v)
				fmt.Fprintf(&body, " n%d: datum(id: $%s) { size project }", i, v)
			default:
				continue
			}
			vars[v] = rest
		}
		if body.Len() == 0 {
			continue
		}
		q.WriteString(") {")
		q.WriteString(body.String())
		q.WriteString(" }")
		var res map[string]struct {
			Status  string `json:"status"`
			Size    *int64 `json:"size"`
			Project string `json:"project"`
		}
		if err := cl.do(ctx, q.String(), vars, &res); err != nil {
			return fmt.Errorf("read the lineage's executions and datums: %w", err)
		}
		for i := range part {
			r, ok := res["n"+strconv.Itoa(i)]
			if !ok {
				continue
			}
			part[i].Status, part[i].Size = strings.ToLower(r.Status), r.Size
			if _, ok := datasets[r.Project]; !ok && r.Project != "" {
				datasets[r.Project] = ""
			}
		}
	}
	names, err := datasetNames(ctx, cl, nodes, datasets)
	if err != nil {
		return err
	}
	for i := range nodes {
		nodes[i].Text = nodes[i].text(names)
	}
	return nil
}

// datasetNames returns the name of every dataset in projects when nodes has dataset
// versions or dataset aliases, which name their dataset by ID.
func datasetNames(ctx context.Context, cl *apiClient, nodes []traceNode, projects map[string]string) (map[string]string, error) {
	names := map[string]string{}
	need := false
	for _, n := range nodes {
		need = need || n.Kind == "dataset-version" || strings.HasPrefix(n.ID, "alias:dataset://")
	}
	if !need {
		return names, nil
	}
	for p := range projects {
		var res struct {
			Datasets []struct{ ID, Name string }
		}
		if err := cl.do(ctx, `query($p: ID!) { datasets(project: $p) { id name } }`, map[string]any{"p": p}, &res); err != nil {
			return nil, fmt.Errorf("read the datasets of project %s: %w", p, err)
		}
		for _, d := range res.Datasets {
			names[d.ID] = d.Name
		}
	}
	return names, nil
}

// text is how the tree shows n; datasets maps dataset IDs to names.
func (n traceNode) text(datasets map[string]string) string {
	_, rest, _ := strings.Cut(n.ID, ":")
	dataset := func(ref string) string { // "<dataset id>/<name>" → "<dataset name>/<name>"
		id, name, _ := strings.Cut(ref, "/")
		if dn := datasets[id]; dn != "" {
			id = dn
		}
		return id + "/" + name
	}
	switch n.Kind {
	case "execution":
		s := "execution " + orDash(n.Label)
		if n.Status != "" {
			s += " (" + n.Status + ")"
		}
		return s
	case "datum":
		s := "datum " + orDash(n.Label) + " (datum://" + rest
		if n.Size != nil {
			s += ", " + humanBytes(*n.Size)
		}
		return s + ")"
	case "alias":
		if ref, ok := strings.CutPrefix(rest, "dataset://"); ok {
			return "dataset alias dataset://" + dataset(ref)
		}
		return "alias datum://" + orDash(n.Label)
	case "dataset-version":
		return "dataset version dataset://" + dataset(rest)
	case "deployment-version":
		id, _, _ := strings.Cut(rest, "/")
		return "deployment version " + orDash(n.Label) + " (deployment " + id + ")"
	}
	return n.Kind + " " + rest
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// print writes t as an indented tree from its root: each child under its parent with the
// edge that links them; a node met again is marked and not expanded again.
func (t trace) print(w io.Writer) error {
	byID := make(map[string]traceNode, len(t.Nodes))
	for _, n := range t.Nodes {
		byID[n.ID] = n
	}
	upstream := t.Direction == "upstream"
	children := map[string][]traceEdge{}
	for _, e := range t.Edges {
		parent := e.From
		if upstream {
			parent = e.To
		}
		children[parent] = append(children[parent], e)
	}
	arrow := "→"
	if upstream {
		arrow = "←"
	}
	text := func(id string) string {
		if n, ok := byID[id]; ok {
			return n.Text
		}
		return id
	}
	var b strings.Builder
	b.WriteString(text(t.Root) + "\n")
	seen := map[string]bool{t.Root: true}
	var walk func(id, indent string)
	walk = func(id, indent string) {
		kids := children[id]
		for i, e := range kids {
			child := e.To
			if upstream {
				child = e.From
			}
			branch, next := "├─ ", "│  "
			if i == len(kids)-1 {
				branch, next = "└─ ", "   "
			}
			line := indent + branch + e.Kind + " " + arrow + " " + text(child)
			if seen[child] {
				b.WriteString(line + "  (shown above)\n")
				continue
			}
			seen[child] = true
			b.WriteString(line + "\n")
			walk(child, indent+next)
		}
	}
	walk(t.Root, "")
	if len(t.Edges) == 0 {
		if upstream {
			b.WriteString("(no upstream lineage: it was uploaded, not written by an execution)\n")
		} else {
			b.WriteString("(nothing relies on it yet)\n")
		}
	} else if t.reachesDepth() {
		fmt.Fprintf(&b, "(stopped at --depth %d: there may be more; raise --depth to see further)\n", t.Depth)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// reachesDepth reports whether some node lies t.Depth edges from the root, where the
// walk stopped.
func (t trace) reachesDepth() bool {
	next := map[string][]string{}
	for _, e := range t.Edges {
		from, to := e.From, e.To
		if t.Direction == "upstream" {
			from, to = to, from
		}
		next[from] = append(next[from], to)
	}
	dist := map[string]int{t.Root: 0}
	frontier := []string{t.Root}
	for d := 1; len(frontier) > 0; d++ {
		var more []string
		for _, n := range frontier {
			for _, m := range next[n] {
				if _, ok := dist[m]; !ok {
					dist[m] = d
					more = append(more, m)
				}
			}
		}
		if len(more) > 0 && d >= t.Depth {
			return true
		}
		frontier = more
	}
	return false
}
