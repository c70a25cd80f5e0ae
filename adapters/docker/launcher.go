package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/runner"
)

// Labels put on every container the launcher creates.
const (
	LabelExecution = "strata.execution"
	LabelProject   = "strata.project"
	LabelInstance  = "strata.instance"
)

// Config configures a Launcher.
type Config struct {
	// Host is the daemon's address (unix:///var/run/docker.sock); "" means DOCKER_HOST,
	// else the default socket.
	Host string
	// Instance names the Strata installation that owns the containers this launcher starts
	// (cmd derives it from the data directory). Reattach and Sweep only ever touch containers
	// of the same instance, so two installations, or two test runs, can share one daemon.
	// "" is the instance "default".
	Instance string
}

func (c Config) instance() string {
	if c.Instance == "" {
		return "default"
	}
	return c.Instance
}

// owned filters the containers of this launcher's instance, optionally of one execution.
func (l *Launcher) owned(execution domain.ExecutionID) client.Filters {
	f := make(client.Filters).Add("label", LabelInstance+"="+l.cfg.instance())
	if execution != "" {
		return f.Add("label", LabelExecution+"="+string(execution))
	}
	return f.Add("label", LabelExecution)
}

// Launcher runs executions in Docker containers.
type Launcher struct {
	cfg Config
	cli *client.Client
}

var (
	_ runner.Launcher      = (*Launcher)(nil)
	_ runner.ImageResolver = (*Launcher)(nil)
	_ runner.Reattacher    = (*Launcher)(nil)
	_ runner.Mounter       = (*Launcher)(nil)
)

// MountDir returns /valohai: containers see the execution directory there.
func (l *Launcher) MountDir() string { return "/valohai" }

// ErrWait: the daemon reported an error waiting for a container.
var ErrWait = errors.New("docker: wait for the container")

// ErrNoGPURuntime: GPUs were asked for and the daemon has no nvidia runtime.
var ErrNoGPURuntime = fmt.Errorf("docker daemon has no GPU runtime (install nvidia-container-toolkit and restart dockerd): %w", domain.ErrInvalid)

// Open connects to the daemon and negotiates the API version.
func Open(ctx context.Context, cfg Config) (*Launcher, error) {
	opts := []client.Opt{client.FromEnv}
	if cfg.Host != "" {
		opts = append(opts, client.WithHost(cfg.Host))
	}
	cli, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("open docker client: %w", err)
	}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("ping docker daemon: %w", err)
	}
	return &Launcher{cfg: cfg, cli: cli}, nil
}

// Close closes the connection to the daemon.
func (l *Launcher) Close() error {
	if err := l.cli.Close(); err != nil {
		return fmt.Errorf("close docker client: %w", err)
	}
	return nil
}

// APIVersion returns the API version in use after negotiation.
func (l *Launcher) APIVersion() string { return l.cli.ClientVersion() }

// ResolveImage returns the digest of a local image: its repository digest when it was
// pulled from a registry, else its ID (the digest of its configuration).
func (l *Launcher) ResolveImage(ctx context.Context, image string) (string, error) {
	res, err := l.cli.ImageInspect(ctx, image)
	if cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("image %s: not found on the docker host: %w", image, domain.ErrInvalid)
	} else if err != nil {
		return "", fmt.Errorf("inspect image %s: %w", image, err)
	}
	for _, rd := range res.RepoDigests {
		if _, d, ok := strings.Cut(rd, "@"); ok {
			return d, nil
		}
	}
	return res.ID, nil
}

func containerName(id domain.ExecutionID) string { return "strata-" + string(id) }

