package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
)

// Config is what a Runner is told by cmd. Zero durations take their defaults.
type Config struct {
	// Host names this worker in Started events.
	Host string
	// WorkDir holds one directory per execution while it runs.
	WorkDir string
	// Hardware is what one execution gets here: its CPUs and memory limit the run, its
	// GPUs are handed to it.
	Hardware execution.Hardware
	// Network lets every execution reach the network; by default only those whose step
	// asked for it (execution.Created.Network) have it.
	Network bool
	// Grace is how long a stopped run has between SIGTERM and SIGKILL; default 10s.
	Grace time.Duration
	// SampleEvery is the resource sampling period; default 5s.
	SampleEvery time.Duration
	// MetadataEvery is the longest a metadata point waits before it is recorded; default
	// 1s. A batch is recorded earlier when it holds MaxBatchPoints points.
	MetadataEvery time.Duration
	// PollEvery is how often the runner looks for stop requests, read-only (live) outputs
	// and time-outs; default 1s.
	PollEvery time.Duration
	// NoOutputTimeout applies to executions that set none; 0: none.
	NoOutputTimeout time.Duration
	// Secrets gives the values of the secret environment variables executions ask for
	// (their names are in the Created event, their values never are); nil: none, and an
	// execution asking for one crashes.
	Secrets SecretSource
	// KeepWorkDir keeps execution directories after the run, for debugging.
	KeepWorkDir bool
	// CodeLimits bound an unpacked ad-hoc code archive.
	CodeLimits ArchiveLimits
}

func (c Config) withDefaults() Config {
	if c.Grace <= 0 {
		c.Grace = 10 * time.Second
	}
	if c.SampleEvery <= 0 {
		c.SampleEvery = 5 * time.Second
	}
	if c.MetadataEvery <= 0 {
		c.MetadataEvery = time.Second
	}
	if c.PollEvery <= 0 {
		c.PollEvery = time.Second
	}
	if c.Host == "" {
		c.Host, _ = os.Hostname()
	}
	return c
}

// Validate reports every problem with c after defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.WorkDir == "" {
		errs = append(errs, fmt.Errorf("runner: work directory missing: %w", domain.ErrInvalid))
	}
	if c.Host == "" {
		errs = append(errs, fmt.Errorf("runner: host name missing: %w", domain.ErrInvalid))
	}
	return errors.Join(errs...)
}

// SecretSource gives secret environment-variable values to the runner.
type SecretSource interface {
	// Secret returns the value of the secret variable name for an execution of project p,
	// or an error matching domain.ErrNotFound when there is none.
	Secret(ctx context.Context, p domain.ProjectID, name string) (string, error)
}

// StaticSecrets is a SecretSource of fixed values by variable name, the same for every
// project.
type StaticSecrets map[string]string

// ErrNoSecret: no value is configured for a secret variable an execution asks for.
var ErrNoSecret = fmt.Errorf("secret not configured: %w", domain.ErrNotFound)

// Secret returns s[name].
func (s StaticSecrets) Secret(_ context.Context, _ domain.ProjectID, name string) (string, error) {
	v, ok := s[name]
	if !ok {
		return "", fmt.Errorf("secret %s: %w", name, ErrNoSecret)
	}
	return v, nil
}

// InputPreparer downloads an execution's inputs into dir/<input>/<file> and records their
// digests; *app.Service is one.
type InputPreparer interface {
	PrepareInputs(ctx context.Context, id domain.ExecutionID, dir string) ([]app.PreparedInput, events.Position, error)
}

// CodeFetcher puts an execution's commit (Code.Repository at Code.Commit) into dir, which
// exists and is empty; adapters/git is one. Ad-hoc code is the AdhocOpener's.
type CodeFetcher interface {
	FetchCode(ctx context.Context, code execution.Code, dir string) error
}

// CodeFunc is a CodeFetcher from a function.
type CodeFunc func(ctx context.Context, code execution.Code, dir string) error

// FetchCode calls f.
func (f CodeFunc) FetchCode(ctx context.Context, code execution.Code, dir string) error {
	return f(ctx, code, dir)
}

// Deps are a Runner's collaborators.
type Deps struct {
	// Log is the event store; Codec must know app.Events().
	Log   events.Store
	Codec *events.Codec
	// Outputs stores output files as datums and applies their sidecars; *app.Service is
	// one.
	Outputs OutputRecorder
	// Launcher runs the commands.
	Launcher Launcher
	// Inputs prepares inputs; nil: executions with inputs crash.
	Inputs InputPreparer
	// Code fetches commits; nil: the repository directory of an execution of a commit
	// stays empty.
	Code CodeFetcher
	// Adhoc opens ad-hoc code archives, which the runner unpacks (Unpack); nil:
	// executions of ad-hoc code crash.
	Adhoc AdhocOpener
	// Logs keeps the logs (NewLogs over a FileLogStore to keep them across restarts);
	// nil: in memory (see Runner.Logs).
	Logs *Logs
	// Now returns the time; default time.Now.
	Now func() time.Time
	// Logger reports what the runner cannot return; default slog.Default().
	Logger *slog.Logger
}

