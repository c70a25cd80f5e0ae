package projections

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// fillAll sets every field reachable from v to a distinct non-zero value: two elements
// per slice and map.
func fillAll(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(*n) + 0.25)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Array:
		for i := range v.Len() {
			fillAll(t, v.Index(i), n)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillAll(t, v.Index(i), n)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fillAll(t, k, n)
			fillAll(t, e, n)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2025, 1, 1, 0, 0, *n, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillAll(t, v.Field(i), n)
			}
		}
	default:
		t.Fatalf("fillAll: no rule for %s: teach it, and teach encodeRecord the new field", v.Type())
	}
}

// Every field of Execution (Warnings excepted, which are never stored) survives a record:
// a field added to Execution or to a type it holds fails this until record.go carries it.
func TestRecord_RoundTrip(t *testing.T) {
	var x Execution
	n := 0
	fillAll(t, reflect.ValueOf(&x).Elem(), &n)
	x.Warnings = nil
	b := encodeRecord(&x)
	got, err := decodeRecord(b)
	if err != nil {
		t.Fatalf("decodeRecord() error = %v", err)
	}
	if !reflect.DeepEqual(got, x) {
		t.Fatalf("decodeRecord(encodeRecord(x)) =\n%+v\nwant\n%+v", got, x)
	}
	// Decoding copies: the buffer may be reused.
	clear(b)
	if !reflect.DeepEqual(got, x) {
		t.Fatalf("decoded record changed with its buffer")
	}

	// A zero execution, and times in other zones, come back the same.
	zone := time.FixedZone("", 2*3600)
	for _, x := range []Execution{{}, {ID: "x", CreatedAt: time.Date(2025, 6, 1, 12, 0, 0, 5, zone)}} {
		got, err := decodeRecord(encodeRecord(&x))
		if err != nil || !got.CreatedAt.Equal(x.CreatedAt) || got.CreatedAt.Format(time.RFC3339Nano) != x.CreatedAt.Format(time.RFC3339Nano) ||
			!reflect.DeepEqual(got.Tags, x.Tags) || got.ID != x.ID {
			t.Errorf("round trip of %+v = %+v, %v", x, got, err)
		}
	}
}

// A cut-short or padded record is an error, never a panic.
func TestRecord_Malformed(t *testing.T) {
	var x Execution
	n := 0
	fillAll(t, reflect.ValueOf(&x).Elem(), &n)
	x.Warnings = nil
	b := encodeRecord(&x)
	for i := range len(b) {
		if _, err := decodeRecord(b[:i]); !errors.Is(err, errBadRecord) {
			t.Fatalf("decodeRecord(first %d of %d bytes) error = %v, want errBadRecord", i, len(b), err)
		}
	}
	if _, err := decodeRecord(append(b, 0)); !errors.Is(err, errBadRecord) {
		t.Fatalf("decodeRecord(record and one byte more) error = %v, want errBadRecord", err)
	}
}
