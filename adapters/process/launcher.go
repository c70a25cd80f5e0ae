package process

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/runner"
)

// Config configures a Launcher.
type Config struct {
	// Shell runs the script; default /bin/sh.
	Shell string
	// Path is the PATH the commands get; default the launcher's own.
	Path string
}

// Launcher runs executions as local process groups.
type Launcher struct {
	cfg  Config
	next atomic.Int64 // first CPU of the next run's affinity set, so runs spread out
}

var _ runner.Launcher = (*Launcher)(nil)

// New returns a Launcher.
func New(cfg Config) *Launcher {
	if cfg.Shell == "" {
		cfg.Shell = "/bin/sh"
	}
	if cfg.Path == "" {
		cfg.Path = os.Getenv("PATH")
	}
	return &Launcher{cfg: cfg}
}

// gate is the script that runs first: it waits until the launcher has applied the limits
// to it (the launcher closes fd 3), then becomes the step's shell, which inherits them.
const gate = `read -r _ <&3 || :; exec 3<&-; exec "$0" -e -c "$1"`

// Launch starts spec.Script in its own process group.
func (l *Launcher) Launch(ctx context.Context, spec runner.Spec) (runner.Handle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(l.cfg.Shell); err != nil {
		return nil, fmt.Errorf("launch %s: shell: %w: %w", spec.Execution, err, domain.ErrInvalid)
	}
	// The command runs in the repository directory, so every VH_* path must be absolute.
	dir, err := filepath.Abs(spec.Dir)
	if err != nil {
		return nil, fmt.Errorf("launch %s: execution directory: %w", spec.Execution, err)
	}
	spec.Dir = dir
	// The run outlives ctx, which only bounds the start: it ends through the Handle.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), l.cfg.Shell, "-c", gate, l.cfg.Shell, spec.Script)
	cmd.Dir = filepath.Join(spec.Dir, "repository")
	env := map[string]string{
		"PATH": l.cfg.Path, "HOME": os.Getenv("HOME"),
		"VH_REPOSITORY_DIR": filepath.Join(spec.Dir, "repository"),
		"VH_INPUTS_DIR":     filepath.Join(spec.Dir, "inputs"),
		"VH_OUTPUTS_DIR":    filepath.Join(spec.Dir, "outputs"),
		"VH_CONFIG_DIR":     filepath.Join(spec.Dir, "config"),
	}
	if spec.GPUs == 0 {
		env["CUDA_VISIBLE_DEVICES"] = ""
	}
	for k, v := range spec.Env {
		env[k] = v
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	sort.Strings(cmd.Env)
	cmd.Stdout, cmd.Stderr = spec.Stdout, spec.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A background process that keeps the output open must not hold Wait forever.
	cmd.WaitDelay = 5 * time.Second
	gateR, gateW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("launch %s: %w", spec.Execution, err)
	}
	cmd.ExtraFiles = []*os.File{gateR}
	err = cmd.Start()
	if cerr := gateR.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close the gate: %w", cerr)
	}
	if err != nil {
		_ = gateW.Close() // the start error is the one to report
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
		return nil, fmt.Errorf("launch %s: %w", spec.Execution, err)
	}
	if err := l.limit(cmd.Process.Pid, spec); err != nil {
		_ = gateW.Close()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return nil, fmt.Errorf("launch %s: %w", spec.Execution, err)
	}
	if err := gateW.Close(); err != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return nil, fmt.Errorf("launch %s: open the gate: %w", spec.Execution, err)
	}
	h := &handle{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		h.code = exitCode(cmd.ProcessState, err)
		if h.code < 0 {
			h.err = err
		}
		// The shell is gone; kill what it left behind in its group.
		_ = syscall.Kill(-h.pid, syscall.SIGKILL)
		close(h.done)
	}()
	return h, nil
}

// limit applies spec's limits to process pid, which waits at the gate: the memory limit
// as RLIMIT_AS (address space, which the processes it starts inherit) and the CPU limit
// as an affinity set of ceil(CPUs) CPUs, rotating over the CPUs this process may use.
func (l *Launcher) limit(pid int, spec runner.Spec) error {
	if spec.MemoryBytes > 0 {
		lim := unix.Rlimit{Cur: uint64(spec.MemoryBytes), Max: uint64(spec.MemoryBytes)}
		if err := unix.Prlimit(pid, unix.RLIMIT_AS, &lim, nil); err != nil {
			return fmt.Errorf("limit memory to %d bytes: %w", spec.MemoryBytes, err)
		}
	}
	if spec.CPUs > 0 {
		var mine unix.CPUSet
		if err := unix.SchedGetaffinity(0, &mine); err != nil {
			return fmt.Errorf("limit CPUs: %w", err)
		}
		var allowed []int
		for c := range 1024 { // CPU_SETSIZE
			if mine.IsSet(c) {
				allowed = append(allowed, c)
			}
		}
		want := int(math.Ceil(spec.CPUs))
		if len(allowed) == 0 || want >= len(allowed) {
			return nil // all of them: nothing to limit
		}
		first := int(l.next.Add(int64(want))) - want
		var set unix.CPUSet
		for i := range want {
			set.Set(allowed[(first+i)%len(allowed)])
		}
		if err := unix.SchedSetaffinity(pid, &set); err != nil {
			return fmt.Errorf("limit CPUs to %d: %w", want, err)
		}
	}
	return nil
}

func exitCode(ps *os.ProcessState, err error) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	if c := ps.ExitCode(); c >= 0 {
		return c
	}
	if err != nil {
		return -1
	}
	return 0
}

type handle struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{}
	code int   // set before done closes
	err  error // set before done closes
}

func (h *handle) ID() string { return strconv.Itoa(h.pid) }

func (h *handle) Wait(ctx context.Context) (int, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-h.done:
		if h.err != nil {
			return h.code, fmt.Errorf("wait for process %d: %w", h.pid, h.err)
		}
		return h.code, nil
	}
}

func (h *handle) Signal(_ context.Context, sig syscall.Signal) error {
	select {
	case <-h.done:
		return nil
	default:
	}
	if err := syscall.Kill(-h.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal process group %d: %w", h.pid, err)
	}
	return nil
}

// Usage sums the CPU time and resident memory of the processes of the group, from procfs.
func (h *handle) Usage(_ context.Context) (runner.Usage, error) {
	return groupUsage(h.pid)
}

func (h *handle) Remove(context.Context) error { return nil }

const clockTicks = 100 // USER_HZ on Linux

var pageSize = int64(os.Getpagesize())

func groupUsage(pgid int) (runner.Usage, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return runner.Usage{}, fmt.Errorf("read procfs: %w", err)
	}
	var u runner.Usage
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name (which may hold spaces) in parentheses.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		// f[0] is field 3 (state): pgrp is field 5, utime 14, stime 15, rss 24.
		if len(f) < 22 {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g != pgid {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		rss, _ := strconv.ParseInt(f[21], 10, 64)
		u.CPUTime += time.Duration(ut+st) * time.Second / clockTicks
		u.MemoryBytes += rss * pageSize
		_ = pid
	}
	return u, nil
}
