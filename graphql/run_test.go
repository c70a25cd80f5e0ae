package graphql_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratahq/strata/adapters/git"
	"github.com/stratahq/strata/graphql"
)

// newRunEnv is newEnv with a real git fetcher (file:// repositories allowed), which
// runStep reads valohai.yaml through.
func newRunEnv(t *testing.T) *env {
	t.Helper()
	code, err := git.New(git.Config{CacheDir: t.TempDir(), AllowFile: true})
	if err != nil {
		t.Fatal(err)
	}
	return newEnvWithCode(t, graphql.Config{}, code)
}

// commitFile commits file with content to the git repository dir (made on first use) and
// returns the commit.
func commitFile(t *testing.T, dir, file, content string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, args := range [][]string{{"init", "--quiet"}, {"add", file}, {"commit", "--quiet", "-m", "c"}, {"rev-parse", "HEAD"}} {
		cmd := exec.Command("git", append([]string{"-c", "user.name=T", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		var err error
		if out, err = cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return strings.TrimSpace(string(out))
}

const runYAML = `- step:
    name: train
    image: python:3.12
    command: python train.py {parameters}
    time-limit: 1h
    parameters:
      - name: lr
        type: float
        default: 0.1
      - name: epochs
        type: integer
        default: 2
      - name: layers
        type: integer
        multiple: separate
        default: [1, 2]
    inputs:
      - name: data
      - name: extra
        default: https://example.com/extra.csv
    environment-variables:
      - name: MODE
        default: fast
- step:
    name: eval
    image: busybox
    command: "true"
`

// TestRunStep reads the step from a committed valohai.yaml, renders and types it, and
// refuses bad requests with a message naming what is wrong.
func TestRunStep(t *testing.T) {
	e := newRunEnv(t)
	var p struct{ CreateProject struct{ ID string } }
	e.must(e.admin, `mutation { createProject(input: {slug: "vision", name: "Vision"}) { id } }`, nil, &p)
	pid := p.CreateProject.ID
	var ce struct{ CreateEnvironment struct{ ID string } }
	e.must(e.admin, `mutation { createEnvironment(input: {slug: "cpu", name: "CPU", cpus: 1, memoryBytes: 1073741824, pricePerHour: "0.1"}) { id } }`, nil, &ce)
	repoDir := t.TempDir()
	commit := commitFile(t, repoDir, "valohai.yaml", runYAML)
	e.must(e.admin, `mutation($p: ID!, $u: String!) { linkRepository(project: $p, url: $u) { position } }`, map[string]any{"p": pid, "u": "file://" + repoDir}, nil)

	run := func(in map[string]any) response {
		t.Helper()
		full := map[string]any{"project": pid, "step": "train", "commit": commit, "inputs": []any{map[string]any{"name": "data", "uris": []string{"https://example.com/d.csv"}}}}
		for k, v := range in {
			full[k] = v
		}
		return e.do(e.admin, `mutation($in: RunStepInput!) { runStep(input: $in) { id number position } }`, map[string]any{"in": full})
	}
	if r := run(nil); r.code() != graphql.CodeInvalid || !strings.Contains(r.Errors[0].Message, "no enabled environment") {
		t.Errorf("runStep without environments = %+v", r.Errors)
	}
	e.must(e.admin, `mutation($p: ID!, $e: ID!) { enableEnvironment(project: $p, environment: $e) { position } }`, map[string]any{"p": pid, "e": ce.CreateEnvironment.ID}, nil)

	var res struct{ RunStep struct{ ID string } }
	r := run(map[string]any{"parameters": []any{map[string]any{"name": "lr", "values": []string{"0.5"}}, map[string]any{"name": "layers", "values": []string{"3", "4", "5"}}}})
	if len(r.Errors) > 0 {
		t.Fatalf("runStep = %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, &res); err != nil {
		t.Fatal(err)
	}
	var x struct {
		Execution struct {
			Image, Environment, Commit, Repository string
			Commands                               []string
			Parameters                             []struct {
				Name, Type string
				Values     []string
			}
			Inputs []struct {
				Name string
				URIs []struct{ URI string } `json:"uris"`
			}
		}
	}
	e.must(e.admin, `query($id: ID) { execution(id: $id) { image environment commit repository commands parameters { name type values } inputs { name uris { uri } } } }`,
		map[string]any{"id": res.RunStep.ID}, &x)
	got := x.Execution
	params := map[string]string{}
	for _, p := range got.Parameters {
		params[p.Name] = p.Type + ":" + strings.Join(p.Values, ",")
	}
	inputs := map[string]string{}
	for _, in := range got.Inputs {
		for _, u := range in.URIs {
			inputs[in.Name] += u.URI
		}
	}
	if got.Image != "python:3.12" || got.Environment != ce.CreateEnvironment.ID || got.Commit != commit || got.Repository != "file://"+repoDir ||
		len(got.Commands) != 1 || got.Commands[0] != "python train.py --lr=0.5 --epochs=2 --layers=3,4,5" ||
		params["lr"] != "float:0.5" || params["epochs"] != "integer:2" || params["layers"] != "integer:3,4,5" ||
		inputs["extra"] != "https://example.com/extra.csv" || inputs["data"] != "https://example.com/d.csv" {
		t.Errorf("execution = %+v, params %v, inputs %v", got, params, inputs)
	}

	for _, tt := range []struct {
		name string
		in   map[string]any
		want string
	}{
		{"unknown step", map[string]any{"step": "nope"}, "its steps: train, eval"},
		{"unknown parameter", map[string]any{"parameters": []any{map[string]any{"name": "lrate", "values": []string{"1"}}}}, "its parameters: lr, epochs, layers"},
		{"bad parameter value", map[string]any{"parameters": []any{map[string]any{"name": "epochs", "values": []string{"many"}}}}, `parameter "epochs": many is not an integer`},
		{"two values for one", map[string]any{"parameters": []any{map[string]any{"name": "lr", "values": []string{"1", "2"}}}}, `parameter "lr": takes one value`},
		{"unknown input", map[string]any{"inputs": []any{map[string]any{"name": "dta", "uris": []string{"https://example.com/x"}}}}, "its inputs: data, extra"},
		{"missing required input", map[string]any{"inputs": []any{}}, `input "data" of step train is required`},
		{"unknown environment", map[string]any{"environment": "gpu"}, `environment "gpu" is not enabled for project vision; its environments: cpu`},
		{"no commit", map[string]any{"commit": nil}, "commit: required"},
		{"unknown commit", map[string]any{"commit": strings.Repeat("a", 40)}, "commit"},
		{"commit and adhoc", map[string]any{"adhoc": "0192f3a4-0000-7000-8000-000000000001"}, "not both"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(tt.in)
			if len(r.Errors) == 0 || (r.code() != graphql.CodeInvalid && r.code() != graphql.CodeNotFound) || !strings.Contains(r.Errors[0].Message, tt.want) {
				t.Errorf("runStep = %+v; want INVALID naming %q", r.Errors, tt.want)
			}
		})
	}

	// A bad value blames the value, not the file.
	if r := run(map[string]any{"parameters": []any{map[string]any{"name": "epochs", "values": []string{"many"}}}}); len(r.Errors) == 0 ||
		r.Errors[0].Message != `parameter "epochs": many is not an integer: invalid` {
		t.Errorf("runStep (bad value) = %+v; want exactly the parameter and its problem", r.Errors)
	}

	// An invalid valohai.yaml is refused with its file and line.
	bad := commitFile(t, repoDir, "valohai.yaml", "- step:\n    name: x\n    image: busybox\n    command: \"true\"\n    bogus: 1\n")
	if r := run(map[string]any{"commit": bad}); r.code() != graphql.CodeInvalid || !strings.Contains(r.Errors[0].Message, "valohai.yaml:5") {
		t.Errorf("runStep (invalid yaml) = %+v; want INVALID naming valohai.yaml:5", r.Errors)
	}
	// A viewer may not run steps.
	viewer := e.token("bob")
	e.must(e.admin, `mutation($p: ID!) { setMember(project: $p, user: "bob", role: VIEWER) { position } }`, map[string]any{"p": pid}, nil)
	r = e.do(viewer, `mutation($in: RunStepInput!) { runStep(input: $in) { id } }`, map[string]any{"in": map[string]any{"project": pid, "step": "train", "commit": commit}})
	if r.code() != graphql.CodeForbidden {
		t.Errorf("runStep as a viewer = %+v; want FORBIDDEN", r.Errors)
	}
}
