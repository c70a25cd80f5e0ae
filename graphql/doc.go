// Package graphql serves Strata's GraphQL API: the schema (schema/*.graphqls, compiled by
// gqlgen into package generated), the resolvers over the app commands and the projections'
// read models, and the HTTP and websocket (graphql-transport-ws) server around them with
// bearer-token authentication, request limits (body size, query depth and complexity,
// timeouts) and the one mapping of error kinds to client codes (errors.go).
//
// Mutations return the log position they wrote; queries by the same token wait, bounded,
// until the projections have applied it, so a client always reads its own writes.
//
// graphql imports domain, events, app and projections; it must not import adapters or cmd.
package graphql
