package generated

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSlice marshals the elements of a list in order, on the calling goroutine: what
// graphql.MarshalSliceConcurrently does without a goroutine per element (see
// graphql/internal/fastpaths, which makes exec.go call it). A panicking element is
// recovered by the field that holds the list, as any resolver panic is.
func marshalSlice(ctx context.Context, length int, _ int64, _ bool, marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, length)
	for i := range length {
		ret[i] = marshalElement(graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i}), i)
	}
	return ret
}
