package projections

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/events"
)

// Audit is the read model of the whole log: every event with its envelope fields and the
// project it concerns, filterable, and the map from time to position that AsOf{Time}
// uses (PositionAt).
//
// Keys: e position → AuditEntry (binary, see appendAuditEntry); p entity → project;
// tl → the latest time indexed; and sparse indexes of the project, type and actor of
// each event (see auditIndex): pb project block, tb type block, ab actor block → the
// offsets in the block of the positions that have it.
type Audit struct{}

// AuditEntry is one event of the log.
type AuditEntry struct {
	Position      events.Position  `json:"position"`
	Stream        events.StreamID  `json:"stream"`
	Version       events.Version   `json:"version"`
	ID            uuid.UUID        `json:"id"`
	Type          string           `json:"type"`
	Schema        int              `json:"schema"`
	RecordedAt    time.Time        `json:"recorded_at"`
	Actor         string           `json:"actor,omitempty"`
	CorrelationID string           `json:"correlation_id,omitempty"`
	CausationID   string           `json:"causation_id,omitempty"`
	Project       domain.ProjectID `json:"project,omitempty"`
	Data          events.RawJSON   `json:"data"`
}

// AuditFilter selects audit entries; zero fields select everything.
type AuditFilter struct {
	Stream  events.StreamID
	Type    string
	Actor   string
	Project domain.ProjectID
	// Since and Until bound RecordedAt (inclusive; zero: unbounded).
	Since, Until time.Time
	// After and Through bound the position: After < position ≤ Through (0: unbounded).
	After, Through events.Position
	// Limit is the most entries returned (default and maximum 1000).
	Limit int

	// streamPositions, when set (by Reads.Events), are the positions of Stream's events
	// in the log, ascending: List reads only their entries.
	streamPositions []events.Position
}

// Name returns "audit".
func (Audit) Name() string { return "audit" }

// Version returns the layout version: 4 indexes projects, types and actors by block of
// positions (3 kept a key per event and project, and scanned everything for a type).
func (Audit) Version() int { return 4 }

// The sparse indexes: for a value (a project, type or actor), one key per block of
// auditBlock positions in which it occurs, whose value is the offsets of those positions
// in the block (a byte each, ascending). A batch of events writes a key per value and
// block it touches instead of a key per event, and a filter on a rare value (a type of
// which the log holds a few) reads a few keys instead of every entry.
const auditBlock = 256

type auditIndex string

const (
	indexProject auditIndex = "pb"
	indexType    auditIndex = "tb"
	indexActor   auditIndex = "ab"
)

func (ix auditIndex) prefix(value string) []byte { return prefixOf(string(ix), value) }

func (ix auditIndex) key(value string, block uint64) []byte {
	return withUint(ix.prefix(value), block)
}

// subject is the part of every payload that names what an event is about.
type subject struct {
	Project    domain.ProjectID `json:"project"`
	Execution  string           `json:"execution"`
	Datum      string           `json:"datum"`
	Dataset    string           `json:"dataset"`
	Deployment string           `json:"deployment"`
	Task       string           `json:"task"`
}

func (s subject) entity() string {
	for _, id := range []string{s.Execution, s.Datum, s.Dataset, s.Deployment, s.Task} {
		if id != "" {
			return id
		}
	}
	return ""
}

// Apply indexes the event.
func (au Audit) Apply(tx Txn, env events.Envelope, ev events.Event) error {
	return au.ApplyBatch(tx, []events.Envelope{env}, []events.Event{ev})
}

