package deployment

import (
	"fmt"
	"slices"
	"time"

	"github.com/stratahq/strata/domain"
)

// Errors Decide returns.
var (
	// ErrNotFound: the command needs a deployment that does not exist.
	ErrNotFound = fmt.Errorf("deployment does not exist: %w", domain.ErrNotFound)
	// ErrExists: Create on a deployment that exists.
	ErrExists = fmt.Errorf("deployment already exists: %w", domain.ErrConflict)
	// ErrVersionExists: a version of that name exists.
	ErrVersionExists = fmt.Errorf("deployment version already exists: %w", domain.ErrConflict)
)

// Event is a deployment event. The set is sealed: only this package declares events.
//
//sumtype:decl
type Event interface {
	// EventType is the stable wire name, "deployment.<Type>".
	EventType() string
	// EventSchema is the payload schema version, 1 until a breaking change.
	EventSchema() int
	isEvent()
}

// Events returns one zero value of every deployment event type, for the event codec.
func Events() []Event { return []Event{Created{}, VersionCreated{}} }

// File is one file an endpoint of a deployment version loads: the endpoint's file name
// (valohai.yaml endpoint files) and the datum bound to it. Part of VersionCreated.
type File struct {
	Endpoint string         `json:"endpoint"`
	Name     string         `json:"name"`
	Datum    domain.DatumID `json:"datum"`
}

// Created: the deployment exists.
type Created struct {
	Deployment domain.DeploymentID `json:"deployment"`
	Project    domain.ProjectID    `json:"project"`
	Name       string              `json:"name"`
	At         time.Time           `json:"at"`
}

// VersionCreated: version Version of the deployment exists, serving Endpoints from
// Commit and loading Files.
type VersionCreated struct {
	Deployment domain.DeploymentID `json:"deployment"`
	Version    string              `json:"version"`
	Commit     string              `json:"commit,omitempty"`
	Endpoints  []string            `json:"endpoints"`
	Files      []File              `json:"files,omitempty"`
	Creator    domain.UserID       `json:"creator"`
	At         time.Time           `json:"at"`
}

// EventType returns "deployment.Created".
func (Created) EventType() string { return "deployment.Created" }

// EventType returns "deployment.VersionCreated".
func (VersionCreated) EventType() string { return "deployment.VersionCreated" }

// EventSchema returns 1.
func (Created) EventSchema() int { return 1 }

// EventSchema returns 1.
func (VersionCreated) EventSchema() int { return 1 }

func (Created) isEvent()        {}
func (VersionCreated) isEvent() {}

// Command is a deployment command. The set is sealed: only this package declares commands.
type Command interface{ isCommand() }

// Create creates the deployment.
type Create struct {
	Deployment domain.DeploymentID
	Project    domain.ProjectID
	Name       string
	At         time.Time
}

// CreateVersion creates a version. Every file's endpoint must be one of Endpoints.
type CreateVersion struct {
	Version   string
	Commit    string // optional
	Endpoints []string
	Files     []File
	Creator   domain.UserID
	At        time.Time
}

func (Create) isCommand()        {}
func (CreateVersion) isCommand() {}

// State is a deployment folded from its events. The zero State is a deployment that does
// not exist.
type State struct {
	id       domain.DeploymentID
	project  domain.ProjectID
	name     string
	versions []VersionCreated
}

// Exists reports whether the deployment was created.
func (s State) Exists() bool { return s.id != "" }

// ID returns the deployment's ID.
func (s State) ID() domain.DeploymentID { return s.id }

// Project returns the deployment's project.
func (s State) Project() domain.ProjectID { return s.project }

// Name returns the deployment's name.
func (s State) Name() string { return s.name }

// Versions returns the version names, oldest first.
func (s State) Versions() []string {
	out := make([]string, len(s.versions))
	for i, v := range s.versions {
		out[i] = v.Version
	}
	return out
}

// Files returns the files of one version, and false if there is no such version.
func (s State) Files(version string) ([]File, bool) {
	for _, v := range s.versions {
		if v.Version == version {
			return slices.Clone(v.Files), true
		}
	}
	return nil, false
}

