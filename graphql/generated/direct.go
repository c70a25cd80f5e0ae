package generated

import (
	"bytes"
	"context"
	"io"
	"math"
	"time"

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

// plain is a direct field that marshals get(obj) with marshal, a generated marshaller
// that fails for no value of V.
func plain[T, V any](get func(*T) V, marshal func(*executionContext, context.Context, ast.SelectionSet, V) graphql.Marshaler) directField[T] {
	return func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, obj *T) graphql.Marshaler {
		return marshal(ec, ctx, sel, get(obj))
	}
}

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
	"id":              plain(func(o *Execution) string { return o.ID }, (*executionContext).marshalNID2string),
	"project":         plain(func(o *Execution) string { return o.Project }, (*executionContext).marshalNID2string),
	"number":          plain(func(o *Execution) int { return o.Number }, (*executionContext).marshalNInt2int),
	"counter":         plain(func(o *Execution) string { return o.Counter }, (*executionContext).marshalNString2string),
	"step":            plain(func(o *Execution) string { return o.Step }, (*executionContext).marshalNString2string),
	"title":           plain(func(o *Execution) *string { return o.Title }, (*executionContext).marshalOString2ᚖstring),
	"repository":      plain(func(o *Execution) *string { return o.Repository }, (*executionContext).marshalOString2ᚖstring),
	"commit":          plain(func(o *Execution) *string { return o.Commit }, (*executionContext).marshalOString2ᚖstring),
	"adhoc":           plain(func(o *Execution) *string { return o.Adhoc }, (*executionContext).marshalOID2ᚖstring),
	"image":           plain(func(o *Execution) string { return o.Image }, (*executionContext).marshalNString2string),
	"imageDigest":     plain(func(o *Execution) *string { return o.ImageDigest }, (*executionContext).marshalOString2ᚖstring),
	"commands":        plain(func(o *Execution) []string { return o.Commands }, (*executionContext).marshalNString2ᚕstringᚄ),
	"environment":     plain(func(o *Execution) string { return o.Environment }, (*executionContext).marshalNID2string),
	"host":            plain(func(o *Execution) *string { return o.Host }, (*executionContext).marshalOString2ᚖstring),
	"creator":         plain(func(o *Execution) string { return o.Creator }, (*executionContext).marshalNString2string),
	"task":            plain(func(o *Execution) *string { return o.Task }, (*executionContext).marshalOID2ᚖstring),
	"tags":            plain(func(o *Execution) []string { return o.Tags }, (*executionContext).marshalNString2ᚕstringᚄ),
	"status":          plain(func(o *Execution) ExecutionStatus { return o.Status }, (*executionContext).marshalNExecutionStatus2githubᚗcomᚋstratahqᚋstrataᚋgraphqlᚋgeneratedᚐExecutionStatus),
	"exitCode":        plain(func(o *Execution) *int { return o.ExitCode }, (*executionContext).marshalOInt2ᚖint),
	"reason":          plain(func(o *Execution) *string { return o.Reason }, (*executionContext).marshalOString2ᚖstring),
	"stopRequestedBy": plain(func(o *Execution) *string { return o.StopRequestedBy }, (*executionContext).marshalOString2ᚖstring),
	"createdAt": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		if o.CreatedAt.IsZero() {
			return nil
		}
		return ec.marshalNTime2timeᚐTime(ctx, sel, o.CreatedAt)
	},
	"queuedAt":  plain(func(o *Execution) *time.Time { return o.QueuedAt }, (*executionContext).marshalOTime2ᚖtimeᚐTime),
	"startedAt": plain(func(o *Execution) *time.Time { return o.StartedAt }, (*executionContext).marshalOTime2ᚖtimeᚐTime),
	"endedAt":   plain(func(o *Execution) *time.Time { return o.EndedAt }, (*executionContext).marshalOTime2ᚖtimeᚐTime),
	"duration": func(ec *executionContext, ctx context.Context, sel ast.SelectionSet, o *Execution) graphql.Marshaler {
		if math.IsNaN(o.Duration) || math.IsInf(o.Duration, 0) {
			return nil
		}
		return ec.marshalNFloat2float64(ctx, sel, o.Duration)
	},
	"cost":           plain(func(o *Execution) string { return o.Cost }, (*executionContext).marshalNString2string),
	"metadata":       plain(func(o *Execution) any { return o.Metadata }, (*executionContext).marshalOJSON2interface),
	"metadataPoints": plain(func(o *Execution) int { return o.MetadataPoints }, (*executionContext).marshalNInt2int),
	"position":       plain(func(o *Execution) uint64 { return o.Position }, (*executionContext).marshalNPosition2uint64),
	"updated":        plain(func(o *Execution) uint64 { return o.Updated }, (*executionContext).marshalNPosition2uint64),
}

var directLineageNode = map[string]directField[LineageNode]{
	"id":    plain(func(o *LineageNode) string { return o.ID }, (*executionContext).marshalNID2string),
	"kind":  plain(func(o *LineageNode) string { return o.Kind }, (*executionContext).marshalNString2string),
	"label": plain(func(o *LineageNode) *string { return o.Label }, (*executionContext).marshalOString2ᚖstring),
	"from":  plain(func(o *LineageNode) uint64 { return o.From }, (*executionContext).marshalNPosition2uint64),
}

var directLineageEdge = map[string]directField[LineageEdge]{
	"from":  plain(func(o *LineageEdge) string { return o.From }, (*executionContext).marshalNID2string),
	"to":    plain(func(o *LineageEdge) string { return o.To }, (*executionContext).marshalNID2string),
	"kind":  plain(func(o *LineageEdge) string { return o.Kind }, (*executionContext).marshalNString2string),
	"since": plain(func(o *LineageEdge) uint64 { return o.Since }, (*executionContext).marshalNPosition2uint64),
	"until": plain(func(o *LineageEdge) *uint64 { return o.Until }, (*executionContext).marshalOPosition2ᚖuint64),
}

var directStatusCount = map[string]directField[StatusCount]{
	"status": plain(func(o *StatusCount) ExecutionStatus { return o.Status }, (*executionContext).marshalNExecutionStatus2githubᚗcomᚋstratahqᚋstrataᚋgraphqlᚋgeneratedᚐExecutionStatus),
	"count":  plain(func(o *StatusCount) int { return o.Count }, (*executionContext).marshalNInt2int),
}
