package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/dataset"
	"github.com/stratahq/strata/domain/deployment"
	"github.com/stratahq/strata/domain/environment"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/domain/task"
	"github.com/stratahq/strata/domain/token"
	"github.com/stratahq/strata/events"
)

// Deciders of the catalog aggregates: datasets, deployments, environments.
var (
	catalogDatasets     = events.Decider[dataset.State, dataset.Command, dataset.Event]{Decide: dataset.Decide, Evolve: dataset.Evolve}
	catalogDeployments  = events.Decider[deployment.State, deployment.Command, deployment.Event]{Decide: deployment.Decide, Evolve: deployment.Evolve}
	catalogEnvironments = events.Decider[environment.State, environment.Command, environment.Event]{Decide: environment.Decide, Evolve: environment.Evolve}
)

// CreateDatasetVersion asks for a new version of a project's dataset, creating the
// dataset on its first version.
type CreateDatasetVersion struct {
	Project domain.ProjectID
	Dataset string
	Version string
	// From names the base version or alias; empty: from scratch.
	From    string
	Add     []domain.DatumID
	Exclude []domain.DatumID
	// Aliases are moved to the new version.
	Aliases []string
}

// CreatedDatasetVersion is the version CreateDatasetVersion created.
type CreatedDatasetVersion struct {
	Dataset  domain.DatasetID
	Version  string
	Position events.Position
}

// CreateDatasetVersion creates a dataset version. It needs the editor role, and every
// added datum must be one of the project's.
func (s *Service) CreateDatasetVersion(ctx context.Context, c CreateDatasetVersion) (CreatedDatasetVersion, error) {
	fail := func(err error) (CreatedDatasetVersion, error) {
		return CreatedDatasetVersion{}, fmt.Errorf("create version %s of dataset %s: %w", c.Version, c.Dataset, err)
	}
	if _, _, err := s.authorize(ctx, c.Project, project.RoleEditor); err != nil {
		return fail(err)
	}
	if err := domain.CheckName("dataset name", c.Dataset); err != nil {
		return fail(err)
	}
	for _, d := range c.Add {
		st, err := s.loadDatum(ctx, d)
		if err != nil {
			return fail(err)
		}
		if st.Project() != c.Project {
			return fail(fmt.Errorf("datum %s: %w", d, domain.ErrNotFound)) // another project's datum is none of this one's
		}
	}
	stream := DatasetStream(c.Project, c.Dataset)
	st, _, err := events.Fold(ctx, s.log, s.codec, stream, dataset.State{}, dataset.Evolve)
	if err != nil {
		return fail(err)
	}
	id := st.ID()
	if !st.Exists() {
		id = domain.DatasetID(s.newID())
		_, err := execute(ctx, s, stream, catalogDatasets, dataset.Command(dataset.Create{Dataset: id, Project: c.Project, Name: c.Dataset, At: s.at()}))
		if errors.Is(err, dataset.ErrExists) {
			st, _, err = events.Fold(ctx, s.log, s.codec, stream, dataset.State{}, dataset.Evolve) // created meanwhile
			id = st.ID()
		}
		if err != nil {
			return fail(err)
		}
	}
	res, err := execute(ctx, s, stream, catalogDatasets, dataset.Command(dataset.CreateVersion{
		Version: c.Version, From: c.From, Add: c.Add, Exclude: c.Exclude, Aliases: c.Aliases, At: s.at(),
	}))
	if err != nil {
		return fail(err)
	}
	return CreatedDatasetVersion{Dataset: id, Version: c.Version, Position: res.Last()}, nil
}

// MoveDatasetAlias points the alias of the project's dataset name at version. It needs
// the editor role.
func (s *Service) MoveDatasetAlias(ctx context.Context, p domain.ProjectID, name, alias, version string) (events.Position, error) {
	if _, _, err := s.authorize(ctx, p, project.RoleEditor); err != nil {
		return 0, fmt.Errorf("move dataset alias %s/%s: %w", name, alias, err)
	}
	if err := domain.CheckName("dataset name", name); err != nil {
		return 0, fmt.Errorf("move dataset alias: %w", err)
	}
	res, err := execute(ctx, s, DatasetStream(p, name), catalogDatasets, dataset.Command(dataset.MoveAlias{Alias: alias, Version: version, At: s.at()}))
	if err != nil {
		return 0, fmt.Errorf("move dataset alias %s/%s: %w", name, alias, err)
	}
	return res.Last(), nil
}

