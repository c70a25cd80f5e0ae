package valohaiyaml_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratahq/strata/adapters/valohaiyaml"
)

func mustParse(t *testing.T, name string) *valohaiyaml.Config {
	t.Helper()
	data, err := osReadFile("testdata/valid/" + name)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := valohaiyaml.Parse(name, data)
	if err != nil {
		t.Fatalf("Parse(%s) error = %v", name, err)
	}
	return cfg
}

func TestParse_structure(t *testing.T) {
	t.Run("timeouts", func(t *testing.T) {
		cfg := mustParse(t, "timeouts-example.yaml")
		got := map[string][2]time.Duration{}
		for _, s := range cfg.Steps {
			got[s.Name] = [2]time.Duration{s.TimeLimit, s.NoOutputTimeout}
		}
		want := map[string][2]time.Duration{
			"short-time-limit":          {300 * time.Second, 0},
			"big-no-output-timeout":     {0, 86400 * time.Second},
			"human-readable-time-limit": {time.Hour + 30*time.Minute + 5*time.Second, 48 * time.Hour},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("durations (-want +got):\n%s", diff)
		}
	})
	t.Run("multiple parameters", func(t *testing.T) {
		s := mustParse(t, "multiple-param.yaml").Step("example")
		want := []*valohaiyaml.Parameter{
			{Name: "unlabeled-samples", Type: "integer", Description: "How many unsupervised samples are used", Default: int64(60000), MultipleSeparator: ",", Line: 6},
			{Name: "encoder-layers", Type: "integer", Description: "List of layers for f", Multiple: "separate", MultipleSeparator: "-",
				Default: []any{int64(1000), int64(500), int64(250), int64(250), int64(250), int64(10)}, Line: 11},
			{Name: "denoising-cost-x", Type: "float", Description: "Weight of the denoising cost", Multiple: "separate", MultipleSeparator: ",",
				Default: []any{int64(1000), int64(1), 0.01, 0.01, 0.01, 0.01, 0.01}, Line: 18},
			{Name: "decoder-spec", Type: "string", Description: "List of decoding function types", PassAs: "--decoder-spec {v}", Multiple: "repeat",
				MultipleSeparator: ",", Default: []any{"gauss", "railgun"}, Choices: []any{"gauss", "railgun", "marshmallow", "scaffolding"}, Line: 25},
		}
		if diff := cmp.Diff(want, s.Parameters); diff != "" {
			t.Errorf("parameters (-want +got):\n%s", diff)
		}
	})
	t.Run("flags", func(t *testing.T) {
		s := mustParse(t, "flag-param-pass-as-example.yaml").Step("test")
		p := s.Parameter("case-insensitive")
		if p.Type != valohaiyaml.TypeFlag || !p.Optional || p.PassTrueAs != "--ignore-case" || p.PassFalseAs != "--case-sensitive" {
			t.Errorf("case-insensitive = %+v", p)
		}
	})
	t.Run("inputs", func(t *testing.T) {
		s := mustParse(t, "input-extras.yaml").Step("example")
		want := []*valohaiyaml.Input{
			{Name: "model", Default: []string{"s3://foo/model361100.pb"}, Filename: "model.pb", KeepDirectories: "none", Download: "always", Line: 6},
			{Name: "foos", Default: []string{"s3://secret-bucket/foos/**.quux"}, KeepDirectories: "full", Download: "always", Line: 9},
			{Name: "bars", Default: []string{"s3://secret-bucket/bars/**.quux"}, KeepDirectories: "suffix", Download: "always", Line: 13},
			{Name: "larges", Default: []string{"s3://foo/bigdata.tar"}, KeepDirectories: "none", Download: "on-demand", Line: 17},
		}
		if diff := cmp.Diff(want, s.Inputs); diff != "" {
			t.Errorf("inputs (-want +got):\n%s", diff)
		}
		if s.Inputs[0].Required() {
			t.Error("input with a default is required")
		}
	})
	t.Run("environment variables and environment", func(t *testing.T) {
		s := mustParse(t, "example3.yaml").Step("batch inference")
		want := []*valohaiyaml.EnvironmentVariable{
			{Name: "foo", Default: "bar", HasDefault: true, Optional: true, Line: 9},
			{Name: "baz", Default: "850", HasDefault: true, Optional: false, Line: 11},
		}
		if diff := cmp.Diff(want, s.EnvironmentVariables); diff != "" {
			t.Errorf("environment variables (-want +got):\n%s", diff)
		}
		if s.Environment != "g2.superduperlarge" || len(s.Inputs[1].Default) != 2 {
			t.Errorf("step = %+v", s)
		}
	})
	t.Run("mounts", func(t *testing.T) {
		s := mustParse(t, "mount-example.yaml").Step("test")
		want := []*valohaiyaml.Mount{
			{Source: "/foo", Destination: "/bar", Line: 6},
			{Source: "/baz", Destination: "/quux", Readonly: true, Line: 7},
			{Source: "hal.local:/dave", Destination: "/dave", Readonly: true, Type: "nfs", Options: map[string]any{"hot": true, "superhot": false}, Line: 10},
		}
		if diff := cmp.Diff(want, s.Mounts); diff != "" {
			t.Errorf("mounts (-want +got):\n%s", diff)
		}
	})
	t.Run("resources", func(t *testing.T) {
		s := mustParse(t, "step-with-resources.yaml").Steps[0]
		want := &valohaiyaml.Resources{
			CPU:     &valohaiyaml.MinMax{Min: f64(0.1), Max: f64(1)},
			Memory:  &valohaiyaml.MinMax{Min: f64(50), Max: f64(100)},
			Devices: map[string]float64{"nvidia.com/gpu": 1, "nvidia.com/cpu": 2},
		}
		if diff := cmp.Diff(want, s.Resources); diff != "" {
			t.Errorf("resources (-want +got):\n%s", diff)
		}
	})
	t.Run("pipeline edges and nodes", func(t *testing.T) {
		cfg := mustParse(t, "pipeline-example.yaml")
		p := cfg.Pipeline("My medium pipeline")
		want := []*valohaiyaml.Edge{
			{Source: valohaiyaml.Socket{Node: "batch1", Type: "parameter", Key: "aspect-ratio"}, Target: valohaiyaml.Socket{Node: "batch2", Type: "parameter", Key: "aspect-ratio"}, Line: 95},
			{Source: valohaiyaml.Socket{Node: "batch1", Type: "output", Key: "processed-images*"}, Target: valohaiyaml.Socket{Node: "batch2", Type: "input", Key: "training-images"}, Line: 97},
			{Source: valohaiyaml.Socket{Node: "batch2", Type: "output", Key: "processed-images*"}, Target: valohaiyaml.Socket{Node: "train", Type: "input", Key: "training-images"}, Line: 99},
			{Source: valohaiyaml.Socket{Node: "batch2", Type: "metadata", Key: "optimal_learning_rate"}, Target: valohaiyaml.Socket{Node: "train", Type: "parameter", Key: "learning_rate"}, Line: 101},
			{Source: valohaiyaml.Socket{Node: "batch1", Type: "input", Key: "training-labels*"}, Target: valohaiyaml.Socket{Node: "batch2", Type: "input", Key: "training-labels"},
				Configuration: map[string]any{"hello": "world"}, Line: 103},
			{Source: valohaiyaml.Socket{Node: "batch2", Type: "input", Key: "training-labels*"}, Target: valohaiyaml.Socket{Node: "train", Type: "input", Key: "training-labels"}, Line: 107},
			{Source: valohaiyaml.Socket{Node: "train", Type: "output", Key: "model.pb"}, Target: valohaiyaml.Socket{Node: "test", Type: "input", Key: "model"}, Line: 109},
		}
		if diff := cmp.Diff(want, p.Edges); diff != "" {
			t.Errorf("edges (-want +got):\n%s", diff)
		}
		if n := p.Node("batch2"); n.Override == nil || cmp.Diff([]string{"python batch_feature_extraction.py --minify"}, n.Override.Command) != "" {
			t.Errorf("batch2 override = %+v", n.Override)
		}
		dep := cfg.Pipeline("My deployment pipeline").Node("deploy-predictor")
		if dep.Type != valohaiyaml.NodeDeployment || dep.Deployment != "MyDeployment" || dep.Aliases[0] != "predictor-staging" || dep.Endpoints[0] != "predict-digit" {
			t.Errorf("deployment node = %+v", dep)
		}
		actions := cfg.Pipeline("Last action pipeline").Node("validate").Actions
		wantActions := []*valohaiyaml.NodeAction{
			{When: []string{"node-complete"}, Then: []string{"noop", "noop", "noop"}, Line: 124},
			{When: []string{"node-starting", "node-complete"}, If: []string{"a", "b", "c"}, Then: []string{"noop"}, Line: 129},
		}
		if diff := cmp.Diff(wantActions, actions); diff != "" {
			t.Errorf("actions (-want +got):\n%s", diff)
		}
	})
	t.Run("pipeline parameters", func(t *testing.T) {
		cfg := mustParse(t, "pipeline-with-parameters-example.yaml")
		got := map[string][]string{}
		for _, p := range cfg.Pipelines {
			for _, pp := range p.Parameters {
				got[p.Name+"/"+pp.Name] = pp.Targets
			}
		}
		if diff := cmp.Diff([]string{"train.parameter.id", "train_parallel.parameter.id"}, got["Example Pipeline with Parameters/id"]); diff != "" {
			t.Error(diff)
		}
		if diff := cmp.Diff([]string{"train.parameter.id"}, got["Short hand parameter target/id"]); diff != "" {
			t.Error(diff)
		}
		if diff := cmp.Diff([]string{"train.parameter.id"}, got["Short hand parameter target 2/id"]); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("tasks", func(t *testing.T) {
		cfg := mustParse(t, "task-example.yaml")
		t4 := cfg.Task("task 4 logspace")
		if t4.Type != "random_search" || t4.OnChildError != "stop-all-and-error" || *t4.ExecutionCount != 420 || !t4.ReuseChildren {
			t.Errorf("task 4 = %+v", t4)
		}
		if diff := cmp.Diff(map[string]any{"start": int64(25), "end": int64(25), "count": int64(4), "base": int64(10), "integerify": false}, t4.Parameters[0].Rules); diff != "" {
			t.Errorf("rules (-want +got):\n%s", diff)
		}
		sets := cfg.Task("parameter sets").ParameterSets
		if diff := cmp.Diff([]map[string]any{{"A": int64(5), "B": int64(6)}, {"A": int64(8), "B": int64(9)}, {"A": int64(72), "B": int64(42)}}, sets); diff != "" {
			t.Errorf("parameter sets (-want +got):\n%s", diff)
		}
		node := mustParse(t, "pipeline-with-task-blueprint-example.yaml").Pipeline("train-pipeline").Node("train")
		if node.Type != valohaiyaml.NodeTask || node.Task != "my-sweep" || node.OnError != "stop-all" || node.EdgeMergeMode != "replace" {
			t.Errorf("task node = %+v", node)
		}
	})
	t.Run("endpoints and deployments", func(t *testing.T) {
		cfg := mustParse(t, "endpoint-example.yaml")
		if e := cfg.Endpoint("server-endpoint"); e.Port != 1453 || cmp.Diff([]string{"python run_server.py"}, e.ServerCommand) != "" {
			t.Errorf("server-endpoint = %+v", e)
		}
		if e := cfg.Endpoint("wsgi-endpoint"); e.Port != 8000 || e.WSGI != "predict_wsgi:predict_wsgi" || e.Files[0].Path != "model.pb" {
			t.Errorf("wsgi-endpoint = %+v", e)
		}
		if e := cfg.Endpoint("ephemeral-storage-endpoint"); *e.Resources.EphemeralStorage.Max != 4096 {
			t.Errorf("ephemeral-storage-endpoint = %+v", e.Resources)
		}
		want := []*valohaiyaml.Toleration{{Key: "key1", Operator: "Equal", Value: "value1", Effect: "NoSchedule", Line: 44}}
		if diff := cmp.Diff(want, cfg.Endpoint("tolerant-endpoint").Tolerations); diff != "" {
			t.Errorf("tolerations (-want +got):\n%s", diff)
		}
		dep := mustParse(t, "pipeline-with-automatic-deployment-creation.yaml").Deployment("us-west-qa")
		if dep == nil || dep.Defaults["target"] != "acme-corp-us-west-cluster" {
			t.Errorf("deployment = %+v", dep)
		}
	})
}

// TestParse_problems covers checks the corpus does not: each case is a file
// and the problems it must give, as "line: severity: text fragment".
func TestParse_problems(t *testing.T) {
	const head = "- step:\n    name: s\n    image: busybox\n    command: run\n"
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"min greater than max", head + "    parameters:\n      - name: lr\n        type: float\n        min: 5\n        max: 1\n",
			[]string{`8: error: step "s": parameters: parameter "lr": min: 5 is greater than max 1`}},
		{"unknown step field", head + "    imagee: x\n", []string{`5: error: step "s": imagee: unknown field`}},
		{"flag multiple", head + "    parameters:\n      - name: f\n        type: flag\n        multiple: repeat\n",
			[]string{`8: error: step "s": parameters: parameter "f": multiple: flag parameters can't be multiple`}},
		{"optional flag warns", head + "    parameters:\n      - name: f\n        type: flag\n        optional: true\n",
			[]string{`8: warning: step "s": parameters: parameter "f": optional: has no effect on flag-type parameters`}},
		{"bad integer default warns", head + "    parameters:\n      - name: value\n        type: integer\n        default: zoom\n",
			[]string{`8: warning: step "s": parameters: parameter "value": default: zoom is not an integer`}},
		{"default above max warns", head + "    parameters:\n      - name: value\n        type: integer\n        max: 100\n        default: 1337\n",
			[]string{`9: warning: step "s": parameters: parameter "value": default: 1337 is greater than the maximum allowed (100)`}},
		{"pass-true-as on non-flag warns", head + "    parameters:\n      - name: v\n        pass-true-as: --v\n",
			[]string{`7: warning: step "s": parameters: parameter "v": pass-true-as: has no effect on non-flag parameters`}},
		{"bad pass-as", head + "    parameters:\n      - name: v\n        pass-as: --v={valeu}\n",
			[]string{`7: error: step "s": parameters: parameter "v": pass-as: unknown placeholder {valeu}`}},
		{"duplicate step", head + head, []string{`6: warning: step "s": duplicate step name (first at line 2)`}},
		{"unknown top-level item warns", "- stepp:\n    name: x\n", []string{`1: warning: item #1: ignored: no known item type among its keys ("stepp")`}},
		{"top-level not a list", "step:\n  name: x\n", []string{`1: error: the file must be a list of items`}},
		{"empty file", "", []string{`0: error: file is empty`}},
		{"two kinds in one item", "- step: {name: a, image: b, command: c}\n  endpoint: {name: e, image: i, wsgi: w}\n",
			[]string{`2: error: item #1: holds both "step" and "endpoint"`}},
		{"bad duration", head + "    time-limit: 5 fortnights\n", []string{`5: error: step "s": time-limit: duration "5 fortnights": unknown unit "fortnights"`}},
		{"duration without unit", head + "    time-limit: \"300\"\n", []string{`5: error: step "s": time-limit: duration "300": "300" has no unit`}},
		{"float duration", head + "    time-limit: 1.5\n", []string{`5: error: step "s": time-limit: must be integer seconds or a duration`}},
		{"bad mount", head + "    mounts:\n      - foo:bar\n", []string{`6: error: step "s": mounts[0]: "foo:bar" must be "/source:/destination"`}},
		{"relative mount destination", head + "    mounts:\n      - {source: /a, destination: b}\n", []string{`6: error: step "s": mounts[0]: destination: "b" must be an absolute path`}},
		{"device below one", head + "    resources:\n      devices:\n        nvidia.com/gpu: 0\n", []string{`7: error: step "s": resources: devices: nvidia.com/gpu: 0 is less than the minimum of 1`}},
		{"ephemeral storage only on endpoints", head + "    resources:\n      ephemeral-storage: {max: 1}\n", []string{`6: error: step "s": resources: ephemeral-storage: unknown field`}},
		{"bad input keep-directories", head + "    inputs:\n      - name: i\n        keep-directories: some\n", []string{`7: error: step "s": inputs: input "i": keep-directories: "some" is not one of`}},
		{"keep-directories true", head + "    inputs:\n      - name: i\n        keep-directories: true\n", nil},
		{"autorestart without environment", head + "    autorestart: true\n", []string{`2: error: step "s": autorestart: missing "environment"`}},
		{"yaml 1.1 boolean as string", "- step:\n    name: on\n    image: b\n    command: c\n", []string{`2: error: step "on": name: must be a string, got boolean on`}},
		{"quoted yes is a string", "- step:\n    name: 'on'\n    image: b\n    command: c\n", nil},
		{"duplicate key warns", head + "    image: other\n", []string{`5: warning: step "s": image: duplicate key; the last value wins`}},
		{"merge keys", "- step: &base\n    name: a\n    image: b\n    command: c\n- step:\n    <<: *base\n    name: d\n", nil},
		{"edge to unknown node and type", "- pipeline:\n    name: p\n    nodes: []\n    edges:\n      - [a.outputs.x, b.input.y]\n", []string{
			`5: error: pipeline "p": edge a.outputs.x -> b.input.y: source node "a" does not exist`,
			`5: error: pipeline "p": edge a.outputs.x -> b.input.y: source type "outputs" is not one of`,
			`5: error: pipeline "p": edge a.outputs.x -> b.input.y: target node "b" does not exist`,
		}},
		{"node without type", "- pipeline:\n    name: p\n    nodes:\n      - name: n\n        step: s\n    edges: []\n", []string{`4: error: pipeline "p": nodes: node "n": type: missing: must be one of`}},
		{"deployment node with step", "- pipeline:\n    name: p\n    nodes:\n      - {name: n, type: deployment, deployment: d, step: s}\n    edges: []\n",
			[]string{`4: error: pipeline "p": nodes: node "n": step: unknown field`}},
		{"deployment node cannot retry", "- pipeline:\n    name: p\n    nodes:\n      - {name: n, type: deployment, deployment: d, on-error: retry}\n    edges: []\n",
			[]string{`4: error: pipeline "p": nodes: node "n": on-error: "retry" is not one of`}},
		{"duplicate node", head + "- pipeline:\n    name: p\n    nodes:\n      - {name: n, type: execution, step: s}\n      - {name: n, type: execution, step: s}\n    edges: []\n",
			[]string{`9: error: pipeline "p": node "n": duplicate node name`}},
		{"override extra field", head + "- pipeline:\n    name: p\n    nodes:\n      - name: n\n        type: execution\n        step: s\n        override:\n          training-images: s3://x\n    edges: []\n",
			[]string{`12: error: pipeline "p": nodes: node "n": override: training-images: unknown field in override`}},
		{"targetless pipeline parameter warns", head + "- pipeline:\n    name: p\n    parameters:\n      - name: id\n    nodes: []\n    edges: []\n",
			[]string{`8: warning: pipeline "p": parameter "id": no targets`}},
		{"pipeline parameter unknown step parameter", head + "- pipeline:\n    name: p\n    parameters:\n      - {name: id, target: n.parameter.id}\n    nodes:\n      - {name: n, type: execution, step: s}\n    edges: []\n",
			[]string{`8: error: pipeline "p": parameter "id": target: "n.parameter.id": parameter "id" does not exist in step "s"`}},
		{"task node with step and task", head + "- pipeline:\n    name: p\n    nodes:\n      - {name: n, type: task, step: s, task: t}\n    edges: []\n",
			[]string{`8: error: pipeline "p": nodes: node "n": has both "step" and "task"`, `8: error: pipeline "p": node "n": task: task "t" does not exist`}},
		{"action if expression", head + "- pipeline:\n    name: p\n    nodes:\n      - name: n\n        type: execution\n        step: s\n        actions:\n          - {when: node-complete, if: \"metadata.x <\", then: stop-pipeline}\n    edges: []\n",
			[]string{`12: error: pipeline "p": nodes: node "n": actions[0]: if: "metadata.x <" is not a valid expression`}},
		{"action unknown then warns", head + "- pipeline:\n    name: p\n    nodes:\n      - name: n\n        type: execution\n        step: s\n        actions:\n          - {when: node-complete, then: explode}\n    edges: []\n",
			[]string{`12: warning: pipeline "p": nodes: node "n": actions[0]: then: "explode" is not well-known`}},
		{"endpoint needs server-command or wsgi", "- endpoint:\n    name: ee\n    image: i\n", []string{`2: error: endpoint "ee": missing "server-command" or "wsgi"`}},
		{"endpoint port range", "- endpoint:\n    name: ee\n    image: i\n    wsgi: w\n    port: 80\n", []string{`5: error: endpoint "ee": port: 80 is outside 1025..65535`}},
		{"deployment needs a target", "- deployment:\n    name: d\n    defaults: {}\n", []string{`3: error: deployment "d": defaults: missing required field "target"`}},
		{"task type", head + "- task:\n    name: t\n    step: s\n    type: exhaustive\n    parameters: []\n", []string{`8: error: task "t": type: "exhaustive" is not one of`}},
		{"task needs parameters", head + "- task:\n    name: t\n    step: s\n", []string{`6: error: task "t": missing required field "parameters" or "parameter-sets"`}},
		{"parameter sets outside manual search warn", head + "- task:\n    name: t\n    step: s\n    parameter-sets: [{a: 1}]\n",
			[]string{`8: warning: task "t": parameter-sets: only make sense with manual search`}},
		{"bayesian-only key warns", head + "- task:\n    name: t\n    step: s\n    parameters: []\n    optimization-target-metric: loss\n",
			[]string{`9: warning: task "t": optimization-target-metric: only makes sense for Bayesian TPE tasks`}},
		{"alias to itself", "- &a [*a]\n", []string{`1: error: anchor "a" contains an alias to itself`}},
		{"two documents", head + "---\n" + head, []string{`error: invalid YAML: the file holds more than one document`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := valohaiyaml.Lint("v.yaml", []byte(tt.yaml))
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if len(problems) != len(tt.want) {
				t.Errorf("Lint() gave %d problems, want %d:\n%s", len(problems), len(tt.want), strings.Join(got, "\n"))
			}
			for _, w := range tt.want {
				line, rest, _ := strings.Cut(w, ": ")
				prefix := "v.yaml:" + line + ": "
				switch line {
				case "0":
					prefix = "v.yaml: "
				case "error":
					prefix, rest = "v.yaml", w
				}
				rest = strings.TrimPrefix(rest, "error: ")
				found := false
				for _, g := range got {
					found = found || strings.HasPrefix(g, prefix) && strings.Contains(g, rest)
				}
				if !found {
					t.Errorf("no problem %q; got:\n%s", prefix+rest, strings.Join(got, "\n"))
				}
			}
			for _, p := range problems {
				wantSev := valohaiyaml.Error
				for _, w := range tt.want {
					if strings.Contains(w, ": warning: ") && strings.Contains(p.String(), strings.SplitN(w, ": warning: ", 2)[1]) {
						wantSev = valohaiyaml.Warning
					}
				}
				if p.Severity != wantSev {
					t.Errorf("problem %s has severity %v, want %v", p, p.Severity, wantSev)
				}
			}
		})
	}
}

