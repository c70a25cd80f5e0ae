package projections

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/events"
)

// Audit is the read model of the whole log: every event with its envelope fields and the
// project it concerns, filterable, and the index from time to position that AsOf{Time}
// uses.
//
// Keys: e position → AuditEntry; p entity → project; pp project position → nothing;
// t time → the last position recorded at or before it; tl → the latest time indexed.
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
}

// Name returns "audit".
func (Audit) Name() string { return "audit" }

// Version returns the layout version.
func (Audit) Version() int { return 1 }

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
func (Audit) Apply(tx Txn, env events.Envelope, _ events.Event) error {
	var s subject
	if err := json.Unmarshal(env.Data, &s); err != nil {
		return fmt.Errorf("audit: decode subject: %w", err)
	}
	project, entity := s.Project, s.entity()
	if entity != "" {
		if project != "" {
			if err := tx.Set(key("p", entity), []byte(project)); err != nil {
				return err
			}
		} else if v, ok, err := tx.Get(key("p", entity)); err != nil {
			return err
		} else if ok {
			project = domain.ProjectID(v)
		}
	}
	entry := AuditEntry{Position: env.Position, Stream: env.Stream, Version: env.Version, ID: env.ID, Type: env.Type, Schema: env.Schema,
		RecordedAt: env.RecordedAt, Actor: env.Actor, CorrelationID: env.CorrelationID, CausationID: env.CausationID, Project: project, Data: env.Data}
	if err := putJSON(tx, withPos(prefixOf("e"), env.Position), entry); err != nil {
		return err
	}
	if project != "" {
		if err := tx.Set(withPos(prefixOf("pp", string(project)), env.Position), nil); err != nil {
			return err
		}
	}
	// The time index is kept monotonic: a clock that steps back maps to the latest time seen.
	t := uint64(max(env.RecordedAt.UnixNano(), 0))
	if v, ok, err := tx.Get(key("tl")); err != nil {
		return err
	} else if ok {
		t = max(t, binary.BigEndian.Uint64(v))
	}
	if err := tx.Set(key("tl"), withUint(nil, t)); err != nil {
		return err
	}
	return tx.Set(withUint(prefixOf("t"), t), withPos(nil, env.Position))
}

// PositionAt returns the last position recorded at or before t; 0 if none was.
func (Audit) PositionAt(r Reader, t time.Time) (events.Position, error) {
	var p events.Position
	pre := prefixOf("t")
	err := r.Scan(pre, withUint(pre, uint64(max(t.UnixNano(), 0))), true, func(_, v []byte) bool {
		p = posAtEnd(v)
		return false
	})
	if err != nil {
		return 0, fmt.Errorf("map time %s to a position: %w", t, err)
	}
	return p, nil
}

// List returns the entries that match f, in position order.
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
	var err error
	if f.Project != "" {
		pre := prefixOf("pp", string(f.Project))
		var derr error
		err = r.Scan(pre, withPos(pre, after+1), false, func(k, _ []byte) bool {
			p := posAtEnd(k)
			if p > through {
				return false
			}
			var e AuditEntry
			if _, derr = getJSON(r, withPos(prefixOf("e"), p), &e); derr != nil {
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
	} else {
		pre := prefixOf("e")
		err = scanJSON(r, pre, withPos(pre, after+1), false, func(_ []byte, e AuditEntry) bool {
			if e.Position > through {
				return false
			}
			if match(e) {
				out = append(out, e)
			}
			return len(out) < f.Limit
		})
	}
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}
