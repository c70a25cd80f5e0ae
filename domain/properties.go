package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MaxPropertyNameLen is the longest property name, in bytes.
const MaxPropertyNameLen = 256

// ChangedProperties validates set (property names and JSON values; a JSON null means
// "remove") against the current properties cur and returns only what changes, with values
// in compact form: a property already at the value, or a null for a property that is not
// there, is left out. An empty result means nothing changes.
func ChangedProperties(cur, set map[string]json.RawMessage) (map[string]json.RawMessage, error) {
	changed := make(map[string]json.RawMessage)
	for k, v := range set {
		if err := CheckText("property", k, MaxPropertyNameLen); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return nil, fmt.Errorf("property %.*q: value is not JSON: %w", maxQuoteLen, k, ErrInvalid)
		}
		old, has := cur[k]
		if isJSONNull(b.Bytes()) && !has || has && bytes.Equal(old, b.Bytes()) {
			continue
		}
		changed[k] = b.Bytes()
	}
	return changed, nil
}

// ApplyProperties applies changed (as ChangedProperties returns it) to cur and returns
// it; cur may be nil. It modifies cur in place.
func ApplyProperties(cur, changed map[string]json.RawMessage) map[string]json.RawMessage {
	if cur == nil {
		cur = make(map[string]json.RawMessage, len(changed))
	}
	for k, v := range changed {
		if isJSONNull(v) {
			delete(cur, k)
		} else {
			cur[k] = v
		}
	}
	return cur
}

func isJSONNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }
