// Package execution is the execution aggregate: one run of one step of a project, from
// creation to its final status, with everything needed to reproduce it and everything it
// consumed and produced. It imports only the standard library and package domain.
//
// # Statuses and transitions
//
// An execution has exactly the statuses created, queued, started, stopping, stopped,
// complete, error and crashed (domain.ExecutionStatus). The legal transitions:
//
//	from      to                                   command
//	created   queued                               Queue
//	created   stopping (then stopped at once)      RequestStop
//	queued    started                              Start
//	queued    stopping (then stopped at once)      RequestStop
//	started   complete (exit code 0)               Finish
//	started   error (exit code not 0)              Finish
//	started   stopping                             RequestStop
//	stopping  stopped                              MarkStopped
//	created, queued, started, stopping → crashed   Crash
//
// stopped, complete, error and crashed are final. Any other change, including Create on an
// execution that exists (a change "to created"), is refused with a *TransitionError naming
// both statuses ("execution: cannot go from complete to started"), which matches
// domain.ErrConflict. RequestStop on a stopping execution is an idempotent no-op. A run that
// ends after a stop request is reported with MarkStopped whatever its exit code.
//
// Input files, metadata, resource samples and outputs are recorded only while started or
// stopping (outputs are uploaded even when a run is stopped); otherwise ErrNotRunning.
// Tags can change in any status.
//
// # Creation
//
// Create carries the step definition (Step, ParameterDef, InputDef) so parameter values
// are validated the way valohai.yaml defines them (type, min/max, choices, required,
// multiple) and recorded typed with defaults applied. Inputs are recorded as requested and
// as resolved: the caller resolves datum aliases and dataset versions to datum IDs before
// creating, and Created pins them (ResolvedURI). The execution's number (#N) is allocated
// beforehand on the project stream; see package project. Secret environment variables are
// recorded by name with Secret set; their values are never stored.
//
// Duration (start to end, or to now while running) and cost (the environment's price per
// hour × duration) are derived from State; they are not events.
package execution
