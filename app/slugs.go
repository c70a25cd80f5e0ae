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

// ProjectID returns the project that ref names: a project ID as is, or a project slug
// resolved through its claim. A slug no project holds is ErrForbidden, as a project the
// caller is no member of is for Access, so that slugs do not leak; the caller still
// checks the role in the project it gets.
func (s *Service) ProjectID(ctx context.Context, ref string) (domain.ProjectID, error) {
	if id, err := domain.ParseProjectID(ref); err == nil {
		return id, nil
	}
	if err := domain.CheckSlug("project", ref); err != nil {
		return "", fmt.Errorf("%w (want a project ID or slug)", err)
	}
	st, _, err := events.Fold(ctx, s.log, s.codec, SlugStream(ref), project.SlugState{}, project.EvolveSlug)
	if err != nil {
		return "", fmt.Errorf("project %s: %w", ref, err)
	}
	if !st.Claimed() {
		actor, _ := ActorFrom(ctx)
		return "", fmt.Errorf("%s is no member of project %s (or it does not exist): %w", actor, ref, ErrForbidden)
	}
	return st.Project(), nil
}
