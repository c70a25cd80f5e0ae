package graphql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/stratahq/strata/adapters/valohaiyaml"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/domain/project"
	"github.com/stratahq/strata/graphql/generated"
	"github.com/stratahq/strata/runner"
)

// configFile is where valohai.yaml sits in the code: the root of the repository or archive.
const configFile = "valohai.yaml"

// stepExecution turns a runStep request into the execution it creates: it reads
// valohai.yaml of the code, finds the step, types and validates the parameters, applies
// the input defaults and picks the environment. It needs the editor role.
func (r *Resolver) stepExecution(ctx context.Context, in generated.RunStepInput) (app.CreateExecution, error) {
	pid, err := r.app.ProjectID(ctx, in.Project)
	if err != nil {
		return app.CreateExecution{}, err
	}
	p, err := r.app.Access(ctx, pid, project.RoleEditor)
	if err != nil {
		return app.CreateExecution{}, err
	}
	code, err := codeOf(in, p)
	if err != nil {
		return app.CreateExecution{}, err
	}
	cfg, err := r.readConfig(ctx, code)
	if err != nil {
		return app.CreateExecution{}, err
	}
	step := cfg.Step(in.Step)
	if step == nil {
		names := make([]string, 0, len(cfg.Steps))
		for _, s := range cfg.Steps {
			names = append(names, s.Name)
		}
		return app.CreateExecution{}, fmt.Errorf("step %q: no such step in %s; its steps: %s: %w", in.Step, configFile, listOrNone(names), domain.ErrInvalid)
	}
	values, err := parameterValues(step, in.Parameters)
	if err != nil {
		return app.CreateExecution{}, err
	}
	inputs := map[string][]string{}
	for _, v := range in.Inputs {
		if step.Input(v.Name) == nil {
			names := make([]string, 0, len(step.Inputs))
			for _, i := range step.Inputs {
				names = append(names, i.Name)
			}
			return app.CreateExecution{}, fmt.Errorf("input %q: step %s has no such input; its inputs: %s: %w", v.Name, step.Name, listOrNone(names), domain.ErrInvalid)
		}
		inputs[v.Name] = append(inputs[v.Name], v.Uris...)
	}
	c, err := FromStep(step, values, inputs)
	if err != nil {
		return app.CreateExecution{}, err
	}
	for _, i := range step.Inputs {
		if i.Required() && len(c.Inputs[i.Name]) == 0 {
			return app.CreateExecution{}, fmt.Errorf("input %q of step %s is required and has no default: give it one or more URIs: %w", i.Name, step.Name, domain.ErrInvalid)
		}
	}
	c.Project, c.Code = pid, code
	env := step.Environment
	if in.Environment != nil && *in.Environment != "" {
		env = *in.Environment
	}
	if c.Environment, err = r.pickEnvironment(ctx, p, env); err != nil {
		return app.CreateExecution{}, err
	}
	if in.Title != nil {
		c.Title = *in.Title
	}
	c.Tags = in.Tags
	if in.Network != nil {
		c.Network = *in.Network
	}
	return c, nil
}

// codeOf is the code a runStep request names: an ad-hoc archive, or a commit of the
// repository given or linked to the project.
func codeOf(in generated.RunStepInput, p project.State) (execution.Code, error) {
	if in.Adhoc != nil {
		if in.Commit != nil || in.Repository != nil {
			return execution.Code{}, fmt.Errorf("adhoc: give either ad-hoc code or a commit, not both: %w", domain.ErrInvalid)
		}
		d, err := domain.ParseDatumID(*in.Adhoc)
		return execution.Code{Adhoc: d}, err
	}
	if in.Commit == nil || *in.Commit == "" {
		return execution.Code{}, fmt.Errorf("commit: required (a full 40-hex SHA), or pass ad-hoc code: %w", domain.ErrInvalid)
	}
	repo := p.Repository()
	if in.Repository != nil && *in.Repository != "" {
		repo = *in.Repository
	}
	if repo == "" {
		return execution.Code{}, fmt.Errorf("repository: project %s has no linked repository: link one (linkRepository, or 'strata project link') or pass repository: %w",
			p.Slug(), domain.ErrInvalid)
	}
	return execution.Code{Repository: repo, Commit: strings.ToLower(*in.Commit)}, nil
}

// fileReader is what a code fetcher offers when it can read one file of a commit without
// exporting the whole tree (adapters/git.Fetcher does).
type fileReader interface {
	ReadFile(ctx context.Context, code execution.Code, path string, limit int64) ([]byte, error)
}

