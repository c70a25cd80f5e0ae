// Package dataset is the dataset aggregate: a named collection of files with versions,
// addressed as dataset://<dataset>/<version-or-alias>. A version lists datum IDs; it is
// built from a base version (its files minus those excluded, plus those added) or from
// scratch. Dataset aliases ("production", "staging") point at versions and every move
// records the previous target; "latest" is reserved and always means the newest version.
// Versions and aliases share one namespace, so a URI is never ambiguous. Datasets and
// versions carry free-form JSON properties. It imports only the standard library and
// package domain.
package dataset
