// Package memory holds in-memory reference implementations of Strata's storage contracts:
// Store (events.Store) and the blob store. They pass the same conformance suites as the real
// backends and serve as test doubles; they keep nothing across restarts.
//
// memory imports only the contracts it implements.
package memory