// ApplyBatch indexes a batch of events. The entity → project map and the latest time are
// kept in memory for the batch and written once.
func (Audit) ApplyBatch(tx Txn, envs []events.Envelope, _ []events.Event) error {
	projects := map[string]domain.ProjectID{} // entity → project, as read or written in the batch
	var latest uint64
	if v, ok, err := tx.Get(key("tl")); err != nil {
		return err
	} else if ok && len(v) == 8 {
		latest = binary.BigEndian.Uint64(v)
	}
	var buf []byte
	offsets := map[string][]byte{} // index key → the offsets to add to it
	var order []string             // index keys in order of first use: deterministic writes
	index := func(ix auditIndex, value string, p events.Position) {
		k := string(ix.key(value, uint64(p)/auditBlock))
		if _, ok := offsets[k]; !ok {
			order = append(order, k)
		}
		offsets[k] = append(offsets[k], byte(uint64(p)%auditBlock))
	}
	for i := range envs {
		env := &envs[i]
		s, err := subjectOf(env.Data)
		if err != nil {
			return fmt.Errorf("audit: decode subject at position %d: %w", env.Position, err)
		}
		project, entity := s.Project, s.entity()
		if entity != "" {
			known, cached := projects[entity]
			if !cached {
				if v, ok, err := tx.Get(key("p", entity)); err != nil {
					return err
				} else if ok {
					known = domain.ProjectID(v)
				}
			}
			if project != "" && project != known {
				if err := tx.Set(key("p", entity), []byte(project)); err != nil {
					return err
				}
				known = project
			}
			projects[entity], project = known, known
		}
		// The time index is kept monotonic: a clock that steps back maps to the latest time
		// seen, so that PositionAt can binary-search the entries by it.
		latest = max(latest, uint64(max(env.RecordedAt.UnixNano(), 0)))
		buf = appendAuditEntry(buf[:0], env, project, latest)
		if err := tx.Set(withPos(prefixOf("e"), env.Position), bytes.Clone(buf)); err != nil {
			return err
		}
		if project != "" {
			index(indexProject, string(project), env.Position)
		}
		index(indexType, env.Type, env.Position)
		if env.Actor != "" {
			index(indexActor, env.Actor, env.Position)
		}
	}
	if len(envs) == 0 {
		return nil
	}
	for _, k := range order {
		old, _, err := tx.Get([]byte(k))
		if err != nil {
			return err
		}
		add := offsets[k]
		for len(add) > 0 && len(old) > 0 && add[0] <= old[len(old)-1] {
			add = add[1:] // applied before: a batch applied again changes nothing
		}
		if len(add) > 0 {
			if err := tx.Set([]byte(k), append(bytes.Clone(old), add...)); err != nil {
				return err
			}
		}
	}
	return tx.Set(key("tl"), withUint(nil, latest))
}

// appendAuditEntry encodes an entry: a version byte, the indexed time (RecordedAt in unix
// nanoseconds, raised to the latest time before it: monotonic) in 8 bytes, then stream,
// version, ID, type, schema, recorded-at (time.Time's binary form), actor, correlation,
// causation, project and data, integers as varints and the rest length-prefixed. JSON
// cost a third of the rebuild and half of the store.
func appendAuditEntry(b []byte, env *events.Envelope, project domain.ProjectID, indexed uint64) []byte {
	b = append(b, auditVersion)
	b = binary.BigEndian.AppendUint64(b, indexed)
	b = appendRowString(b, string(env.Stream))
	b = binary.AppendVarint(b, int64(env.Version))
	b = append(b, env.ID[:]...)
	b = appendRowString(b, env.Type)
	b = binary.AppendVarint(b, int64(env.Schema))
	t, _ := env.RecordedAt.AppendBinary(nil) // fails only for zone offsets that are not whole minutes
	b = binary.AppendUvarint(b, uint64(len(t)))
	b = append(b, t...)
	b = appendRowString(b, env.Actor)
	b = appendRowString(b, env.CorrelationID)
	b = appendRowString(b, env.CausationID)
	b = appendRowString(b, string(project))
	b = binary.AppendUvarint(b, uint64(len(env.Data)))
	return append(b, env.Data...)
}

const auditVersion = 1

var errBadAuditEntry = errors.New("malformed audit entry")

func decodeAuditEntry(k, b []byte) (AuditEntry, error) {
	if len(b) < 9 || b[0] != auditVersion {
		return AuditEntry{}, fmt.Errorf("decode %q: %w", k, errBadAuditEntry)
	}
	r := rowReader{b: b[1:]}
	r.bytes(8) // the indexed time
	e := AuditEntry{Position: posAtEnd(k)}
	e.Stream = events.StreamID(r.str())
	e.Version = events.Version(r.varint())
	copy(e.ID[:], r.bytes(16))
	e.Type = string(r.str())
	e.Schema = int(r.varint())
	if t := r.str(); !r.bad {
		if err := e.RecordedAt.UnmarshalBinary(t); err != nil {
			return AuditEntry{}, fmt.Errorf("decode %q: %w", k, err)
		}
	}
	e.Actor, e.CorrelationID, e.CausationID = string(r.str()), string(r.str()), string(r.str())
	e.Project = domain.ProjectID(r.str())
	e.Data = bytes.Clone(r.str())
	if r.bad {
		return AuditEntry{}, fmt.Errorf("decode %q: %w", k, errBadAuditEntry)
	}
	return e, nil
}

// subjectOf reads the top-level subject fields of a JSON object without decoding the
// rest of it; anything it does not expect is left to encoding/json.
func subjectOf(data []byte) (subject, error) {
	var s subject
	if sc := (jsonScanner{b: data}); sc.subject(&s) {
		return s, nil
	}
	s = subject{}
	err := json.Unmarshal(data, &s)
	return s, err
}

