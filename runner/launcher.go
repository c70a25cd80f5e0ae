package runner

import (
	"context"
	"errors"
	"io"
	"syscall"
	"time"

	"github.com/stratahq/strata/domain"
)

// Spec is what a Launcher runs: one execution's joined commands in its directory.
type Spec struct {
	// Execution and Project identify the run; launchers label what they create with them.
	Execution domain.ExecutionID
	Project   domain.ProjectID
	// Image is the container image; launchers without containers ignore it.
	Image string
	// Script is the step's commands joined; it runs as `/bin/sh -e -c Script` with the
	// repository directory as working directory.
	Script string
	// Dir is the execution's directory on this host: Dir/repository, Dir/inputs (read-only
	// content), Dir/outputs and Dir/config.
	Dir string
	// Env holds the variables to set besides the VH_*_DIR paths, which the launcher sets
	// to where it exposes the directories.
	Env map[string]string
	// CPUs and MemoryBytes limit the run where the launcher can (0: no limit).
	CPUs        float64
	MemoryBytes int64
	// GPUs is the number of GPUs to give the run (-1: all of them, 0: none).
	GPUs int
	// Network lets the run reach the network; otherwise it has none, where the launcher
	// can isolate it.
	Network bool
	// Stdout and Stderr receive the run's output as it comes. Each is written by one
	// goroutine at a time.
	Stdout, Stderr io.Writer
}

// Usage is a run's resource use at one moment.
type Usage struct {
	// CPUTime is the CPU time used since the start, all cores together.
	CPUTime time.Duration
	// MemoryBytes is the memory in use now, without reclaimable page cache.
	MemoryBytes int64
	// At is when the launcher read it (Docker's "read" stamp); zero means now.
	At time.Time
}

// CPUPercent is the CPU use between two samples of one run, in percent of one core (two
// busy cores make 200): the CPU time used over the time passed. It is 0 when no time passed
// or the counter went back (a restarted run).
func CPUPercent(prev, cur Usage) float64 {
	wall := cur.At.Sub(prev.At)
	if wall <= 0 || cur.CPUTime < prev.CPUTime {
		return 0
	}
	return float64(cur.CPUTime-prev.CPUTime) / float64(wall) * 100
}

// Launcher starts executions.
type Launcher interface {
	// Launch starts spec and returns once the commands run. Cancelling ctx during Launch
	// abandons the start and leaves nothing running; once Launch has returned, the run is
	// ended only through the Handle. An image that cannot be found or a missing GPU runtime
	// is an error matching domain.ErrInvalid.
	Launch(ctx context.Context, spec Spec) (Handle, error)
}

// Handle is one launched run.
type Handle interface {
	// ID names the run for the launcher (container ID, process ID).
	ID() string
	// Wait blocks until the commands exited and everything they wrote reached
	// Spec.Stdout and Spec.Stderr, and returns the exit status (128+n when killed by
	// signal n). Cancelling ctx returns ctx.Err() and leaves the run alone. It may be
	// called more than once.
	Wait(ctx context.Context) (int, error)
	// Signal sends sig to every process of the run. Signalling a run that has ended is a
	// success.
	Signal(ctx context.Context, sig syscall.Signal) error
	// Usage returns the run's resource use now.
	Usage(ctx context.Context) (Usage, error)
	// Remove releases what the launcher keeps for the run (the container). The runner
	// calls it once the outputs are collected. Removing twice is a success.
	Remove(ctx context.Context) error
}

// Mounter is a Launcher that shows the execution directory to the commands at another
// path than Spec.Dir (a container's /valohai). The config files the runner writes
// (inputs.json) name paths as the commands see them: under MountDir() for a Mounter, under
// Spec.Dir for any other launcher.
type Mounter interface {
	// MountDir is where the commands see Spec.Dir.
	MountDir() string
}

// ImageResolver is a Launcher that knows image digests. The runner records the digest
// (<algorithm>:<hex>) in the execution's Started event.
type ImageResolver interface {
	// ResolveImage returns the digest of image, or an error matching domain.ErrInvalid if
	// there is no such image.
	ResolveImage(ctx context.Context, image string) (string, error)
}

// Reattacher is a Launcher that can find the runs of an earlier worker process.
type Reattacher interface {
	// Reattach returns a Handle on the run of spec.Execution that still runs; its output
	// from now on goes to spec.Stdout and spec.Stderr. When nothing of it runs any more it
	// removes what is left and returns an error matching ErrGone.
	Reattach(ctx context.Context, spec Spec) (Handle, error)
	// Sweep removes every run that the launcher created and whose execution keep does not
	// want, and returns the executions removed.
	Sweep(ctx context.Context, keep func(domain.ExecutionID) bool) ([]domain.ExecutionID, error)
}

// ErrGone: the run of an execution is no longer there to reattach to.
var ErrGone = errors.New("runner: run is gone")
