package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/stratahq/strata/adapters/bus"
	"github.com/stratahq/strata/adapters/docker"
	"github.com/stratahq/strata/adapters/fs"
	"github.com/stratahq/strata/adapters/git"
	"github.com/stratahq/strata/adapters/process"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/runner"
)

// Launcher kinds for --runner.
const (
	runnerAuto    = "auto"
	runnerDocker  = "docker"
	runnerProcess = "process"
	runnerNone    = "none"
)

// runnerFlags are the runner flags serve and worker share.
type runnerFlags struct {
	kind      string
	slots     int
	allowFile bool
}

func (rf *runnerFlags) register(fl *pflag.FlagSet, none bool) {
	kinds := "docker|process"
	if none {
		kinds += "|none"
	}
	fl.StringVar(&rf.kind, "runner", envOr("STRATA_RUNNER", runnerAuto),
		"how executions run: "+kinds+"; auto: docker when a Docker daemon answers, else process (env STRATA_RUNNER)")
	fl.IntVar(&rf.slots, "slots", max(runtime.NumCPU()/2, 1), "executions run at once on this machine")
	fl.BoolVar(&rf.allowFile, "allow-file-repositories", false,
		"let executions check out file:// repositories of this machine (local use; off: only https, ssh and git)")
}

func (rf *runnerFlags) validate(none bool) error {
	switch rf.kind {
	case runnerAuto, runnerDocker, runnerProcess:
	case runnerNone:
		if !none {
			return &usageError{errors.New("--runner=none: a worker needs a runner (docker or process)")}
		}
	default:
		return &usageError{fmt.Errorf("--runner=%q: choose from auto, docker, process or none", rf.kind)}
	}
	if rf.slots < 1 {
		return &usageError{fmt.Errorf("--slots=%d: at least 1", rf.slots)}
	}
	return nil
}

