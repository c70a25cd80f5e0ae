package projections

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/events"
)

// Datasets is the bitemporal read model of datasets: their versions with files, and the
// history of their dataset aliases. Versions never stop being true; alias facts carry
// From and To like AliasFact.
//
// Keys: d dataset → Dataset; n project name → dataset; v dataset position → DatasetVersion;
// vn dataset version → position; a dataset alias position → DatasetAliasFact;
// dp dataset position → the properties the dataset changed there; vp dataset version
// position → the same for a version. The records hold the current properties; as of an
// earlier position, the changes up to it are folded.
type Datasets struct{}

// Dataset is a dataset's record, with its properties as of the position asked for.
type Dataset struct {
	ID         domain.DatasetID           `json:"id"`
	Project    domain.ProjectID           `json:"project"`
	Name       string                     `json:"name"`
	Properties map[string]json.RawMessage `json:"properties,omitempty"`
	At         time.Time                  `json:"at"`
	From       events.Position            `json:"from"`
}

// DatasetVersion is one version of a dataset with its files and its properties as of
// the position asked for.
type DatasetVersion struct {
	Dataset    domain.DatasetID           `json:"dataset"`
	Name       string                     `json:"name"`
	Base       string                     `json:"base,omitempty"`
	Added      []domain.DatumID           `json:"added,omitempty"`
	Excluded   []domain.DatumID           `json:"excluded,omitempty"`
	Files      []domain.DatumID           `json:"files"`
	Properties map[string]json.RawMessage `json:"properties,omitempty"`
	Actor      string                     `json:"actor,omitempty"`
	At         time.Time                  `json:"at"`
	From       events.Position            `json:"from"`
}

// DatasetAliasFact is one period of a dataset alias: it pointed at Version from position
// From to To (0: still so).
type DatasetAliasFact struct {
	Dataset  domain.DatasetID `json:"dataset"`
	Alias    string           `json:"alias"`
	Version  string           `json:"version"`
	Previous string           `json:"previous,omitempty"`
	Actor    string           `json:"actor,omitempty"`
	At       time.Time        `json:"at"`
	From     events.Position  `json:"from"`
	To       events.Position  `json:"to,omitempty"`
}

// Name returns "datasets".
func (Datasets) Name() string { return "datasets" }

// Version returns the layout version: 2 keeps the history of properties.
func (Datasets) Version() int { return 2 }

// Apply records datasets, versions, aliases and properties.
func (Datasets) Apply(tx Txn, env events.Envelope, ev events.Event) error {
	switch e := ev.(type) {
	case dataset.Created:
		d := Dataset{ID: e.Dataset, Project: e.Project, Name: e.Name, At: e.At, From: env.Position}
		if err := putJSON(tx, key("d", string(e.Dataset)), d); err != nil {
			return err
		}
		return tx.Set(key("n", string(e.Project), e.Name), []byte(e.Dataset))
	case dataset.VersionCreated:
		v := DatasetVersion{Dataset: e.Dataset, Name: e.Version, Base: e.Base, Added: e.Added, Excluded: e.Excluded,
			Files: e.Files, Actor: env.Actor, At: e.At, From: env.Position}
		if err := putJSON(tx, withPos(prefixOf("v", string(e.Dataset)), env.Position), v); err != nil {
			return err
		}
		return tx.Set(key("vn", string(e.Dataset), e.Version), withPos(nil, env.Position))
	case dataset.AliasMoved:
		f := DatasetAliasFact{Dataset: e.Dataset, Alias: e.Alias, Version: e.Version, Previous: e.Previous, Actor: env.Actor, At: e.At, From: env.Position}
		return appendFact(tx, prefixOf("a", string(e.Dataset), e.Alias), env.Position, f, func(p *DatasetAliasFact) { p.To = env.Position })
	case dataset.PropertiesSet:
		hist := prefixOf("dp", string(e.Dataset))
		if e.Version != "" {
			hist = prefixOf("vp", string(e.Dataset), e.Version)
		}
		if err := putJSON(tx, withPos(hist, env.Position), e.Properties); err != nil {
			return err
		}
		if e.Version == "" {
			var d Dataset
			if ok, err := getJSON(tx, key("d", string(e.Dataset)), &d); err != nil || !ok {
				return err
			}
			d.Properties = domain.ApplyProperties(d.Properties, e.Properties)
			return putJSON(tx, key("d", string(e.Dataset)), d)
		}
		pos, ok, err := tx.Get(key("vn", string(e.Dataset), e.Version))
		if err != nil || !ok {
			return err
		}
		k := append(prefixOf("v", string(e.Dataset)), pos...)
		var v DatasetVersion
		if ok, err := getJSON(tx, k, &v); err != nil || !ok {
			return err
		}
		v.Properties = domain.ApplyProperties(v.Properties, e.Properties)
		return putJSON(tx, k, v)
	}
	return nil
}

