package graphql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	gql "github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/token"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/graphql/generated"
	"github.com/stratahq/strata/projections"
	"github.com/stratahq/strata/runner"
)

// Config limits and tunes a Server. The zero value of every field has a usable default.
type Config struct {
	// MaxBodyBytes bounds a request body (default 1 MiB); larger ones get 413.
	MaxBodyBytes int64
	// MaxUploadBytes bounds a multipart request (an uploadDatum with its file; default
	// 64 GiB); larger ones get 413.
	MaxUploadBytes int64
	// UploadMemoryBytes is how much of a multipart request is held in memory; the rest of
	// a file is spooled to a temporary file while it arrives (default 8 MiB).
	UploadMemoryBytes int64
	// UploadTimeout bounds one multipart request, transfer included (default 6h).
	UploadTimeout time.Duration
	// MaxDepth bounds the nesting of a query's selections (default 12).
	MaxDepth int
	// MaxComplexity bounds a query's complexity: one per field, list fields times their
	// page size (default 5000).
	MaxComplexity int
	// RequestTimeout bounds one query or mutation (default 30s).
	RequestTimeout time.Duration
	// ConsistencyTimeout bounds how long a query waits for the projections to reach the
	// caller's last write (default 5s).
	ConsistencyTimeout time.Duration
	// Logger receives internal errors; default slog.Default().
	Logger *slog.Logger
	// Now measures running executions; default time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = 64 << 30
	}
	if c.UploadMemoryBytes <= 0 {
		c.UploadMemoryBytes = 8 << 20
	}
	if c.UploadTimeout <= 0 {
		c.UploadTimeout = 6 * time.Hour
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = 12
	}
	if c.MaxComplexity <= 0 {
		c.MaxComplexity = 5000
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.ConsistencyTimeout <= 0 {
		c.ConsistencyTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Deps are a Server's collaborators.
type Deps struct {
	App *app.Service
	// Log is the event log the App writes (subscriptions follow it; verifyLog reads it).
	Log events.Store
	// Reads answers queries from the running projection engine.
	Reads *projections.Reads
	// Metrics, if set, receives the request metrics.
	Metrics prometheus.Registerer
	// Gapless says Log's positions have no gaps, for verifyLog.
	Gapless bool
	// Logs, if set, serves the executionLog subscription (the runner's *runner.Logs).
	Logs LogFollower
	// Code, if set, lets runStep read valohai.yaml of a commit (adapters/git's Fetcher);
	// without it runStep takes ad-hoc code only.
	Code runner.CodeFetcher
}

// Server is the GraphQL endpoint: authentication, limits and the executable schema.
type Server struct {
	cfg     Config
	d       Deps
	gql     *handler.Server
	written *written
	metrics *metrics
	res     *Resolver
}

// New returns a Server for cfg and d.
func New(cfg Config, d Deps) (*Server, error) {
	cfg = cfg.withDefaults()
	if d.App == nil || d.Log == nil || d.Reads == nil || d.Reads.Engine == nil {
		return nil, fmt.Errorf("new graphql server: app, log and reads with an engine are required: %w", domain.ErrInvalid)
	}
	s := &Server{cfg: cfg, d: d, written: newWritten()}
	m, err := newMetrics(d.Metrics)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	res := &Resolver{app: d.App, log: d.Log, reads: d.Reads, engine: d.Reads.Engine, now: cfg.Now, written: s.written, gapless: d.Gapless, logs: d.Logs, code: d.Code}
	s.res = res
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: res, Complexity: complexityRoot()})
	h := handler.New(schema)
	h.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		InitTimeout:           10 * time.Second,
		InitFunc:              s.wsInit,
	})
	h.AddTransport(transport.Options{})
	h.AddTransport(transport.GET{})
	h.AddTransport(post{})
	h.AddTransport(transport.MultipartForm{MaxUploadSize: cfg.MaxUploadBytes, MaxMemory: cfg.UploadMemoryBytes})
	h.Use(extension.Introspection{})
	h.SetQueryCache(lru.New[*ast.QueryDocument](1000)) // a query seen before is not parsed and validated again
	h.Use(&limits{maxDepth: cfg.MaxDepth, maxComplexity: cfg.MaxComplexity})
	h.SetErrorPresenter(presenter(cfg.Logger))
	h.SetRecoverFunc(recoverFunc)
	h.AroundOperations(s.aroundOperation)
	h.AroundResponses(s.aroundResponse)
	s.gql = h
	return s, nil
}

