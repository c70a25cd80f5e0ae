package projections

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/domain/datum"
	"github.com/stratahq/strata/domain/deployment"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
)

// Lineage is the bitemporal lineage graph. Nodes are executions, datums, dataset
// versions, aliases (of datums and of datasets) and deployment versions. Edges point the
// way data flows, from what was used to what was made of it:
//
//	input-of     datum or dataset version → execution
//	output-of    execution → datum
//	member-of    datum → dataset version
//	points-to    datum → alias, dataset version → dataset alias (the alias points to it)
//	used-by      datum → deployment version
//
// Every edge carries the position it appeared (From) and the position it ended (To, 0 while
// it holds: only alias edges end), so traversals as of a position need no replay.
//
// Keys: n node → Node; o from to kind fromPos → toPos; i to from kind fromPos → toPos;
// c alias-node → its current target node and edge position; ds project name → dataset;
// da dataset alias → version.
type Lineage struct{}

// Node kinds.
const (
	KindExecution         = "execution"
	KindDatum             = "datum"
	KindDatasetVersion    = "dataset-version"
	KindAlias             = "alias"
	KindDeploymentVersion = "deployment-version"
)

// Edge kinds.
const (
	EdgeInputOf  = "input-of"
	EdgeOutputOf = "output-of"
	EdgeMemberOf = "member-of"
	EdgePointsTo = "points-to"
	EdgeUsedBy   = "used-by"
)

// Node IDs: the kind, a colon and the thing's identity.

// ExecutionNode returns the node ID of an execution.
func ExecutionNode(id domain.ExecutionID) string { return KindExecution + ":" + string(id) }

// DatumNode returns the node ID of a datum.
func DatumNode(id domain.DatumID) string { return KindDatum + ":" + string(id) }

// DatasetVersionNode returns the node ID of a dataset version.
func DatasetVersionNode(id domain.DatasetID, version string) string {
	return KindDatasetVersion + ":" + string(id) + "/" + version
}

// AliasNode returns the node ID of a datum alias.
func AliasNode(project domain.ProjectID, name string) string {
	return KindAlias + ":datum://" + string(project) + "/" + name
}

// ParseAliasNode returns the project and name of the datum alias node node: AliasNode's
// "alias:datum://<project>/<name>", or the short "alias:<project>/<name>" the API accepts.
func ParseAliasNode(node string) (domain.ProjectID, string, error) {
	rest, ok := strings.CutPrefix(node, KindAlias+":")
	if !ok {
		return "", "", fmt.Errorf("alias node %.80q: want alias:datum://<project>/<name>: %w", node, domain.ErrInvalid)
	}
	rest = strings.TrimPrefix(rest, "datum://")
	p, name, ok := strings.Cut(rest, "/")
	if !ok || name == "" {
		return "", "", fmt.Errorf("alias node %.80q: want alias:datum://<project>/<name> or alias:<project>/<name>: %w", node, domain.ErrInvalid)
	}
	id, err := domain.ParseProjectID(p)
	if err != nil {
		return "", "", fmt.Errorf("alias node %.80q: %w", node, err)
	}
	return id, name, nil
}

// DatasetAliasNode returns the node ID of a dataset alias.
func DatasetAliasNode(id domain.DatasetID, name string) string {
	return KindAlias + ":dataset://" + string(id) + "/" + name
}

// DeploymentVersionNode returns the node ID of a deployment version.
func DeploymentVersionNode(id domain.DeploymentID, version string) string {
	return KindDeploymentVersion + ":" + string(id) + "/" + version
}

// Node is a lineage node.
type Node struct {
	ID    string          `json:"id"`
	Kind  string          `json:"kind"`
	Label string          `json:"label,omitempty"`
	From  events.Position `json:"from"`
	// Project is the project of an execution or a datum whose creation the log holds
	// (empty for other nodes): the API checks access with it.
	Project domain.ProjectID `json:"project,omitempty"`
}

// Edge is a lineage edge valid from position From to To (0: still valid).
type Edge struct {
	From, To string
	Kind     string
	Since    events.Position
	Until    events.Position
}

