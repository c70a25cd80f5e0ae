package alias

import (
	"fmt"
	"time"

	"github.com/stratahq/strata/domain"
)

// Errors Decide returns.
var (
	// ErrNotFound: the alias does not exist (never set, or deleted).
	ErrNotFound = fmt.Errorf("alias does not exist: %w", domain.ErrNotFound)
	// ErrPurgedTarget: the alias cannot point at a purged datum.
	ErrPurgedTarget = fmt.Errorf("alias cannot point at a purged datum: %w", domain.ErrConflict)
)

// Event is an alias event. The set is sealed: only this package declares events.
//
//sumtype:decl
type Event interface {
	// EventType is the stable wire name, "alias.<Type>".
	EventType() string
	// EventSchema is the payload schema version, 1 until a breaking change.
	EventSchema() int
	isEvent()
}

// Events returns one zero value of every alias event type, for the event codec.
func Events() []Event { return []Event{Moved{}, Deleted{}} }

// Moved: the alias now points at Datum. Previous is the datum it pointed at before, empty
// when the alias was new (or had been deleted).
type Moved struct {
	Project  domain.ProjectID `json:"project"`
	Alias    string           `json:"alias"`
	Datum    domain.DatumID   `json:"datum"`
	Previous domain.DatumID   `json:"previous,omitempty"`
	At       time.Time        `json:"at"`
}

// Deleted: the alias no longer exists. Previous is the datum it pointed at. Setting it
// again starts it afresh; its history remains.
type Deleted struct {
	Project  domain.ProjectID `json:"project"`
	Alias    string           `json:"alias"`
	Previous domain.DatumID   `json:"previous"`
	At       time.Time        `json:"at"`
}

// EventType returns "alias.Moved".
func (Moved) EventType() string { return "alias.Moved" }

// EventType returns "alias.Deleted".
func (Deleted) EventType() string { return "alias.Deleted" }

// EventSchema returns 1.
func (Moved) EventSchema() int { return 1 }

// EventSchema returns 1.
func (Deleted) EventSchema() int { return 1 }

func (Moved) isEvent()   {}
func (Deleted) isEvent() {}

// Command is an alias command. The set is sealed: only this package declares commands.
type Command interface{ isCommand() }

// Set points the alias Name of Project at Datum, creating it if needed. Setting it to its
// current target is a no-op. DatumPurged is the target datum's purge state, which the
// caller reads from the datum before setting: a purged datum is refused.
type Set struct {
	Project     domain.ProjectID
	Name        string
	Datum       domain.DatumID
	DatumPurged bool
	At          time.Time
}

// Delete deletes the alias.
type Delete struct{ At time.Time }

func (Set) isCommand()    {}
func (Delete) isCommand() {}

// State is an alias folded from its events. The zero State is an alias never set.
type State struct {
	project domain.ProjectID
	name    string
	target  domain.DatumID
	moves   int
}

// Exists reports whether the alias currently points at a datum.
func (s State) Exists() bool { return s.target != "" }

// Project returns the alias's project.
func (s State) Project() domain.ProjectID { return s.project }

// Name returns the alias's name.
func (s State) Name() string { return s.name }

// Target returns the datum the alias points at, and false if it does not exist.
func (s State) Target() (domain.DatumID, bool) { return s.target, s.target != "" }

// Moves returns how many times the alias was set to a new target.
func (s State) Moves() int { return s.moves }

// CheckName reports whether name can be an alias name: a domain name (CheckName) that
// does not look like a datum ID, so datum://<name> is never ambiguous.
func CheckName(name string) error {
	if err := domain.CheckName("alias", name); err != nil {
		return err
	}
	if domain.IsUUID(name) {
		return fmt.Errorf("alias %q: looks like a datum ID: %w", name, domain.ErrInvalid)
	}
	return nil
}

// Decide validates c against s and returns the events it causes.
func Decide(s State, c Command) ([]Event, error) {
	switch c := c.(type) {
	case Set:
		if err := domain.CheckID("project", c.Project); err != nil {
			return nil, fmt.Errorf("set alias: %w", err)
		}
		if err := CheckName(c.Name); err != nil {
			return nil, fmt.Errorf("set alias: %w", err)
		}
		if s.name != "" && (c.Project != s.project || c.Name != s.name) {
			return nil, fmt.Errorf("set alias %s: this is alias %s of project %s: %w", c.Name, s.name, s.project, domain.ErrInvalid)
		}
		if err := domain.CheckID("datum", c.Datum); err != nil {
			return nil, fmt.Errorf("set alias %s: %w", c.Name, err)
		}
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if c.Datum == s.target {
			return nil, nil
		}
		if c.DatumPurged {
			return nil, fmt.Errorf("set alias %s to %s: %w", c.Name, c.Datum, ErrPurgedTarget)
		}
		return []Event{Moved{Project: c.Project, Alias: c.Name, Datum: c.Datum, Previous: s.target, At: c.At}}, nil
	case Delete:
		if !s.Exists() {
			return nil, fmt.Errorf("delete alias %s: %w", s.name, ErrNotFound)
		}
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		return []Event{Deleted{Project: s.project, Alias: s.name, Previous: s.target, At: c.At}}, nil
	}
	return nil, fmt.Errorf("alias: unknown command %T: %w", c, domain.ErrInvalid)
}

// Evolve applies e to s. It never fails: history is fact.
func Evolve(s State, e Event) State {
	switch e := e.(type) {
	case Moved:
		s.project, s.name, s.target = e.Project, e.Alias, e.Datum
		s.moves++
	case Deleted:
		s.project, s.name, s.target = e.Project, e.Alias, ""
	}
	return s
}

func checkAt(at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("alias: missing time: %w", domain.ErrInvalid)
	}
	return nil
}
