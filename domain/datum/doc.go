// Package datum is the datum aggregate: one immutable version of one file, addressed as
// datum://<id>. It records the file's name, size, four digests, where its content is
// stored, what produced it (an execution output or a user upload), its properties and
// tags. Purging deletes the content but keeps the record and its lineage; reading the
// content of a purged datum is refused (State.CheckReadable). It imports only the standard
// library and package domain.
package datum
