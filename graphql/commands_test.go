package graphql_test

import (
	"strings"
	"testing"

	"github.com/stratahq/strata/graphql"
)

// wantError checks that r failed with code and a message naming what.
func wantError(t *testing.T, what string, r response, code, naming string) {
	t.Helper()
	if r.code() != code || !strings.Contains(r.Errors[0].Message, naming) {
		t.Errorf("%s: errors %+v, want %s naming %q", what, r.Errors, code, naming)
	}
}

func TestServer_Tasks(t *testing.T) {
	f := newFixture(t)
	const create = `mutation($p: ID!, $e: ID!, $type: TaskType!, $v: [VariantInput!], $sets: [JSON!], $n: Int) {
		createTask(input: {execution: {project: $p, step: "train", image: "python:3.12", repository: "https://example.com/r.git",
			commit: "0123456789abcdef0123456789abcdef01234567", commands: ["python train.py"], environment: $e,
			parameters: [{name: "seed", values: ["7"]}]}, type: $type, variants: $v, parameterSets: $sets, executionCount: $n}) {
			id number position executions { id number } } }`
	vars := func(typ string, v, sets any) map[string]any {
		return map[string]any{"p": f.pid, "e": f.envID, "type": typ, "v": v, "sets": sets}
	}
	grid := []map[string]any{
		{"name": "lr", "style": "MULTIPLE", "items": []string{"0.1", "0.01"}},
		{"name": "epochs", "style": "LINEAR", "start": 1, "end": 2, "step": 1},
	}
	if r := f.do(f.bob, create, vars("GRID_SEARCH", grid, nil)); r.code() != graphql.CodeForbidden {
		t.Errorf("viewer creates a task: code %q, want FORBIDDEN", r.code())
	}
	var ct struct {
		CreateTask struct {
			ID         string
			Position   int
			Number     int
			Executions []struct {
				ID     string
				Number int
			}
		}
	}
	f.must(f.alice, create, vars("GRID_SEARCH", grid, nil), &ct)
	if ct.CreateTask.Number != 1 || len(ct.CreateTask.Executions) != 4 || ct.CreateTask.Executions[0].Number != 2 {
		t.Fatalf("createTask = %+v, want !1 with executions #2…#5", ct.CreateTask)
	}
	var x struct {
		Execution struct {
			Task       string
			Parameters []struct {
				Name   string
				Values []string
			}
		}
	}
	f.must(f.alice, `query($x: ID!) { execution(id: $x) { task parameters { name values } } }`, map[string]any{"x": ct.CreateTask.Executions[1].ID}, &x)
	params := map[string]string{}
	for _, p := range x.Execution.Parameters {
		params[p.Name] = strings.Join(p.Values, ",")
	}
	if x.Execution.Task != ct.CreateTask.ID || params["lr"] != "0.1" || params["epochs"] != "2" || params["seed"] != "7" {
		t.Errorf("second execution: task %s, parameters %v; want lr 0.1, epochs 2, seed 7", x.Execution.Task, params)
	}

	var manual struct {
		CreateTask struct {
			ID         string
			Position   int
			Executions []struct{ ID string }
		}
	}
	f.must(f.alice, create, vars("MANUAL_SEARCH", nil, []any{map[string]any{"lr": 0.5}, map[string]any{"lr": "0.25", "opt": "sgd"}}), &manual)
	if len(manual.CreateTask.Executions) != 2 {
		t.Fatalf("manual task = %+v, want 2 executions", manual.CreateTask)
	}

	// Stopping a task stops its executions that have not ended; asOf shows it before.
	before := manual.CreateTask.Position
	tid := manual.CreateTask.ID
	if r := f.do(f.bob, `mutation($t: ID!) { stopTask(id: $t) { position } }`, map[string]any{"t": tid}); r.code() != graphql.CodeForbidden {
		t.Errorf("viewer stops a task: code %q, want FORBIDDEN", r.code())
	}
	f.must(f.alice, `mutation($t: ID!) { stopTask(id: $t) { position } }`, map[string]any{"t": tid}, nil)
	var tk struct {
		Now struct {
			StopRequested bool
			Counter       string
			Planned       int
			ParameterSets []map[string]string
		} `json:"now"`
		Before  struct{ StopRequested bool } `json:"before"`
		List    []struct{ ID string }        `json:"list"`
		Early   []struct{ ID string }        `json:"early"`
		Stopped struct {
			Status string
		} `json:"stopped"`
	}
	f.must(f.alice, `query($p: ID!, $t: ID!, $at: Position!, $x: ID!) {
		now: task(id: $t) { stopRequested counter planned parameterSets }
		before: task(id: $t, asOf: {position: $at}) { stopRequested }
		list: tasks(project: $p) { id }
		early: tasks(project: $p, asOf: {position: $at}) { id }
		stopped: execution(id: $x) { status } }`,
		map[string]any{"p": f.pid, "t": tid, "at": before, "x": manual.CreateTask.Executions[0].ID}, &tk)
	if !tk.Now.StopRequested || tk.Before.StopRequested || tk.Now.Counter != "!2" || tk.Now.Planned != 2 || tk.Stopped.Status != "STOPPED" {
		t.Errorf("task now %+v, before %+v, its execution %+v", tk.Now, tk.Before, tk.Stopped)
	}
	if len(tk.Now.ParameterSets) != 2 || tk.Now.ParameterSets[0]["lr"] != "0.5" || tk.Now.ParameterSets[1]["opt"] != "sgd" {
		t.Errorf("parameter sets = %v", tk.Now.ParameterSets)
	}
	if len(tk.List) != 2 || len(tk.Early) != 2 {
		t.Errorf("tasks now %d, as of %d: %d; want 2 and 2", len(tk.List), before, len(tk.Early))
	}
	if r := f.do(f.alice, `query($p: ID!) { tasks(project: $p, asOf: {position: 3}) { id } }`, map[string]any{"p": f.pid}); len(r.Errors) > 0 || strings.Contains(string(r.Data), "id") {
		t.Errorf("tasks before any: %s %+v, want none", r.Data, r.Errors)
	}

	// Bad input names the field and creates nothing.
	wantError(t, "a variant without items", f.do(f.alice, create, vars("GRID_SEARCH", []map[string]any{{"name": "lr", "style": "MULTIPLE"}}, nil)), graphql.CodeInvalid, `"lr"`)
	wantError(t, "too many executions", f.do(f.alice, create, vars("GRID_SEARCH", []map[string]any{{"name": "i", "style": "LINEAR", "start": 0, "end": 1000, "step": 1}}, nil)), graphql.CodeInvalid, "1001 executions")
	wantError(t, "a set that is no object", f.do(f.alice, create, vars("MANUAL_SEARCH", nil, []any{"lr=1"})), graphql.CodeInvalid, "parameterSets[0]")
	wantError(t, "random search without a count", f.do(f.alice, create, vars("RANDOM_SEARCH", grid, nil)), graphql.CodeInvalid, "execution count")
	wantError(t, "an unknown task", f.do(f.alice, `mutation { stopTask(id: "0190f5a2-0000-7000-8000-0000000000c9") { position } }`, nil), graphql.CodeNotFound, "task")
	var count struct{ Tasks []struct{ ID string } }
	f.must(f.alice, `query($p: ID!) { tasks(project: $p) { id } }`, map[string]any{"p": f.pid}, &count)
	if len(count.Tasks) != 2 {
		t.Errorf("%d tasks after refused creates, want 2", len(count.Tasks))
	}
}

