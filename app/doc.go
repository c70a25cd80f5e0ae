// Package app is Strata's application layer: the command handlers that turn a request
// (from GraphQL, the CLI, the runner or a reactor) into domain commands and run them
// through events.Execute, so every rule is written once. Handlers resolve names (datum
// aliases, dataset versions, store URLs to configured data stores), check the actor's role
// in the project, generate IDs and timestamps, and keep the blob stores consistent with the
// datum records (content-addressed uploads, reference-counted purge).
//
// It also resolves and downloads execution inputs (datum://, dataset://, s3://, gs://,
// azure://, swift://, https:// and, when enabled, http://), hashing every file with md5,
// sha1, sha256 and BLAKE3 in one pass while it streams to disk, refusing remote hosts that
// resolve to loopback, link-local or private addresses unless allow-listed.
//
// Who acts is request metadata carried by the context (WithActor, WithCorrelationID,
// WithCausationID); a Service reads no environment, flags or files: cmd builds its Config
// and collaborators.
//
// app imports the standard library, domain and its aggregates, events and blob (with
// blob/storecfg). It must not import adapters, projections, runner, graphql or cmd; plain
// object access to user buckets is the ObjectReader interface declared here and implemented
// by the store adapters.
package app
