package projections

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
)

// An execution record (the value of its "e" key) is binary: decoding JSON was most of
// what a page of the table cost. Layout, after a version byte, every field of Execution
// in declaration order (Warnings excepted: Reads fills them in): strings and byte
// strings length-prefixed, integers as varints, floats as 8 bytes, times in
// time.Time's binary form length-prefixed (length 0: the zero time), digests as their
// fixed-size bytes, a slice or map as its length and then its elements (map entries by
// key: records are deterministic). TestRecord_RoundTrip fills every field of Execution
// by reflection, so a field added without being added here fails it.
const recordVersion = 1

var errBadRecord = errors.New("malformed execution record")

// recordWriter appends the fields of a record.
type recordWriter struct{ b []byte }

func (w *recordWriter) str(s string)  { w.b = appendRowString(w.b, s) }
func (w *recordWriter) int(n int64)   { w.b = binary.AppendVarint(w.b, n) }
func (w *recordWriter) uint(n uint64) { w.b = binary.AppendUvarint(w.b, n) }
func (w *recordWriter) float(f float64) {
	w.b = binary.BigEndian.AppendUint64(w.b, math.Float64bits(f))
}
func (w *recordWriter) fixed(b []byte) { w.b = append(w.b, b...) }

func (w *recordWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

func (w *recordWriter) time(t time.Time) {
	if t.IsZero() {
		w.uint(0)
		return
	}
	bt, err := t.AppendBinary(nil)
	if err != nil { // a zone offset of seconds: keep the instant
		bt, _ = t.UTC().AppendBinary(nil)
	}
	w.uint(uint64(len(bt)))
	w.fixed(bt)
}

func (w *recordWriter) strs(ss []string) {
	w.uint(uint64(len(ss)))
	for _, s := range ss {
		w.str(s)
	}
}

func (w *recordWriter) raws(m map[string]json.RawMessage) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.uint(uint64(len(keys)))
	for _, k := range keys {
		w.str(k)
		w.uint(uint64(len(m[k])))
		w.fixed(m[k])
	}
}

// encodeRecord returns the record of x.
func encodeRecord(x *Execution) []byte {
	w := recordWriter{b: make([]byte, 0, 1024)}
	w.b = append(w.b, recordVersion)
	w.str(string(x.ID))
	w.str(string(x.Project))
	w.int(int64(x.Number))
	w.str(x.Step)
	w.str(x.Title)
	w.str(x.Code.Repository)
	w.str(x.Code.Commit)
	w.str(string(x.Code.Adhoc))
	w.str(x.Image)
	w.str(x.ImageDigest)
	w.strs(x.Commands)
	w.uint(uint64(len(x.Parameters)))
	for _, p := range x.Parameters {
		w.str(p.Name)
		w.str(string(p.Type))
		w.str(string(p.Multiple))
		w.strs(p.Values)
	}
	w.uint(uint64(len(x.Inputs)))
	for _, in := range x.Inputs {
		w.str(in.Name)
		w.uint(uint64(len(in.URIs)))
		for _, u := range in.URIs {
			w.str(u.URI)
			w.uint(uint64(len(u.Datums)))
			for _, d := range u.Datums {
				w.str(string(d))
			}
		}
		w.str(in.Filename)
		w.str(in.KeepDirectories)
	}
	w.uint(uint64(len(x.InputFiles)))
	for _, f := range x.InputFiles {
		w.str(f.Input)
		w.str(f.URI)
		w.str(string(f.Datum))
		w.str(f.FileName)
		w.int(f.Size)
		w.fixed(f.MD5[:])
		w.fixed(f.SHA1[:])
		w.fixed(f.SHA256[:])
		w.fixed(f.BLAKE3[:])
	}
	w.str(string(x.Environment))
	w.int(int64(x.PricePerHour))
	w.uint(uint64(len(x.EnvironmentVariables)))
	for _, v := range x.EnvironmentVariables {
		w.str(v.Name)
		w.str(v.Value)
		w.bool(v.Secret)
	}
	w.str(x.Host)
	w.float(x.Hardware.CPUs)
	w.int(x.Hardware.MemoryBytes)
	w.int(int64(x.Hardware.GPUs))
	w.str(x.Hardware.GPUModel)
	w.str(string(x.Creator))
	w.str(string(x.Task))
	w.strs(x.Tags)
	w.str(string(x.Status))
	w.int(int64(x.ExitCode))
	w.str(x.Reason)
	w.str(string(x.StopRequestedBy))
	w.time(x.CreatedAt)
	w.time(x.QueuedAt)
	w.time(x.StartedAt)
	w.time(x.EndedAt)
	w.uint(uint64(len(x.Outputs)))
	for _, o := range x.Outputs {
		w.str(string(o.Datum))
		w.str(o.Path)
		w.raws(o.Properties)
		w.time(o.At)
	}
	w.raws(x.Metadata)
	w.int(int64(x.MetadataPoints))
	s := &x.Resources
	w.int(int64(s.Samples))
	w.float(s.MeanCPUPercent)
	w.float(s.MaxCPUPercent)
	w.int(s.MaxMemoryBytes)
	w.float(s.MaxGPUPercent)
	w.int(s.MaxGPUMemory)
	w.uint(uint64(x.Position))
	w.uint(uint64(x.Updated))
	return w.b
}