// ReliesOn returns the versions that load datum, oldest first.
func (s State) ReliesOn(datum domain.DatumID) []string {
	var out []string
	for _, v := range s.versions {
		if slices.ContainsFunc(v.Files, func(f File) bool { return f.Datum == datum }) {
			out = append(out, v.Version)
		}
	}
	return out
}

// Decide validates c against s and returns the events it causes.
func Decide(s State, c Command) ([]Event, error) {
	switch c := c.(type) {
	case Create:
		if s.Exists() {
			return nil, fmt.Errorf("create deployment %s: %w", c.Name, ErrExists)
		}
		if err := domain.CheckID("deployment", c.Deployment); err != nil {
			return nil, fmt.Errorf("create deployment: %w", err)
		}
		if err := domain.CheckID("project", c.Project); err != nil {
			return nil, fmt.Errorf("create deployment: %w", err)
		}
		if err := domain.CheckName("deployment name", c.Name); err != nil {
			return nil, fmt.Errorf("create deployment: %w", err)
		}
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		return []Event{Created(c)}, nil
	case CreateVersion:
		if !s.Exists() {
			return nil, fmt.Errorf("create deployment version: %w", ErrNotFound)
		}
		return s.decideVersion(c)
	}
	return nil, fmt.Errorf("deployment: unknown command %T: %w", c, domain.ErrInvalid)
}

// Evolve applies e to s. It never fails: history is fact. Like append, it may reuse the
// memory of s, so fold forward and keep only the result.
func Evolve(s State, e Event) State {
	switch e := e.(type) {
	case Created:
		s.id, s.project, s.name = e.Deployment, e.Project, e.Name
	case VersionCreated:
		s.versions = append(s.versions, e)
	}
	return s
}

func (s State) decideVersion(c CreateVersion) ([]Event, error) {
	wrap := func(err error) ([]Event, error) { return nil, fmt.Errorf("create deployment version: %w", err) }
	if err := domain.CheckName("deployment version", c.Version); err != nil {
		return wrap(err)
	}
	if _, ok := s.Files(c.Version); ok {
		return nil, fmt.Errorf("create deployment version %s: %w", c.Version, ErrVersionExists)
	}
	if c.Commit != "" {
		if err := domain.CheckCommit(c.Commit); err != nil {
			return wrap(err)
		}
	}
	if len(c.Endpoints) == 0 {
		return wrap(fmt.Errorf("endpoints: missing: %w", domain.ErrInvalid))
	}
	for i, ep := range c.Endpoints {
		if !isEndpointName(ep) {
			return wrap(fmt.Errorf("endpoint %.80q: want a lowercase letter, then lowercase letters, digits and '-': %w", ep, domain.ErrInvalid))
		}
		if slices.Contains(c.Endpoints[:i], ep) {
			return wrap(fmt.Errorf("endpoint %s: given twice: %w", ep, domain.ErrInvalid))
		}
	}
	for i, f := range c.Files {
		if !slices.Contains(c.Endpoints, f.Endpoint) {
			return wrap(fmt.Errorf("file %s: endpoint %.80q is not in the version: %w", f.Name, f.Endpoint, domain.ErrInvalid))
		}
		if err := domain.CheckName("file name", f.Name); err != nil {
			return wrap(err)
		}
		if err := domain.CheckID("datum", f.Datum); err != nil {
			return wrap(err)
		}
		if slices.ContainsFunc(c.Files[:i], func(g File) bool { return g.Endpoint == f.Endpoint && g.Name == f.Name }) {
			return wrap(fmt.Errorf("file %s of endpoint %s: given twice: %w", f.Name, f.Endpoint, domain.ErrInvalid))
		}
	}
	if err := domain.CheckUser(c.Creator); err != nil {
		return wrap(err)
	}
	if err := checkAt(c.At); err != nil {
		return nil, err
	}
	return []Event{VersionCreated{Deployment: s.id, Version: c.Version, Commit: c.Commit,
		Endpoints: slices.Clone(c.Endpoints), Files: slices.Clone(c.Files), Creator: c.Creator, At: c.At}}, nil
}

// isEndpointName reports whether s matches valohai.yaml's endpoint name ^[a-z][a-z0-9-]+$.
func isEndpointName(s string) bool {
	if len(s) < 2 || len(s) > domain.MaxNameLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; c == '-' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

func checkAt(at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("deployment: missing time: %w", domain.ErrInvalid)
	}
	return nil
}
