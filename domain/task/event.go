package task

import (
	"time"

	"github.com/stratahq/strata/domain"
)

// Event is a task event. The set is sealed: only this package declares events.
//
//sumtype:decl
type Event interface {
	// EventType is the stable wire name, "task.<Type>".
	EventType() string
	// EventSchema is the payload schema version, 1 until a breaking change.
	EventSchema() int
	isEvent()
}

// Events returns one zero value of every task event type, for the event codec.
func Events() []Event {
	return []Event{Created{}, ExecutionAttached{}, ExecutionStatusRecorded{}, StopRequested{}}
}

// Variant is how one parameter varies across a task's executions, with the style's rules
// as in valohai.yaml: single (Value), multiple (Items), linear (Start, End, Step),
// logspace (Start, End, Count, Base), random (Min, Max, Count, Distribution, Seed).
// Integerify rounds generated numbers. It is part of the Created event's stored schema.
type Variant struct {
	Name         string   `json:"name"`
	Style        Style    `json:"style"`
	Value        string   `json:"value,omitempty"`
	Items        []string `json:"items,omitempty"`
	Start        float64  `json:"start,omitempty"`
	End          float64  `json:"end,omitempty"`
	Step         float64  `json:"step,omitempty"`
	Count        int      `json:"count,omitempty"`
	Base         float64  `json:"base,omitempty"`
	Min          float64  `json:"min,omitempty"`
	Max          float64  `json:"max,omitempty"`
	Distribution string   `json:"distribution,omitempty"`
	Seed         int64    `json:"seed,omitempty"`
	Integerify   bool     `json:"integerify,omitempty"`
}

// Created: the task exists. Variants describe the parameter space, except for manual
// search, which lists ParameterSets (one map of parameter values per execution).
// ExecutionCount is how many executions to run (random and Bayesian search; 0 where the
// space decides); BatchSize how many run at once (0: no limit). Planned is how many
// executions the task was created to attach: it is running until that many are attached
// or it is stopped (0 in tasks recorded before it existed: the attached ones decide).
type Created struct {
	Task           domain.TaskID       `json:"task"`
	Project        domain.ProjectID    `json:"project"`
	Number         int                 `json:"number"`
	Step           string              `json:"step"`
	Type           Type                `json:"type"`
	Variants       []Variant           `json:"variants,omitempty"`
	ParameterSets  []map[string]string `json:"parameter_sets,omitempty"`
	ExecutionCount int                 `json:"execution_count,omitempty"`
	BatchSize      int                 `json:"batch_size,omitempty"`
	Planned        int                 `json:"planned,omitempty"`
	Creator        domain.UserID       `json:"creator"`
	At             time.Time           `json:"at"`
}

// ExecutionAttached: Execution belongs to the task.
type ExecutionAttached struct {
	Task      domain.TaskID      `json:"task"`
	Execution domain.ExecutionID `json:"execution"`
	At        time.Time          `json:"at"`
}

// ExecutionStatusRecorded: the attached Execution reached Status.
type ExecutionStatusRecorded struct {
	Task      domain.TaskID          `json:"task"`
	Execution domain.ExecutionID     `json:"execution"`
	Status    domain.ExecutionStatus `json:"status"`
	At        time.Time              `json:"at"`
}

// StopRequested: By asked to stop the task; no execution is attached afterwards, and the
// application layer stops those still running.
type StopRequested struct {
	Task domain.TaskID `json:"task"`
	By   domain.UserID `json:"by"`
	At   time.Time     `json:"at"`
}

// EventType returns "task.Created".
func (Created) EventType() string { return "task.Created" }

// EventType returns "task.ExecutionAttached".
func (ExecutionAttached) EventType() string { return "task.ExecutionAttached" }

// EventType returns "task.ExecutionStatusRecorded".
func (ExecutionStatusRecorded) EventType() string { return "task.ExecutionStatusRecorded" }

// EventType returns "task.StopRequested".
func (StopRequested) EventType() string { return "task.StopRequested" }

// EventSchema returns 1.
func (Created) EventSchema() int { return 1 }

// EventSchema returns 1.
func (ExecutionAttached) EventSchema() int { return 1 }

// EventSchema returns 1.
func (ExecutionStatusRecorded) EventSchema() int { return 1 }

// EventSchema returns 1.
func (StopRequested) EventSchema() int { return 1 }

func (Created) isEvent()                 {}
func (ExecutionAttached) isEvent()       {}
func (ExecutionStatusRecorded) isEvent() {}
func (StopRequested) isEvent()           {}
