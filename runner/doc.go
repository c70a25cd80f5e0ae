// Package runner runs queued executions: it schedules them (by priority, within each
// environment's maximum scale and per-user quota), prepares and hashes their inputs,
// writes the config files, launches the step's commands through a Launcher with the
// secret variables from its SecretSource, keeps their logs in a LogStore (not as events;
// FileLogStore keeps them across restarts) and streams them live, turns JSON lines of
// stdout into batched metadata events, samples resource usage (the summary goes into the
// completion event), hands everything under the outputs directory to the app
// (app.Service.UploadOutput, which applies the sidecars as follow-up commands, and
// CreateOutputVersions for valohai.dataset-versions) when the run ends (also after an
// error, a stop or a time-out), enforces stop requests, time limits and no-output
// time-outs, and recovers executions after a crash.
//
// Dispatch: a Dispatcher (a reactor following the event log from a Checkpoint) publishes
// every created or queued execution on a Queue, and a Worker consumes the Queue and submits
// each execution to its Scheduler. The Queue is transport only (adapters/bus, watermill):
// delivery is at least once, the Dispatcher republishes executions that do not start, and
// the Worker treats a dispatch of an execution it holds, or that has already started, as a
// no-op.
//
// It declares the Launcher and the Queue it needs; adapters/docker and adapters/process
// implement the Launcher, adapters/bus the Queue.
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
