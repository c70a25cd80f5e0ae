package dataset

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/stratahq/strata/domain"
)

// Latest is the reserved alias that always resolves to the newest version.
const Latest = "latest"

// MaxFiles is the most files one version may list.
const MaxFiles = 1_000_000

// Errors Decide and State return.
var (
	// ErrNotFound: the command needs a dataset that does not exist.
	ErrNotFound = fmt.Errorf("dataset does not exist: %w", domain.ErrNotFound)
	// ErrExists: Create on a dataset that exists.
	ErrExists = fmt.Errorf("dataset already exists: %w", domain.ErrConflict)
	// ErrVersionNotFound: no version or alias of that name.
	ErrVersionNotFound = fmt.Errorf("dataset version does not exist: %w", domain.ErrNotFound)
	// ErrNameTaken: a version or alias already has that name.
	ErrNameTaken = fmt.Errorf("dataset version or alias name is taken: %w", domain.ErrConflict)
)

// Event is a dataset event. The set is sealed: only this package declares events.
//
//sumtype:decl
type Event interface {
	// EventType is the stable wire name, "dataset.<Type>".
	EventType() string
	// EventSchema is the payload schema version, 1 until a breaking change.
	EventSchema() int
	isEvent()
}

// Events returns one zero value of every dataset event type, for the event codec.
func Events() []Event {
	return []Event{Created{}, VersionCreated{}, AliasMoved{}, PropertiesSet{}}
}

// Created: the dataset exists.
type Created struct {
	Dataset domain.DatasetID `json:"dataset"`
	Project domain.ProjectID `json:"project"`
	Name    string           `json:"name"`
	At      time.Time        `json:"at"`
}

// VersionCreated: version Version exists with exactly Files. Base is the version it was
// built from (empty: from scratch); Added and Excluded are the datums that changed
// relative to Base.
type VersionCreated struct {
	Dataset  domain.DatasetID `json:"dataset"`
	Version  string           `json:"version"`
	Base     string           `json:"base,omitempty"`
	Added    []domain.DatumID `json:"added,omitempty"`
	Excluded []domain.DatumID `json:"excluded,omitempty"`
	Files    []domain.DatumID `json:"files"`
	At       time.Time        `json:"at"`
}

// AliasMoved: the dataset alias Alias now points at Version; Previous is the version it
// pointed at, empty for a new alias.
type AliasMoved struct {
	Dataset  domain.DatasetID `json:"dataset"`
	Alias    string           `json:"alias"`
	Version  string           `json:"version"`
	Previous string           `json:"previous,omitempty"`
	At       time.Time        `json:"at"`
}

// PropertiesSet: properties of the dataset (Version empty) or of one version changed to
// the given JSON values; a JSON null means removed. Only changes are listed.
type PropertiesSet struct {
	Dataset    domain.DatasetID           `json:"dataset"`
	Version    string                     `json:"version,omitempty"`
	Properties map[string]json.RawMessage `json:"properties"`
	At         time.Time                  `json:"at"`
}

// EventType returns "dataset.Created".
func (Created) EventType() string { return "dataset.Created" }

// EventType returns "dataset.VersionCreated".
func (VersionCreated) EventType() string { return "dataset.VersionCreated" }

// EventType returns "dataset.AliasMoved".
func (AliasMoved) EventType() string { return "dataset.AliasMoved" }

// EventType returns "dataset.PropertiesSet".
func (PropertiesSet) EventType() string { return "dataset.PropertiesSet" }

// EventSchema returns 1.
func (Created) EventSchema() int { return 1 }

// EventSchema returns 1.
func (VersionCreated) EventSchema() int { return 1 }

// EventSchema returns 1.
func (AliasMoved) EventSchema() int { return 1 }

// EventSchema returns 1.
func (PropertiesSet) EventSchema() int { return 1 }

func (Created) isEvent()        {}
func (VersionCreated) isEvent() {}
func (AliasMoved) isEvent()     {}
func (PropertiesSet) isEvent()  {}

// Command is a dataset command. The set is sealed: only this package declares commands.
type Command interface{ isCommand() }

// Create creates the dataset. Name must be unique in the project; the application layer
// keys the dataset's stream by project and name to ensure it.
type Create struct {
	Dataset domain.DatasetID
	Project domain.ProjectID
	Name    string
	At      time.Time
}

// CreateVersion creates version Version. From names the base version or alias (empty:
// from scratch); the new version has the base's files minus Exclude, plus Add. Aliases
// are moved to the new version in the same step (the sidecar's targeting_aliases).
type CreateVersion struct {
	Version string
	From    string
	Add     []domain.DatumID
	Exclude []domain.DatumID
	Aliases []string
	At      time.Time
}

