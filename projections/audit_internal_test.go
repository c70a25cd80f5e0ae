package projections

import (
	"encoding/json"
	"testing"
)

func TestSubjectOf_MatchesJSON(t *testing.T) {
	for _, in := range []string{
		`{"project":"p","execution":"x","at":"2025-01-01T00:00:00Z"}`,
		`{"points":[{"values":{"project":"nested"}}],"execution":"x"}`,
		` { "datum" : "d" , "project" : null, "size": 12, "ok": true, "list": [1, "a", {"b": [2]}] } `,
		`{"dataset":"d\u00e9","task":"t"}`,
		`{"deployment":"dep","files":[{"datum":"inner"}],"n":-1.5e3}`,
		`{}`,
		`{"project":5}`,
		`[1]`,
		`{"project":"p"`,
	} {
		var want subject
		werr := json.Unmarshal([]byte(in), &want)
		got, err := subjectOf([]byte(in))
		if (err != nil) != (werr != nil) || got != want {
			t.Errorf("subjectOf(%s) = %+v, %v, want %+v, %v", in, got, err, want, werr)
		}
	}
}
