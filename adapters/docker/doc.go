// Package docker is a runner.Launcher that runs each execution in a Docker container
// through the Engine API (github.com/moby/moby/client, API version negotiated down to the
// daemon's, 1.41 at least for Debian's docker.io).
//
// A container gets the execution's directories bind-mounted at /valohai/repository,
// /valohai/inputs (read-only), /valohai/outputs and /valohai/config (read-only), the VH_*
// variables, the step's commands run as `/bin/sh -e -c` in /valohai/repository, the CPU
// and memory limits asked for, no network unless asked for, and GPUs through device
// requests (a daemon without the nvidia runtime is a clear error). Containers are labelled
// strata.execution=<id>, so a restarted worker can reattach to them (Reattach) or remove
// them (Sweep), and are removed once the runner has collected the outputs.
//
// It imports runner and domain only, never another adapter; Docker SDK types do not
// escape it.
package docker
