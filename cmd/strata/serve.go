package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/graphql"
	"github.com/stratahq/strata/projections"
	"github.com/stratahq/strata/runner"
)

func newCmdServe(f *factory) *cobra.Command {
	var addr string
	var rf runnerFlags
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the engine on the embedded default (badger and local files) and serve the API",
		Long: `Opens the event log, the projection store and the file store under --data-dir (creating
them on first start), keeps every projection current, and serves HTTP on --addr:
  /graphql  the GraphQL API (POST, GET, and graphql-transport-ws subscriptions); every
            request needs "Authorization: Bearer <token>"
  /executions/<id>/metadata.csv, .json
            an execution's metadata as a file (the same bearer token)
  /datums/<id>/content
            a datum's content, verified as it streams (the same bearer token)
  /         the GraphiQL playground
  /healthz  200 once the engine runs
  /status   the log head and each projection's checkpoint and lag, as JSON
  /metrics  Prometheus metrics

On first start it creates a server-admin API token, prints it once and writes it to
<data-dir>/admin-token (mode 0600). SIGINT or SIGTERM drains requests, stops the
projections and closes the stores.

It also runs executions (--runner): created executions are dispatched over the
in-process bus (watermill's GoChannel) to a runner in this process, in Docker when a
Docker daemon answers (auto, the default), else as local processes; --runner=none runs
none. Their logs are kept under <data-dir>/logs and stream through the executionLog
subscription. On start, executions a crashed runner on this host left running are
reattached (docker) or marked crashed.

Tasks follow their executions: each execution's status changes are recorded on its
task, resuming after a restart from <data-dir>/tasks.checkpoint (what 'strata worker'
ran meanwhile included).`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := rf.validate(true); err != nil {
				return err
			}
			return serve(c.Context(), f, addr, rf)
		},
	}
	def := envOr("STRATA_ADDR", envOr("STRATA_LISTEN", "127.0.0.1:8080"))
	c.Flags().StringVar(&addr, "addr", def, "HOST:PORT to serve HTTP on (env STRATA_ADDR)")
	c.Flags().StringVar(&addr, "listen", def, "the same as --addr (env STRATA_LISTEN)")
	rf.register(c.Flags(), true)
	return c
}

// newCodec registers every domain event and the API token events.
func newCodec() (*events.Codec, error) {
	return events.NewCodec(app.Events())
}

// adminTokenFile is where serve writes the first server-admin token.
func (f *factory) adminTokenFile() string { return filepath.Join(f.DataDir, "admin-token") }

func (f *factory) blobsDir() string { return filepath.Join(f.DataDir, "blobs") }

// taskCheckpoint is where the task reactor keeps the position it resumes from.
func (f *factory) taskCheckpoint() string { return filepath.Join(f.DataDir, "tasks.checkpoint") }

func serve(ctx context.Context, f *factory, addr string, rf runnerFlags) error {
	logger := slog.New(slog.NewTextHandler(f.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
	log, engine, closeAll, err := f.openEngine(true, logger)
	if err != nil {
		return err
	}
	defer closeAll()
	codec, err := newCodec()
	if err != nil {
		return err
	}
	svc, err := f.newService(log, codec)
	if err != nil {
		return err
	}
	reads := &projections.Reads{Engine: engine, Log: log, Codec: codec,
		Scratch: func() projections.Store { return memory.NewProjections() }}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The runner of this process writes execution logs to files under <data-dir>/logs, and
	// executionLog follows them.
	logs, err := f.openLogs(logger)
	if err != nil {
		return err
	}
	code, err := f.gitFetcher(rf)
	if err != nil {
		return err
	}
	rs, err := f.openRunner(ctx, rf, log, codec, svc, code, logs, logger)
	if err != nil {
		return err
	}
	defer rs.close(logger)
	api, err := graphql.New(graphql.Config{Logger: logger}, graphql.Deps{App: svc, Log: log, Reads: reads, Metrics: reg, Gapless: true, Logs: logs, Code: code})
	if err != nil {
		return err
	}
	admin, err := f.bootstrapAdmin(ctx, log, svc)
	if err != nil {
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (pick another with --addr)", addr, err)
	}
	mux := statusHandler(log, engine, logger)
	mux.Handle("/graphql", api.Handler())
	mux.Handle("GET /executions/", api.MetadataHandler())
	mux.Handle("GET /datums/", api.DatumHandler())
	mux.Handle("GET /{$}", graphql.Playground("/graphql"))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return base }}
	fmt.Fprintf(f.Out, "strata %s serving on http://%s (graphql: http://%s/graphql, status: http://%s/status)\ndata: %s\n", version, ln.Addr(), ln.Addr(), ln.Addr(), f.DataDir)
	if rs != nil {
		fmt.Fprintf(f.Out, "runner: %s (logs: %s)\n", rs.kind, f.logsDir())
	} else {
		fmt.Fprintln(f.Out, "runner: none (executions are not run here)")
	}
	if admin != "" {
		fmt.Fprintf(f.Out, "admin token (shown once; also in %s): %s\n", f.adminTokenFile(), admin)
	}
	logger.Info("serving", "addr", ln.Addr().String(), "data", f.DataDir)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return engine.Run(ctx) })
	// Tasks follow their executions wherever these run; a worker's runs are caught up here
	// from the checkpoint.
	tasks := app.NewTaskReactor(svc, runner.FileCheckpoint{Path: f.taskCheckpoint()}, logger)
	g.Go(func() error { return tasks.Run(ctx) })
	if rs != nil {
		g.Go(func() error { return rs.run(ctx, logger) })
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(shutdown) // drains requests; then the subscriptions end
		cancelBase()
		return err
	})
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintln(f.Err, "strata: stopped")
	return nil
}

