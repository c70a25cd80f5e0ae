// Package task is the task aggregate: a collection of executions of one step over a
// parameter space (grid, random, manual or Bayesian search), numbered !N in its project.
// It records the space, the executions attached to it and the status each reached, so
// State.Summary counts them without reading the executions. A reactor copies each
// attached execution's status changes onto the task stream (RecordExecutionStatus).
//
// The task's number is allocated on the project stream before creation, exactly as for
// executions (project.AllocateNumber with project.CounterTask). It imports only the
// standard library and package domain.
package task