// OutputRecorder stores the output files of running executions as datums and applies
// their sidecars as follow-up commands (see app.Service.UploadOutput); *app.Service is one.
type OutputRecorder interface {
	// UploadOutput stores one output file and records it; it is idempotent on
	// (execution, path).
	UploadOutput(ctx context.Context, o app.Output) (app.OutputResult, error)
	// CreateOutputVersions creates the dataset versions the execution's outputs ask for;
	// it is idempotent.
	CreateOutputVersions(ctx context.Context, id domain.ExecutionID) ([]app.OutputVersion, error)
}

// Runner runs executions on this worker. It is safe for concurrent use.
type Runner struct {
	cfg     Config
	log     events.Store
	codec   *events.Codec
	outputs OutputRecorder
	launch  Launcher
	inputs  InputPreparer
	code    CodeFetcher
	adhoc   AdhocOpener
	logs    *Logs
	now     func() time.Time
	logger  *slog.Logger

	mu sync.Mutex
	// guards active
	active map[domain.ExecutionID]*active
}

// New returns a Runner; it contacts nothing.
func New(cfg Config, d Deps) (*Runner, error) {
	cfg = cfg.withDefaults()
	errs := []error{cfg.Validate()}
	if d.Log == nil || d.Codec == nil || d.Outputs == nil || d.Launcher == nil {
		errs = append(errs, fmt.Errorf("new runner: event log, codec, outputs and launcher are required: %w", domain.ErrInvalid))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, log: d.Log, codec: d.Codec, outputs: d.Outputs, launch: d.Launcher, inputs: d.Inputs, code: d.Code, adhoc: d.Adhoc,
		logs: d.Logs, now: d.Now, logger: d.Logger, active: map[domain.ExecutionID]*active{}}
	if r.now == nil {
		r.now = time.Now
	}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	if r.logs == nil {
		r.logs = NewLogs(nil, r.logger)
	}
	return r, nil
}

// Logs returns the log store the runner writes to.
func (r *Runner) Logs() *Logs { return r.logs }

func (r *Runner) at() time.Time { return r.now().UTC() }

var executionDecider = events.Decider[execution.State, execution.Command, execution.Event]{Decide: execution.Decide, Evolve: execution.Evolve}

// exec runs cmd on the stream of execution id as the runner.
func (r *Runner) exec(ctx context.Context, id domain.ExecutionID, cmd execution.Command, causation string) (events.Result[execution.State], error) {
	return events.Execute(ctx, r.log, r.codec, app.ExecutionStream(id), executionDecider, cmd,
		events.Meta{Actor: "runner:" + r.cfg.Host, CorrelationID: string(id), CausationID: causation})
}

func (r *Runner) load(ctx context.Context, id domain.ExecutionID) (execution.State, error) {
	st, _, err := events.Fold(ctx, r.log, r.codec, app.ExecutionStream(id), execution.State{}, execution.Evolve)
	if err != nil {
		return st, fmt.Errorf("load execution %s: %w", id, err)
	}
	if !st.Exists() {
		return st, fmt.Errorf("load execution %s: %w", id, execution.ErrNotFound)
	}
	return st, nil
}

// ErrNotQueued: Run was given an execution that is not waiting to run.
var ErrNotQueued = fmt.Errorf("execution is not queued: %w", domain.ErrConflict)

// Result is how a run ended.
type Result struct {
	Status   domain.ExecutionStatus
	ExitCode int
	Reason   string
	// Outputs are the datums uploaded, in upload order.
	Outputs []domain.DatumID
	// Refused are the output paths not uploaded (symlinks leaving the outputs directory),
	// each with why.
	Refused []string
	// Resources summarises the samples taken.
	Resources ResourceSummary
}

// ResourceSummary is the peak and average of a run's resource samples.
type ResourceSummary struct {
	Samples                    int
	PeakCPUPercent, AvgCPU     float64
	PeakMemoryBytes, AvgMemory int64
}

