// Package alias is the datum alias aggregate: a mutable name, datum://<name>, pointing at
// one datum of a project, with its full history (every move records the previous target).
// One stream per project and name. Aliases are resolved when an execution or task is
// created, never later. It imports only the standard library and package domain.
package alias
