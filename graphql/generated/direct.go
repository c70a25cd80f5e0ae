package generated

import (
	"bytes"
	"context"
	"io"
	"math"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// A page of the execution table is 50 objects of a dozen scalar fields, and gqlgen spends
// about 300 ns on each field: a field context, a context value, closures, the value boxed
// twice, and a map per object when it writes them. directList writes such a list in one
// pass instead (graphql/internal/fastpaths makes the generated list marshallers of the
// types below try it first).
//
// A direct field's value is read from the object's struct, has no resolver and no
// arguments, and is written by the same generated marshaller the general path calls, with
// nothing that can fail: so the bytes are the same (direct_test.go compares the two
// paths). The general path is taken for the whole list when a field is not in the
// type's table, is deferred, or when an element holds a value the general path would
// report as an error (a zero time or a NaN where the schema says non-null): the error
// then names the right field.
type directField[T any] func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, obj *T) graphql.Marshaler

// directEnabled is false only in tests that compare the direct path with the general one.
var directEnabled = true

// directList writes v as a JSON list, or returns nil when the general path must write it.
func directList[T any](ec *executionContext, ctx context.Context, sel ast.SelectionSet, v []T, implementors []string, table map[string]directField[T]) graphql.Marshaler {
	if !directEnabled {
		return nil
	}
	fields := graphql.CollectFields(ec.OperationContext, sel, implementors)
	write := make([]directField[T], len(fields))
	var keys bytes.Buffer // `"alias":` of each field, quoted as gqlgen quotes it
	ends := make([]int, len(fields))
	for i, f := range fields {
		if len(f.Deferrables) > 0 || len(f.Arguments) > 0 {
			return nil
		}
		if f.Name != "__typename" {
			if write[i] = table[f.Name]; write[i] == nil {
				return nil
			}
		}
		graphql.MarshalString(f.Alias).MarshalGQL(&keys)
		keys.WriteByte(':')
		ends[i] = keys.Len()
	}
	var out bytes.Buffer
	out.Grow(keys.Len() + 16*len(fields) + 2)
	out.WriteByte('[')
	for i := range v {
		if i == 1 { // elements are about as long as the first: one allocation for the rest
			out.Grow((len(v) - 1) * (out.Len() + out.Len()/4))
		}
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteByte('{')
		start := 0
		for j, f := range fields {
			if j > 0 {
				out.WriteByte(',')
			}
			out.Write(keys.Bytes()[start:ends[j]])
			start = ends[j]
			if write[j] == nil {
				graphql.MarshalString(implementors[0]).MarshalGQL(&out)
				continue
			}
			m := write[j](ec, ctx, f.Selections, &v[i])
			if m == nil {
				return nil
			}
			m.MarshalGQL(&out)
		}
		out.WriteByte('}')
	}
	out.WriteByte(']')
	return rawJSON(out.Bytes())
}

// rawJSON is JSON written already.
type rawJSON []byte

func (r rawJSON) MarshalGQL(w io.Writer) { _, _ = w.Write(r) }