// Run runs the execution id, which must be created or queued, to its end: it records the
// start, prepares the directory, inputs and code, launches the commands, follows them and
// records the outputs and the final status. A run that cannot be launched is recorded as
// crashed, with the reason, and its error returned.
func (r *Runner) Run(ctx context.Context, id domain.ExecutionID) (Result, error) {
	st, err := r.load(ctx, id)
	if err != nil {
		return Result{}, err
	}
	if st.Status() == domain.StatusCreated {
		if st, err = r.queue(ctx, id); err != nil {
			return Result{}, err
		}
	}
	if st.Status() != domain.StatusQueued {
		return Result{}, fmt.Errorf("run execution #%d (%s): %w", st.Number(), st.Status(), ErrNotQueued)
	}
	spec := st.Spec()
	digest := ""
	if res, ok := r.launch.(ImageResolver); ok {
		if digest, err = res.ResolveImage(ctx, spec.Image); err != nil {
			return r.crash(ctx, id, fmt.Errorf("resolve image %s: %w", spec.Image, err))
		}
	}
	a := r.newActive(st)
	defer r.forget(id)
	if _, err := r.exec(ctx, id, execution.Start{Host: r.cfg.Host, Hardware: r.cfg.Hardware, ImageDigest: digest, At: r.at()}, ""); err != nil {
		return Result{}, fmt.Errorf("start execution #%d: %w", st.Number(), err)
	}
	r.status(id, "started on %s", r.cfg.Host)
	lspec, err := r.prepare(ctx, st, a.dir)
	if err != nil {
		r.cleanDir(a.dir)
		return r.crash(ctx, id, err)
	}
	h, err := r.launch.Launch(ctx, a.attachOutput(lspec))
	if err != nil {
		r.cleanDir(a.dir)
		return r.crash(ctx, id, fmt.Errorf("launch: %w", err))
	}
	return r.follow(ctx, a, h)
}

func (r *Runner) queue(ctx context.Context, id domain.ExecutionID) (execution.State, error) {
	res, err := r.exec(ctx, id, execution.Queue{At: r.at()}, "")
	if err != nil {
		return execution.State{}, fmt.Errorf("queue execution %s: %w", id, err)
	}
	return res.State, nil
}

// crash records that the platform failed execution id and returns cause.
func (r *Runner) crash(ctx context.Context, id domain.ExecutionID, cause error) (Result, error) {
	reason := cause.Error()
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	r.status(id, "crashed: %s", reason)
	if _, err := r.exec(context.WithoutCancel(ctx), id, execution.Crash{Reason: reason, At: r.at()}, ""); err != nil {
		return Result{}, errors.Join(cause, fmt.Errorf("record crash of %s: %w", id, err))
	}
	return Result{Status: domain.StatusCrashed, Reason: reason}, cause
}

// status adds a status line to the log of id.
func (r *Runner) status(id domain.ExecutionID, format string, args ...any) {
	r.logs.Append(id, Line{Time: r.at(), Stream: Status, Message: fmt.Sprintf(format, args...)})
}

func (r *Runner) cleanDir(dir string) {
	if r.cfg.KeepWorkDir {
		return
	}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755) // read-only input directories
		}
		return nil
	})
	if err := os.RemoveAll(dir); err != nil {
		r.logger.Warn("runner: remove execution directory", "dir", dir, "err", err)
	}
}

// Stop asks execution id to stop on behalf of by. A created or queued execution is stopped
// at once; a running one gets SIGTERM, then SIGKILL after the grace period, and ends as
// stopped once its outputs are uploaded. Stopping a stopping execution is a no-op.
func (r *Runner) Stop(ctx context.Context, id domain.ExecutionID, by domain.UserID) error {
	if _, err := events.Execute(ctx, r.log, r.codec, app.ExecutionStream(id), executionDecider, execution.Command(execution.RequestStop{By: by, At: r.at()}),
		events.Meta{Actor: string(by), CorrelationID: string(id)}); err != nil {
		return fmt.Errorf("stop execution %s: %w", id, err)
	}
	r.mu.Lock()
	a := r.active[id]
	r.mu.Unlock()
	if a != nil {
		a.requestStop(reasonStopped)
	}
	return nil
}

// end reasons besides the commands' own exit.
const (
	reasonStopped   = "stopped"
	reasonTimeLimit = "time-limit"
	reasonNoOutput  = "no-output-timeout"
)

// terminate signals h: SIGTERM now, SIGKILL once grace has passed unless done closes.
func (r *Runner) terminate(ctx context.Context, id domain.ExecutionID, h Handle, done <-chan struct{}) {
	if err := h.Signal(ctx, syscall.SIGTERM); err != nil {
		r.logger.Warn("runner: SIGTERM", "execution", id, "err", err)
	}
	t := time.NewTimer(r.cfg.Grace)
	defer t.Stop()
	select {
	case <-done:
	case <-ctx.Done():
	case <-t.C:
		r.status(id, "still running %s after SIGTERM: SIGKILL", r.cfg.Grace)
		if err := h.Signal(ctx, syscall.SIGKILL); err != nil {
			r.logger.Warn("runner: SIGKILL", "execution", id, "err", err)
		}
	}
}
