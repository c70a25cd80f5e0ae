// Package git fetches an execution's commit with the git command-line tool: Fetcher
// keeps a bare mirror per repository URL under its cache directory, fetches only when the
// commit is missing from it, and exports exactly that commit's tree (git archive, with
// export-ignore and export-subst attributes overridden) into the execution's repository
// directory through runner.Unpack, so the directory holds the commit's files and no .git.
//
// It refuses commits that are not full 40-hex SHAs and repository URLs outside https,
// ssh (also user@host:path), git and, when Config.AllowFile is set, file; hooks never run
// (core.hooksPath is /dev/null and nothing is checked out).
//
// It implements runner.CodeFetcher; it imports runner and domain, never other adapters,
// app, graphql or projections.
package git
