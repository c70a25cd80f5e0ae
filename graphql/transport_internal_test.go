package graphql

import (
	"encoding/json"
	"slices"
	"testing"

	gql "github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// encodeResponse writes what encoding/json writes, byte for byte.
func TestEncodeResponse_IsJSONMarshal(t *testing.T) {
	yes := true
	for _, resp := range []*gql.Response{
		{},
		{Data: json.RawMessage(`{"executions":{"nodes":[{"id":"a<b>&","metadata":{"loss":0.5}}],"total":1}}`)},
		{Data: json.RawMessage(`null`), Errors: gqlerror.List{{Message: `no "such" <thing>`, Path: ast.Path{ast.PathName("x"), ast.PathIndex(2)},
			Extensions: map[string]any{"code": "NOT_FOUND"}}}},
		{Errors: gqlerror.List{{Message: "a"}, {Message: "b"}}, Extensions: map[string]any{"cost": 3}},
		{Data: json.RawMessage(`{"s":"line\u2028sep\u2029 é"}`)},
		{Data: json.RawMessage("{\"s\":\"raw \u2028 and \u2029 é\"}")},
		{Data: json.RawMessage(`{"a":1}`), Label: "l", Path: ast.Path{ast.PathName("p")}, HasNext: &yes, Extensions: map[string]any{"z": []int{1}}},
	} {
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		parts, err := encodeResponse(resp)
		got := slices.Concat(parts[:]...)
		if err != nil || string(got) != string(want) {
			t.Errorf("encodeResponse() = %s, %v; want %s", got, err, want)
		}
	}
}
