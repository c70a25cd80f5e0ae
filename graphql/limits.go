package graphql

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/complexity"
	gql "github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/stratahq/strata/graphql/generated"
)

// limits refuses operations nested deeper than maxDepth or more complex than
// maxComplexity, before anything runs. Introspection counts like any query.
type limits struct {
	maxDepth, maxComplexity int
	es                      gql.ExecutableSchema
}

var (
	_ gql.HandlerExtension        = (*limits)(nil)
	_ gql.OperationContextMutator = (*limits)(nil)
)

// ExtensionName names the extension.
func (*limits) ExtensionName() string { return "StrataLimits" }

// Validate keeps the schema for the complexity calculation.
func (l *limits) Validate(es gql.ExecutableSchema) error {
	l.es = es
	return nil
}

// MutateOperationContext refuses the operation when it is too deep or too complex.
func (l *limits) MutateOperationContext(ctx context.Context, oc *gql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if d := depth(oc.Operation.SelectionSet, 0, map[string]bool{}); d > l.maxDepth {
		return codedError(CodeInvalid, fmt.Sprintf("query is nested %d levels deep, at most %d allowed", d, l.maxDepth))
	}
	if c := complexity.Calculate(ctx, l.es, oc.Operation, oc.Variables); c > l.maxComplexity {
		return codedError(CodeInvalid, fmt.Sprintf("query has complexity %d, at most %d allowed", c, l.maxComplexity))
	}
	return nil
}

// depth returns how deep set nests fields, following fragments (each fragment once per
// path, so fragment cycles, which validation refuses anyway, cannot loop).
func depth(set ast.SelectionSet, d int, visiting map[string]bool) int {
	deepest := d
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.SelectionSet) > 0 {
				deepest = max(deepest, depth(s.SelectionSet, d+1, visiting))
			} else {
				deepest = max(deepest, d+1)
			}
		case *ast.InlineFragment:
			deepest = max(deepest, depth(s.SelectionSet, d, visiting))
		case *ast.FragmentSpread:
			if s.Definition == nil || visiting[s.Name] {
				continue
			}
			visiting[s.Name] = true
			deepest = max(deepest, depth(s.Definition.SelectionSet, d, visiting))
			delete(visiting, s.Name)
		}
	}
	return deepest
}

// complexityRoot weighs list fields by the most items they may return.
func complexityRoot() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	page := func(first *int, def int) int {
		if first != nil && *first > 0 {
			return *first
		}
		return def
	}
	c.Query.Executions = func(child int, _ string, _ *generated.ExecutionFilter, _ *generated.ExecutionSort, first *int, _ *string, _ *generated.AsOf) int {
		return 1 + child*page(first, 50)
	}
	c.Query.Events = func(child int, _ *generated.EventFilter, first *int, _ *uint64) int {
		return 1 + child*page(first, 100)
	}
	c.Query.Lineage = func(child int, _ string, _ generated.Direction, depth *int, _ *generated.AsOf) int {
		return 1 + child*10*page(depth, 3)
	}
	c.Query.Projects = func(child int) int { return 1 + child*20 }
	c.Query.Aliases = func(child int, _ string, _ *generated.AsOf) int { return 1 + child*20 }
	c.Query.AliasHistory = func(child int, _, _ string, _ *generated.AsOf) int { return 1 + child*20 }
	c.Query.Datasets = func(child int, _ string, _ *generated.AsOf) int { return 1 + child*20 }
	c.Query.Tasks = func(child int, _ string, _ *generated.AsOf) int { return 1 + child*20 }
	c.Query.Environments = func(child int, _ *generated.AsOf) int { return 1 + child*20 }
	c.Query.Tokens = func(child int) int { return 1 + child*20 }
	return c
}