// Launch creates, attaches to and starts the container of spec.
func (l *Launcher) Launch(ctx context.Context, spec runner.Spec) (runner.Handle, error) {
	env := map[string]string{
		"VH_REPOSITORY_DIR": "/valohai/repository",
		"VH_INPUTS_DIR":     "/valohai/inputs",
		"VH_OUTPUTS_DIR":    "/valohai/outputs",
		"VH_CONFIG_DIR":     "/valohai/config",
	}
	for k, v := range spec.Env {
		env[k] = v
	}
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	sort.Strings(envList)
	hc := &container.HostConfig{
		Mounts: []mount.Mount{
			{Type: mount.TypeBind, Source: filepath.Join(spec.Dir, "repository"), Target: "/valohai/repository"},
			{Type: mount.TypeBind, Source: filepath.Join(spec.Dir, "inputs"), Target: "/valohai/inputs", ReadOnly: true},
			{Type: mount.TypeBind, Source: filepath.Join(spec.Dir, "outputs"), Target: "/valohai/outputs"},
			{Type: mount.TypeBind, Source: filepath.Join(spec.Dir, "config"), Target: "/valohai/config", ReadOnly: true},
		},
		NetworkMode: "none",
	}
	if spec.Network {
		hc.NetworkMode = "default"
	}
	if spec.CPUs > 0 {
		hc.NanoCPUs = int64(spec.CPUs * 1e9)
	}
	if spec.MemoryBytes > 0 {
		hc.Memory = spec.MemoryBytes
	}
	if spec.GPUs != 0 {
		info, err := l.cli.Info(ctx, client.InfoOptions{})
		if err != nil {
			return nil, fmt.Errorf("launch %s: docker info: %w", spec.Execution, err)
		}
		if _, ok := info.Info.Runtimes["nvidia"]; !ok {
			return nil, fmt.Errorf("launch %s with %d GPUs: %w", spec.Execution, spec.GPUs, ErrNoGPURuntime)
		}
		hc.DeviceRequests = []container.DeviceRequest{{Count: spec.GPUs, Capabilities: [][]string{{"gpu"}}}}
	}
	cc, err := l.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: containerName(spec.Execution),
		Config: &container.Config{
			Image: spec.Image, Cmd: []string{"/bin/sh", "-e", "-c", spec.Script}, Entrypoint: []string{},
			WorkingDir: "/valohai/repository", Env: envList, NetworkDisabled: !spec.Network,
			AttachStdout: true, AttachStderr: true,
			Labels: map[string]string{LabelExecution: string(spec.Execution), LabelProject: string(spec.Project), LabelInstance: l.cfg.instance()},
		},
		HostConfig: hc,
	})
	if cerrdefs.IsNotFound(err) {
		return nil, fmt.Errorf("launch %s: image %s: %w", spec.Execution, spec.Image, domain.ErrInvalid)
	} else if err != nil {
		return nil, fmt.Errorf("launch %s: create container: %w", spec.Execution, err)
	}
	h, err := l.start(ctx, cc.ID, spec, true)
	if err != nil {
		_, _ = l.cli.ContainerRemove(context.WithoutCancel(ctx), cc.ID, client.ContainerRemoveOptions{Force: true})
		return nil, fmt.Errorf("launch %s: %w", spec.Execution, err)
	}
	return h, nil
}

// start attaches to container id (and starts it when start is set) and returns its handle.
func (l *Launcher) start(ctx context.Context, id string, spec runner.Spec, start bool) (*handle, error) {
	h := &handle{l: l, id: id, done: make(chan struct{})}
	var out io.ReadCloser
	if start {
		att, err := l.cli.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
		if err != nil {
			return nil, fmt.Errorf("attach: %w", err)
		}
		out = att.Conn
		h.reader = att.Reader
	} else {
		logs, err := l.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true,
			Since: fmt.Sprint(time.Now().Unix())})
		if err != nil {
			return nil, fmt.Errorf("follow logs: %w", err)
		}
		out = logs
		h.reader = logs
	}
	bg := context.WithoutCancel(ctx)
	wait := l.cli.ContainerWait(bg, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	if start {
		wait = l.cli.ContainerWait(bg, id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
		if _, err := l.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
			_ = out.Close()
			return nil, fmt.Errorf("start container: %w", err)
		}
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = stdcopy.StdCopy(spec.Stdout, spec.Stderr, h.reader)
	}()
	go func() {
		defer close(h.done)
		select {
		case res := <-wait.Result:
			h.code = int(res.StatusCode)
			if res.Error != nil {
				h.err = fmt.Errorf("%s: %w", res.Error.Message, ErrWait)
			}
		case err := <-wait.Error:
			h.err = err
		}
		select { // the output stream ends with the container; do not hang on a stuck one
		case <-copied:
		case <-time.After(5 * time.Second):
		}
		_ = out.Close()
		<-copied
	}()
	return h, nil
}

type handle struct {
	l      *Launcher
	id     string
	reader io.Reader
	done   chan struct{}
	code   int   // set before done closes
	err    error // set before done closes

	mu sync.Mutex
	// guards removed
	removed bool
}

