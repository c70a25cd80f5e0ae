package graphql

import (
	"encoding/json"
	"testing"
)

// metadataJSON encodes as encoding/json encodes the map, once the JSON scalar's marshaller
// has compacted and HTML-escaped it.
func TestMetadataJSON_IsJSONMarshal(t *testing.T) {
	m := map[string]json.RawMessage{
		"loss": json.RawMessage(`0.25`), "epoch": json.RawMessage(`8`), "a<b>&c": json.RawMessage(`"x<y>&z"`),
		`quo"te\`: json.RawMessage(`{ "nested": [1, 2] }`), "é\u2028": json.RawMessage(`null`), "tab\t": json.RawMessage(`true`), "": json.RawMessage(`"e"`),
	}
	want, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(metadataJSON(m))
	if err != nil || string(got) != string(want) {
		t.Errorf("metadataJSON() encodes as %s, %v; want %s", got, err, want)
	}
}
