// Package runner runs queued executions: it schedules them, prepares and hashes their
// inputs, writes the /valohai/config files, launches the step's commands through a
// Launcher, keeps their logs (not as events) and streams them live, turns JSON lines of
// stdout into batched metadata events, samples resource usage, uploads everything under
// the outputs directory as datums when the run ends (also after an error, a stop or a
// time-out) with their sidecar properties, tags and aliases, enforces stop requests,
// time limits and no-output time-outs, and recovers executions after a crash.
//
// It declares the Launcher it needs; adapters/docker and adapters/process implement it.
// It imports domain/..., events, blob and app; it must not import adapters, projections,
// graphql or cmd.
//
// # The in-container contract
//
// Every execution gets a directory Config.WorkDir/<execution id> holding repository/,
// inputs/<input>/<file> (made read-only), outputs/ and config/{execution,inputs,parameters}.json.
// A launcher exposes them to the commands as /valohai/... (docker) or as they are
// (process), and sets VH_REPOSITORY_DIR, VH_INPUTS_DIR, VH_OUTPUTS_DIR and VH_CONFIG_DIR
// accordingly; the runner sets VH_JOB_ID, VH_EXECUTION_ID, VH_PROJECT_ID, VH_TASK_ID,
// PYTHONUNBUFFERED and the step's environment variables in Spec.Env.
package runner
