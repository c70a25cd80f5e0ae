// Command strata is Strata's single binary: `strata serve` runs the engine, and the client
// commands work on the event log and configuration files.
//
// cmd/strata is the only place that reads flags, environment variables and files, and wires
// the packages together. Each command has one constructor, newCmdX(f *factory), in the
// manner of the GitHub CLI; no package-level command variables and no init().
//
// Exit codes: 0 success; 1 the command failed; 2 the command line is wrong; 3 the event log
// failed verification (it was edited, truncated or reordered); 4 'exec run --watch'
// followed an execution that ended other than complete (error, stopped or crashed).
package main