// Handler serves GraphQL (POST and GET, and graphql-transport-ws on a websocket upgrade).
// Every request needs a bearer API token: in the Authorization header, or for a websocket
// in connection_init's payload ({"Authorization": "Bearer ..."}).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if r.Header.Get("Upgrade") != "" {
			s.gql.ServeHTTP(w, r) // authenticated in wsInit; no timeout for long-lived feeds
			return
		}
		// A multipart request carries a file (uploadDatum): a larger bound and a longer
		// timeout; the transport spools the file to disk beyond UploadMemoryBytes.
		limit, timeout := s.cfg.MaxBodyBytes, s.cfg.RequestTimeout
		if isMultipart(r) {
			limit, timeout = s.cfg.MaxUploadBytes, s.cfg.UploadTimeout
		}
		if r.ContentLength > limit {
			s.metrics.refused.WithLabelValues("body").Inc()
			writeErrors(w, http.StatusRequestEntityTooLarge, CodeInvalid, fmt.Sprintf("request body larger than %d bytes", limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if r.Method == http.MethodOptions {
			s.gql.ServeHTTP(w, r)
			return
		}
		p, err := s.authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			s.metrics.refused.WithLabelValues("auth").Inc()
			if Code(err) == CodeInternal {
				s.cfg.Logger.ErrorContext(r.Context(), "graphql: authenticate", "error", err)
				writeErrors(w, http.StatusInternalServerError, CodeInternal, "internal error")
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="strata"`)
			writeErrors(w, http.StatusUnauthorized, CodeUnauthenticated, err.Error())
			return
		}
		ctx, cancel := context.WithTimeout(app.WithPrincipal(r.Context(), p), timeout)
		defer cancel()
		ctx = app.WithCorrelationID(ctx, requestID(r))
		sw := &statusWriter{ResponseWriter: w, outcome: &outcome{}}
		s.gql.ServeHTTP(sw, r.WithContext(context.WithValue(ctx, outcomeKey{}, sw.outcome)))
		s.metrics.observe(sw.outcome, time.Since(start))
	})
}

func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && r.Method == http.MethodPost && mt == "multipart/form-data"
}

// Playground serves the GraphiQL playground for endpoint.
func Playground(endpoint string) http.Handler {
	return playground.Handler("Strata GraphQL", endpoint)
}

func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 128 {
		return id
	}
	return strconv.FormatInt(time.Now().UnixNano(), 36)
}

func (s *Server) authenticate(ctx context.Context, header string) (app.Principal, error) {
	scheme, bearer, ok := strings.Cut(strings.TrimSpace(header), " ")
	if header == "" {
		return app.Principal{}, fmt.Errorf("missing bearer token (Authorization: Bearer <token>): %w", app.ErrUnauthenticated)
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return app.Principal{}, fmt.Errorf("want Authorization: Bearer <token>: %w", app.ErrUnauthenticated)
	}
	return s.d.App.Authenticate(ctx, strings.TrimSpace(bearer))
}

// What a websocket's connection_init is refused with (the transport sends the message).
var (
	errWSInternal        = errors.New("internal error")
	errWSUnauthenticated = errors.New("unauthenticated: invalid, revoked or missing API token")
)

func (s *Server) wsInit(ctx context.Context, init transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	header := init.Authorization()
	if header == "" {
		if v, ok := init["authorization"].(string); ok {
			header = v
		}
	}
	p, err := s.authenticate(ctx, header)
	if err != nil {
		s.metrics.refused.WithLabelValues("auth").Inc()
		if Code(err) == CodeInternal {
			s.cfg.Logger.ErrorContext(ctx, "graphql: authenticate websocket", "error", err)
			return ctx, nil, errWSInternal
		}
		return ctx, nil, errWSUnauthenticated
	}
	return app.WithPrincipal(ctx, p), nil, nil
}

// aroundOperation makes queries read the caller's own writes: a query waits, bounded,
// until the projections have applied the last position the caller's token wrote (or the
// one the client names in the Strata-Position header); a mutation waits for its own
// writes before it answers.
func (s *Server) aroundOperation(ctx context.Context, next gql.OperationHandler) gql.ResponseHandler {
	oc := gql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation == ast.Subscription {
		return next(ctx)
	}
	var want events.Position
	var tok token.ID
	if p, ok := app.PrincipalFrom(ctx); ok {
		tok = p.Token
		want = s.written.get(tok)
	}
	if oc.Operation.Operation == ast.Mutation {
		// A mutation answers once the projections have applied what it wrote (bounded), so
		// any client reading after the answer sees the write; a slow projection only
		// delays the answer, the write stands.
		h := next(ctx)
		return func(ctx context.Context) *gql.Response {
			resp := h(ctx)
			if p := s.written.get(tok); p > want {
				wctx, cancel := context.WithTimeout(ctx, s.cfg.ConsistencyTimeout)
				_ = s.d.Reads.Engine.WaitFor(wctx, p) // the caller's next query waits again if this timed out
				cancel()
			}
			return resp
		}
	}
	if h := oc.Headers.Get("Strata-Position"); h != "" {
		if n, err := strconv.ParseUint(h, 10, 64); err == nil {
			want = max(want, events.Position(n))
		}
	}
	if want > 0 {
		wctx, cancel := context.WithTimeout(ctx, s.cfg.ConsistencyTimeout)
		err := s.d.Reads.Engine.WaitFor(wctx, want)
		cancel()
		if err != nil && ctx.Err() == nil {
			msg := fmt.Sprintf("%v (position %d not reached within %s)", errBehind, want, s.cfg.ConsistencyTimeout)
			return gql.OneShot(&gql.Response{Errors: gqlerror.List{codedError(CodeConflict, msg)}})
		}
	}
	return next(ctx)
}

// aroundResponse notes the codes of a response's errors so the HTTP status can say 401
// or 403 when access was refused.
func (s *Server) aroundResponse(ctx context.Context, next gql.ResponseHandler) *gql.Response {
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	for _, e := range resp.Errors {
		switch e.Extensions["code"] {
		case errcode.ValidationFailed, errcode.ParseFailed, nil:
			// The query itself is wrong: the client's error, like any other INVALID.
			if e.Extensions == nil {
				e.Extensions = map[string]any{}
			}
			e.Extensions["code"] = CodeInvalid
		}
	}
	if o, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
		oc := gql.GetOperationContext(ctx)
		if oc != nil && oc.Operation != nil {
			o.op = string(oc.Operation.Operation)
		}
		o.noData = len(resp.Data) == 0 || string(resp.Data) == "null"
		for _, e := range resp.Errors {
			if c, _ := e.Extensions["code"].(string); c != "" {
				o.codes = append(o.codes, c)
			}
		}
	}
	return resp
}