func TestParse_warningsOnly(t *testing.T) {
	data := []byte("- step:\n    name: s\n    image: b\n    command: c\n- step:\n    name: s\n    image: b\n    command: c\n")
	cfg, problems, err := valohaiyaml.Parse("v.yaml", data)
	if err != nil || cfg == nil {
		t.Fatalf("Parse() = %v, %v; want a config and no error", cfg, err)
	}
	if len(problems) != 1 || problems[0].Severity != valohaiyaml.Warning || valohaiyaml.HasErrors(problems) {
		t.Errorf("Parse() problems = %v, want one warning", problems)
	}
}

func TestInvalidError(t *testing.T) {
	_, problems, err := valohaiyaml.Parse("v.yaml", []byte("- step:\n    name: s\n"))
	var ie *valohaiyaml.InvalidError
	if !errors.As(err, &ie) || !errors.Is(err, valohaiyaml.ErrInvalid) {
		t.Fatalf("Parse() error = %v, want *InvalidError matching ErrInvalid", err)
	}
	if diff := cmp.Diff(problems, ie.Problems); diff != "" {
		t.Errorf("InvalidError.Problems (-want +got):\n%s", diff)
	}
	want := `parse v.yaml: v.yaml:2: step "s": missing required field "image" (and 1 more errors)`
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestProblem_String(t *testing.T) {
	tests := []struct {
		p    valohaiyaml.Problem
		want string
	}{
		{valohaiyaml.Problem{File: "a.yaml", Line: 12, Field: `step "train": parameter "lr": min`, Message: "5 is greater than max 1"},
			`a.yaml:12: step "train": parameter "lr": min: 5 is greater than max 1`},
		{valohaiyaml.Problem{File: "a.yaml", Line: 3, Field: "x", Message: "m", Severity: valohaiyaml.Warning}, "a.yaml:3: warning: x: m"},
		{valohaiyaml.Problem{File: "a.yaml", Message: "file is empty"}, "a.yaml: file is empty"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
