package main

import (
	"bytes"
	"encoding/json"
)

// jsonMarshalLine encodes v as one line of JSON, without escaping HTML characters.
func jsonMarshalLine(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}
