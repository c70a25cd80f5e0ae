package projections

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/stratahq/strata/domain"
)

// A row is the compact binary summary of an execution that the table's indexes hold as
// their values: everything List filters and sorts by, so that a page is computed by one
// scan of an index without decoding a single record, and everything the table shows (see
// ExecutionQuery.Summary), so that a page of it is answered from rows alone. Layout,
// after a version byte:
//
//	number, id, status, step, creator, task, environment,
//	created, started, ended (unix nanoseconds, 0: not yet), price,
//	tags (count, then each), metadata (count, then key, kind, value and JSON per key, by key)
//
// Integers are varints and strings length-prefixed. A metadata value is kind 0 and an
// 8-byte float64 for JSON numbers, kind 1 and a string otherwise (a JSON string decoded,
// any other JSON as its text), which is exactly how ExecutionQuery.value orders them; its
// JSON is the value as recorded, length-prefixed.
const rowVersion = 2

func appendRowString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendRowBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// metaSortValue classifies a metadata value as ExecutionQuery.value does.
func metaSortValue(raw json.RawMessage) (isStr bool, num float64, str string) {
	var f float64
	var s string
	switch {
	case json.Unmarshal(raw, &f) == nil && !math.IsNaN(f):
		return false, f, ""
	case json.Unmarshal(raw, &s) == nil:
		return true, 0, s
	default:
		return true, 0, string(raw)
	}
}

// encodeRow returns the row of x.
func encodeRow(x *Execution) []byte {
	b := make([]byte, 0, 160)
	b = append(b, rowVersion)
	b = binary.AppendUvarint(b, uint64(x.Number))
	b = appendRowString(b, string(x.ID))
	b = appendRowString(b, string(x.Status))
	b = appendRowString(b, x.Step)
	b = appendRowString(b, string(x.Creator))
	b = appendRowString(b, string(x.Task))
	b = appendRowString(b, string(x.Environment))
	b = binary.AppendVarint(b, unixNanoOrZero(x.CreatedAt))
	b = binary.AppendVarint(b, unixNanoOrZero(x.StartedAt))
	b = binary.AppendVarint(b, unixNanoOrZero(x.EndedAt))
	b = binary.AppendVarint(b, int64(x.PricePerHour))
	b = binary.AppendUvarint(b, uint64(len(x.Tags)))
	for _, t := range x.Tags {
		b = appendRowString(b, t)
	}
	keys := make([]string, 0, len(x.Metadata))
	for k := range x.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendRowString(b, k)
		raw := x.Metadata[k]
		isStr, num, str := metaSortValue(raw)
		if isStr {
			b = append(b, 1)
			b = appendRowString(b, str)
		} else {
			b = append(b, 0)
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(num))
		}
		b = appendRowBytes(b, raw)
	}
	return b
}

// rowView is a decoded row whose byte slices point into the scanned value: valid only
// until the scan callback returns. Decoding allocates nothing.
type rowView struct {
	number                                int
	id, status, step, creator, task, envr []byte
	created, started, ended               int64
	price                                 domain.Money
	tags                                  []byte // count and strings, undecoded
	meta                                  []byte // count and entries, undecoded
}

type rowReader struct {
	b   []byte
	bad bool
}

