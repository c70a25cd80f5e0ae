// Package environment is the environment aggregate: a machine type executions run on,
// with its CPUs, memory, GPUs, price per hour, maximum scale and per-user quota. The
// price is what execution costs are computed from (execution.State.Cost). Slugs are
// unique across environments; the application layer ensures it the way it does for
// project slugs (a claim stream per slug). It imports only the standard library and
// package domain.
package environment