func (h *handle) ID() string { return h.id }

func (h *handle) Wait(ctx context.Context) (int, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-h.done:
		if h.err != nil {
			return h.code, fmt.Errorf("wait for container %s: %w", h.id[:12], h.err)
		}
		return h.code, nil
	}
}

func (h *handle) Signal(ctx context.Context, sig syscall.Signal) error {
	_, err := h.l.cli.ContainerKill(ctx, h.id, client.ContainerKillOptions{Signal: fmt.Sprint(int(sig))})
	if err == nil || cerrdefs.IsNotFound(err) || cerrdefs.IsConflict(err) { // gone or not running
		return nil
	}
	return fmt.Errorf("signal container %s: %w", h.id[:12], err)
}

// Usage reads one stats sample (one-shot: the daemon does not wait a second for a
// previous one) as usageOf reads it.
func (h *handle) Usage(ctx context.Context) (runner.Usage, error) {
	res, err := h.l.cli.ContainerStats(ctx, h.id, client.ContainerStatsOptions{Stream: false})
	if err != nil {
		return runner.Usage{}, fmt.Errorf("stats of container %s: %w", h.id[:12], err)
	}
	defer res.Body.Close() //nolint:errcheck // read only; a decode error is reported
	var s container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return runner.Usage{}, fmt.Errorf("stats of container %s: %w", h.id[:12], err)
	}
	return usageOf(s), nil
}

// usageOf reads a stats sample: the container's cumulative CPU time (cpu_usage.total_usage,
// nanoseconds on cgroup v1 and v2), stamped with the daemon's read time, so the runner's
// percentage over two samples is what `docker stats` computes from cpu_stats and
// precpu_stats (ΔCPU / Δsystem × online CPUs); and the memory in use without the
// inactive page cache, as `docker stats` shows it: usage minus total_inactive_file on
// cgroup v1 (the hierarchical count: inactive_file there leaves out child cgroups) or
// inactive_file on cgroup v2.
func usageOf(s container.StatsResponse) runner.Usage {
	mem := s.MemoryStats.Usage
	inactive, v1 := s.MemoryStats.Stats["total_inactive_file"]
	if !v1 {
		inactive = s.MemoryStats.Stats["inactive_file"]
	}
	if inactive < mem {
		mem -= inactive
	}
	return runner.Usage{CPUTime: time.Duration(s.CPUStats.CPUUsage.TotalUsage), MemoryBytes: int64(mem), At: s.Read}
}

func (h *handle) Remove(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.removed {
		return nil
	}
	_, err := h.l.cli.ContainerRemove(ctx, h.id, client.ContainerRemoveOptions{Force: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %s: %w", h.id[:12], err)
	}
	h.removed = true
	return nil
}

// Reattach returns a handle on the running container of spec.Execution; its output from
// now on goes to spec.Stdout and spec.Stderr. A container that no longer runs is removed
// and the error matches runner.ErrGone.
func (l *Launcher) Reattach(ctx context.Context, spec runner.Spec) (runner.Handle, error) {
	res, err := l.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: l.owned(spec.Execution)})
	if err != nil {
		return nil, fmt.Errorf("reattach %s: list containers: %w", spec.Execution, err)
	}
	for _, c := range res.Items {
		if c.State == container.StateRunning {
			h, err := l.start(ctx, c.ID, spec, false)
			if err != nil {
				return nil, fmt.Errorf("reattach %s: %w", spec.Execution, err)
			}
			return h, nil
		}
		if _, err := l.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("reattach %s: remove stopped container: %w", spec.Execution, err)
		}
	}
	return nil, fmt.Errorf("reattach %s: %w", spec.Execution, runner.ErrGone)
}

// Sweep removes every labelled container whose execution keep does not want.
func (l *Launcher) Sweep(ctx context.Context, keep func(domain.ExecutionID) bool) ([]domain.ExecutionID, error) {
	res, err := l.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: l.owned("")})
	if err != nil {
		return nil, fmt.Errorf("sweep: list containers: %w", err)
	}
	var out []domain.ExecutionID
	var errs []error
	for _, c := range res.Items {
		id := domain.ExecutionID(c.Labels[LabelExecution])
		if keep(id) {
			continue
		}
		if _, err := l.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("sweep: remove container of %s: %w", id, err))
			continue
		}
		out = append(out, id)
	}
	return out, errors.Join(errs...)
}