// Get returns the dataset named name in project, if it existed at p.
func (Datasets) Get(r Reader, project domain.ProjectID, name string, p events.Position) (Dataset, error) {
	id, ok, err := r.Get(key("n", string(project), name))
	if err != nil {
		return Dataset{}, fmt.Errorf("get dataset %s: %w", name, err)
	}
	var d Dataset
	if ok {
		ok, err = getJSON(r, key("d", string(id)), &d)
		if err != nil {
			return Dataset{}, fmt.Errorf("get dataset %s: %w", name, err)
		}
	}
	if !ok || d.From > p {
		return Dataset{}, fmt.Errorf("dataset %s at position %d: %w", name, p, ErrNotFound)
	}
	if d.Properties, err = propertiesAt(r, prefixOf("dp", string(d.ID)), d.Properties, p); err != nil {
		return Dataset{}, fmt.Errorf("get dataset %s: %w", name, err)
	}
	return d, nil
}

// Versions returns the versions of dataset that existed at p, oldest first.
func (Datasets) Versions(r Reader, id domain.DatasetID, p events.Position) ([]DatasetVersion, error) {
	var out []DatasetVersion
	err := scanJSON(r, prefixOf("v", string(id)), nil, false, func(_ []byte, v DatasetVersion) bool {
		if v.From > p {
			return false
		}
		out = append(out, v)
		return true
	})
	for i := range out {
		if err == nil {
			out[i].Properties, err = propertiesAt(r, prefixOf("vp", string(id), out[i].Name), out[i].Properties, p)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list versions of dataset %s: %w", id, err)
	}
	return out, nil
}

// Resolve returns version ref of dataset as of p, where ref is a version name, one of
// the dataset's aliases at p, or "latest" (the newest version at p).
func (Datasets) Resolve(r Reader, id domain.DatasetID, ref string, p events.Position) (DatasetVersion, error) {
	notFound := fmt.Errorf("version %s of dataset %s at position %d: %w", ref, id, p, ErrNotFound)
	if ref == dataset.Latest {
		var out DatasetVersion
		var found bool
		err := scanJSON(r, prefixOf("v", string(id)), withPos(prefixOf("v", string(id)), p), true, func(_ []byte, v DatasetVersion) bool {
			out, found = v, true
			return false
		})
		if err != nil {
			return DatasetVersion{}, err
		}
		if !found {
			return DatasetVersion{}, notFound
		}
		out.Properties, err = propertiesAt(r, prefixOf("vp", string(id), out.Name), out.Properties, p)
		return out, err
	}
	if f, ok, err := factAt[DatasetAliasFact](r, prefixOf("a", string(id), ref), p); err != nil {
		return DatasetVersion{}, err
	} else if ok {
		ref = f.Version
	}
	pos, ok, err := r.Get(key("vn", string(id), ref))
	if err != nil {
		return DatasetVersion{}, err
	}
	var v DatasetVersion
	if ok {
		if ok, err = getJSON(r, append(prefixOf("v", string(id)), pos...), &v); err != nil {
			return DatasetVersion{}, err
		}
	}
	if !ok || v.From > p {
		return DatasetVersion{}, notFound
	}
	v.Properties, err = propertiesAt(r, prefixOf("vp", string(id), v.Name), v.Properties, p)
	return v, err
}

// propertiesAt returns the properties as of p: cur (the current ones) for Now, otherwise
// the changes under prefix up to p folded.
func propertiesAt(r Reader, prefix []byte, cur map[string]json.RawMessage, p events.Position) (map[string]json.RawMessage, error) {
	if p == Now {
		return cur, nil
	}
	var out map[string]json.RawMessage
	err := scanJSON(r, prefix, nil, false, func(k []byte, changed map[string]json.RawMessage) bool {
		if posAtEnd(k) > p {
			return false
		}
		out = domain.ApplyProperties(out, changed)
		return true
	})
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

// AliasHistory returns every fact of the dataset alias that began at or before p, oldest
// first; a fact that ended after p is shown as current.
func (Datasets) AliasHistory(r Reader, id domain.DatasetID, alias string, p events.Position) ([]DatasetAliasFact, error) {
	out, err := history(r, prefixOf("a", string(id), alias), p, func(f *DatasetAliasFact) (events.Position, *events.Position) { return f.From, &f.To })
	if err != nil {
		return nil, fmt.Errorf("dataset alias history %s: %w", alias, err)
	}
	return out, nil
}

// Aliases returns the dataset's aliases at p with the fact then current.
func (Datasets) Aliases(r Reader, id domain.DatasetID, p events.Position) ([]DatasetAliasFact, error) {
	var out []DatasetAliasFact
	err := scanJSON(r, prefixOf("a", string(id)), nil, false, func(_ []byte, f DatasetAliasFact) bool {
		if valid(f.From, f.To, p) {
			out = append(out, f)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("list dataset aliases: %w", err)
	}
	return out, nil
}
