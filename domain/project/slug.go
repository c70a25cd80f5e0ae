package project

import (
	"fmt"
	"time"

	"github.com/stratahq/strata/domain"
)

// ErrSlugTaken: another project holds the slug.
var ErrSlugTaken = fmt.Errorf("project slug is taken: %w", domain.ErrConflict)

// SlugEvent is an event of a slug's claim stream, which the application layer names after
// the slug (see the package documentation). The set is sealed: only this package declares
// slug events. It is apart from Event so that a project's Evolve never sees a claim.
//
//sumtype:decl
type SlugEvent interface {
	// EventType is the stable wire name, "project.<Type>".
	EventType() string
	// EventSchema is the payload schema version, 1 until a breaking change.
	EventSchema() int
	isSlugEvent()
}

// SlugEvents returns one zero value of every slug event type, for the event codec.
func SlugEvents() []SlugEvent { return []SlugEvent{SlugClaimed{}} }

// SlugClaimed: Slug belongs to Project, for good. It is the first and only event of the
// slug's claim stream, appended before the project is created.
type SlugClaimed struct {
	Slug    string           `json:"slug"`
	Project domain.ProjectID `json:"project"`
	At      time.Time        `json:"at"`
}

// EventType returns "project.SlugClaimed".
func (SlugClaimed) EventType() string { return "project.SlugClaimed" }

// EventSchema returns 1.
func (SlugClaimed) EventSchema() int { return 1 }

func (SlugClaimed) isSlugEvent() {}

// ClaimSlug claims Slug for Project. Claiming it again for the same project is a no-op;
// for another project it is ErrSlugTaken.
type ClaimSlug struct {
	Slug    string
	Project domain.ProjectID
	At      time.Time
}

// SlugState is a slug's claim folded from its stream. The zero SlugState is a free slug.
type SlugState struct {
	slug    string
	project domain.ProjectID
}

// Claimed reports whether the slug is taken.
func (s SlugState) Claimed() bool { return s.project != "" }

// Project returns the project holding the slug, empty if it is free.
func (s SlugState) Project() domain.ProjectID { return s.project }

// DecideSlug validates c against s and returns the events it causes.
func DecideSlug(s SlugState, c ClaimSlug) ([]SlugEvent, error) {
	if err := domain.CheckSlug("project slug", c.Slug); err != nil {
		return nil, fmt.Errorf("claim slug: %w", err)
	}
	if err := domain.CheckID("project", c.Project); err != nil {
		return nil, fmt.Errorf("claim slug %s: %w", c.Slug, err)
	}
	if c.At.IsZero() {
		return nil, fmt.Errorf("claim slug %s: missing time: %w", c.Slug, domain.ErrInvalid)
	}
	switch s.project {
	case "":
		return []SlugEvent{SlugClaimed(c)}, nil
	case c.Project:
		return nil, nil
	}
	return nil, fmt.Errorf("claim slug %s: %w", c.Slug, ErrSlugTaken)
}

// EvolveSlug applies e to s. It never fails: history is fact.
func EvolveSlug(s SlugState, e SlugEvent) SlugState {
	switch e := e.(type) {
	case SlugClaimed:
		s.slug, s.project = e.Slug, e.Project
	}
	return s
}
