package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	gql "github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// post is gqlgen's POST transport writing the answer to an operation for less: gqlgen
// encodes the response with encoding/json, which scans, validates and copies all of its
// data again, though the generated marshallers wrote it as JSON already (a page of the
// execution table spent a tenth of its time there). post lets gqlgen do everything else
// (body, headers, status, errors) and writes the data as it is.
type post struct{ transport.POST }

// Do answers r. The executor hands gqlgen a stand-in response for the operation's and
// keeps the real one; the writer replaces what gqlgen writes for the stand-in.
func (p post) Do(w http.ResponseWriter, r *http.Request, exec gql.GraphExecutor) {
	rw := &rawWriter{ResponseWriter: w}
	p.POST.Do(rw, r, rawExecutor{GraphExecutor: exec, w: rw})
}

type rawExecutor struct {
	gql.GraphExecutor
	w *rawWriter
}

func (e rawExecutor) DispatchOperation(ctx context.Context, rc *gql.OperationContext) (gql.ResponseHandler, context.Context) {
	next, ctx := e.GraphExecutor.DispatchOperation(ctx, rc)
	return func(ctx context.Context) *gql.Response {
		resp := next(ctx)
		if resp == nil {
			return nil
		}
		e.w.resp = resp
		return &gql.Response{}
	}, ctx
}

// rawWriter writes resp, if set, in place of what gqlgen writes (the stand-in).
type rawWriter struct {
	http.ResponseWriter
	resp *gql.Response
}

func (w *rawWriter) Write(b []byte) (int, error) {
	if w.resp == nil {
		return w.ResponseWriter.Write(b)
	}
	parts, err := encodeResponse(w.resp)
	w.resp = nil
	if err != nil {
		return 0, err
	}
	for _, p := range parts {
		if _, err := w.ResponseWriter.Write(p); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// encodeResponse returns json.Marshal(resp) in parts, without validating, compacting and
// copying resp.Data again: the same bytes.
func encodeResponse(resp *gql.Response) ([3][]byte, error) {
	head := []byte("{")
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			return [3][]byte{}, fmt.Errorf("encode response errors: %w", err)
		}
		head = append(append(append(head, `"errors":`...), errs...), ',')
	}
	head = append(head, `"data":`...)
	data := []byte(resp.Data)
	switch {
	case len(data) == 0:
		data = []byte("null")
	case bytes.IndexByte(data, '<') >= 0 || bytes.IndexByte(data, '>') >= 0 || bytes.IndexByte(data, '&') >= 0 || bytes.IndexByte(data, 0xe2) >= 0:
		// What encoding/json escapes for HTML (0xe2 starts U+2028 and U+2029).
		var b bytes.Buffer
		json.HTMLEscape(&b, data)
		data = b.Bytes()
	}
	tail := []byte("}")
	rest := *resp // the rarely set fields, as encoding/json writes them
	rest.Errors, rest.Data = nil, nil
	if rest.Label != "" || len(rest.Path) > 0 || rest.HasNext != nil || len(rest.Extensions) > 0 {
		b, err := json.Marshal(rest)
		if err != nil {
			return [3][]byte{}, fmt.Errorf("encode response: %w", err)
		}
		tail = b[len(`{"data":null`):] // what follows data
	}
	return [3][]byte{head, data, tail}, nil
}