func TestServer_ProjectStoresEnvironmentsDatumsDatasets(t *testing.T) {
	f := newFixture(t)
	p := map[string]any{"p": f.pid}

	// Store overrides: the admin's to set and remove.
	setOverride := `mutation($p: ID!, $s: String!) { setStoreOverride(project: $p, name: "archive", store: $s) { position } }`
	if r := f.do(f.bob, setOverride, map[string]any{"p": f.pid, "s": "s3://cold/strata"}); r.code() != graphql.CodeForbidden {
		t.Errorf("viewer sets a store override: code %q, want FORBIDDEN", r.code())
	}
	wantError(t, "a store with a wildcard", f.do(f.alice, setOverride, map[string]any{"p": f.pid, "s": "s3://cold/*.csv"}), graphql.CodeInvalid, "store")
	f.must(f.alice, setOverride, map[string]any{"p": f.pid, "s": "s3://cold/strata"}, nil)
	var pr struct {
		Project struct {
			StoreOverrides []struct{ Name, Store string }
			Environments   []string
		}
	}
	f.must(f.bob, `query($p: ID!) { project(id: $p) { storeOverrides { name store } environments } }`, p, &pr)
	if len(pr.Project.StoreOverrides) != 1 || pr.Project.StoreOverrides[0].Store != "s3://cold/strata" {
		t.Errorf("store overrides = %+v", pr.Project.StoreOverrides)
	}
	f.must(f.alice, `mutation($p: ID!) { removeStoreOverride(project: $p, name: "archive") { position } }`, p, nil)

	// Disabling an environment keeps new executions off it.
	f.must(f.alice, `mutation($p: ID!, $e: ID!) { disableEnvironment(project: $p, environment: $e) { position } }`, map[string]any{"p": f.pid, "e": f.envID}, nil)
	f.must(f.bob, `query($p: ID!) { project(id: $p) { storeOverrides { name store } environments } }`, p, &pr)
	if len(pr.Project.StoreOverrides) != 0 || len(pr.Project.Environments) != 0 {
		t.Errorf("after removing the override and disabling the environment: %+v", pr.Project)
	}
	wantError(t, "an execution on a disabled environment", f.do(f.alice, `mutation($p: ID!, $e: ID!) { createExecution(input: {project: $p, step: "s", image: "i",
		commands: ["true"], environment: $e, repository: "https://example.com/r.git", commit: "0123456789abcdef0123456789abcdef01234567"}) { id } }`,
		map[string]any{"p": f.pid, "e": f.envID}), graphql.CodeInvalid, "environment")
	wantError(t, "disable a malformed environment", f.do(f.alice, `mutation($p: ID!) { disableEnvironment(project: $p, environment: "gpu") { position } }`, p), graphql.CodeInvalid, "environment id")

	// Datum tags and properties: editors write them, viewers read them.
	d := map[string]any{"d": f.d1}
	if r := f.do(f.bob, `mutation($d: ID!) { addDatumTags(datum: $d, tags: ["x"]) { position } }`, d); r.code() != graphql.CodeForbidden {
		t.Errorf("viewer tags a datum: code %q, want FORBIDDEN", r.code())
	}
	f.must(f.alice, `mutation($d: ID!) { addDatumTags(datum: $d, tags: ["train", "v1", "gold"]) { position } }`, d, nil)
	f.must(f.alice, `mutation($d: ID!) { removeDatumTags(datum: $d, tags: ["v1", "absent"]) { position } }`, d, nil)
	f.must(f.alice, `mutation($d: ID!) { setDatumProperties(datum: $d, properties: {rows: 1200, source: "camera-2", draft: true}) { position } }`, d, nil)
	f.must(f.alice, `mutation($d: ID!) { setDatumProperties(datum: $d, properties: {draft: null}) { position } }`, d, nil)
	var dt struct {
		Datum struct {
			Tags       []string
			Properties map[string]any
		}
	}
	f.must(f.bob, `query($d: ID!) { datum(id: $d) { tags properties } }`, d, &dt)
	if strings.Join(dt.Datum.Tags, ",") != "train,gold" || dt.Datum.Properties["rows"] != 1200.0 || dt.Datum.Properties["source"] != "camera-2" || dt.Datum.Properties["draft"] != nil {
		t.Errorf("datum = %+v, want tags train, gold and properties rows, source", dt.Datum)
	}
	wantError(t, "properties that are no object", f.do(f.alice, `mutation($d: ID!) { setDatumProperties(datum: $d, properties: [1, 2]) { position } }`, d), graphql.CodeInvalid, "properties")
	wantError(t, "an empty tag", f.do(f.alice, `mutation($d: ID!) { addDatumTags(datum: $d, tags: [""]) { position } }`, d), graphql.CodeInvalid, "tag")
	wantError(t, "an unknown datum", f.do(f.alice, `mutation { addDatumTags(datum: "0190f5a2-0000-7000-8000-0000000000d9", tags: ["x"]) { position } }`, nil), graphql.CodeNotFound, "datum")

	// Dataset properties, of the dataset and of a version.
	f.must(f.alice, `mutation($p: ID!, $d: ID!) { createDatasetVersion(input: {project: $p, dataset: "images", version: "v1", add: [$d]}) { position } }`,
		map[string]any{"p": f.pid, "d": f.d1}, nil)
	setDS := `mutation($p: ID!, $v: String, $props: JSON!) { setDatasetProperties(project: $p, dataset: "images", version: $v, properties: $props) { position } }`
	if r := f.do(f.bob, setDS, map[string]any{"p": f.pid, "props": map[string]any{"owner": "vision"}}); r.code() != graphql.CodeForbidden {
		t.Errorf("viewer sets dataset properties: code %q, want FORBIDDEN", r.code())
	}
	f.must(f.alice, setDS, map[string]any{"p": f.pid, "props": map[string]any{"owner": "vision"}}, nil)
	f.must(f.alice, setDS, map[string]any{"p": f.pid, "v": "v1", "props": map[string]any{"reviewed": true}}, nil)
	var ds struct {
		Dataset struct{ Properties map[string]any }
	}
	f.must(f.bob, `query($p: ID!) { dataset(project: $p, name: "images") { properties } }`, p, &ds)
	if ds.Dataset.Properties["owner"] != "vision" {
		t.Errorf("dataset properties = %v", ds.Dataset.Properties)
	}
	wantError(t, "an unknown version", f.do(f.alice, setDS, map[string]any{"p": f.pid, "v": "v9", "props": map[string]any{"x": 1}}), graphql.CodeNotFound, "v9")
	wantError(t, "an unknown dataset", f.do(f.alice, `mutation($p: ID!) { setDatasetProperties(project: $p, dataset: "nope", properties: {x: 1}) { position } }`, p), graphql.CodeNotFound, "nope")
}