// jsonScanner walks the top level of a JSON object.
type jsonScanner struct {
	b []byte
	i int
}

func (sc *jsonScanner) space() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// str reads a string without escapes; false otherwise.
func (sc *jsonScanner) str() (string, bool) {
	if sc.i >= len(sc.b) || sc.b[sc.i] != '"' {
		return "", false
	}
	start := sc.i + 1
	for j := start; j < len(sc.b); j++ {
		switch c := sc.b[j]; {
		case c == '"':
			sc.i = j + 1
			return string(sc.b[start:j]), true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

// skip skips one value; false if it is malformed or holds escapes.
func (sc *jsonScanner) skip() bool {
	depth := 0
	for sc.i < len(sc.b) {
		switch c := sc.b[sc.i]; c {
		case '"':
			if _, ok := sc.str(); !ok {
				return false
			}
			if depth == 0 {
				return true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return true // the end of the enclosing object: a literal ended
			}
			depth--
			if depth == 0 {
				sc.i++
				return true
			}
		case ',':
			if depth == 0 {
				return true
			}
		}
		sc.i++
	}
	return false
}

func (sc *jsonScanner) subject(s *subject) bool {
	sc.space()
	if sc.i >= len(sc.b) || sc.b[sc.i] != '{' {
		return false
	}
	sc.i++
	for {
		sc.space()
		if sc.i < len(sc.b) && sc.b[sc.i] == '}' {
			return true
		}
		k, ok := sc.str()
		if !ok {
			return false
		}
		sc.space()
		if sc.i >= len(sc.b) || sc.b[sc.i] != ':' {
			return false
		}
		sc.i++
		sc.space()
		var dst *string
		switch k {
		case "project":
			dst = (*string)(&s.Project)
		case "execution":
			dst = &s.Execution
		case "datum":
			dst = &s.Datum
		case "dataset":
			dst = &s.Dataset
		case "deployment":
			dst = &s.Deployment
		case "task":
			dst = &s.Task
		}
		if dst != nil && sc.i < len(sc.b) && sc.b[sc.i] == '"' {
			if *dst, ok = sc.str(); !ok {
				return false
			}
		} else if dst != nil && !sc.isNull() {
			return false // not a string: let encoding/json report it
		} else if !sc.skip() {
			return false
		}
		sc.space()
		if sc.i >= len(sc.b) {
			return false
		}
		switch sc.b[sc.i] {
		case ',':
			sc.i++
		case '}':
			return true
		default:
			return false
		}
	}
}

func (sc *jsonScanner) isNull() bool {
	if bytes.HasPrefix(sc.b[sc.i:], []byte("null")) {
		sc.i += 4
		return true
	}
	return false
}

// PositionAt returns the last position recorded at or before t; 0 if none was. It
// binary-searches the entries by their indexed time, which never decreases: about 2·log₂
// of the log's length seeks, and no index written per event.
func (Audit) PositionAt(r Reader, t time.Time) (events.Position, error) {
	target := uint64(max(t.UnixNano(), 0))
	pre := prefixOf("e")
	// first returns the first entry at or after position p, and its indexed time.
	first := func(p events.Position) (events.Position, uint64, bool, error) {
		var q events.Position
		var at uint64
		var found, bad bool
		err := r.Scan(pre, withPos(pre, p), false, func(k, v []byte) bool {
			if len(v) < 9 {
				bad = true
				return false
			}
			q, at, found = posAtEnd(k), binary.BigEndian.Uint64(v[1:9]), true
			return false
		})
		if err == nil && bad {
			err = errBadAuditEntry
		}
		return q, at, found, err
	}
	// lo is 0 or an entry recorded at or before target; no entry at hi or after is.
	lo, hi := events.Position(0), events.Position(0)
	if err := r.Scan(pre, nil, true, func(k, _ []byte) bool { hi = posAtEnd(k) + 1; return false }); err != nil {
		return 0, fmt.Errorf("map time %s to a position: %w", t, err)
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		q, at, ok, err := first(mid)
		switch {
		case err != nil:
			return 0, fmt.Errorf("map time %s to a position: %w", t, err)
		case !ok || q >= hi || at > target:
			hi = mid
		default:
			lo = q
		}
	}
	return lo, nil
}

// List returns the entries that match f, in position order. A filter on the stream alone
// reads every entry in the position range: Reads.Events answers it from the log's stream
// index instead.
func (a Audit) List(r Reader, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	after, through := f.After, f.Through
	if through == 0 {
		through = Now
	}
	if !f.Until.IsZero() {
		p, err := a.PositionAt(r, f.Until)
		if err != nil {
			return nil, err
		}
		through = min(through, p)
	}
	if !f.Since.IsZero() {
		p, err := a.PositionAt(r, f.Since.Add(-1))
		if err != nil {
			return nil, err
		}
		after = max(after, p)
	}
	var out []AuditEntry
	match := func(e AuditEntry) bool {
		return (f.Stream == "" || e.Stream == f.Stream) && (f.Type == "" || e.Type == f.Type) &&
			(f.Actor == "" || e.Actor == f.Actor) && (f.Project == "" || e.Project == f.Project)
	}
	// One index drives (the type's, else the actor's, else the project's: rarer first, as
	// a rule); the others narrow each of its blocks down.
	type filter struct {
		ix    auditIndex
		value string
	}
	var indexed []filter
	for _, fl := range []filter{{indexType, f.Type}, {indexActor, f.Actor}, {indexProject, string(f.Project)}} {
		if fl.value != "" {
			indexed = append(indexed, fl)
		}
	}
	var err error
	switch {
	case f.streamPositions != nil:
		_, err = entriesAt(r, f.streamPositions, after, through, "in the log's index of its stream", func(e AuditEntry) bool {
			if match(e) {
				out = append(out, e)
			}
			return len(out) < f.Limit
		})
	case len(indexed) > 0:
		err = a.listIndexed(r, indexed[0].ix, indexed[0].value, after, through, func(block uint64, offs []byte) ([]byte, error) {
			for _, fl := range indexed[1:] {
				other, ok, err := r.Get(fl.ix.key(fl.value, block))
				if err != nil || !ok {
					return nil, err
				}
				offs = intersectOffsets(offs, other)
			}
			return offs, nil
		}, func(e AuditEntry) bool {
			if match(e) {
				out = append(out, e)
			}
			return len(out) < f.Limit
		})
	default:
		pre := prefixOf("e")
		var derr error
		err = r.Scan(pre, withPos(pre, after+1), false, func(k, b []byte) bool {
			if posAtEnd(k) > through {
				return false
			}
			var e AuditEntry
			if e, derr = decodeAuditEntry(k, b); derr != nil {
				return false
			}
			if match(e) {
				out = append(out, e)
			}
			return len(out) < f.Limit
		})
		if err == nil {
			err = derr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}

// listIndexed calls each with the entries, in position order after after and through
// through, whose positions the index ix lists for value and narrow (given a block and
// its offsets) keeps; each returns false to stop.
func (Audit) listIndexed(r Reader, ix auditIndex, value string, after, through events.Position,
	narrow func(block uint64, offs []byte) ([]byte, error), each func(AuditEntry) bool) error {
	pre := ix.prefix(value)
	first := uint64(after+1) / auditBlock
	where := fmt.Sprintf("indexed under %s %q", ix, value)
	var derr error
	err := r.Scan(pre, withUint(bytes.Clone(pre), first), false, func(k, v []byte) bool {
		if len(k) != len(pre)+8 {
			return true // a longer value's key ("a\x00b" after "a"): not this value's
		}
		block := binary.BigEndian.Uint64(k[len(pre):])
		if events.Position(block*auditBlock) > through {
			return false
		}
		var offs []byte
		if offs, derr = narrow(block, bytes.Clone(v)); derr != nil {
			return false
		}
		positions := make([]events.Position, len(offs))
		for i, o := range offs {
			positions[i] = events.Position(block*auditBlock + uint64(o))
		}
		var more bool
		more, derr = entriesAt(r, positions, after, through, where, each)
		return more && derr == nil
	})
	if err == nil {
		err = derr
	}
	return err
}

// entriesAt calls each with the entries at positions (ascending) after after and through
// through, which must all have been applied (where says who listed them, for the error of
// one missing). It reports whether the next positions are wanted: each returned true
// every time and through was not passed.
func entriesAt(r Reader, positions []events.Position, after, through events.Position, where string, each func(AuditEntry) bool) (bool, error) {
	for _, p := range positions {
		if p <= after {
			continue
		}
		if p > through {
			return false, nil
		}
		k := withPos(prefixOf("e"), p)
		b, ok, err := r.Get(k)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, fmt.Errorf("position %d is %s but has no entry: %w", p, where, errBadAuditEntry)
		}
		e, err := decodeAuditEntry(k, b)
		if err != nil {
			return false, err
		}
		if !each(e) {
			return false, nil
		}
	}
	return true, nil
}

// intersectOffsets returns the offsets in both a and b (each ascending), in a's memory.
func intersectOffsets(a, b []byte) []byte {
	out := a[:0]
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}
