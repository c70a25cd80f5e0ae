// Command sequentiallists makes gqlgen's generated code marshal list elements one after
// the other: go generate runs it on generated/exec.go after gqlgen.
//
// gqlgen marshals the elements of every list of objects in a goroutine each, so that
// elements whose fields have resolvers resolve concurrently. None of ours has field
// resolvers (only Query, Mutation and Subscription do), so the goroutines only cost: a
// page of 50 executions spent more on starting goroutines and growing their stacks than
// on writing its fields. This replaces each graphql.MarshalSliceConcurrently call with
// generated.marshalSlice (generated/slice.go), which takes the same arguments.
package main

import (
	"bytes"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fail("usage: sequentiallists generated/exec.go")
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fail(err.Error())
	}
	from, to := []byte("graphql.MarshalSliceConcurrently("), []byte("marshalSlice(")
	if !bytes.Contains(src, from) && !bytes.Contains(src, to) {
		fail(fmt.Sprintf("%s calls neither %s nor %s: gqlgen changed how it marshals lists; update graphql/internal/sequentiallists", path, from, to))
	}
	if err := os.WriteFile(path, bytes.ReplaceAll(src, from, to), 0o644); err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "sequentiallists:", msg)
	os.Exit(1)
}
