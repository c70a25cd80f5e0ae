package app

import (
	"context"
	"fmt"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/events"
)

// CreateProject asks for a new project; the caller becomes its first admin.
type CreateProject struct {
	Slug string
	Name string
}

// CreatedProject is the project CreateProject created.
type CreatedProject struct {
	ID       domain.ProjectID
	Position events.Position
}

// CreateProject creates a project owned by the caller. Any authenticated user may.
func (s *Service) CreateProject(ctx context.Context, c CreateProject) (CreatedProject, error) {
	actor, err := requireActor(ctx)
	if err != nil {
		return CreatedProject{}, fmt.Errorf("create project: %w", err)
	}
	id := domain.ProjectID(s.newID())
	create := project.Create{Project: id, Slug: c.Slug, Name: c.Name, Owner: actor, At: s.at()}
	if _, err := project.Decide(project.State{}, create); err != nil {
		return CreatedProject{}, fmt.Errorf("create project %q: %w", c.Slug, err) // before the claim: a refused create claims nothing
	}
	if err := s.claimSlug(ctx, c.Slug, id); err != nil {
		return CreatedProject{}, fmt.Errorf("create project %q: %w", c.Slug, err)
	}
	res, err := execute(ctx, s, ProjectStream(id), projectDecider, project.Command(create))
	if err != nil {
		return CreatedProject{}, fmt.Errorf("create project %q: %w", c.Slug, err)
	}
	return CreatedProject{ID: id, Position: res.Last()}, nil
}

// Access returns project p if the caller has at least role need in it. A project that
// does not exist and one the caller is no member of are the same ErrForbidden, so the
// answer tells nothing about projects the caller cannot see.
func (s *Service) Access(ctx context.Context, p domain.ProjectID, need project.Role) (project.State, error) {
	actor, err := requireActor(ctx)
	if err != nil {
		return project.State{}, err
	}
	st, _, err := s.projects.State(ctx, s.log, s.codec, ProjectStream(p))
	if err != nil {
		return project.State{}, fmt.Errorf("project %s: %w", p, err)
	}
	role, ok := st.Role(actor)
	if !st.Exists() || !ok {
		return project.State{}, fmt.Errorf("%s is no member of project %s (or it does not exist): %w", actor, p, ErrForbidden)
	}
	if !role.Allows(need) {
		return project.State{}, fmt.Errorf("%s is %s in project %s, needs %s: %w", actor, role, p, need, ErrForbidden)
	}
	return st, nil
}

// projectCommand runs c on project p after checking the caller is an admin of it.
func (s *Service) projectCommand(ctx context.Context, p domain.ProjectID, what string, c project.Command) (events.Position, error) {
	if _, err := s.Access(ctx, p, project.RoleAdmin); err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	res, err := execute(ctx, s, ProjectStream(p), projectDecider, c)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return res.Last(), nil
}

// LinkRepository links project p to the git repository at url. It needs the admin role.
func (s *Service) LinkRepository(ctx context.Context, p domain.ProjectID, url string) (events.Position, error) {
	return s.projectCommand(ctx, p, "link repository", project.LinkRepository{URL: url, At: s.at()})
}

// SetMember makes user a member of project p with role, or changes their role. It needs
// the admin role.
func (s *Service) SetMember(ctx context.Context, p domain.ProjectID, user domain.UserID, role project.Role) (events.Position, error) {
	return s.projectCommand(ctx, p, "set member", project.SetMember{User: user, Role: role, At: s.at()})
}

// RemoveMember removes user from project p. It needs the admin role.
func (s *Service) RemoveMember(ctx context.Context, p domain.ProjectID, user domain.UserID) (events.Position, error) {
	return s.projectCommand(ctx, p, "remove member", project.RemoveMember{User: user, At: s.at()})
}

// EnableEnvironment lets executions of project p run on env. It needs the admin role.
func (s *Service) EnableEnvironment(ctx context.Context, p domain.ProjectID, env domain.EnvironmentID) (events.Position, error) {
	return s.projectCommand(ctx, p, "enable environment", project.EnableEnvironment{Environment: env, At: s.at()})
}

// DisableEnvironment stops executions of project p from being created on env. It needs
// the admin role.
func (s *Service) DisableEnvironment(ctx context.Context, p domain.ProjectID, env domain.EnvironmentID) (events.Position, error) {
	return s.projectCommand(ctx, p, "disable environment", project.DisableEnvironment{Environment: env, At: s.at()})
}
