package projections

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

// A metadata sort key decodes to the value it was made from, and byte order is
// compareSort's ascending order.
func TestMetaSortKey_RoundTripsAndOrders(t *testing.T) {
	raws := []string{`-1e300`, `-2.5`, `-0`, `0`, `1e-9`, `3`, `7.25`, `1e300`, `""`, `"\u0000"`, `"\u0000\u0001"`,
		`"a"`, `"a\u0000b"`, `"ab"`, `true`, `{"x":1}`}
	var keys [][]byte
	var want []sortValue
	pre := prefixOf("ms", "p", "loss")
	for i, raw := range raws {
		k := metaSortKeys("p", nil, map[string]json.RawMessage{"loss": json.RawMessage(raw)}, 100-i)[0]
		got, ok := metaSortValueAt(k[len(pre):])
		isStr, num, str := metaSortValue(json.RawMessage(raw))
		w := sortValue{IsStr: isStr, Num: num, Str: str, Number: 100 - i}
		if !ok || compareSort(got, w, false) != 0 || got.Str != w.Str || got.IsStr != w.IsStr {
			t.Errorf("metaSortValueAt(key of %s) = %+v, %v; want %+v", raw, got, ok, w)
		}
		keys, want = append(keys, k), append(want, w)
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	byKey, byValue := slices.Clone(order), slices.Clone(order)
	slices.SortFunc(byKey, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
	slices.SortFunc(byValue, func(a, b int) int { return compareSort(want[a], want[b], false) })
	if !slices.Equal(byKey, byValue) {
		t.Errorf("key order %v, value order %v", byKey, byValue)
	}
	for _, bad := range [][]byte{nil, {1, 0}, {3, 0, 0, 0, 0, 0, 0, 0, 0}, {2, 'a', 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {2, 'a', 0, 1}} {
		if v, ok := metaSortValueAt(bad); ok {
			t.Errorf("metaSortValueAt(%v) = %+v, want not ok", bad, v)
		}
	}
}