// MoveAlias points the dataset alias Alias at Version; a no-op if it already does.
type MoveAlias struct {
	Alias   string
	Version string
	At      time.Time
}

// SetProperties sets properties of the dataset (Version empty) or of one version; a JSON
// null removes one.
type SetProperties struct {
	Version    string
	Properties map[string]json.RawMessage
	At         time.Time
}

func (Create) isCommand()        {}
func (CreateVersion) isCommand() {}
func (MoveAlias) isCommand()     {}
func (SetProperties) isCommand() {}

// State is a dataset folded from its events. The zero State is a dataset that does not
// exist yet.
type State struct {
	id           domain.DatasetID
	project      domain.ProjectID
	name         string
	versions     []string
	files        map[string][]domain.DatumID
	aliases      map[string]string
	properties   map[string]json.RawMessage
	versionProps map[string]map[string]json.RawMessage
}

// Exists reports whether the dataset was created.
func (s State) Exists() bool { return s.id != "" }

// ID returns the dataset's ID.
func (s State) ID() domain.DatasetID { return s.id }

// Project returns the dataset's project.
func (s State) Project() domain.ProjectID { return s.project }

// Name returns the dataset's name.
func (s State) Name() string { return s.name }

// Versions returns the version names, oldest first.
func (s State) Versions() []string { return slices.Clone(s.versions) }

// Latest returns the newest version's name, empty if there is none.
func (s State) Latest() string {
	if len(s.versions) == 0 {
		return ""
	}
	return s.versions[len(s.versions)-1]
}

// Aliases returns a copy of the dataset aliases and the versions they point at.
func (s State) Aliases() map[string]string { return maps.Clone(s.aliases) }

// Resolve returns the version that versionOrAlias names (a version, an alias or "latest")
// and its files, or ErrVersionNotFound.
func (s State) Resolve(versionOrAlias string) (string, []domain.DatumID, error) {
	v := versionOrAlias
	if v == Latest {
		v = s.Latest()
	} else if target, ok := s.aliases[v]; ok {
		v = target
	}
	files, ok := s.files[v]
	if !ok {
		return "", nil, fmt.Errorf("resolve dataset://%s/%s: %w", s.name, versionOrAlias, ErrVersionNotFound)
	}
	return v, slices.Clone(files), nil
}

// Properties returns a copy of the dataset's properties.
func (s State) Properties() map[string]json.RawMessage { return maps.Clone(s.properties) }

// VersionProperties returns a copy of one version's properties.
func (s State) VersionProperties(version string) map[string]json.RawMessage {
	return maps.Clone(s.versionProps[version])
}

// Decide validates c against s and returns the events it causes.
func Decide(s State, c Command) ([]Event, error) {
	if create, ok := c.(Create); ok {
		return decideCreate(s, create)
	}
	if !s.Exists() {
		return nil, fmt.Errorf("dataset: %T: %w", c, ErrNotFound)
	}
	switch c := c.(type) {
	case CreateVersion:
		return s.decideVersion(c)
	case MoveAlias:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if err := s.checkAliasName(c.Alias); err != nil {
			return nil, fmt.Errorf("move alias: %w", err)
		}
		if _, ok := s.files[c.Version]; !ok {
			return nil, fmt.Errorf("move alias %s to %s: %w", c.Alias, c.Version, ErrVersionNotFound)
		}
		if s.aliases[c.Alias] == c.Version {
			return nil, nil
		}
		return []Event{AliasMoved{Dataset: s.id, Alias: c.Alias, Version: c.Version, Previous: s.aliases[c.Alias], At: c.At}}, nil
	case SetProperties:
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		cur := s.properties
		if c.Version != "" {
			if _, ok := s.files[c.Version]; !ok {
				return nil, fmt.Errorf("set properties of %s: %w", c.Version, ErrVersionNotFound)
			}
			cur = s.versionProps[c.Version]
		}
		changed, err := domain.ChangedProperties(cur, c.Properties)
		if err != nil {
			return nil, fmt.Errorf("set properties: %w", err)
		}
		if len(changed) == 0 {
			return nil, nil
		}
		return []Event{PropertiesSet{Dataset: s.id, Version: c.Version, Properties: changed, At: c.At}}, nil
	}
	return nil, fmt.Errorf("dataset: unknown command %T: %w", c, domain.ErrInvalid)
}