// readConfig reads and parses valohai.yaml of code: one file of a commit when the fetcher
// can read it alone, else from the code checked out into a temporary directory.
func (r *Resolver) readConfig(ctx context.Context, code execution.Code) (*valohaiyaml.Config, error) {
	if fr, ok := r.code.(fileReader); ok && code.Adhoc == "" {
		where := fmt.Sprintf("commit %s of %s", code.Commit, code.Repository)
		data, err := fr.ReadFile(ctx, code, configFile, valohaiyaml.MaxSize)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s has no %s at its root: add one (see 'strata lint'): %w", where, configFile, domain.ErrInvalid)
		} else if err != nil {
			return nil, err
		}
		return parseConfig(where, data)
	}
	dir, err := os.MkdirTemp("", "strata-runstep-*")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", configFile, err)
	}
	defer func() { _ = os.RemoveAll(dir) }() // scratch
	where := "ad-hoc code " + string(code.Adhoc)
	if code.Adhoc != "" {
		rc, _, err := r.app.OpenDatum(ctx, code.Adhoc)
		if err != nil {
			return nil, fmt.Errorf("ad-hoc code: %w", err)
		}
		err = runner.Unpack(ctx, rc, dir, runner.ArchiveLimits{})
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("ad-hoc code %s: %w", code.Adhoc, err)
		}
	} else {
		where = fmt.Sprintf("commit %s of %s", code.Commit, code.Repository)
		if r.code == nil {
			return nil, fmt.Errorf("commit: this server reads no repositories: run ad-hoc code instead: %w", domain.ErrInvalid)
		}
		if err := r.code.FetchCode(ctx, code, dir); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(filepath.Join(dir, configFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s has no %s at its root: add one (see 'strata lint'): %w", where, configFile, domain.ErrInvalid)
	} else if err != nil {
		return nil, fmt.Errorf("read %s of %s: %w", configFile, where, err)
	}
	defer func() { _ = f.Close() }() // read-only
	data, err := io.ReadAll(io.LimitReader(f, valohaiyaml.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s of %s: %w", configFile, where, err)
	}
	return parseConfig(where, data)
}

// parseConfig parses valohai.yaml read from where.
func parseConfig(where string, data []byte) (*valohaiyaml.Config, error) {
	cfg, _, err := valohaiyaml.Parse(configFile, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", where, err, domain.ErrInvalid)
	}
	return cfg, nil
}

// parameterValues types the text values given for step's parameters, as valohai.yaml
// declares them, naming the parameter at fault.
func parameterValues(step *valohaiyaml.Step, given []generated.ParameterValue) (map[string]any, error) {
	values := map[string]any{}
	for _, pv := range given {
		p := step.Parameter(pv.Name)
		if p == nil {
			names := make([]string, 0, len(step.Parameters))
			for _, q := range step.Parameters {
				names = append(names, q.Name)
			}
			return nil, fmt.Errorf("parameter %q: step %s has no such parameter; its parameters: %s: %w", pv.Name, step.Name, listOrNone(names), domain.ErrInvalid)
		}
		if len(pv.Values) == 0 {
			return nil, fmt.Errorf("parameter %q: no value given: %w", pv.Name, domain.ErrInvalid)
		}
		if p.Type == valohaiyaml.TypeFlag {
			if len(pv.Values) != 1 {
				return nil, fmt.Errorf("parameter %q: a flag takes one value (true or false): %w", pv.Name, domain.ErrInvalid)
			}
			b, err := strconv.ParseBool(strings.TrimSpace(pv.Values[0]))
			if err != nil {
				return nil, fmt.Errorf("parameter %q: %q is not true or false: %w", pv.Name, pv.Values[0], domain.ErrInvalid)
			}
			values[p.Name] = b
			continue
		}
		var v any = pv.Values[0]
		if p.Multiple != valohaiyaml.MultipleNone {
			list := make([]any, len(pv.Values))
			for i, s := range pv.Values {
				list[i] = s
			}
			v = list
		} else if len(pv.Values) > 1 {
			return nil, fmt.Errorf("parameter %q: takes one value, got %d: %w", pv.Name, len(pv.Values), domain.ErrInvalid)
		}
		typed, err := p.Validate(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", err, domain.ErrInvalid)
		}
		values[p.Name] = typed
	}
	return values, nil
}

// pickEnvironment returns the environment ref names (an ID or a slug) among those
// enabled for p; an empty ref picks the first enabled one.
func (r *Resolver) pickEnvironment(ctx context.Context, p project.State, ref string) (domain.EnvironmentID, error) {
	enabled := p.Environments()
	if len(enabled) == 0 {
		return "", fmt.Errorf("environment: project %s has no enabled environment: ask a server admin to enable one (enableEnvironment): %w", p.Slug(), domain.ErrInvalid)
	}
	if ref == "" {
		return enabled[0], nil
	}
	if slices.Contains(enabled, domain.EnvironmentID(ref)) {
		return domain.EnvironmentID(ref), nil
	}
	slugs := make([]string, 0, len(enabled))
	for _, id := range enabled {
		st, err := r.app.GetEnvironment(ctx, id)
		if err != nil {
			return "", err
		}
		if st.Slug() == ref {
			return id, nil
		}
		slugs = append(slugs, st.Slug())
	}
	return "", fmt.Errorf("environment %q is not enabled for project %s; its environments: %s: %w", ref, p.Slug(), strings.Join(slugs, ", "), domain.ErrInvalid)
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
