package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
)

// prepare makes the execution's directory (repository, inputs, outputs, config), fetches
// the code and the inputs, and returns the Spec to launch.
func (r *Runner) prepare(ctx context.Context, st execution.State, dir string) (Spec, error) {
	spec := st.Spec()
	for _, d := range []string{"repository", "inputs", "outputs", "config"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return Spec{}, fmt.Errorf("prepare directory: %w", err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "outputs"), 0o777); err != nil { // containers may run as another user
		return Spec{}, fmt.Errorf("prepare directory: %w", err)
	}
	switch repo := filepath.Join(dir, "repository"); {
	case spec.Code.Adhoc != "":
		if err := r.unpackAdhoc(ctx, st.ID(), spec.Code.Adhoc, repo); err != nil {
			return Spec{}, fmt.Errorf("fetch code: %w", err)
		}
		r.status(st.ID(), "ad-hoc code %s unpacked", spec.Code.Adhoc)
	case r.code != nil && spec.Code.Commit != "":
		if err := r.code.FetchCode(ctx, spec.Code, repo); err != nil {
			return Spec{}, fmt.Errorf("fetch code: %w", err)
		}
		r.status(st.ID(), "commit %s of %s checked out", spec.Code.Commit, spec.Code.Repository)
	}
	var inputs []app.PreparedInput
	if len(spec.Inputs) > 0 {
		if r.inputs == nil {
			return Spec{}, fmt.Errorf("prepare inputs: no input preparer configured: %w", domain.ErrInvalid)
		}
		var err error
		if inputs, _, err = r.inputs.PrepareInputs(ctx, st.ID(), filepath.Join(dir, "inputs")); err != nil {
			return Spec{}, fmt.Errorf("prepare inputs: %w", err)
		}
		r.status(st.ID(), "%d input files ready", len(inputs))
		for _, in := range spec.Inputs {
			if n := countInput(inputs, in.Name); in.Filename != "" && n > 1 {
				r.status(st.ID(), "input %s: filename %s has no effect: the input has %d files", in.Name, in.Filename, n)
			}
		}
	}
	if err := readOnly(filepath.Join(dir, "inputs")); err != nil {
		return Spec{}, err
	}
	if err := r.writeConfig(st, dir, inputs); err != nil {
		return Spec{}, err
	}
	env := map[string]string{
		"VH_JOB_ID":        "exec-" + string(st.ID()),
		"VH_EXECUTION_ID":  string(st.ID()),
		"VH_PROJECT_ID":    string(spec.Project),
		"PYTHONUNBUFFERED": "1",
	}
	if spec.Task != "" {
		env["VH_TASK_ID"] = string(spec.Task)
	}
	for _, v := range spec.EnvironmentVariables {
		if !v.Secret {
			env[v.Name] = v.Value
			continue
		}
		// Secret values are never in events: they come from the runner's configuration.
		if r.cfg.Secrets == nil {
			return Spec{}, fmt.Errorf("environment variable %s: secret: %w", v.Name, ErrNoSecret)
		}
		val, err := r.cfg.Secrets.Secret(ctx, spec.Project, v.Name)
		if err != nil {
			return Spec{}, fmt.Errorf("environment variable %s: %w", v.Name, err)
		}
		env[v.Name] = val
	}
	h := r.cfg.Hardware
	return Spec{Execution: st.ID(), Project: spec.Project, Image: spec.Image, Script: JoinCommand(spec.Commands, "\n"),
		Dir: dir, Env: env, CPUs: h.CPUs, MemoryBytes: h.MemoryBytes, GPUs: h.GPUs, Network: r.cfg.Network || spec.Network}, nil
}

func countInput(inputs []app.PreparedInput, name string) int {
	n := 0
	for _, p := range inputs {
		if p.Input == name {
			n++
		}
	}
	return n
}

// readOnly makes the files under dir read-only for everyone, and its directories
// read-and-list only.
func readOnly(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		return os.Chmod(p, 0o444)
	})
	for i := len(dirs) - 1; i >= 0 && err == nil; i-- {
		err = os.Chmod(dirs[i], 0o555)
	}
	if err != nil {
		return fmt.Errorf("make inputs read-only: %w", err)
	}
	return nil
}

// writeConfig writes config/{execution,parameters,inputs}.json as Valohai does.
func (r *Runner) writeConfig(st execution.State, dir string, inputs []app.PreparedInput) error {
	spec := st.Spec()
	commit := spec.Code.Commit
	if spec.Code.Adhoc != "" {
		commit = "~" + string(spec.Code.Adhoc)
	}
	exe := map[string]any{
		"valohai.commit-identifier":  commit,
		"valohai.creator-id":         spec.Creator,
		"valohai.creator-name":       spec.Creator,
		"valohai.environment-id":     spec.Environment,
		"valohai.execution-counter":  spec.Number,
		"valohai.execution-ctime":    spec.At.Format(time.RFC3339Nano),
		"valohai.execution-id":       st.ID(),
		"valohai.execution-image":    spec.Image,
		"valohai.execution-qtime":    st.QueuedAt().Format(time.RFC3339Nano),
		"valohai.execution-status":   st.Status(),
		"valohai.execution-step":     spec.Step,
		"valohai.execution-tags":     st.Tags(),
		"valohai.execution-title":    spec.Title,
		"valohai.execution-duration": 0,
		"valohai.project-id":         spec.Project,
	}
	if spec.Task != "" {
		exe["valohai.task-id"] = spec.Task
	}
	params := map[string]any{}
	for _, p := range spec.Parameters {
		params[p.Name] = p.Value()
	}
	type checksums struct {
		MD5    string `json:"md5"`
		SHA1   string `json:"sha1"`
		SHA256 string `json:"sha256"`
	}
	type file struct {
		Name      string    `json:"name"`
		Path      string    `json:"path"`
		Size      int64     `json:"size"`
		URI       string    `json:"uri"`
		Checksums checksums `json:"checksums"`
		Datum     string    `json:"datum_id,omitempty"`
	}
	base := dir // where the commands see the execution directory
	if m, ok := r.launch.(Mounter); ok {
		base = m.MountDir()
	}
	ins := map[string]map[string][]file{}
	for _, in := range spec.Inputs {
		ins[in.Name] = map[string][]file{"files": {}}
	}
	for _, p := range inputs {
		uri := p.File.URI
		if p.File.Datum != "" {
			uri = "datum://" + string(p.File.Datum)
		}
		ins[p.Input]["files"] = append(ins[p.Input]["files"], file{
			Name: path.Base(p.Path), Path: filepath.Join(base, "inputs", p.Input, filepath.FromSlash(p.Path)),
			Size: p.Size, URI: uri, Datum: string(p.File.Datum),
			Checksums: checksums{MD5: p.Digests.MD5.String(), SHA1: p.Digests.SHA1.String(), SHA256: p.Digests.SHA256.String()},
		})
	}
	for name, v := range map[string]any{"execution.json": exe, "parameters.json": params, "inputs.json": ins} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("write config %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "config", name), b, 0o644); err != nil {
			return fmt.Errorf("write config %s: %w", name, err)
		}
	}
	return nil
}