func (r *rowReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rowReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rowReader) bytes(n uint64) []byte {
	if uint64(len(r.b)) < n {
		r.bad, r.b = true, nil
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *rowReader) str() []byte { return r.bytes(r.uvarint()) }

// skipStrings skips a count and that many strings.
func (r *rowReader) skipStrings() {
	for n := r.uvarint(); n > 0 && !r.bad; n-- {
		r.str()
	}
}

// decodeRow decodes b into v; false if b is not a row.
func decodeRow(b []byte, v *rowView) bool {
	if len(b) == 0 || b[0] != rowVersion {
		return false
	}
	r := rowReader{b: b[1:]}
	v.number = int(r.uvarint())
	v.id, v.status, v.step, v.creator, v.task, v.envr = r.str(), r.str(), r.str(), r.str(), r.str(), r.str()
	v.created, v.started, v.ended = r.varint(), r.varint(), r.varint()
	v.price = domain.Money(r.varint())
	rest := r.b
	r.skipStrings()
	v.tags = rest[:len(rest)-len(r.b)]
	v.meta = r.b
	return !r.bad
}

// rowID returns the execution ID of a row (a copy).
func rowID(b []byte) (domain.ExecutionID, bool) {
	var v rowView
	if !decodeRow(b, &v) {
		return "", false
	}
	return domain.ExecutionID(v.id), true
}

// decodeSummary decodes the row b of an execution of project into what the table shows
// (see ExecutionQuery.Summary); it keeps nothing of b. Times are UTC, as the app records them.
func decodeSummary(b []byte, project domain.ProjectID) (Execution, error) {
	if len(b) == 0 || b[0] != rowVersion {
		return Execution{}, errMalformed
	}
	r := recordReader{b: b, s: string(b), off: 1}
	x := Execution{Project: project}
	x.Number = int(r.uint())
	x.ID = domain.ExecutionID(r.str())
	x.Status = domain.ExecutionStatus(r.str())
	x.Step = r.str()
	x.Creator = domain.UserID(r.str())
	x.Task = domain.TaskID(r.str())
	x.Environment = domain.EnvironmentID(r.str())
	x.CreatedAt, x.StartedAt, x.EndedAt = unixNanoTime(r.int()), unixNanoTime(r.int()), unixNanoTime(r.int())
	x.PricePerHour = domain.Money(r.int())
	x.Tags = r.strs()
	if n := r.count(); n > 0 {
		x.Metadata = make(map[string]json.RawMessage, n)
		for range n {
			k := r.str()
			if i, j := r.span(1); j > i && b[i] == 0 {
				r.span(8)
			} else {
				r.str()
			}
			x.Metadata[k] = r.raw()
		}
	}
	if r.bad || r.off != len(b) {
		return Execution{}, errMalformed
	}
	return x, nil
}

// summary returns the summary of the execution of project ranked: from its row if it
// has one, else from the number index; false if there is none.
func (rk ranked) summary(r Reader, project domain.ProjectID) (Execution, bool, error) {
	b := rk.row
	if b == nil {
		var ok bool
		var err error
		if b, ok, err = r.Get(withUint(prefixOf("n", string(project)), uint64(rk.v.Number))); err != nil || !ok {
			return Execution{}, false, err
		}
	}
	x, err := decodeSummary(b, project)
	if err != nil {
		return Execution{}, false, fmt.Errorf("decode row of execution #%d: %w", rk.v.Number, err)
	}
	return x, true, nil
}

func unixNanoTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func (v *rowView) hasTag(t string) bool {
	r := rowReader{b: v.tags}
	for n := r.uvarint(); n > 0 && !r.bad; n-- {
		if string(r.str()) == t {
			return true
		}
	}
	return false
}

// metaValue finds the metadata key k: its sort value, or Missing.
func (v *rowView) metaValue(k string, out *sortValue) {
	r := rowReader{b: v.meta}
	for n := r.uvarint(); n > 0 && !r.bad; n-- {
		key := r.str()
		kind := r.bytes(1)
		if r.bad {
			break
		}
		var num float64
		var str []byte
		if kind[0] == 0 {
			raw := r.bytes(8)
			if r.bad {
				break
			}
			num = math.Float64frombits(binary.BigEndian.Uint64(raw))
		} else {
			str = r.str()
		}
		r.str() // the JSON
		if c := bytes.Compare(key, []byte(k)); c == 0 {
			out.IsStr, out.Num, out.Str = kind[0] != 0, num, string(str)
			return
		} else if c > 0 {
			break // keys are sorted
		}
	}
	out.Missing = true
}

func (v *rowView) execution() Execution {
	x := Execution{Number: v.number, PricePerHour: v.price}
	if v.started != 0 {
		x.StartedAt = time.Unix(0, v.started)
	}
	if v.ended != 0 {
		x.EndedAt = time.Unix(0, v.ended)
	}
	return x
}

// rowValue is ExecutionQuery.value computed from a row.
func (q ExecutionQuery) rowValue(v *rowView) sortValue {
	s := sortValue{Number: v.number}
	switch q.Sort {
	case SortCreated:
		s.Num = float64(v.created)
	case SortDuration:
		x := v.execution()
		s.Num = float64(x.Duration(q.Now))
	case SortCost:
		x := v.execution()
		s.Num = float64(x.Cost(q.Now))
	case SortMetadata:
		v.metaValue(q.MetadataKey, &s)
	default:
		s.Num = float64(v.number)
	}
	return s
}

// matchRow is ExecutionQuery.match on a row; tags[0] is matched by the index already
// when skipFirstTag.
func (q ExecutionQuery) matchRow(v *rowView, skipFirstTag bool) bool {
	if q.Step != "" && string(v.step) != q.Step || q.Creator != "" && string(v.creator) != string(q.Creator) ||
		q.Task != "" && string(v.task) != string(q.Task) || q.Environment != "" && string(v.envr) != string(q.Environment) {
		return false
	}
	if !q.CreatedAfter.IsZero() && v.created < q.CreatedAfter.UnixNano() || !q.CreatedBefore.IsZero() && v.created > q.CreatedBefore.UnixNano() {
		return false
	}
	for i, t := range q.Tags {
		if i == 0 && skipFirstTag {
			continue
		}
		if !v.hasTag(t) {
			return false
		}
	}
	return true
}

// topK keeps the k smallest rows by compareSort: a bounded sorted slice, since k is a
// page (at most 1001) and most rows lose against the current worst at once.
type topK struct {
	k    int
	desc bool
	rows []ranked
}

type ranked struct {
	v   sortValue
	id  domain.ExecutionID
	row []byte // the row, when the page is read from the index's values (else nil)
}

func (t *topK) wants(v sortValue) bool {
	return len(t.rows) < t.k || compareSort(v, t.rows[len(t.rows)-1].v, t.desc) < 0
}

func (t *topK) add(v sortValue, id domain.ExecutionID, row []byte) {
	i, _ := slices.BinarySearchFunc(t.rows, v, func(r ranked, v sortValue) int { return compareSort(r.v, v, t.desc) })
	t.rows = slices.Insert(t.rows, i, ranked{v, id, row})
	if len(t.rows) > t.k {
		t.rows = t.rows[:t.k]
	}
}

// countKey is the key of the counter of executions of project in status, of those with
// tag if tag is not nil.
func countKey(project domain.ProjectID, tag *string, status domain.ExecutionStatus) []byte {
	if tag == nil {
		return key("ca", string(project), string(status))
	}
	return key("ct", string(project), *tag, string(status))
}

// metaSortPrefix is the prefix of the sort index of the metadata key k in project, or in
// its executions with tag if tag is not nil.
func metaSortPrefix(project domain.ProjectID, tag *string, k string) []byte {
	if tag == nil {
		return prefixOf("ms", string(project), k)
	}
	return prefixOf("mt", string(project), *tag, k)
}

// metaSortKeys returns the keys of execution number in the sort indexes of its metadata
// keys, whose latest values are meta: the project's and each of tags'. After the prefix
// the value is encoded so that byte order is compareSort's ascending order (numbers by
// value, then strings, then the number).
func metaSortKeys(project domain.ProjectID, tags []string, meta map[string]json.RawMessage, number int) [][]byte {
	out := make([][]byte, 0, len(meta)*(1+len(tags)))
	for k, raw := range meta {
		isStr, num, str := metaSortValue(raw)
		out = append(out, binary.BigEndian.AppendUint64(appendSortValue(metaSortPrefix(project, nil, k), isStr, num, str), uint64(number)))
		for i := range tags {
			out = append(out, binary.BigEndian.AppendUint64(appendSortValue(metaSortPrefix(project, &tags[i], k), isStr, num, str), uint64(number)))
		}
	}
	return out
}

// metaSortValueAt decodes what follows the prefix in a metadata sort key: the sort value
// (see appendSortValue) and the number.
func metaSortValueAt(b []byte) (sortValue, bool) {
	if len(b) < 9 {
		return sortValue{}, false
	}
	var v sortValue
	switch b[0] {
	case 1:
		u := binary.BigEndian.Uint64(b[1:9])
		if u>>63 == 1 {
			u &^= 1 << 63
		} else {
			u = ^u
		}
		v.Num, b = math.Float64frombits(u), b[9:]
	case 2:
		var str []byte
		i := 1
		for ; i+1 < len(b); i++ {
			if b[i] != 0 {
				str = append(str, b[i])
				continue
			}
			if b[i+1] == 1 {
				break
			}
			if b[i+1] != 0xff {
				return sortValue{}, false
			}
			str = append(str, 0)
			i++
		}
		if i+1 >= len(b) {
			return sortValue{}, false
		}
		v.IsStr, v.Str, b = true, string(str), b[i+2:]
	default:
		return sortValue{}, false
	}
	if len(b) != 8 {
		return sortValue{}, false
	}
	v.Number = int(binary.BigEndian.Uint64(b))
	return v, true
}

// appendSortValue appends an order-preserving encoding: 1 and the float's bits (sign
// flipped for positives, all flipped for negatives), or 2 and the string with NUL
// escaped as NUL 0xff and ended by NUL 1.
func appendSortValue(b []byte, isStr bool, num float64, str string) []byte {
	if !isStr {
		if num == 0 {
			num = 0 // -0 sorts as 0
		}
		u := math.Float64bits(num)
		if u>>63 == 1 {
			u = ^u
		} else {
			u |= 1 << 63
		}
		return binary.BigEndian.AppendUint64(append(b, 1), u)
	}
	b = append(b, 2)
	for i := range len(str) {
		b = append(b, str[i])
		if str[i] == 0 {
			b = append(b, 0xff)
		}
	}
	return append(b, 0, 1)
}