// CreateDeploymentVersion asks for a version of a deployment: an existing one by
// Deployment, or, with Deployment empty, a new one called Name in Project.
type CreateDeploymentVersion struct {
	Project    domain.ProjectID
	Deployment domain.DeploymentID
	Name       string
	Version    string
	Commit     string
	Endpoints  []string
	Files      []deployment.File
}

// CreatedDeploymentVersion is the version CreateDeploymentVersion created.
type CreatedDeploymentVersion struct {
	Deployment domain.DeploymentID
	Version    string
	Position   events.Position
}

// CreateDeploymentVersion records a deployment version, so lineage can answer which
// deployments rely on a file. It needs the editor role, and every file's datum must be
// one of the project's.
func (s *Service) CreateDeploymentVersion(ctx context.Context, c CreateDeploymentVersion) (CreatedDeploymentVersion, error) {
	fail := func(err error) (CreatedDeploymentVersion, error) {
		return CreatedDeploymentVersion{}, fmt.Errorf("create deployment version %s: %w", c.Version, err)
	}
	_, actor, err := s.authorize(ctx, c.Project, project.RoleEditor)
	if err != nil {
		return fail(err)
	}
	for _, f := range c.Files {
		if err := domain.CheckID("datum", f.Datum); err != nil {
			return fail(err)
		}
		st, err := s.loadDatum(ctx, f.Datum)
		if err != nil {
			return fail(err)
		}
		if st.Project() != c.Project {
			return fail(fmt.Errorf("datum %s: %w", f.Datum, domain.ErrNotFound))
		}
	}
	id := c.Deployment
	if id == "" {
		id = domain.DeploymentID(s.newID())
		_, err := execute(ctx, s, DeploymentStream(id), catalogDeployments, deployment.Command(deployment.Create{
			Deployment: id, Project: c.Project, Name: c.Name, At: s.at()}))
		if err != nil {
			return fail(err)
		}
	} else {
		st, _, err := events.Fold(ctx, s.log, s.codec, DeploymentStream(id), deployment.State{}, deployment.Evolve)
		if err != nil {
			return fail(err)
		}
		if st.Project() != c.Project {
			return fail(fmt.Errorf("deployment %s: %w", id, deployment.ErrNotFound))
		}
	}
	res, err := execute(ctx, s, DeploymentStream(id), catalogDeployments, deployment.Command(deployment.CreateVersion{
		Version: c.Version, Commit: c.Commit, Endpoints: c.Endpoints, Files: c.Files, Creator: actor, At: s.at()}))
	if err != nil {
		return fail(err)
	}
	return CreatedDeploymentVersion{Deployment: id, Version: c.Version, Position: res.Last()}, nil
}

// CreatedEnvironment is the environment CreateEnvironment created.
type CreatedEnvironment struct {
	ID       domain.EnvironmentID
	Position events.Position
}

// CreateEnvironment creates a machine type that projects may enable. Environments are
// the server's, so it needs a server-admin token.
func (s *Service) CreateEnvironment(ctx context.Context, slug string, spec environment.Spec) (CreatedEnvironment, error) {
	if p, ok := PrincipalFrom(ctx); !ok || !p.Admin {
		return CreatedEnvironment{}, fmt.Errorf("create environment %s: %w", slug, ErrNotAdmin)
	}
	id := domain.EnvironmentID(s.newID())
	res, err := execute(ctx, s, EnvironmentStream(id), catalogEnvironments, environment.Command(environment.Create{
		Environment: id, Slug: slug, Spec: spec, At: s.at()}))
	if err != nil {
		return CreatedEnvironment{}, fmt.Errorf("create environment %s: %w", slug, err)
	}
	return CreatedEnvironment{ID: id, Position: res.Last()}, nil
}

// UpdateEnvironment replaces the spec of environment id. It needs a server-admin token.
func (s *Service) UpdateEnvironment(ctx context.Context, id domain.EnvironmentID, spec environment.Spec) (events.Position, error) {
	if p, ok := PrincipalFrom(ctx); !ok || !p.Admin {
		return 0, fmt.Errorf("update environment %s: %w", id, ErrNotAdmin)
	}
	res, err := execute(ctx, s, EnvironmentStream(id), catalogEnvironments, environment.Command(environment.Update{Spec: spec, At: s.at()}))
	if err != nil {
		return 0, fmt.Errorf("update environment %s: %w", id, err)
	}
	return res.Last(), nil
}

// SetDefaultStore makes store (a store URL) project p's default data store. It needs the
// admin role.
func (s *Service) SetDefaultStore(ctx context.Context, p domain.ProjectID, store string) (events.Position, error) {
	return s.projectCommand(ctx, p, "set default store", project.SetDefaultStore{Store: store, At: s.at()})
}

