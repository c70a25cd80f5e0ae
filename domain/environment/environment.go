package environment

import (
	"fmt"
	"math"
	"time"

	"github.com/stratahq/strata/domain"
)

// Errors Decide returns.
var (
	// ErrNotFound: the command needs an environment that does not exist.
	ErrNotFound = fmt.Errorf("environment does not exist: %w", domain.ErrNotFound)
	// ErrExists: Create on an environment that exists.
	ErrExists = fmt.Errorf("environment already exists: %w", domain.ErrConflict)
)

// Spec is what an environment offers and costs. Part of the Created and Updated events.
type Spec struct {
	Name         string       `json:"name"`
	CPUs         float64      `json:"cpus"`
	MemoryBytes  int64        `json:"memory_bytes"`
	GPUs         int          `json:"gpus,omitempty"`
	GPUModel     string       `json:"gpu_model,omitempty"`
	PricePerHour domain.Money `json:"price_per_hour"`
	MaxScale     int          `json:"max_scale,omitempty"`      // machines at once; 0: no limit
	PerUserQuota int          `json:"per_user_quota,omitempty"` // running executions per user; 0: no limit
}

// Event is an environment event. The set is sealed: only this package declares events.
//
//sumtype:decl
type Event interface {
	// EventType is the stable wire name, "environment.<Type>".
	EventType() string
	// EventSchema is the payload schema version, 1 until a breaking change.
	EventSchema() int
	isEvent()
}

// Events returns one zero value of every environment event type, for the event codec.
func Events() []Event { return []Event{Created{}, Updated{}} }

// Created: the environment exists with Spec.
type Created struct {
	Environment domain.EnvironmentID `json:"environment"`
	Slug        string               `json:"slug"`
	Spec        Spec                 `json:"spec"`
	At          time.Time            `json:"at"`
}

// Updated: the environment's spec is now Spec (all fields, not a patch).
type Updated struct {
	Environment domain.EnvironmentID `json:"environment"`
	Spec        Spec                 `json:"spec"`
	At          time.Time            `json:"at"`
}

// EventType returns "environment.Created".
func (Created) EventType() string { return "environment.Created" }

// EventType returns "environment.Updated".
func (Updated) EventType() string { return "environment.Updated" }

// EventSchema returns 1.
func (Created) EventSchema() int { return 1 }

// EventSchema returns 1.
func (Updated) EventSchema() int { return 1 }

func (Created) isEvent() {}
func (Updated) isEvent() {}

// Command is an environment command. The set is sealed: only this package declares
// commands.
type Command interface{ isCommand() }

// Create creates the environment.
type Create struct {
	Environment domain.EnvironmentID
	Slug        string
	Spec        Spec
	At          time.Time
}

// Update replaces the environment's spec; the same spec again is a no-op.
type Update struct {
	Spec Spec
	At   time.Time
}

func (Create) isCommand() {}
func (Update) isCommand() {}

// State is an environment folded from its events. The zero State is an environment that
// does not exist.
type State struct {
	id   domain.EnvironmentID
	slug string
	spec Spec
}

// Exists reports whether the environment was created.
func (s State) Exists() bool { return s.id != "" }

// ID returns the environment's ID.
func (s State) ID() domain.EnvironmentID { return s.id }

// Slug returns the environment's slug.
func (s State) Slug() string { return s.slug }

// Spec returns the current spec.
func (s State) Spec() Spec { return s.spec }

// PricePerHour returns the current price per hour.
func (s State) PricePerHour() domain.Money { return s.spec.PricePerHour }

// Decide validates c against s and returns the events it causes.
func Decide(s State, c Command) ([]Event, error) {
	switch c := c.(type) {
	case Create:
		if s.Exists() {
			return nil, fmt.Errorf("create environment %s: %w", c.Slug, ErrExists)
		}
		if err := domain.CheckID("environment", c.Environment); err != nil {
			return nil, fmt.Errorf("create environment: %w", err)
		}
		if err := domain.CheckSlug("environment slug", c.Slug); err != nil {
			return nil, fmt.Errorf("create environment: %w", err)
		}
		if err := checkSpec(c.Spec); err != nil {
			return nil, fmt.Errorf("create environment %s: %w", c.Slug, err)
		}
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		return []Event{Created(c)}, nil
	case Update:
		if !s.Exists() {
			return nil, fmt.Errorf("update environment: %w", ErrNotFound)
		}
		if err := checkSpec(c.Spec); err != nil {
			return nil, fmt.Errorf("update environment %s: %w", s.slug, err)
		}
		if err := checkAt(c.At); err != nil {
			return nil, err
		}
		if c.Spec == s.spec {
			return nil, nil
		}
		return []Event{Updated{Environment: s.id, Spec: c.Spec, At: c.At}}, nil
	}
	return nil, fmt.Errorf("environment: unknown command %T: %w", c, domain.ErrInvalid)
}

// Evolve applies e to s. It never fails: history is fact.
func Evolve(s State, e Event) State {
	switch e := e.(type) {
	case Created:
		s.id, s.slug, s.spec = e.Environment, e.Slug, e.Spec
	case Updated:
		s.spec = e.Spec
	}
	return s
}

func checkSpec(sp Spec) error {
	if err := domain.CheckText("environment name", sp.Name, 256); err != nil {
		return err
	}
	bad := func(why string) error { return fmt.Errorf("%s: %w", why, domain.ErrInvalid) }
	switch {
	case !(sp.CPUs > 0) || math.IsInf(sp.CPUs, 0):
		return bad("cpus must be a positive number")
	case sp.MemoryBytes <= 0:
		return bad("memory must be positive")
	case sp.GPUs < 0:
		return bad("gpus must not be negative")
	case sp.GPUs > 0 && sp.GPUModel == "":
		return bad("gpus need a gpu model")
	case sp.GPUs == 0 && sp.GPUModel != "":
		return bad("a gpu model needs gpus")
	case sp.PricePerHour < 0:
		return bad("price per hour must not be negative")
	case sp.MaxScale < 0 || sp.PerUserQuota < 0:
		return bad("maximum scale and per-user quota must not be negative (0: no limit)")
	}
	if sp.GPUModel != "" {
		return domain.CheckText("gpu model", sp.GPUModel, 256)
	}
	return nil
}

func checkAt(at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("environment: missing time: %w", domain.ErrInvalid)
	}
	return nil
}
