// Package process is a runner.Launcher that runs an execution's commands as a local
// process group, without Docker: for laptops and for GPU hosts without Docker. The
// commands run as `/bin/sh -e -c SCRIPT` in the execution's repository directory and find
// their inputs, outputs and config through VH_INPUTS_DIR, VH_OUTPUTS_DIR, VH_CONFIG_DIR and
// VH_REPOSITORY_DIR, which point into the execution's directory.
//
// It cannot limit CPUs, memory or network; resource use is read from procfs. It imports
// runner and domain only, never another adapter.
package process
