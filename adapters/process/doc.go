// Package process is a runner.Launcher that runs an execution's commands as a local
// process group, without Docker: for laptops and for GPU hosts without Docker. The
// commands run as `/bin/sh -e -c SCRIPT` in the execution's repository directory and find
// their inputs, outputs and config through VH_INPUTS_DIR, VH_OUTPUTS_DIR, VH_CONFIG_DIR and
// VH_REPOSITORY_DIR, which point into the execution's directory.
//
// The paths in config/inputs.json are those real paths too (the launcher is no
// runner.Mounter).
//
// # Limits
//
// What is enforced, on Linux: memory as RLIMIT_AS, the address space of each process (a
// process allocating past it gets ENOMEM; note that runtimes reserving much more address
// space than they use, such as the JVM, Go or CUDA, may fail under a tight limit), and
// CPUs as an affinity set of ceil(Spec.CPUs) CPUs (so 1.5 CPUs get 2), rotated over the
// CPUs the worker may use. Both are applied before the step's first command runs: the
// shell waits at a gate until the launcher has set them. What is not enforced: the memory
// of the group as a whole (each process has the limit; no cgroup is used), fractional CPU
// shares, and the network (Spec.Network is ignored: runs reach what the host reaches).
// GPUs are hidden with CUDA_VISIBLE_DEVICES="" when none are asked for. Resource use is
// read from procfs. It imports runner, domain and golang.org/x/sys only, never another
// adapter.
package process
