package app

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/events"
)

// CreateExecution asks for a new execution of a step.
type CreateExecution struct {
	Project     domain.ProjectID
	Step        execution.Step
	Code        execution.Code
	Image       string
	Commands    []string
	Parameters  map[string][]string
	Inputs      map[string][]string // requested URIs by input name, defaults applied
	Environment domain.EnvironmentID
	Variables   []execution.EnvironmentVariable
	Title       string
	Task        domain.TaskID
	Tags        []string
	Priority    int
	TimeLimit   time.Duration
	NoOutput    time.Duration // no-output timeout
	// Network: the step asks for network access (execution.Created.Network); without it
	// the run has none where the launcher can isolate it.
	Network bool
}

// CreatedExecution is the execution CreateExecution created.
type CreatedExecution struct {
	ID       domain.ExecutionID
	Number   int
	Position events.Position
}

// CreateExecution creates an execution: it pins every datum alias and dataset input to
// the datums they name now, allocates the execution's number (#N) on the project stream,
// then creates it on its own stream. The environment must be enabled for the project. It
// needs the editor role.
func (s *Service) CreateExecution(ctx context.Context, c CreateExecution) (CreatedExecution, error) {
	p, actor, err := s.authorize(ctx, c.Project, project.RoleEditor)
	if err != nil {
		return CreatedExecution{}, fmt.Errorf("create execution: %w", err)
	}
	if !p.EnvironmentEnabled(c.Environment) {
		return CreatedExecution{}, fmt.Errorf("create execution: environment %s is not enabled for project %s: %w", c.Environment, c.Project, domain.ErrInvalid)
	}
	resolved := map[string][]domain.DatumID{}
	for _, uris := range c.Inputs {
		for _, raw := range uris {
			u, err := domain.ParseInputURI(raw)
			if err != nil {
				return CreatedExecution{}, fmt.Errorf("create execution: %w", err)
			}
			if u.Datum.Alias == "" && u.Dataset.IsZero() {
				continue
			}
			ids, err := s.pin(ctx, c.Project, u)
			if err != nil {
				return CreatedExecution{}, fmt.Errorf("create execution: %w", err)
			}
			if _, err := s.datumFiles(ctx, c.Project, raw, ids); err != nil { // readable, in the project
				return CreatedExecution{}, fmt.Errorf("create execution: %w", err)
			}
			resolved[raw] = ids
		}
	}
	id := domain.ExecutionID(s.newID())
	at := s.at()
	create := execution.Create{
		Execution: id, Project: c.Project, Number: 1, Step: c.Step, Code: c.Code, Image: c.Image, Commands: c.Commands,
		Parameters: c.Parameters, Inputs: c.Inputs, Resolved: resolved, Environment: c.Environment,
		EnvironmentVariables: c.Variables, Creator: actor, Title: c.Title, Task: c.Task, Tags: c.Tags,
		Priority: c.Priority, TimeLimit: c.TimeLimit, NoOutputTimeout: c.NoOutput, Network: c.Network, At: at,
	}
	// Decide is pure: check the command before a number is allocated, so a rejected request
	// leaves no gap in the project's #N sequence.
	if _, err := execution.Decide(execution.State{}, create); err != nil {
		return CreatedExecution{}, fmt.Errorf("create execution: %w", err)
	}
	pres, err := execute(ctx, s, ProjectStream(c.Project), projectDecider,
		project.Command(project.AllocateNumber{Counter: project.CounterExecution, For: string(id), At: at}))
	if err != nil {
		return CreatedExecution{}, fmt.Errorf("create execution: allocate its number: %w", err)
	}
	n, _ := pres.State.Number(project.CounterExecution, string(id))
	create.Number = n
	res, err := execute(ctx, s, ExecutionStream(id), executionDecider, execution.Command(create))
	if err != nil {
		return CreatedExecution{}, fmt.Errorf("create execution #%d: %w", n, err)
	}
	return CreatedExecution{ID: id, Number: n, Position: res.Last()}, nil
}

// PreparedInput is one input file PrepareInputs downloaded and recorded.
type PreparedInput struct {
	Input string
	File  InputFile
	Downloaded
}

// PrepareInputs downloads every input file of the started execution id into
// dir/<input>/<file name> and records each one's digests (execution.InputHashed), which is
// what the inputs read model compares across executions to warn about changed files.
// Pinned datums are read as pinned; store URLs and http(s) URLs are resolved (listed,
// wildcards matched) now. The runner calls it for an execution it was given, so it checks
// no project role.
func (s *Service) PrepareInputs(ctx context.Context, id domain.ExecutionID, dir string) ([]PreparedInput, events.Position, error) {
	st, err := s.loadExecution(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	spec := st.Spec()
	var out []PreparedInput
	var last events.Position
	for _, in := range spec.Inputs {
		for _, r := range in.URIs {
			var files []InputFile
			if len(r.Datums) > 0 {
				files, err = s.datumFiles(ctx, spec.Project, r.URI, r.Datums)
			} else {
				files, err = s.resolve(ctx, spec.Project, r.URI)
			}
			if err != nil {
				return out, last, fmt.Errorf("prepare input %q of execution #%d: %w", in.Name, spec.Number, err)
			}
			for _, f := range files {
				d, err := s.Download(ctx, f, filepath.Join(dir, in.Name, filepath.FromSlash(f.Name)))
				if err != nil {
					return out, last, fmt.Errorf("prepare input %q of execution #%d: %w", in.Name, spec.Number, err)
				}
				res, err := execute(ctx, s, ExecutionStream(id), executionDecider, execution.Command(execution.HashInput{
					Input: in.Name, URI: r.URI, Datum: f.Datum, FileName: f.Name, Size: d.Size, Digests: d.Digests, At: s.at(),
				}))
				if err != nil {
					return out, last, fmt.Errorf("prepare input %q of execution #%d: %w", in.Name, spec.Number, err)
				}
				last = max(last, res.Last())
				out = append(out, PreparedInput{Input: in.Name, File: f, Downloaded: d})
			}
		}
	}
	return out, last, nil
}
