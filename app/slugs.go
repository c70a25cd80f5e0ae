package app

import (
	"context"
	"fmt"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/events"
)

// SlugStream returns "project-slug-<slug>": the claim that makes a project slug unique
// across projects (see package project's documentation).
func SlugStream(slug string) events.StreamID { return events.StreamID("project-slug-" + slug) }

var slugDecider = events.Decider[project.SlugState, project.ClaimSlug, project.SlugEvent]{
	Decide: project.DecideSlug, Evolve: project.EvolveSlug,
}

// claimSlug claims slug for project p: the first claim appends to a stream that did not
// exist, so of two concurrent claims one wins and the other is project.ErrSlugTaken.
func (s *Service) claimSlug(ctx context.Context, slug string, p domain.ProjectID) error {
	if err := domain.CheckSlug("project slug", slug); err != nil {
		return err // never name a stream after a malformed slug
	}
	_, err := execute(ctx, s, SlugStream(slug), slugDecider, project.ClaimSlug{Slug: slug, Project: p, At: s.at()})
	if err != nil {
		return fmt.Errorf("claim slug %s: %w", slug, err)
	}
	return nil
}
