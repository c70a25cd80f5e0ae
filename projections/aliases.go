package projections

import (
	"bytes"
	"fmt"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/alias"
	"github.com/stratahq/strata/events"
)

// Aliases is the bitemporal read model of datum aliases: every target an alias ever had,
// with the position it became true (From) and stopped being true (To, 0 while current).
//
// Keys: h project alias position → AliasFact.
type Aliases struct{}

// AliasFact is one period of an alias's history: it pointed at Target (or, if Deleted,
// at nothing) from position From to position To (0: still so).
type AliasFact struct {
	Project  domain.ProjectID `json:"project"`
	Alias    string           `json:"alias"`
	Target   domain.DatumID   `json:"target,omitempty"`
	Previous domain.DatumID   `json:"previous,omitempty"`
	Deleted  bool             `json:"deleted,omitempty"`
	Actor    string           `json:"actor,omitempty"`
	At       time.Time        `json:"at"`
	From     events.Position  `json:"from"`
	To       events.Position  `json:"to,omitempty"`
}

// Name returns "aliases".
func (Aliases) Name() string { return "aliases" }

// Version returns the layout version.
func (Aliases) Version() int { return 1 }

// Apply records alias moves and deletions.
func (Aliases) Apply(tx Txn, env events.Envelope, ev events.Event) error {
	var f AliasFact
	switch e := ev.(type) {
	case alias.Moved:
		f = AliasFact{Project: e.Project, Alias: e.Alias, Target: e.Datum, Previous: e.Previous, At: e.At}
	case alias.Deleted:
		f = AliasFact{Project: e.Project, Alias: e.Alias, Previous: e.Previous, Deleted: true, At: e.At}
	default:
		return nil
	}
	f.Actor, f.From = env.Actor, env.Position
	return appendFact(tx, prefixOf("h", string(f.Project), f.Alias), env.Position, f, func(prev *AliasFact) { prev.To = env.Position })
}

// appendFact closes the latest fact under prefix (close sets its To) and appends f at pos.
// The latest fact's position is kept under "l" prefix, so no scan is needed: scans in a
// write transaction are slow in both stores.
func appendFact[T any](tx Txn, prefix []byte, pos events.Position, f T, close func(*T)) error {
	lastKey := append([]byte("l\x00"), prefix...)
	if lp, ok, err := tx.Get(lastKey); err != nil {
		return err
	} else if ok {
		k := append(bytes.Clone(prefix), lp...)
		var prev T
		if ok, err := getJSON(tx, k, &prev); err != nil {
			return err
		} else if ok {
			close(&prev)
			if err := putJSON(tx, k, prev); err != nil {
				return err
			}
		}
	}
	if err := tx.Set(lastKey, withPos(nil, pos)); err != nil {
		return err
	}
	return putJSON(tx, withPos(bytes.Clone(prefix), pos), f)
}

// factAt returns the fact under prefix that held at p: the one with the greatest From ≤ p.
func factAt[T any](r Reader, prefix []byte, p events.Position) (T, bool, error) {
	var out T
	var found bool
	err := scanJSON(r, prefix, withPos(bytes.Clone(prefix), p), true, func(_ []byte, v T) bool {
		out, found = v, true
		return false
	})
	return out, found, err
}

// Get returns the fact of alias name that held at position p (Now: the current one).
// An alias that did not exist, or was deleted, at p is ErrNotFound.
func (Aliases) Get(r Reader, project domain.ProjectID, name string, p events.Position) (AliasFact, error) {
	f, ok, err := factAt[AliasFact](r, prefixOf("h", string(project), name), p)
	if err != nil {
		return AliasFact{}, fmt.Errorf("get alias %s: %w", name, err)
	}
	if !ok || f.Deleted {
		return AliasFact{}, fmt.Errorf("alias %s at position %d: %w", name, p, ErrNotFound)
	}
	return f, nil
}

// History returns every fact of alias name that began at or before p, oldest first; a
// fact that ended after p is shown as still current (To 0).
func (Aliases) History(r Reader, project domain.ProjectID, name string, p events.Position) ([]AliasFact, error) {
	out, err := history(r, prefixOf("h", string(project), name), p, func(f *AliasFact) (events.Position, *events.Position) { return f.From, &f.To })
	if err != nil {
		return nil, fmt.Errorf("alias history %s: %w", name, err)
	}
	return out, nil
}

// history returns the facts stored under prefix, oldest first, that began at or before p; a
// fact that ended after p is shown as still current (To 0). span gives a fact's From and a
// pointer to its To.
func history[F any](r Reader, prefix []byte, p events.Position, span func(*F) (events.Position, *events.Position)) ([]F, error) {
	var out []F
	err := scanJSON(r, prefix, nil, false, func(_ []byte, f F) bool {
		from, to := span(&f)
		if from > p {
			return false
		}
		if *to > p {
			*to = 0
		}
		out = append(out, f)
		return true
	})
	return out, err
}

// List returns the aliases of project that existed at p with the fact then current, by name.
func (Aliases) List(r Reader, project domain.ProjectID, p events.Position) ([]AliasFact, error) {
	var out []AliasFact
	err := scanJSON(r, prefixOf("h", string(project)), nil, false, func(_ []byte, f AliasFact) bool {
		if valid(f.From, f.To, p) && !f.Deleted {
			out = append(out, f)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	return out, nil
}
