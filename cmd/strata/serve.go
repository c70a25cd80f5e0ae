package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/stratahq/strata/adapters/badger"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/projections"
)

func newCmdServe(f *factory) *cobra.Command {
	var listen string
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the engine on the embedded default (badger and local files)",
		Long: `Opens the event log and the projection store under --data-dir (creating them on first
start), keeps every projection current, and serves HTTP on --listen:
  /healthz  200 once the engine runs
  /status   the log head and each projection's checkpoint and lag, as JSON`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return serve(c.Context(), f, listen)
		},
	}
	c.Flags().StringVar(&listen, "listen", envOr("STRATA_LISTEN", "127.0.0.1:8080"), "address to serve HTTP on (env STRATA_LISTEN)")
	return c
}

// newCodec registers every domain event.
func newCodec() (*events.Codec, error) {
	return events.NewCodec(app.Events())
}

func serve(ctx context.Context, f *factory, listen string) error {
	logger := slog.New(slog.NewTextHandler(f.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
	log, engine, closeAll, err := f.openEngine(true, logger)
	if err != nil {
		return err
	}
	defer closeAll()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (pick another with --listen)", listen, err)
	}
	srv := &http.Server{Handler: statusHandler(log, engine, logger), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(f.Out, "strata %s serving on http://%s (status: http://%s/status)\ndata: %s\n", version, ln.Addr(), ln.Addr(), f.DataDir)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return engine.Run(ctx) })
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
		return srv.Shutdown(shutdown)
	})
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintln(f.Err, "strata: stopped")
	return nil
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

func statusHandler(log events.Store, engine *projections.Engine, logger *slog.Logger) http.Handler {
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
