// Command fastpaths makes gqlgen's generated code take two shorter paths: go generate runs
// it on generated/exec.go after gqlgen, naming the types whose lists may be written
// directly.
//
//   - Lists one element after another. gqlgen marshals the elements of every list of
//     objects in a goroutine each, so that elements whose fields have resolvers resolve
//     concurrently. None of ours has field resolvers (only Query, Mutation and
//     Subscription do), so the goroutines only cost: a page of 50 executions spent more on
//     starting goroutines and growing their stacks than on writing its fields. Each
//     graphql.MarshalSliceConcurrently call becomes generated.marshalSlice
//     (generated/slice.go), which takes the same arguments.
//   - Lists of scalar fields in one pass. The list marshaller of each named type T first
//     tries directList with the table directT (generated/direct.go), which writes the
//     list when every selected field is a plain scalar of the struct, and otherwise
//     leaves it to the general path.
//
// Usage: fastpaths generated/exec.go Type...
package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: fastpaths generated/exec.go Type...")
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fail(err.Error())
	}
	from, to := []byte("graphql.MarshalSliceConcurrently("), []byte("marshalSlice(")
	if !bytes.Contains(src, from) && !bytes.Contains(src, to) {
		fail(fmt.Sprintf("%s calls neither %s nor %s: gqlgen changed how it marshals lists; update graphql/internal/fastpaths", path, from, to))
	}
	src = bytes.ReplaceAll(src, from, to)
	for _, typ := range os.Args[2:] {
		var ok bool
		if src, ok = direct(src, typ); !ok {
			fail(fmt.Sprintf("%s has no marshaller of [%s!]!: is %s still listed as a non-null list of non-null elements, or did gqlgen rename its marshallers? Update graphql/internal/fastpaths or its go:generate line", path, typ, typ))
		}
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		fail(err.Error())
	}
}

// direct makes the marshaller of a non-null list of non-null typ try directList first.
// Running it again changes nothing; false means src has no such marshaller.
func direct(src []byte, typ string) ([]byte, bool) {
	const pkg = "githubᚗcomᚋstratahqᚋstrataᚋgraphqlᚋgeneratedᚐ"
	head := fmt.Sprintf("func (ec *executionContext) marshalN%[1]s2ᚕ%[2]s%[1]sᚄ(ctx context.Context, sel ast.SelectionSet, v []%[1]s) graphql.Marshaler {\n", typ, pkg)
	hook := fmt.Sprintf("\tif m := directList(ec, ctx, sel, v, %sImplementors, direct%s); m != nil {\n\t\treturn m\n\t}\n", strings.ToLower(typ[:1])+typ[1:], typ)
	at := bytes.Index(src, []byte(head))
	if at < 0 {
		return nil, false
	}
	at += len(head)
	if bytes.HasPrefix(src[at:], []byte(hook)) {
		return src, true
	}
	return slices.Insert(src, at, []byte(hook)...), true
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "fastpaths:", msg)
	os.Exit(1)
}
