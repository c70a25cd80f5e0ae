package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

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
type Launcher struct{ cfg Config }

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

// Launch starts spec.Script in its own process group.
func (l *Launcher) Launch(ctx context.Context, spec runner.Spec) (runner.Handle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(l.cfg.Shell); err != nil {
		return nil, fmt.Errorf("launch %s: shell: %w: %w", spec.Execution, err, domain.ErrInvalid)
	}
	cmd := exec.Command(l.cfg.Shell, "-e", "-c", spec.Script)
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
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("launch %s: %w", spec.Execution, err)
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
