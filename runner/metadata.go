package runner

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/stratahq/strata/domain/execution"
)

// MaxBatchPoints is the most metadata points in one execution.MetadataRecorded event.
const MaxBatchPoints = 1000

// ParseMetadata returns the metadata point a stdout line holds: a line that is a JSON
// object (surrounding space allowed) is a point stamped with at; anything else is not.
// A "_time" key in the object is kept as a value; the point's time is when the line was
// printed.
func ParseMetadata(line string, at time.Time) (execution.MetadataPoint, bool) {
	b := bytes.TrimSpace([]byte(line))
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return execution.MetadataPoint{}, false
	}
	var values map[string]json.RawMessage
	if err := json.Unmarshal(b, &values); err != nil || len(values) == 0 {
		return execution.MetadataPoint{}, false
	}
	for k, v := range values {
		var c bytes.Buffer
		if err := json.Compact(&c, v); err != nil {
			return execution.MetadataPoint{}, false
		}
		values[k] = c.Bytes()
	}
	return execution.MetadataPoint{Time: at.UTC(), Values: values}, true
}