func TestServer_EnvironmentsAsOf(t *testing.T) {
	f := newFixture(t)
	var up struct{ UpdateEnvironment struct{ Position int } }
	f.must(f.admin, `mutation($e: ID!) { updateEnvironment(id: $e, input: {name: "CPU small", cpus: 2, memoryBytes: 4294967296, pricePerHour: "1.25"}) { position } }`,
		map[string]any{"e": f.envID}, &up)
	var envs struct {
		Now    []struct{ PricePerHour string } `json:"now"`
		Before struct{ PricePerHour string }   `json:"before"`
		Early  []struct{ Slug string }         `json:"early"`
	}
	f.must(f.bob, `query($e: ID!, $at: Position!) { now: environments { pricePerHour } before: environment(id: $e, asOf: {position: $at}) { pricePerHour } early: environments(asOf: {position: 1}) { slug } }`,
		map[string]any{"e": f.envID, "at": up.UpdateEnvironment.Position - 1}, &envs)
	if len(envs.Now) != 1 || envs.Now[0].PricePerHour != "1.25" || envs.Before.PricePerHour != "0.9" || len(envs.Early) != 0 {
		t.Errorf("environments now %+v, before the update %+v, at position 1 %+v", envs.Now, envs.Before, envs.Early)
	}
	wantError(t, "an environment before it existed", f.do(f.bob, `query($e: ID!) { environment(id: $e, asOf: {position: 1}) { slug } }`, map[string]any{"e": f.envID}), graphql.CodeNotFound, "environment")
}