var directExecution = map[string]directField[Execution]{
	"id": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNID2string(ctx, sel, o.ID)
	},
	"project": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNID2string(ctx, sel, o.Project)
	},
	"number": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNInt2int(ctx, sel, o.Number)
	},
	"counter": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNString2string(ctx, sel, o.Counter)
	},
	"step": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNString2string(ctx, sel, o.Step)
	},
	"title": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOString2ᚖstring(ctx, sel, o.Title)
	},
	"repository": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOString2ᚖstring(ctx, sel, o.Repository)
	},
	"commit": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOString2ᚖstring(ctx, sel, o.Commit)
	},
	"adhoc": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOID2ᚖstring(ctx, sel, o.Adhoc)
	},
	"image": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNString2string(ctx, sel, o.Image)
	},
	"imageDigest": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOString2ᚖstring(ctx, sel, o.ImageDigest)
	},
	"commands": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNString2ᚕstringᚄ(ctx, sel, o.Commands)
	},
	"environment": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNID2string(ctx, sel, o.Environment)
	},
	"host": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOString2ᚖstring(ctx, sel, o.Host)
	},
	"creator": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNString2string(ctx, sel, o.Creator)
	},
	"task": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOID2ᚖstring(ctx, sel, o.Task)
	},
	"tags": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNString2ᚕstringᚄ(ctx, sel, o.Tags)
	},
	"status": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNExecutionStatus2githubᚗcomᚋstratahqᚋstrataᚋgraphqlᚋgeneratedᚐExecutionStatus(ctx, sel, o.Status)
	},
	"exitCode": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOInt2ᚖint(ctx, sel, o.ExitCode)
	},
	"reason": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOString2ᚖstring(ctx, sel, o.Reason)
	},
	"stopRequestedBy": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOString2ᚖstring(ctx, sel, o.StopRequestedBy)
	},
	"createdAt": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		if o.CreatedAt.IsZero() {
			return nil
		}
		return ec.marshalNTime2timeᚐTime(ctx, sel, o.CreatedAt)
	},
	"queuedAt": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOTime2ᚖtimeᚐTime(ctx, sel, o.QueuedAt)
	},
	"startedAt": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOTime2ᚖtimeᚐTime(ctx, sel, o.StartedAt)
	},
	"endedAt": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOTime2ᚖtimeᚐTime(ctx, sel, o.EndedAt)
	},
	"duration": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		if math.IsNaN(o.Duration) || math.IsInf(o.Duration, 0) {
			return nil
		}
		return ec.marshalNFloat2float64(ctx, sel, o.Duration)
	},
	"cost": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNString2string(ctx, sel, o.Cost)
	},
	"metadata": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalOJSON2interface(ctx, sel, o.Metadata)
	},
	"metadataPoints": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNInt2int(ctx, sel, o.MetadataPoints)
	},
	"position": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNPosition2uint64(ctx, sel, o.Position)
	},
	"updated": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		return ec.marshalNPosition2uint64(ctx, sel, o.Updated)
	},
}

var directLineageNode = map[string]directField[LineageNode]{
	"id": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *LineageNode) graphql.Marshaler {
		return ec.marshalNID2string(ctx, sel, o.ID)
	},
	"kind": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *LineageNode) graphql.Marshaler {
		return ec.marshalNString2string(ctx, sel, o.Kind)
	},
	"label": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *LineageNode) graphql.Marshaler {
		return ec.marshalOString2ᚖstring(ctx, sel, o.Label)
	},
	"from": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *LineageNode) graphql.Marshaler {
		return ec.marshalNPosition2uint64(ctx, sel, o.From)
	},
}

var directLineageEdge = map[string]directField[LineageEdge]{
	"from": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *LineageEdge) graphql.Marshaler {
		return ec.marshalNID2string(ctx, sel, o.From)
	},
	"to": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *LineageEdge) graphql.Marshaler {
		return ec.marshalNID2string(ctx, sel, o.To)
	},
	"kind": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *LineageEdge) graphql.Marshaler {
		return ec.marshalNString2string(ctx, sel, o.Kind)
	},
	"since": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *LineageEdge) graphql.Marshaler {
		return ec.marshalNPosition2uint64(ctx, sel, o.Since)
	},
	"until": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *LineageEdge) graphql.Marshaler {
		return ec.marshalOPosition2ᚖuint64(ctx, sel, o.Until)
	},
}

var directStatusCount = map[string]directField[StatusCount]{
	"status": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *StatusCount) graphql.Marshaler {
		return ec.marshalNExecutionStatus2githubᚗcomᚋstratahqᚋstrataᚋgraphqlᚋgeneratedᚐExecutionStatus(ctx, sel, o.Status)
	},
	"count": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *StatusCount) graphql.Marshaler {
		return ec.marshalNInt2int(ctx, sel, o.Count)
	},
}