func newCmdWorker(f *factory) *cobra.Command {
	var rf runnerFlags
	c := &cobra.Command{
		Use:   "worker",
		Short: "Run queued executions without serving the API",
		Long: `Runs a runner on the embedded event log under --data-dir: executions that are created
or queued are dispatched over the in-process bus (watermill's GoChannel) to this process
and run with --runner (docker when a Docker daemon answers, else as local processes).
Commits are checked out from a cache of repositories under <data-dir>/git (file://
repositories only with --allow-file-repositories); ad-hoc code is unpacked from its
datum. Logs go to <data-dir>/logs; on start, executions a crashed runner on this host left
running are reattached (docker) or marked crashed.

The embedded log (badger) belongs to one process, so 'strata worker' cannot share a
data directory with a running 'strata serve', which runs the same runner itself
(serve --runner). Workers on other hosts need the log and the bus on NATS JetStream,
which is a later step.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := rf.validate(false); err != nil {
				return err
			}
			return worker(c.Context(), f, rf)
		},
	}
	rf.register(c.Flags(), false)
	return c
}

func worker(ctx context.Context, f *factory, rf runnerFlags) error {
	logger := slog.New(slog.NewTextHandler(f.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
	log, err := f.openLog(true)
	if err != nil {
		return err
	}
	defer closeLog(f, log)
	codec, err := newCodec()
	if err != nil {
		return err
	}
	svc, err := f.newService(log, codec)
	if err != nil {
		return err
	}
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
	fmt.Fprintf(f.Out, "strata %s worker running executions with the %s runner\ndata: %s\n", version, rs.kind, f.DataDir)
	if err := rs.run(ctx, logger); err != nil {
		return err
	}
	fmt.Fprintln(f.Err, "strata: stopped")
	return nil
}

func (f *factory) logsDir() string            { return filepath.Join(f.DataDir, "logs") }
func (f *factory) workDir() string            { return filepath.Join(f.DataDir, "work") }
func (f *factory) gitDir() string             { return filepath.Join(f.DataDir, "git") }
func (f *factory) dispatchCheckpoint() string { return filepath.Join(f.DataDir, "dispatch.checkpoint") }

// gitFetcher checks commits out of the repository cache under <data-dir>/git; serve's
// runner and API (runStep reads valohai.yaml) share one, so one process fetches at a time.
func (f *factory) gitFetcher(rf runnerFlags) (*git.Fetcher, error) {
	return git.New(git.Config{CacheDir: f.gitDir(), AllowFile: rf.allowFile})
}

// newService returns the application service over log and the local file store.
func (f *factory) newService(log events.Store, codec *events.Codec) (*app.Service, error) {
	blobs, err := fs.New(fs.Config{Dir: f.blobsDir()})
	if err != nil {
		return nil, err
	}
	return app.New(app.Config{Stores: storecfg.Config{
		Stores:  []storecfg.Store{{Name: "local", Kind: storecfg.KindFS, Bucket: f.blobsDir()}},
		Default: "local",
	}}, app.Deps{Log: log, Codec: codec, Blobs: map[string]blob.Store{"local": blobs}})
}

// openLogs returns the execution logs kept in files under <data-dir>/logs.
func (f *factory) openLogs(logger *slog.Logger) (*runner.Logs, error) {
	store, err := runner.NewFileLogStore(f.logsDir())
	if err != nil {
		return nil, err
	}
	return runner.NewLogs(store, logger), nil
}

// runnerStack is a runner in this process: the dispatcher follows the log and publishes
// runnable executions on the in-process bus, the worker takes them from it and runs them
// on the scheduler.
type runnerStack struct {
	kind       string
	instance   string // labels this installation's containers (docker.Config.Instance)
	runner     *runner.Runner
	worker     *runner.Worker
	dispatcher *runner.Dispatcher
	queue      *bus.Queue
	closers    []func() error
}

// openRunner builds the runner --runner asks for; with none it returns nil.
func (f *factory) openRunner(ctx context.Context, rf runnerFlags, log events.Store, codec *events.Codec, svc *app.Service, code runner.CodeFetcher, logs *runner.Logs, logger *slog.Logger) (*runnerStack, error) {
	if rf.kind == runnerNone {
		return nil, nil
	}
	rs := &runnerStack{instance: f.instance()}
	launcher, err := rs.openLauncher(ctx, rf.kind, logger)
	if err != nil {
		return nil, err
	}
	r, err := runner.New(runner.Config{WorkDir: f.workDir()}, runner.Deps{Log: log, Codec: codec, Outputs: svc, Launcher: launcher,
		Inputs: svc, Code: code, Adhoc: svc, Logs: logs, Logger: logger})
	if err != nil {
		rs.close(logger)
		return nil, err
	}
	q, err := bus.OpenGoChannel(ctx, bus.Config{Logger: logger})
	if err != nil {
		rs.close(logger)
		return nil, err
	}
	rs.closers = append(rs.closers, q.Close)
	rs.runner, rs.queue = r, q
	rs.worker = runner.NewWorker(runner.NewScheduler(r, rf.slots), q)
	rs.dispatcher = runner.NewDispatcher(log, codec, q, runner.FileCheckpoint{Path: f.dispatchCheckpoint()}, runner.DispatcherConfig{}, logger)
	return rs, nil
}

// openLauncher opens the launcher of kind; auto is docker when a daemon answers within a
// few seconds, else process.
func (rs *runnerStack) openLauncher(ctx context.Context, kind string, logger *slog.Logger) (runner.Launcher, error) {
	if kind == runnerAuto || kind == runnerDocker {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		l, err := docker.Open(pctx, docker.Config{Instance: rs.instance})
		cancel()
		switch {
		case err == nil:
			rs.kind = runnerDocker
			rs.closers = append(rs.closers, l.Close)
			return l, nil
		case kind == runnerDocker:
			return nil, fmt.Errorf("--runner=docker: %w (is dockerd running? --runner=process runs executions without Docker)", err)
		}
		logger.Info("no Docker daemon answers; executions run as local processes", "err", err)
	}
	rs.kind = runnerProcess
	return process.New(process.Config{}), nil
}

// run recovers what a crashed runner on this host left behind, then runs the worker and
// the dispatcher until ctx ends.
func (rs *runnerStack) run(ctx context.Context, logger *slog.Logger) error {
	follow, err := rs.runner.RecoverStart(ctx)
	if err != nil {
		return fmt.Errorf("recover executions: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		for _, rec := range follow() {
			logger.Info("recovered execution", "execution", rec.Execution, "reattached", rec.Reattached, "status", rec.Result.Status, "err", rec.Err)
		}
		return nil
	})
	g.Go(func() error { return rs.worker.Serve(ctx) })
	g.Go(func() error { return rs.dispatcher.Run(ctx) })
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// close closes the bus and the launcher; a nil stack has nothing to close.
func (rs *runnerStack) close(logger *slog.Logger) {
	if rs == nil {
		return
	}
	for i := len(rs.closers) - 1; i >= 0; i-- {
		if err := rs.closers[i](); err != nil {
			logger.Error("close the runner", "error", err)
		}
	}
}

// instance names this installation on a shared Docker daemon: a digest of the absolute data
// directory, so two installations never sweep each other's containers.
func (f *factory) instance() string {
	dir, err := filepath.Abs(f.DataDir)
	if err != nil {
		dir = f.DataDir
	}
	sum := sha256.Sum256([]byte(dir))
	return "strata-" + hex.EncodeToString(sum[:6])
}
