package graphql_test

import (
	"slices"
	"testing"

	"github.com/stratahq/strata/graphql"
)

// TestServer_LineageOfAnAlias asks for the lineage around a datum alias, named in the
// documented form (alias:<project>/<name>) and as the read model keys it
// (alias:datum://<project>/<name>), in both directions.
func TestServer_LineageOfAnAlias(t *testing.T) {
	f := newFixture(t)
	f.must(f.alice, `mutation($p: ID!, $d: ID!) { setAlias(project: $p, name: "prod", datum: $d) { position } }`, map[string]any{"p": f.pid, "d": f.d1}, nil)
	const q = `query($n: String!, $dir: Direction!) { lineage(node: $n, direction: $dir, depth: 2) { nodes { id kind } edges { from to kind } } }`
	type graph struct {
		Lineage struct {
			Nodes []struct{ ID, Kind string }
			Edges []struct{ From, To, Kind string }
		}
	}
	alias, datum := "alias:datum://"+f.pid+"/prod", "datum:"+f.d1
	for _, node := range []string{"alias:" + f.pid + "/prod", alias} {
		var up graph
		f.must(f.bob, q, map[string]any{"n": node, "dir": "UPSTREAM"}, &up)
		var ids []string
		for _, n := range up.Lineage.Nodes {
			ids = append(ids, n.ID)
		}
		if !slices.Contains(ids, alias) || !slices.Contains(ids, datum) || len(up.Lineage.Edges) != 1 ||
			up.Lineage.Edges[0].From != datum || up.Lineage.Edges[0].To != alias || up.Lineage.Edges[0].Kind != "points-to" {
			t.Errorf("lineage(%s, UPSTREAM) = %+v, want the alias and the datum it points to", node, up.Lineage)
		}
		var down graph
		f.must(f.bob, q, map[string]any{"n": node, "dir": "DOWNSTREAM"}, &down)
		if len(down.Lineage.Nodes) != 1 || down.Lineage.Nodes[0].ID != alias || down.Lineage.Nodes[0].Kind != "alias" || len(down.Lineage.Edges) != 0 {
			t.Errorf("lineage(%s, DOWNSTREAM) = %+v, want the alias alone (nothing reads it)", node, down.Lineage)
		}
	}
	// Downstream of the datum: the alias pointing to it.
	var down graph
	f.must(f.bob, q, map[string]any{"n": datum, "dir": "DOWNSTREAM"}, &down)
	if !slices.ContainsFunc(down.Lineage.Edges, func(e struct{ From, To, Kind string }) bool { return e.From == datum && e.To == alias }) {
		t.Errorf("lineage(%s, DOWNSTREAM) = %+v, want the edge to %s", datum, down.Lineage, alias)
	}
	for _, node := range []string{"alias:" + f.pid, "alias:datum://" + f.pid + "/", "alias:vision/prod", "alias:dataset://" + f.pid + "/prod"} {
		if r := f.do(f.bob, q, map[string]any{"n": node, "dir": "UPSTREAM"}); r.code() != graphql.CodeInvalid {
			t.Errorf("lineage(%s): code %q, want INVALID", node, r.code())
		}
	}
}