// SetStoreOverride makes the store name mean store (a store URL) in project p: uploads
// and steps that name that store use store instead. It needs the admin role.
func (s *Service) SetStoreOverride(ctx context.Context, p domain.ProjectID, name, store string) (events.Position, error) {
	return s.projectCommand(ctx, p, "set store override", project.SetStoreOverride{Name: name, Store: store, At: s.at()})
}

// RemoveStoreOverride removes project p's override of the store name. It needs the admin
// role.
func (s *Service) RemoveStoreOverride(ctx context.Context, p domain.ProjectID, name string) (events.Position, error) {
	return s.projectCommand(ctx, p, "remove store override", project.RemoveStoreOverride{Name: name, At: s.at()})
}

// SetDatasetProperties sets properties of project p's dataset name (version empty) or of
// one of its versions; a JSON null removes one. It needs the editor role.
func (s *Service) SetDatasetProperties(ctx context.Context, p domain.ProjectID, name, version string, props map[string]json.RawMessage) (events.Position, error) {
	if _, _, err := s.authorize(ctx, p, project.RoleEditor); err != nil {
		return 0, fmt.Errorf("set properties of dataset %s: %w", name, err)
	}
	if err := domain.CheckName("dataset name", name); err != nil {
		return 0, fmt.Errorf("set dataset properties: %w", err)
	}
	res, err := execute(ctx, s, DatasetStream(p, name), catalogDatasets, dataset.Command(dataset.SetProperties{Version: version, Properties: props, At: s.at()}))
	if err != nil {
		return 0, fmt.Errorf("set properties of dataset %s: %w", name, err)
	}
	return res.Last(), nil
}

// GetEnvironment returns environment id. Any authenticated caller may read environments.
func (s *Service) GetEnvironment(ctx context.Context, id domain.EnvironmentID) (environment.State, error) {
	return s.EnvironmentAsOf(ctx, id, 0)
}

// EnvironmentAsOf returns environment id as it was at position p of the log (0: now).
func (s *Service) EnvironmentAsOf(ctx context.Context, id domain.EnvironmentID, p events.Position) (environment.State, error) {
	if _, err := requireActor(ctx); err != nil {
		return environment.State{}, err
	}
	st, err := foldThrough(ctx, s, EnvironmentStream(id), p, environment.State{}, environment.Evolve)
	if err != nil {
		return environment.State{}, fmt.Errorf("environment %s: %w", id, err)
	}
	if !st.Exists() {
		return environment.State{}, fmt.Errorf("environment %s: %w", id, environment.ErrNotFound)
	}
	return st, nil
}

// GetTask returns task id if the caller may view its project; otherwise, and for a task
// that does not exist, task.ErrNotFound.
func (s *Service) GetTask(ctx context.Context, id domain.TaskID) (task.State, error) {
	return s.TaskAsOf(ctx, id, 0)
}

// GetDeployment returns deployment id if the caller may view its project.
func (s *Service) GetDeployment(ctx context.Context, id domain.DeploymentID) (deployment.State, error) {
	st, _, err := events.Fold(ctx, s.log, s.codec, DeploymentStream(id), deployment.State{}, deployment.Evolve)
	if err != nil {
		return deployment.State{}, fmt.Errorf("deployment %s: %w", id, err)
	}
	if !st.Exists() {
		return deployment.State{}, fmt.Errorf("deployment %s: %w", id, deployment.ErrNotFound)
	}
	if _, err := s.Access(ctx, st.Project(), project.RoleViewer); err != nil {
		return deployment.State{}, fmt.Errorf("deployment %s: %w", id, err)
	}
	return st, nil
}

// GetToken returns token id (its hash, never a secret) if it is the caller's own, or for
// a server-admin caller any; otherwise, and for a token that does not exist,
// token.ErrNotFound.
func (s *Service) GetToken(ctx context.Context, id token.ID) (token.State, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return token.State{}, fmt.Errorf("token %s: %w", id, ErrUnauthenticated)
	}
	st, _, err := events.Fold(ctx, s.log, s.codec, TokenStream(id), token.State{}, token.Evolve)
	if err != nil {
		return token.State{}, fmt.Errorf("token %s: %w", id, err)
	}
	if !st.Exists() || (st.User() != p.User && !p.Admin) {
		return token.State{}, fmt.Errorf("token %s: %w", id, token.ErrNotFound)
	}
	return st, nil
}