// bootstrapAdmin creates the first server-admin token on a first start (an empty log)
// and writes it to the admin-token file (mode 0600); it returns the secret when it
// created one. A log imported or written before the first serve gets none.
func (f *factory) bootstrapAdmin(ctx context.Context, log events.Store, svc *app.Service) (string, error) {
	head, err := log.Head(ctx)
	if err != nil || head > 0 {
		return "", err
	}
	t, created, err := svc.BootstrapAdminToken(ctx)
	if err != nil || !created {
		return "", err
	}
	path := f.adminTokenFile()
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fmt.Errorf("write the admin token: %w", err)
	}
	if _, err := file.WriteString(t.Secret + "\n"); err != nil {
		_ = file.Close() // the write error is the one to report
		return "", fmt.Errorf("write the admin token to %s: %w", path, err)
	}
	if err := file.Close(); err != nil {
		return "", fmt.Errorf("write the admin token to %s: %w", path, err)
	}
	return t.Secret, nil
}

// openEngine opens the embedded log and projection store and the projection engine over them.
// closeAll closes both stores.
func (f *factory) openEngine(create bool, logger *slog.Logger) (*badger.Store, *projections.Engine, func(), error) {
	codec, err := newCodec()
	if err != nil {
		return nil, nil, nil, err
	}
	log, err := f.openLog(create)
	if err != nil {
		return nil, nil, nil, err
	}
	store, err := badger.OpenProjections(badger.ProjectionsConfig{Dir: f.projectionsDir(), Logger: logger})
	if err != nil {
		closeLog(f, log)
		if errors.Is(err, badger.ErrLocked) {
			return nil, nil, nil, fmt.Errorf("the projection store in %s is in use by another process (a running 'strata serve'?): stop it first", f.projectionsDir())
		}
		return nil, nil, nil, err
	}
	closeAll := func() {
		if err := store.Close(); err != nil {
			logger.Error("close the projection store", "error", err)
		}
		closeLog(f, log)
	}
	engine, err := projections.New(log, codec, store, projections.Config{Logger: logger}, projections.All()...)
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	return log, engine, closeAll, nil
}

func statusHandler(log events.Store, engine *projections.Engine, logger *slog.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		head, err := log.Head(r.Context())
		if err != nil {
			logger.Error("status: read head", "error", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		st, err := engine.Status(r.Context())
		if err != nil {
			logger.Error("status: projections", "error", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		type projection struct {
			Name       string          `json:"name"`
			Version    int             `json:"version"`
			Checkpoint events.Position `json:"checkpoint"`
			Lag        uint64          `json:"lag"`
		}
		out := struct {
			Version     string          `json:"version"`
			Head        events.Position `json:"head"`
			Projections []projection    `json:"projections"`
		}{Version: version, Head: head}
		for _, p := range st {
			out.Projections = append(out.Projections, projection{p.Name, p.Version, p.Checkpoint, p.Lag})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	return mux
}