// Name returns "lineage".
func (Lineage) Name() string { return "lineage" }

// Version returns the layout version: 2 has binary nodes (see appendNode), 3 their
// projects.
func (Lineage) Version() int { return 3 }

// Apply adds the nodes and edges an event implies.
func (l Lineage) Apply(tx Txn, env events.Envelope, ev events.Event) error {
	p := env.Position
	switch e := ev.(type) {
	case execution.Created:
		x := ExecutionNode(e.Execution)
		if err := putNode(tx, x, KindExecution, "#"+strconv.Itoa(e.Number)+" "+e.Step, e.Project, p); err != nil {
			return err
		}
		if e.Code.Adhoc != "" {
			if err := addEdge(tx, DatumNode(e.Code.Adhoc), x, EdgeInputOf, p); err != nil {
				return err
			}
		}
		for _, in := range e.Inputs {
			for _, u := range in.URIs {
				if ds, err := domain.ParseDatasetURI(u.URI); err == nil {
					if err := l.datasetInput(tx, e.Project, ds, x, p); err != nil {
						return err
					}
				}
				for _, d := range u.Datums {
					if err := addEdge(tx, DatumNode(d), x, EdgeInputOf, p); err != nil {
						return err
					}
				}
			}
		}
	case execution.InputHashed:
		if e.Datum != "" {
			return addEdge(tx, DatumNode(e.Datum), ExecutionNode(e.Execution), EdgeInputOf, p)
		}
	case execution.OutputRecorded:
		return addEdge(tx, ExecutionNode(e.Execution), DatumNode(e.Datum), EdgeOutputOf, p)
	case datum.Created:
		if err := putNode(tx, DatumNode(e.Datum), KindDatum, e.Name, e.Project, p); err != nil {
			return err
		}
		if e.Execution != "" {
			return addEdge(tx, ExecutionNode(e.Execution), DatumNode(e.Datum), EdgeOutputOf, p)
		}
	case alias.Moved:
		return moveAlias(tx, AliasNode(e.Project, e.Alias), e.Alias, DatumNode(e.Datum), p)
	case alias.Deleted:
		return moveAlias(tx, AliasNode(e.Project, e.Alias), e.Alias, "", p)
	case dataset.Created:
		return tx.Set(key("ds", string(e.Project), e.Name), []byte(e.Dataset))
	case dataset.VersionCreated:
		v := DatasetVersionNode(e.Dataset, e.Version)
		if err := putNode(tx, v, KindDatasetVersion, e.Version, "", p); err != nil {
			return err
		}
		for _, d := range e.Files {
			if err := addEdge(tx, DatumNode(d), v, EdgeMemberOf, p); err != nil {
				return err
			}
		}
	case dataset.AliasMoved:
		if err := tx.Set(key("da", string(e.Dataset), e.Alias), []byte(e.Version)); err != nil {
			return err
		}
		return moveAlias(tx, DatasetAliasNode(e.Dataset, e.Alias), e.Alias, DatasetVersionNode(e.Dataset, e.Version), p)
	case deployment.VersionCreated:
		v := DeploymentVersionNode(e.Deployment, e.Version)
		if err := putNode(tx, v, KindDeploymentVersion, e.Version, "", p); err != nil {
			return err
		}
		for _, f := range e.Files {
			if err := addEdge(tx, DatumNode(f.Datum), v, EdgeUsedBy, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// datasetInput adds the edge from the dataset version an input URI named (resolving a
// dataset alias as it stood) to the execution.
func (Lineage) datasetInput(tx Txn, project domain.ProjectID, u domain.DatasetURI, x string, p events.Position) error {
	id, ok, err := tx.Get(key("ds", string(project), u.Dataset))
	if err != nil || !ok {
		return err
	}
	version := u.Version
	if v, ok, err := tx.Get(key("da", string(id), version)); err != nil {
		return err
	} else if ok {
		version = string(v)
	}
	if version == dataset.Latest {
		return nil // the datums carry the lineage
	}
	return addEdge(tx, DatasetVersionNode(domain.DatasetID(id), version), x, EdgeInputOf, p)
}

func putNode(tx Txn, id, kind, label string, project domain.ProjectID, p events.Position) error {
	n, ok, err := getNode(tx, id)
	if err != nil {
		return err
	}
	changed := !ok
	if !ok {
		n = Node{ID: id, Kind: kind, From: p}
	}
	if n.Label == "" && label != "" {
		n.Label, changed = label, true
	}
	if n.Project == "" && project != "" {
		n.Project, changed = project, true
	}
	if !changed {
		return nil
	}
	return tx.Set(key("n", id), appendNode(nil, n))
}

// ensureNode records a node that an edge names before its own creation event (or whose
// creation the log does not hold).
func ensureNode(tx Txn, id string, p events.Position) error {
	if _, ok, err := tx.Get(key("n", id)); err != nil || ok {
		return err
	}
	kind, _, _ := strings.Cut(id, ":")
	return tx.Set(key("n", id), appendNode(nil, Node{ID: id, Kind: kind, From: p}))
}

// addEdge adds from → to unless an open edge of that kind exists ("oe" marks open edges).
func addEdge(tx Txn, from, to, kind string, p events.Position) error {
	open := key("oe", from, to, kind)
	if _, ok, err := tx.Get(open); err != nil || ok {
		return err
	}
	if err := tx.Set(open, nil); err != nil {
		return err
	}
	for _, n := range []string{from, to} {
		if err := ensureNode(tx, n, p); err != nil {
			return err
		}
	}
	return setEdge(tx, from, to, kind, p, 0)
}

func setEdge(tx Txn, from, to, kind string, since, until events.Position) error {
	v := withPos(nil, until)
	if err := tx.Set(withPos(prefixOf("o", from, to, kind), since), v); err != nil {
		return err
	}
	return tx.Set(withPos(prefixOf("i", to, from, kind), since), v)
}

// moveAlias ends the alias's current points-to edge and, unless target is empty (deleted),
// starts one from target.
func moveAlias(tx Txn, node, name, target string, p events.Position) error {
	if err := putNode(tx, node, KindAlias, name, "", p); err != nil {
		return err
	}
	cur, ok, err := tx.Get(key("c", node))
	if err != nil {
		return err
	}
	if ok {
		since := posAtEnd(cur)
		if err := setEdge(tx, string(cur[:len(cur)-8]), node, EdgePointsTo, since, p); err != nil {
			return err
		}
	}
	if target == "" {
		return tx.Delete(key("c", node))
	}
	if err := tx.Set(key("c", node), withPos([]byte(target), p)); err != nil {
		return err
	}
	if err := ensureNode(tx, target, p); err != nil {
		return err
	}
	return setEdge(tx, target, node, EdgePointsTo, p, 0)
}

// Direction of a traversal.
type Direction int

const (
	// Upstream follows edges backwards: how was this made.
	Upstream Direction = iota
	// Downstream follows edges forwards: what relies on this.
	Downstream
)

// Graph is the result of a traversal: the nodes reached (the start first) and the edges
// followed, each node and edge once.
type Graph struct {
	Nodes []Node
	Edges []Edge
}

// Node returns the node id as of p.
func (Lineage) Node(r Reader, id string, p events.Position) (Node, error) {
	n, ok, err := getNode(r, id)
	if err != nil {
		return Node{}, fmt.Errorf("get lineage node %s: %w", id, err)
	}
	if !ok || n.From > p {
		return Node{}, fmt.Errorf("lineage node %s at position %d: %w", id, p, ErrNotFound)
	}
	return n, nil
}

// Traverse walks from start in dir, breadth first, at most depth edges away (depth < 0:
// no limit), over the edges valid at p. Each node is visited once, so cycles end.
func (l Lineage) Traverse(r Reader, start string, dir Direction, depth int, p events.Position) (Graph, error) {
	first, err := l.Node(r, start, p)
	if err != nil {
		return Graph{}, err
	}
	g := Graph{Nodes: []Node{first}}
	seen := map[string]bool{start: true}
	frontier := []string{start}
	table := "i"
	if dir == Downstream {
		table = "o"
	}
	for d := 0; len(frontier) > 0 && (depth < 0 || d < depth); d++ {
		var next []string
		for _, n := range frontier {
			pre := prefixOf(table, n)
			var derr error
			err := r.Scan(pre, nil, false, func(k, v []byte) bool {
				other, kind, since, ok := splitEdgeKey(k[len(pre):])
				if !ok {
					derr = fmt.Errorf("lineage: malformed edge key %q: %w", k, errMalformed)
					return false
				}
				until := events.Position(binary.BigEndian.Uint64(v))
				if !valid(since, until, p) {
					return true
				}
				e := Edge{From: n, To: other, Kind: kind, Since: since, Until: until}
				if dir == Upstream {
					e.From, e.To = other, n
				}
				if e.Until > p {
					e.Until = 0
				}
				g.Edges = append(g.Edges, e)
				if !seen[other] {
					seen[other] = true
					next = append(next, other)
				}
				return true
			})
			if err == nil {
				err = derr
			}
			if err != nil {
				return Graph{}, fmt.Errorf("traverse lineage from %s: %w", start, err)
			}
		}
		for _, id := range next {
			node, _, err := getNode(r, id)
			if err != nil {
				return Graph{}, err
			}
			g.Nodes = append(g.Nodes, node)
		}
		frontier = next
	}
	return g, nil
}

// appendNode appends the value of a node's key: its kind, label and project
// length-prefixed and From as a varint (the ID is the key's). JSON decoding was most of
// what a traversal cost.
func appendNode(b []byte, n Node) []byte {
	b = appendRowString(b, n.Kind)
	b = appendRowString(b, n.Label)
	b = appendRowString(b, string(n.Project))
	return binary.AppendUvarint(b, uint64(n.From))
}

// getNode reads the node id: false if there is none.
func getNode(r Reader, id string) (Node, bool, error) {
	b, ok, err := r.Get(key("n", id))
	if err != nil || !ok {
		return Node{}, false, err
	}
	rr := rowReader{b: b}
	n := Node{ID: id, Kind: string(rr.str()), Label: string(rr.str()), Project: domain.ProjectID(rr.str()), From: events.Position(rr.uvarint())}
	if rr.bad || len(rr.b) != 0 {
		return Node{}, false, fmt.Errorf("lineage node %s: %w", id, errMalformed)
	}
	return n, true, nil
}

// splitEdgeKey splits "other NUL kind NUL since" (since is 8 bytes).
func splitEdgeKey(k []byte) (other, kind string, since events.Position, ok bool) {
	if len(k) < 8 {
		return "", "", 0, false
	}
	since = posAtEnd(k)
	rest := k[:len(k)-8]
	if len(rest) == 0 || rest[len(rest)-1] != 0 {
		return "", "", 0, false
	}
	rest = rest[:len(rest)-1]
	i := bytes.LastIndexByte(rest, 0)
	if i < 0 {
		return "", "", 0, false
	}
	return string(rest[:i]), string(rest[i+1:]), since, true
}

// Impact is everything downstream of a node, grouped by kind.
type Impact struct {
	Executions         []Node
	Datums             []Node
	DatasetVersions    []Node
	Aliases            []Node
	DeploymentVersions []Node
}

// Impact returns everything downstream of start at p, start itself excluded.
func (l Lineage) Impact(r Reader, start string, p events.Position) (Impact, error) {
	g, err := l.Traverse(r, start, Downstream, -1, p)
	if err != nil {
		return Impact{}, err
	}
	var out Impact
	out.add(g.Nodes[1:])
	return out, nil
}

func (im *Impact) add(nodes []Node) {
	for _, n := range nodes {
		switch n.Kind {
		case KindExecution:
			im.Executions = append(im.Executions, n)
		case KindDatum:
			im.Datums = append(im.Datums, n)
		case KindDatasetVersion:
			im.DatasetVersions = append(im.DatasetVersions, n)
		case KindAlias:
			im.Aliases = append(im.Aliases, n)
		case KindDeploymentVersion:
			im.DeploymentVersions = append(im.DeploymentVersions, n)
		}
	}
}