// Evolve applies e to s. It never fails: history is fact. Like append, it may reuse the
// memory of s, so fold forward and keep only the result.
func Evolve(s State, e Event) State {
	switch e := e.(type) {
	case Created:
		s.id, s.project, s.name = e.Dataset, e.Project, e.Name
	case VersionCreated:
		if s.files == nil {
			s.files = make(map[string][]domain.DatumID)
		}
		if _, ok := s.files[e.Version]; !ok {
			s.versions = append(s.versions, e.Version)
		}
		s.files[e.Version] = e.Files
	case AliasMoved:
		if s.aliases == nil {
			s.aliases = make(map[string]string)
		}
		s.aliases[e.Alias] = e.Version
	case PropertiesSet:
		if e.Version == "" {
			s.properties = domain.ApplyProperties(s.properties, e.Properties)
			break
		}
		if s.versionProps == nil {
			s.versionProps = make(map[string]map[string]json.RawMessage)
		}
		s.versionProps[e.Version] = domain.ApplyProperties(s.versionProps[e.Version], e.Properties)
	}
	return s
}

func decideCreate(s State, c Create) ([]Event, error) {
	if s.Exists() {
		return nil, fmt.Errorf("create dataset %s: %w", c.Name, ErrExists)
	}
	if err := domain.CheckID("dataset", c.Dataset); err != nil {
		return nil, fmt.Errorf("create dataset: %w", err)
	}
	if err := domain.CheckID("project", c.Project); err != nil {
		return nil, fmt.Errorf("create dataset: %w", err)
	}
	if err := domain.CheckName("dataset name", c.Name); err != nil {
		return nil, fmt.Errorf("create dataset: %w", err)
	}
	if err := checkAt(c.At); err != nil {
		return nil, err
	}
	return []Event{Created(c)}, nil
}

func (s State) decideVersion(c CreateVersion) ([]Event, error) {
	if err := checkAt(c.At); err != nil {
		return nil, err
	}
	if err := domain.CheckName("dataset version", c.Version); err != nil {
		return nil, fmt.Errorf("create version: %w", err)
	}
	if c.Version == Latest {
		return nil, fmt.Errorf("create version: %q is reserved: %w", Latest, domain.ErrInvalid)
	}
	if _, ok := s.files[c.Version]; ok {
		return nil, fmt.Errorf("create version %s: %w", c.Version, ErrNameTaken)
	}
	if _, ok := s.aliases[c.Version]; ok {
		return nil, fmt.Errorf("create version %s: an alias has that name: %w", c.Version, ErrNameTaken)
	}
	for _, ids := range [][]domain.DatumID{c.Add, c.Exclude} {
		for _, id := range ids {
			if err := domain.CheckID("datum", id); err != nil {
				return nil, fmt.Errorf("create version %s: %w", c.Version, err)
			}
		}
	}
	var base string
	var files []domain.DatumID
	if c.From != "" {
		var err error
		if base, files, err = s.Resolve(c.From); err != nil {
			return nil, fmt.Errorf("create version %s: %w", c.Version, err)
		}
	}
	var excluded, added []domain.DatumID
	files = slices.DeleteFunc(files, func(id domain.DatumID) bool {
		if slices.Contains(c.Exclude, id) {
			excluded = append(excluded, id)
			return true
		}
		return false
	})
	for _, id := range c.Add {
		if !slices.Contains(files, id) {
			files = append(files, id)
			added = append(added, id)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("create version %s: no files: %w", c.Version, domain.ErrInvalid)
	}
	if len(files) > MaxFiles {
		return nil, fmt.Errorf("create version %s: more than %d files: %w", c.Version, MaxFiles, domain.ErrInvalid)
	}
	evs := []Event{VersionCreated{Dataset: s.id, Version: c.Version, Base: base, Added: added, Excluded: excluded, Files: files, At: c.At}}
	var moved []string
	for _, a := range c.Aliases {
		if err := s.checkAliasName(a); err != nil {
			return nil, fmt.Errorf("create version %s: %w", c.Version, err)
		}
		if a == c.Version {
			return nil, fmt.Errorf("create version %s: alias %s: %w", c.Version, a, ErrNameTaken)
		}
		if !slices.Contains(moved, a) {
			moved = append(moved, a)
			evs = append(evs, AliasMoved{Dataset: s.id, Alias: a, Version: c.Version, Previous: s.aliases[a], At: c.At})
		}
	}
	return evs, nil
}

func (s State) checkAliasName(a string) error {
	if err := domain.CheckName("dataset alias", a); err != nil {
		return err
	}
	if a == Latest {
		return fmt.Errorf("dataset alias %q is reserved: %w", Latest, domain.ErrInvalid)
	}
	if _, ok := s.files[a]; ok {
		return fmt.Errorf("dataset alias %s: a version has that name: %w", a, ErrNameTaken)
	}
	return nil
}

func checkAt(at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("dataset: missing time: %w", domain.ErrInvalid)
	}
	return nil
}
