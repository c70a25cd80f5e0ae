package project

import (
	"time"

	"github.com/stratahq/strata/domain"
)

// Event is a project event. The set is sealed: only this package declares events.
//
//sumtype:decl
type Event interface {
	// EventType is the stable wire name, "project.<Type>".
	EventType() string
	// EventSchema is the payload schema version, 1 until a breaking change.
	EventSchema() int
	isEvent()
}

// Events returns one zero value of every project event type, for the event codec.
func Events() []Event {
	return []Event{
		Created{}, RepositoryLinked{}, DefaultStoreSet{}, StoreOverrideSet{}, StoreOverrideRemoved{},
		EnvironmentEnabled{}, EnvironmentDisabled{}, MemberSet{}, MemberRemoved{}, NumberAllocated{},
	}
}

// Created: the project exists; Owner is its first admin.
type Created struct {
	Project domain.ProjectID `json:"project"`
	Slug    string           `json:"slug"`
	Name    string           `json:"name"`
	Owner   domain.UserID    `json:"owner"`
	At      time.Time        `json:"at"`
}

// RepositoryLinked: the project's code now comes from URL. Previous is the repository it
// replaced, empty for the first.
type RepositoryLinked struct {
	Project  domain.ProjectID `json:"project"`
	URL      string           `json:"url"`
	Previous string           `json:"previous,omitempty"`
	At       time.Time        `json:"at"`
}

// DefaultStoreSet: outputs of the project go to Store (a store URL) unless a step names
// another store. Previous is the store it replaced, empty for the first.
type DefaultStoreSet struct {
	Project  domain.ProjectID `json:"project"`
	Store    string           `json:"store"`
	Previous string           `json:"previous,omitempty"`
	At       time.Time        `json:"at"`
}

// StoreOverrideSet: the store name Name (as a step's upload-store names it) now means
// Store in this project.
type StoreOverrideSet struct {
	Project domain.ProjectID `json:"project"`
	Name    string           `json:"name"`
	Store   string           `json:"store"`
	At      time.Time        `json:"at"`
}

// StoreOverrideRemoved: the store name Name no longer has a project-specific store.
type StoreOverrideRemoved struct {
	Project domain.ProjectID `json:"project"`
	Name    string           `json:"name"`
	At      time.Time        `json:"at"`
}

// EnvironmentEnabled: executions of the project may run on Environment.
type EnvironmentEnabled struct {
	Project     domain.ProjectID     `json:"project"`
	Environment domain.EnvironmentID `json:"environment"`
	At          time.Time            `json:"at"`
}

// EnvironmentDisabled: executions of the project may no longer run on Environment.
type EnvironmentDisabled struct {
	Project     domain.ProjectID     `json:"project"`
	Environment domain.EnvironmentID `json:"environment"`
	At          time.Time            `json:"at"`
}

// MemberSet: User is a member with Role (added, or role changed).
type MemberSet struct {
	Project domain.ProjectID `json:"project"`
	User    domain.UserID    `json:"user"`
	Role    Role             `json:"role"`
	At      time.Time        `json:"at"`
}

// MemberRemoved: User is no longer a member.
type MemberRemoved struct {
	Project domain.ProjectID `json:"project"`
	User    domain.UserID    `json:"user"`
	At      time.Time        `json:"at"`
}

// NumberAllocated: Number is the next number of Counter, given to the thing with ID For.
// Numbers of one counter are 1, 2, 3, … in event order.
type NumberAllocated struct {
	Project domain.ProjectID `json:"project"`
	Counter Counter          `json:"counter"`
	Number  int              `json:"number"`
	For     string           `json:"for"`
	At      time.Time        `json:"at"`
}

// EventType returns "project.Created".
func (Created) EventType() string { return "project.Created" }

// EventType returns "project.RepositoryLinked".
func (RepositoryLinked) EventType() string { return "project.RepositoryLinked" }

// EventType returns "project.DefaultStoreSet".
func (DefaultStoreSet) EventType() string { return "project.DefaultStoreSet" }

// EventType returns "project.StoreOverrideSet".
func (StoreOverrideSet) EventType() string { return "project.StoreOverrideSet" }

// EventType returns "project.StoreOverrideRemoved".
func (StoreOverrideRemoved) EventType() string { return "project.StoreOverrideRemoved" }

// EventType returns "project.EnvironmentEnabled".
func (EnvironmentEnabled) EventType() string { return "project.EnvironmentEnabled" }

// EventType returns "project.EnvironmentDisabled".
func (EnvironmentDisabled) EventType() string { return "project.EnvironmentDisabled" }

// EventType returns "project.MemberSet".
func (MemberSet) EventType() string { return "project.MemberSet" }

// EventType returns "project.MemberRemoved".
func (MemberRemoved) EventType() string { return "project.MemberRemoved" }

// EventType returns "project.NumberAllocated".
func (NumberAllocated) EventType() string { return "project.NumberAllocated" }

// EventSchema returns 1.
func (Created) EventSchema() int { return 1 }

// EventSchema returns 1.
func (RepositoryLinked) EventSchema() int { return 1 }

// EventSchema returns 1.
func (DefaultStoreSet) EventSchema() int { return 1 }

// EventSchema returns 1.
func (StoreOverrideSet) EventSchema() int { return 1 }

// EventSchema returns 1.
func (StoreOverrideRemoved) EventSchema() int { return 1 }

// EventSchema returns 1.
func (EnvironmentEnabled) EventSchema() int { return 1 }

// EventSchema returns 1.
func (EnvironmentDisabled) EventSchema() int { return 1 }

// EventSchema returns 1.
func (MemberSet) EventSchema() int { return 1 }

// EventSchema returns 1.
func (MemberRemoved) EventSchema() int { return 1 }

// EventSchema returns 1.
func (NumberAllocated) EventSchema() int { return 1 }

func (Created) isEvent()              {}
func (RepositoryLinked) isEvent()     {}
func (DefaultStoreSet) isEvent()      {}
func (StoreOverrideSet) isEvent()     {}
func (StoreOverrideRemoved) isEvent() {}
func (EnvironmentEnabled) isEvent()   {}
func (EnvironmentDisabled) isEvent()  {}
func (MemberSet) isEvent()            {}
func (MemberRemoved) isEvent()        {}
func (NumberAllocated) isEvent()      {}