// recordReader reads the fields of a record. Its strings are slices of one copy of the
// record, its raw JSON values slices of a copy of its tail: two allocations, not one per
// field.
type recordReader struct {
	b     []byte // the record as given (not kept)
	s     string // the record, copied
	own   []byte // the record from ownAt on, copied when the first raw value is read
	ownAt int
	off   int
	bad   bool
}

func (r *recordReader) fail() { r.bad, r.off = true, len(r.b) }

func (r *recordReader) uint() uint64 {
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.off += n
	return v
}

func (r *recordReader) int() int64 {
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.off += n
	return v
}

// span returns the offsets of the next n bytes.
func (r *recordReader) span(n uint64) (int, int) {
	if uint64(len(r.b)-r.off) < n {
		r.fail()
		return r.off, r.off
	}
	i := r.off
	r.off += int(n)
	return i, r.off
}

func (r *recordReader) str() string {
	i, j := r.span(r.uint())
	return r.s[i:j]
}

// count reads a slice length, bounded by the bytes left (each element takes at least one).
func (r *recordReader) count() int {
	n := r.uint()
	if n > uint64(len(r.b)-r.off) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *recordReader) float() float64 {
	i, j := r.span(8)
	if r.bad {
		return 0
	}
	return math.Float64frombits(binary.BigEndian.Uint64(r.b[i:j]))
}

func (r *recordReader) fixed(dst []byte) {
	i, j := r.span(uint64(len(dst)))
	copy(dst, r.b[i:j])
}

func (r *recordReader) bool() bool {
	i, j := r.span(1)
	return j > i && r.b[i] == 1
}

func (r *recordReader) time() time.Time {
	i, j := r.span(r.uint())
	var t time.Time
	if j > i && t.UnmarshalBinary(r.b[i:j]) != nil {
		r.fail()
	}
	return t
}

func (r *recordReader) strs() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

func (r *recordReader) raws() map[string]json.RawMessage {
	n := r.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]json.RawMessage, n)
	for range n {
		k := r.str()
		m[k] = r.raw()
	}
	return m
}

// raw reads a length-prefixed JSON value.
func (r *recordReader) raw() json.RawMessage {
	if r.own == nil {
		// Raw values come last: copy only the rest of the record.
		r.own, r.ownAt = bytes.Clone(r.b[r.off:]), r.off
	}
	i, j := r.span(r.uint())
	return r.own[i-r.ownAt : j-r.ownAt : j-r.ownAt]
}

