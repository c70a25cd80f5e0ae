package graphql

import (
	"bytes"
	"context"
	"net/http"
	"strings"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/projections"
)

// MetadataHandler serves an execution's metadata as plain-HTTP downloads, for tools that
// want a file rather than GraphQL: GET /executions/<id>/metadata.csv (a header of _time
// and one column per key, then one row per point) and GET /executions/<id>/metadata.json
// (an array of objects with _time and the point's keys). Mount it at "GET /executions/".
// It needs the same bearer token as the API and the viewer role in the execution's
// project; errors are answered in GraphQL's error shape with the same codes.
func (s *Server) MetadataHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/executions/")
		id, file, ok2 := strings.Cut(rest, "/")
		var write func(*bytes.Buffer, []projections.MetadataPoint) error
		var ctype string
		switch {
		case !ok || !ok2:
		case file == "metadata.csv":
			write, ctype = func(b *bytes.Buffer, p []projections.MetadataPoint) error { return projections.WriteMetadataCSV(b, p) }, "text/csv; charset=utf-8"
		case file == "metadata.json":
			write, ctype = func(b *bytes.Buffer, p []projections.MetadataPoint) error { return projections.WriteMetadataJSON(b, p) }, "application/json"
		}
		if write == nil {
			writeErrors(w, http.StatusNotFound, CodeNotFound, "want /executions/<id>/metadata.csv or .json")
			return
		}
		p, err := s.authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			s.metrics.refused.WithLabelValues("auth").Inc()
			s.downloadError(r.Context(), w, err)
			return
		}
		ctx, cancel := context.WithTimeout(app.WithPrincipal(r.Context(), p), s.cfg.RequestTimeout)
		defer cancel()
		if want := s.written.get(p.Token); want > 0 { // read your own writes, as queries do
			wctx, cancel := context.WithTimeout(ctx, s.cfg.ConsistencyTimeout)
			_ = s.d.Reads.Engine.WaitFor(wctx, want) // a late projection serves what it has
			cancel()
		}
		xid, points, err := s.res.metadata(ctx, id)
		if err != nil {
			s.downloadError(ctx, w, err)
			return
		}
		var buf bytes.Buffer
		if err := write(&buf, points); err != nil {
			s.downloadError(ctx, w, err)
			return
		}
		ext := file[strings.LastIndexByte(file, '.'):]
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Disposition", `attachment; filename="metadata-`+string(xid)+ext+`"`)
		_, _ = w.Write(buf.Bytes()) // the client went away if this fails
	})
}

// downloadError answers a refused or failed download with the status and code a query
// would have had; internal details are logged, never sent.
func (s *Server) downloadError(ctx context.Context, w http.ResponseWriter, err error) {
	code := Code(err)
	msg := err.Error()
	status := http.StatusBadRequest
	switch code {
	case CodeUnauthenticated:
		w.Header().Set("WWW-Authenticate", `Bearer realm="strata"`)
		status = http.StatusUnauthorized
	case CodeForbidden:
		status = http.StatusForbidden
	case CodeNotFound:
		status = http.StatusNotFound
	case CodeConflict:
		status = http.StatusConflict
	case CodeInternal:
		s.cfg.Logger.ErrorContext(ctx, "graphql: metadata download", "error", err)
		status, msg = http.StatusInternalServerError, "internal error"
	}
	writeErrors(w, status, code, msg)
}
