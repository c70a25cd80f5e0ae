// Package domain holds Strata's value types (digests, IDs, URIs) and the error kinds
// every aggregate wraps. Its subpackages are the pure aggregates.
//
// domain and everything below it import only the standard library: the domain is the
// stored schema of the event log and must not move when an adapter or SDK does.
package domain