// decodeRecord decodes a record; it keeps nothing of b.
func decodeRecord(b []byte) (Execution, error) {
	if len(b) == 0 || b[0] != recordVersion {
		return Execution{}, errBadRecord
	}
	r := recordReader{b: b, s: string(b), off: 1}
	var x Execution
	x.ID = domain.ExecutionID(r.str())
	x.Project = domain.ProjectID(r.str())
	x.Number = int(r.int())
	x.Step = r.str()
	x.Title = r.str()
	x.Code.Repository = r.str()
	x.Code.Commit = r.str()
	x.Code.Adhoc = domain.DatumID(r.str())
	x.Image = r.str()
	x.ImageDigest = r.str()
	x.Commands = r.strs()
	if n := r.count(); n > 0 {
		x.Parameters = make([]execution.Parameter, n)
		for i := range x.Parameters {
			p := &x.Parameters[i]
			p.Name = r.str()
			p.Type = execution.ParameterType(r.str())
			p.Multiple = execution.Multiple(r.str())
			p.Values = r.strs()
		}
	}
	if n := r.count(); n > 0 {
		x.Inputs = make([]execution.Input, n)
		for i := range x.Inputs {
			in := &x.Inputs[i]
			in.Name = r.str()
			if n := r.count(); n > 0 {
				in.URIs = make([]execution.ResolvedURI, n)
				for j := range in.URIs {
					u := &in.URIs[j]
					u.URI = r.str()
					if n := r.count(); n > 0 {
						u.Datums = make([]domain.DatumID, n)
						for k := range u.Datums {
							u.Datums[k] = domain.DatumID(r.str())
						}
					}
				}
			}
			in.Filename = r.str()
			in.KeepDirectories = r.str()
		}
	}
	if n := r.count(); n > 0 {
		x.InputFiles = make([]InputFile, n)
		for i := range x.InputFiles {
			f := &x.InputFiles[i]
			f.Input = r.str()
			f.URI = r.str()
			f.Datum = domain.DatumID(r.str())
			f.FileName = r.str()
			f.Size = r.int()
			r.fixed(f.MD5[:])
			r.fixed(f.SHA1[:])
			r.fixed(f.SHA256[:])
			r.fixed(f.BLAKE3[:])
		}
	}
	x.Environment = domain.EnvironmentID(r.str())
	x.PricePerHour = domain.Money(r.int())
	if n := r.count(); n > 0 {
		x.EnvironmentVariables = make([]execution.EnvironmentVariable, n)
		for i := range x.EnvironmentVariables {
			v := &x.EnvironmentVariables[i]
			v.Name = r.str()
			v.Value = r.str()
			v.Secret = r.bool()
		}
	}
	x.Host = r.str()
	x.Hardware.CPUs = r.float()
	x.Hardware.MemoryBytes = r.int()
	x.Hardware.GPUs = int(r.int())
	x.Hardware.GPUModel = r.str()
	x.Creator = domain.UserID(r.str())
	x.Task = domain.TaskID(r.str())
	x.Tags = r.strs()
	x.Status = domain.ExecutionStatus(r.str())
	x.ExitCode = int(r.int())
	x.Reason = r.str()
	x.StopRequestedBy = domain.UserID(r.str())
	x.CreatedAt = r.time()
	x.QueuedAt = r.time()
	x.StartedAt = r.time()
	x.EndedAt = r.time()
	if n := r.count(); n > 0 {
		x.Outputs = make([]Output, n)
		for i := range x.Outputs {
			o := &x.Outputs[i]
			o.Datum = domain.DatumID(r.str())
			o.Path = r.str()
			o.Properties = r.raws()
			o.At = r.time()
		}
	}
	x.Metadata = r.raws()
	x.MetadataPoints = int(r.int())
	s := &x.Resources
	s.Samples = int(r.int())
	s.MeanCPUPercent = r.float()
	s.MaxCPUPercent = r.float()
	s.MaxMemoryBytes = r.int()
	s.MaxGPUPercent = r.float()
	s.MaxGPUMemory = r.int()
	x.Position = events.Position(r.uint())
	x.Updated = events.Position(r.uint())
	if r.bad || r.off != len(b) {
		return Execution{}, errBadRecord
	}
	return x, nil
}

// getRecord reads the record of id: false if there is none.
func getRecord(r Reader, id domain.ExecutionID) (Execution, bool, error) {
	b, ok, err := r.Get(key("e", string(id)))
	if err != nil || !ok {
		return Execution{}, false, err
	}
	x, err := decodeRecord(b)
	if err != nil {
		return Execution{}, false, fmt.Errorf("decode execution %s: %w", id, err)
	}
	return x, true, nil
}
