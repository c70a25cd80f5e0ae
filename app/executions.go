package app

import (
	"context"
	"fmt"
	"path"
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
	// Path is where the file lies below the input's directory, slash-separated: placed by
	// the input's keep-directories mode and filename (see Placement).
	Path string
	Downloaded
}

// ErrInputCollision: two files of one input would be placed at the same path.
var ErrInputCollision = fmt.Errorf("input files collide: %w", domain.ErrInvalid)

// PrepareInputs downloads every input file of the started execution id into
// dir/<input>/<path> and records each one's digests (execution.InputHashed), which is
// what the inputs read model compares across executions to warn about changed files.
// Pinned datums are read as pinned; store URLs and http(s) URLs are resolved (listed,
// wildcards matched) now. Each input's files are all resolved and placed (Placement)
// before any is downloaded, so a collision fails before anything is written. The runner
// calls it for an execution it was given, so it checks no project role.
func (s *Service) PrepareInputs(ctx context.Context, id domain.ExecutionID, dir string) ([]PreparedInput, events.Position, error) {
	st, err := s.loadExecution(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	spec := st.Spec()
	var out []PreparedInput
	var last events.Position
	for _, in := range spec.Inputs {
		var files []InputFile
		for _, r := range in.URIs {
			var got []InputFile
			if len(r.Datums) > 0 {
				got, err = s.datumFiles(ctx, spec.Project, r.URI, r.Datums)
			} else {
				got, err = s.resolve(ctx, spec.Project, r.URI)
			}
			if err != nil {
				return out, last, fmt.Errorf("prepare input %q of execution #%d: %w", in.Name, spec.Number, err)
			}
			files = append(files, got...)
		}
		paths, err := Placement(in, files)
		if err != nil {
			return out, last, fmt.Errorf("prepare input %q of execution #%d: %w", in.Name, spec.Number, err)
		}
		for i, f := range files {
			d, err := s.Download(ctx, f, filepath.Join(dir, in.Name, filepath.FromSlash(paths[i])))
			if err != nil {
				return out, last, fmt.Errorf("prepare input %q of execution #%d: %w", in.Name, spec.Number, err)
			}
			res, err := execute(ctx, s, ExecutionStream(id), executionDecider, execution.Command(execution.HashInput{
				Input: in.Name, URI: f.URI, Datum: f.Datum, FileName: f.Name, Size: d.Size, Digests: d.Digests, At: s.at(),
			}))
			if err != nil {
				return out, last, fmt.Errorf("prepare input %q of execution #%d: %w", in.Name, spec.Number, err)
			}
			last = max(last, res.Last())
			out = append(out, PreparedInput{Input: in.Name, File: f, Path: paths[i], Downloaded: d})
		}
	}
	return out, last, nil
}

// Placement returns where each of an input's files goes below /valohai/inputs/<name>/,
// as valohai.yaml's keep-directories says:
//
//   - none (""): the base name only;
//   - full: the whole source path: a store object's key, an http(s) URL's path, a datum's
//     name (which may hold directories, as dataset files do);
//   - suffix: the path below the wildcard's directory for wildcard URLs (s3://b/data/**.csv
//     puts data/sub/c.csv at sub/c.csv), a datum's name, the base name otherwise.
//
// Filename, when set and the input has exactly one file, replaces that file's base name;
// with several files it has no effect, as on Valohai. Every path is a clean relative path
// (no "..", not absolute), so nothing lands outside the input's directory. Two files at
// one path, or a file where another needs a directory, is ErrInputCollision.
func Placement(in execution.Input, files []InputFile) ([]string, error) {
	paths := make([]string, len(files))
	for i, f := range files {
		p := f.Name
		switch in.KeepDirectories {
		case execution.KeepFull:
			p = f.fullPath()
		case execution.KeepSuffix:
		default:
			p = path.Base(f.Name)
		}
		if in.Filename != "" && len(files) == 1 {
			p = path.Join(path.Dir(p), in.Filename)
		}
		if err := domain.CheckPath("input file path", p); err != nil {
			return nil, fmt.Errorf("place %s: %w", f.URI, err)
		}
		paths[i] = p
	}
	byPath := make(map[string]int, len(paths))
	for i, p := range paths {
		if j, ok := byPath[p]; ok {
			return nil, fmt.Errorf("%s and %s would both be written to %s (keep-directories %q; use full or suffix to keep their directories): %w",
				describe(files[j]), describe(files[i]), p, keepName(in.KeepDirectories), ErrInputCollision)
		}
		byPath[p] = i
	}
	for i, p := range paths {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if j, ok := byPath[d]; ok {
				return nil, fmt.Errorf("%s is written to %s, where %s needs a directory: %w", describe(files[j]), d, describe(files[i]), ErrInputCollision)
			}
		}
	}
	return paths, nil
}

func keepName(mode string) string {
	if mode == "" {
		return execution.KeepNone
	}
	return mode
}

// describe names an input file for an error: its URI, and the object or datum behind a
// URI that names several.
func describe(f InputFile) string {
	switch {
	case f.Datum != "":
		return fmt.Sprintf("%s (datum %s, %s)", f.URI, f.Datum, f.Name)
	case f.kind == sourceObject && f.Key != "":
		return fmt.Sprintf("%s (object %s)", f.URI, f.Key)
	}
	return f.URI
}
