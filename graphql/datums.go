package graphql

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
)

// datumCreated is the event type that starts every datum's stream: the datums query lists
// a project's datums from the audit log's entries of that type.
const datumCreated = "datum.Created"

// DatumHandler serves a datum's content as a plain-HTTP download: GET
// /datums/<id>/content. Mount it at "GET /datums/". It needs the same bearer token as the
// API and the viewer role in the datum's project; errors are answered in GraphQL's error
// shape with the same codes. The content is verified against its BLAKE3 digest while it
// streams: if it does not match, the response is cut short (the client sees a body
// shorter than Content-Length), so a corrupt file is never delivered whole. The
// X-Strata-Sha256 header carries the SHA-256 for clients that check it themselves.
func (s *Server) DatumHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, _ := strings.CutPrefix(r.URL.Path, "/datums/")
		id, file, ok := strings.Cut(rest, "/")
		if !ok || file != "content" || id == "" {
			writeErrors(w, http.StatusNotFound, CodeNotFound, "want /datums/<id>/content")
			return
		}
		p, err := s.authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			s.metrics.refused.WithLabelValues("auth").Inc()
			s.downloadError(r.Context(), w, err)
			return
		}
		ctx := app.WithPrincipal(r.Context(), p) // no request timeout: large files take long
		if want := s.written.get(p.Token); want > 0 {
			wctx, cancel := context.WithTimeout(ctx, s.cfg.ConsistencyTimeout)
			_ = s.d.Reads.Engine.WaitFor(wctx, want)
			cancel()
		}
		did, err := domain.ParseDatumID(id)
		if err != nil {
			s.downloadError(ctx, w, err)
			return
		}
		rc, d, err := s.d.App.OpenDatum(ctx, did)
		if err != nil {
			s.downloadError(ctx, w, err)
			return
		}
		defer func() { _ = rc.Close() }() // read-only
		name := d.Name[strings.LastIndexByte(d.Name, '/')+1:]
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(d.Size, 10))
		w.Header().Set("Content-Disposition", `attachment; filename=`+strconv.Quote(name))
		w.Header().Set("X-Strata-Sha256", hex.EncodeToString(d.Digests.SHA256[:]))
		w.Header().Set("X-Strata-Blake3", d.Digests.BLAKE3.String())
		if _, err := io.Copy(w, rc); err != nil {
			if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
				s.cfg.Logger.ErrorContext(ctx, "graphql: datum download", "datum", id, "error", err)
			}
			panic(http.ErrAbortHandler) // cut the response short: never a whole, wrong file
		}
	})
}
