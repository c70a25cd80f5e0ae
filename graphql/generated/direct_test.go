package generated

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/ast"
)

// fakeQuery answers executions and lineage with fixed values; any other query panics
// (the embedded interface is nil), and none is asked.
type fakeQuery struct {
	QueryResolver
	rows    []Execution
	lineage LineageGraph
}

func (q fakeQuery) Executions(context.Context, string, *ExecutionFilter, *ExecutionSort, *int, *string, *AsOf) (*ExecutionConnection, error) {
	return &ExecutionConnection{Nodes: q.rows, Total: len(q.rows), Counts: []StatusCount{{Status: ExecutionStatusComplete, Count: 2}, {Status: ExecutionStatusError, Count: 1}}}, nil
}

func (q fakeQuery) Lineage(context.Context, string, Direction, *int, *AsOf) (*LineageGraph, error) {
	return &q.lineage, nil
}

type fakeRoot struct{ q fakeQuery }

func (r fakeRoot) Query() QueryResolver               { return r.q }
func (r fakeRoot) Mutation() MutationResolver         { return nil }
func (r fakeRoot) Subscription() SubscriptionResolver { return nil }

// run executes query through gqlgen's executor and returns the response as JSON.
func run(t *testing.T, root fakeRoot, query string, vars map[string]any) string {
	t.Helper()
	exec := executor.New(NewExecutableSchema(Config{Resolvers: root}))
	ctx := graphql.StartOperationTrace(context.Background())
	rc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query, Variables: vars})
	if errs != nil {
		t.Fatalf("%s: %v", query, errs)
	}
	ctx = graphql.WithOperationContext(ctx, rc)
	handle, ctx := exec.DispatchOperation(ctx, rc)
	resp := handle(ctx)
	out, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func ptr[T any](v T) *T { return &v }

// TestDirectList_SameAsGeneral runs queries over executions and lineage with the direct
// path on and off: the responses, errors included, must be the same bytes, and the direct
// path must be the one taken where it can be.
func TestDirectList_SameAsGeneral(t *testing.T) {
	at := time.Date(2026, 11, 24, 8, 30, 0, 123456789, time.FixedZone("x", 3600))
	full := Execution{
		ID: "e1", Project: "p1", Number: 1 << 40, Counter: "#1", Step: `train "quoted" \ <html> & ünïcode ☃`,
		Title: ptr("t\n\t\u0001\u2028"), Repository: ptr("https://x/y"), Commit: ptr("abc"), Adhoc: ptr("ad"),
		Image: "python:3.12", ImageDigest: ptr("sha256:00"), Commands: []string{"a", `b "c"`}, Environment: "env",
		Host: ptr("h"), Creator: "alice", Task: ptr("task"), Tags: []string{"x", "y"}, Status: ExecutionStatusComplete,
		ExitCode: ptr(-3), Reason: ptr("r"), StopRequestedBy: ptr("bob"), CreatedAt: at, QueuedAt: ptr(at.Add(time.Second)),
		StartedAt: ptr(at.UTC()), EndedAt: ptr(time.Time{}), Duration: 1234.5678e-9, Cost: "0.0100",
		Metadata: json.RawMessage(`{"loss": 0.5, "s":"<b>"}`), MetadataPoints: 8, Position: math.MaxUint64, Updated: 7,
	}
	sparse := Execution{ID: "e2", Project: "p1", Number: 2, Counter: "#2", CreatedAt: at, Duration: 0, Status: ExecutionStatusQueued}
	zeroTime := sparse
	zeroTime.CreatedAt = time.Time{}
	nan := sparse
	nan.Duration = math.NaN()
	lineage := LineageGraph{
		Nodes: []LineageNode{{ID: "datum:1", Kind: "datum", Label: ptr("model.pb"), From: 3}, {ID: "execution:2", Kind: "execution", From: 1}},
		Edges: []LineageEdge{{From: "execution:2", To: "datum:1", Kind: "output-of", Since: 3}, {From: "a", To: "b", Kind: "k", Since: 1, Until: ptr(uint64(9))}},
	}
	every := `id project number counter step title repository commit adhoc image imageDigest commands environment host creator
		task tags status exitCode reason stopRequestedBy createdAt queuedAt startedAt endedAt duration cost metadata metadataPoints position updated`
	table := func(sel string, fragments ...string) string {
		params := ""
		if strings.Contains(sel, "$") {
			params = "($yes: Boolean!, $no: Boolean!)"
		}
		return `query` + params + ` { executions(project: "p1") { total nodes { ` + sel + ` } counts { status count __typename } } } ` + strings.Join(fragments, " ")
	}
	vars := map[string]any{"yes": true, "no": false}
	for _, c := range []struct {
		name   string
		rows   []Execution
		query  string
		direct bool // the direct path writes the nodes (or the lineage)
		errors bool // the response has errors
	}{
		{"every field", []Execution{full, sparse}, table(every), true, false},
		{"aliases, typename, repeats", []Execution{full}, table(`__typename a: id b: id id number n: number __typename`), true, false},
		{"fragments and directives", []Execution{full, sparse}, table(`...F ... on Execution { tags step } x: cost @skip(if: $yes) y: cost @include(if: $yes) z: step @include(if: $no)`, `fragment F on Execution { id status metadata }`), true, false},
		{"no rows", nil, table(every), false, false},
		{"a field with objects", []Execution{full}, table(`id inputs { name }`), false, false},
		{"a zero time, reported as an error", []Execution{sparse, zeroTime}, table(`id createdAt`), false, true},
		{"a NaN, reported as an error", []Execution{nan}, table(`id duration`), false, true},
		{"lineage", nil, `{ lineage(node: "datum:1", direction: UPSTREAM) { nodes { id kind label from __typename } edges { from to kind since until } } }`, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := fakeRoot{fakeQuery{rows: c.rows, lineage: lineage}}
			directEnabled = false
			want := run(t, root, c.query, vars)
			directEnabled = true
			got := run(t, root, c.query, vars)
			if got != want {
				t.Fatalf("direct path:\n%s\ngeneral path:\n%s", got, want)
			}
			if strings.Contains(want, `"errors"`) != c.errors {
				t.Errorf("errors in the response: %v, want %v: %s", !c.errors, c.errors, want)
			}
			if taken := directTaken(t, root, c.query, vars); taken != c.direct {
				t.Errorf("direct path taken: %v, want %v", taken, c.direct)
			}
		})
	}
}

// directTaken reports whether the direct path wrote the lists of query's response: it
// runs the query with the tables' id and kind fields written as a sentinel.
func directTaken(t *testing.T, root fakeRoot, query string, vars map[string]any) bool {
	t.Helper()
	const sentinel = `"written directly"`
	id, kind := directExecution["id"], directLineageNode["kind"]
	defer func() { directExecution["id"], directLineageNode["kind"] = id, kind }()
	directExecution["id"] = func(*executionContext, context.Context, ast.SelectionSet, *Execution) graphql.Marshaler {
		return rawJSON(sentinel)
	}
	directLineageNode["kind"] = func(*executionContext, context.Context, ast.SelectionSet, *LineageNode) graphql.Marshaler {
		return rawJSON(sentinel)
	}
	return strings.Contains(run(t, root, query, vars), sentinel)
}
