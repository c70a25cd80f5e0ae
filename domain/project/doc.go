// Package project is the project aggregate: a slug and name, the linked repository, the
// default data store and named store overrides, the environments the project may use, its
// members with roles, and its counters. It imports only the standard library and package
// domain.
//
// # Counters
//
// A project numbers its executions (#N), tasks (!N) and pipelines (=N) separately, each
// from 1 without gaps. Numbers are allocated on the project stream, so the event log
// serialises them and replay reproduces them exactly: NumberAllocated records the counter,
// the number and the ID of the thing numbered, and Evolve takes the number from the event,
// never recomputes it.
//
// Because one command appends to one stream, creating a numbered thing is two steps for
// the application layer:
//
//  1. AllocateNumber{Counter: CounterExecution, For: <execution ID>} on the project stream.
//     It is idempotent by (Counter, For): asking again for the same ID emits nothing, and
//     State.Number returns the number already given.
//  2. Create the execution (task, pipeline) on its own stream, carrying that number.
//
// A retry after a failure between the two steps must reuse the same ID, and then gets the
// same number: the counter never skips. A number whose second step never happened is
// visible as an allocation without a created execution.
//
// # Slug uniqueness
//
// The slug is unique across projects. One project stream cannot see the others, so the
// application layer claims the slug first (an append with expected version "no stream" to a
// stream named after the slug) and then creates the project; Decide checks the slug's form
// and that the project does not exist yet.
//
// # Members
//
// The creator becomes an admin. Roles are viewer < editor < admin (Role.Allows). A project
// always keeps at least one admin: removing or demoting the last one is ErrLastAdmin.
package project
