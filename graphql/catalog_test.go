package graphql_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/domain/task"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/graphql"
	"github.com/stratahq/strata/runner"
)

// mustExecute runs cmd on stream straight through the log, as the runner or a reactor
// would, outside the API.
func mustExecute[S any, C any, E events.Event](t *testing.T, e *env, stream events.StreamID, decide func(S, C) ([]E, error), evolve func(S, E) S, cmd C) events.Position {
	t.Helper()
	res, err := events.Execute(context.Background(), e.log, e.codec, stream, events.Decider[S, C, E]{Decide: decide, Evolve: evolve}, cmd, events.Meta{Actor: "runner"})
	if err != nil {
		t.Fatalf("execute %T on %s: %v", cmd, stream, err)
	}
	return res.Last()
}

// fixture is a project with alice (admin) and bob (viewer), two datums, an environment
// and one started execution.
type fixture struct {
	*env
	alice, bob, pid, envID, xid, d1, d2 string
}

func newFixture(t *testing.T) *fixture {
	e := newEnv(t, graphql.Config{})
	f := &fixture{env: e, alice: e.token("alice"), bob: e.token("bob")}
	var cp struct{ CreateProject struct{ ID string } }
	e.must(f.alice, `mutation { createProject(input: {slug: "vision", name: "Vision"}) { id } }`, nil, &cp)
	f.pid = cp.CreateProject.ID
	e.must(f.alice, `mutation($p: ID!) { setMember(project: $p, user: "bob", role: VIEWER) { position } }`, map[string]any{"p": f.pid}, nil)
	ctx := app.WithActor(context.Background(), "alice")
	up := func(content string) string {
		res, err := e.svc.Upload(ctx, app.Upload{Project: domain.ProjectID(f.pid), Name: "model.pb", Content: strings.NewReader(content)})
		if err != nil {
			t.Fatal(err)
		}
		return string(res.Datum.ID)
	}
	f.d1, f.d2 = up("one"), up("two")
	var ce struct{ CreateEnvironment struct{ ID string } }
	e.must(e.admin, `mutation { createEnvironment(input: {slug: "cpu-small", name: "CPU small", cpus: 2, memoryBytes: 4294967296, pricePerHour: "0.9"}) { id position } }`, nil, &ce)
	f.envID = ce.CreateEnvironment.ID
	e.must(f.alice, `mutation($p: ID!, $e: ID!) { enableEnvironment(project: $p, environment: $e) { position } }`, map[string]any{"p": f.pid, "e": f.envID}, nil)
	var cx struct{ CreateExecution struct{ ID string } }
	e.must(f.alice, `mutation($p: ID!, $e: ID!, $in: String!) { createExecution(input: {project: $p, step: "train", image: "python:3.12",
		repository: "https://example.com/r.git", commit: "0123456789abcdef0123456789abcdef01234567", commands: ["python train.py"], environment: $e, inputs: [{name: "model", uris: [$in]}]}) { id } }`,
		map[string]any{"p": f.pid, "e": f.envID, "in": "datum://" + f.d1}, &cx)
	f.xid = cx.CreateExecution.ID
	stream := app.ExecutionStream(domain.ExecutionID(f.xid))
	now := time.Now().UTC()
	mustExecute(t, e, stream, execution.Decide, execution.Evolve, execution.Command(execution.Queue{At: now}))
	mustExecute(t, e, stream, execution.Decide, execution.Evolve, execution.Command(execution.Start{Host: "h1", At: now}))
	return f
}

func (f *fixture) recordMetadata(t *testing.T, points ...string) events.Position {
	t.Helper()
	var ps []execution.MetadataPoint
	for i, p := range points {
		var values map[string]json.RawMessage
		if err := json.Unmarshal([]byte(p), &values); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, execution.MetadataPoint{Time: time.Date(2025, 1, 1, 0, 0, i, 0, time.UTC), Values: values})
	}
	return mustExecute(t, f.env, app.ExecutionStream(domain.ExecutionID(f.xid)), execution.Decide, execution.Evolve, execution.Command(execution.RecordMetadata{Points: ps}))
}

func (f *fixture) download(t *testing.T, token, file string, at events.Position) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.url+"/executions/"+f.xid+"/"+file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	f.waitFor(t, at)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor waits until the projections reached position p.
func (f *fixture) waitFor(t *testing.T, p events.Position) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": "{ head }"})
	if r := f.postAt(f.alice, body, p); len(r.Errors) > 0 {
		t.Fatalf("wait for position %d: %+v", p, r.Errors)
	}
}

func TestServer_Metadata(t *testing.T) {
	f := newFixture(t)
	f.recordMetadata(t, `{"loss": 0.9, "epoch": 1}`, `{"loss": 0.5, "epoch": 2, "note": "a,b"}`)
	at := f.recordMetadata(t, `{"acc": 0.7}`)
	f.waitFor(t, at)

	var md struct {
		Metadata struct {
			Points []struct {
				Time   time.Time
				Values map[string]any
			}
			Keys   []string
			Latest map[string]any
		}
	}
	f.must(f.bob, `query($x: ID!) { metadata(execution: $x) { points { time values } keys latest } }`, map[string]any{"x": f.xid}, &md)
	m := md.Metadata
	if len(m.Points) != 3 || m.Points[0].Values["loss"] != 0.9 || m.Points[2].Values["acc"] != 0.7 {
		t.Errorf("points = %+v", m.Points)
	}
	if strings.Join(m.Keys, ",") != "acc,epoch,loss,note" || m.Latest["loss"] != 0.5 || m.Latest["acc"] != 0.7 || m.Latest["epoch"] != float64(2) {
		t.Errorf("keys %v latest %v", m.Keys, m.Latest)
	}

	t.Run("csv download", func(t *testing.T) {
		status, body := f.download(t, f.bob, "metadata.csv", at)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || strings.Join(rows[0], ",") != "_time,acc,epoch,loss,note" || rows[2][4] != "a,b" || rows[1][3] != "0.9" || rows[1][1] != "" {
			t.Errorf("csv = %q", rows)
		}
	})
	t.Run("json download", func(t *testing.T) {
		status, body := f.download(t, f.bob, "metadata.json", at)
		var got []map[string]any
		if status != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
			t.Fatalf("status %d: %s", status, body)
		}
		if len(got) != 3 || got[0]["_time"] != "2025-01-01T00:00:00Z" || got[1]["note"] != "a,b" {
			t.Errorf("json = %v", got)
		}
	})
	t.Run("download refused", func(t *testing.T) {
		carol := f.token("carol")
		for _, tt := range []struct {
			name, token, file string
			status            int
			code              string
		}{
			{"no token", "", "metadata.csv", http.StatusUnauthorized, graphql.CodeUnauthenticated},
			{"no member", carol, "metadata.json", http.StatusForbidden, graphql.CodeForbidden},
			{"unknown format", f.bob, "metadata.xml", http.StatusNotFound, graphql.CodeNotFound},
		} {
			status, body := f.download(t, tt.token, tt.file, 0)
			if status != tt.status || !strings.Contains(body, tt.code) {
				t.Errorf("%s: status %d body %s, want %d %s", tt.name, status, body, tt.status, tt.code)
			}
		}
	})
	if r := f.do(f.token("carol"), `query($x: ID!) { metadata(execution: $x) { keys } }`, map[string]any{"x": f.xid}); r.code() != graphql.CodeForbidden {
		t.Errorf("non-member metadata: code %q, want FORBIDDEN", r.code())
	}
}

func TestServer_DatasetsDeploymentsImpact(t *testing.T) {
	f := newFixture(t)
	create := `mutation($p: ID!, $v: String!, $from: String, $add: [ID!], $al: [String!]) {
		createDatasetVersion(input: {project: $p, dataset: "images", version: $v, from: $from, add: $add, aliases: $al}) { dataset version position } }`
	if r := f.do(f.bob, create, map[string]any{"p": f.pid, "v": "v1", "add": []string{f.d1}}); r.code() != graphql.CodeForbidden {
		t.Errorf("viewer creates a dataset version: code %q, want FORBIDDEN", r.code())
	}
	var v1 struct {
		CreateDatasetVersion struct{ Dataset, Version string }
	}
	f.must(f.alice, create, map[string]any{"p": f.pid, "v": "v1", "add": []string{f.d1}, "al": []string{"prod"}}, &v1)
	f.must(f.alice, create, map[string]any{"p": f.pid, "v": "v2", "from": "v1", "add": []string{f.d2}}, nil)
	if r := f.do(f.alice, create, map[string]any{"p": f.pid, "v": "v2"}); r.code() != graphql.CodeConflict {
		t.Errorf("version name again: code %q, want CONFLICT", r.code())
	}
	f.must(f.alice, `mutation($p: ID!) { moveDatasetAlias(project: $p, dataset: "images", alias: "prod", version: "v2") { position } }`, map[string]any{"p": f.pid}, nil)
	if r := f.do(f.alice, `mutation($p: ID!) { moveDatasetAlias(project: $p, dataset: "images", alias: "prod", version: "v9") { position } }`, map[string]any{"p": f.pid}); r.code() != graphql.CodeNotFound {
		t.Errorf("alias to a missing version: code %q, want NOT_FOUND", r.code())
	}
	var ds struct {
		Datasets []struct {
			Name     string
			Versions []struct {
				Name  string
				Files []string
			}
			Aliases []struct{ Alias, Version string }
		}
		Prod struct{ Name string } `json:"prod"`
	}
	f.must(f.bob, `query($p: ID!) { datasets(project: $p) { name versions { name files } aliases { alias version } }
		prod: datasetVersion(project: $p, dataset: "images", ref: "prod") { name } }`, map[string]any{"p": f.pid}, &ds)
	if len(ds.Datasets) != 1 || len(ds.Datasets[0].Versions) != 2 || len(ds.Datasets[0].Versions[1].Files) != 2 || ds.Prod.Name != "v2" {
		t.Fatalf("datasets = %+v, prod = %+v", ds.Datasets, ds.Prod)
	}
	if a := ds.Datasets[0].Aliases; len(a) != 1 || a[0].Version != "v2" {
		t.Errorf("aliases = %+v", a)
	}
	var one struct{ Dataset struct{ ID string } }
	f.must(f.bob, `query($p: ID!) { dataset(project: $p, name: "images") { id } }`, map[string]any{"p": f.pid}, &one)
	if one.Dataset.ID != v1.CreateDatasetVersion.Dataset {
		t.Errorf("dataset id = %q, want %q", one.Dataset.ID, v1.CreateDatasetVersion.Dataset)
	}
	if r := f.do(f.bob, `query($p: ID!) { dataset(project: $p, name: "nope") { id } }`, map[string]any{"p": f.pid}); r.code() != graphql.CodeNotFound {
		t.Errorf("missing dataset: code %q, want NOT_FOUND", r.code())
	}

	var dv struct {
		CreateDeploymentVersion struct{ Deployment string }
	}
	deploy := `mutation($p: ID!, $d: ID!) { createDeploymentVersion(input: {project: $p, name: "api", version: "20250101.0",
		endpoints: ["predict"], files: [{endpoint: "predict", name: "model.pb", datum: $d}]}) { deployment version position } }`
	f.must(f.alice, deploy, map[string]any{"p": f.pid, "d": f.d1}, &dv)
	var dep struct {
		Deployment struct {
			Name     string
			Versions []struct {
				Version string
				Files   []struct{ Datum string }
			}
		}
	}
	f.must(f.bob, `query($d: ID!) { deployment(id: $d) { name versions { version files { datum } } } }`, map[string]any{"d": dv.CreateDeploymentVersion.Deployment}, &dep)
	if dep.Deployment.Name != "api" || len(dep.Deployment.Versions) != 1 || dep.Deployment.Versions[0].Files[0].Datum != f.d1 {
		t.Errorf("deployment = %+v", dep.Deployment)
	}

	// The runner hashes the input when it downloads it: that is what ties the URL to the run.
	d1, err := f.svc.GetDatum(app.WithActor(context.Background(), "alice"), domain.DatumID(f.d1))
	if err != nil {
		t.Fatal(err)
	}
	hashed := mustExecute(t, f.env, app.ExecutionStream(domain.ExecutionID(f.xid)), execution.Decide, execution.Evolve, execution.Command(execution.HashInput{
		Input: "model", URI: "datum://" + f.d1, Datum: d1.ID, FileName: "model.pb", Size: d1.Size, Digests: d1.Digests, At: time.Now().UTC()}))
	f.waitFor(t, hashed)
	var im struct {
		Impact struct {
			Executions, DatasetVersions, DeploymentVersions []struct{ ID string }
		}
		ByURL struct{ Executions []struct{ ID string } } `json:"byUrl"`
	}
	f.must(f.bob, `query($n: String!, $p: ID!, $u: String!) {
		impact(node: $n) { executions { id } datasetVersions { id } deploymentVersions { id } }
		byUrl: impact(project: $p, url: $u) { executions { id } } }`,
		map[string]any{"n": "datum:" + f.d1, "p": f.pid, "u": "datum://" + f.d1}, &im)
	if len(im.Impact.Executions) != 1 || len(im.Impact.DatasetVersions) == 0 || len(im.Impact.DeploymentVersions) != 1 {
		t.Errorf("impact of datum:%s = %+v", f.d1, im.Impact)
	}
	if len(im.ByURL.Executions) != 1 || im.ByURL.Executions[0].ID != "execution:"+f.xid {
		t.Errorf("impact of the URL = %+v", im.ByURL)
	}
	if r := f.do(f.token("carol"), `query($n: String!) { impact(node: $n) { datums { id } } }`, map[string]any{"n": "datum:" + f.d1}); r.code() != graphql.CodeForbidden && r.code() != graphql.CodeNotFound {
		t.Errorf("non-member impact: code %q, want FORBIDDEN or NOT_FOUND", r.code())
	}
	if r := f.do(f.bob, `{ impact { datums { id } } }`, nil); r.code() != graphql.CodeInvalid {
		t.Errorf("impact of nothing: code %q, want INVALID", r.code())
	}
}

func TestServer_ProjectSettingsTasksEnvironmentsTokens(t *testing.T) {
	f := newFixture(t)
	if r := f.do(f.bob, `mutation { createProject(input: {slug: "vision", name: "Mine"}) { id } }`, nil); r.code() != graphql.CodeConflict {
		t.Errorf("a taken slug: code %q, want CONFLICT", r.code())
	}
	setStore := `mutation($p: ID!, $s: String!) { setDefaultStore(project: $p, store: $s) { position } }`
	if r := f.do(f.bob, setStore, map[string]any{"p": f.pid, "s": "s3://team-data/strata"}); r.code() != graphql.CodeForbidden {
		t.Errorf("viewer sets the store: code %q, want FORBIDDEN", r.code())
	}
	f.must(f.alice, setStore, map[string]any{"p": f.pid, "s": "s3://team-data/strata"}, nil)
	f.must(f.alice, `mutation($p: ID!) { setMember(project: $p, user: "bob", role: EDITOR) { position } }`, map[string]any{"p": f.pid}, nil)
	var pr struct {
		Project struct {
			DefaultStore string
			Members      []struct{ User, Role string }
			Environments []string
		}
	}
	f.must(f.bob, `query($p: ID!) { project(id: $p) { defaultStore members { user role } environments } }`, map[string]any{"p": f.pid}, &pr)
	if pr.Project.DefaultStore != "s3://team-data/strata" || len(pr.Project.Members) != 2 || pr.Project.Members[1].Role != "EDITOR" || len(pr.Project.Environments) != 1 {
		t.Errorf("project = %+v", pr.Project)
	}
	f.must(f.alice, `mutation($p: ID!) { removeMember(project: $p, user: "bob") { position } }`, map[string]any{"p": f.pid}, nil)
	if r := f.do(f.bob, `query($p: ID!) { project(id: $p) { name } }`, map[string]any{"p": f.pid}); r.code() != graphql.CodeForbidden {
		t.Errorf("removed member reads: code %q, want FORBIDDEN", r.code())
	}

	// Environments: the server admin's to create and update; anyone's to read.
	envInput := `{slug: "gpu", name: "GPU", cpus: 8, memoryBytes: 34359738368, gpus: 1, gpuModel: "A100", pricePerHour: "3.5"}`
	if r := f.do(f.alice, `mutation { createEnvironment(input: `+envInput+`) { id } }`, nil); r.code() != graphql.CodeForbidden {
		t.Errorf("non-admin creates an environment: code %q, want FORBIDDEN", r.code())
	}
	var ge struct{ CreateEnvironment struct{ ID string } }
	f.must(f.admin, `mutation { createEnvironment(input: `+envInput+`) { id } }`, nil, &ge)
	f.must(f.admin, `mutation($e: ID!) { updateEnvironment(id: $e, input: {name: "GPU", cpus: 8, memoryBytes: 34359738368, gpus: 1, gpuModel: "A100", pricePerHour: "2.75", maxScale: 4}) { position } }`,
		map[string]any{"e": ge.CreateEnvironment.ID}, nil)
	if r := f.do(f.admin, `mutation { createEnvironment(input: {slug: "bad", name: "x", cpus: 0, memoryBytes: 1, pricePerHour: "1"}) { id } }`, nil); r.code() != graphql.CodeInvalid {
		t.Errorf("zero cpus: code %q, want INVALID", r.code())
	}
	var envs struct {
		Environments []struct {
			Slug, PricePerHour string
			MaxScale           int
		}
		One struct{ Slug, GpuModel string } `json:"one"`
	}
	f.must(f.bob, `query($e: ID!) { environments { slug pricePerHour maxScale } one: environment(id: $e) { slug gpuModel } }`, map[string]any{"e": ge.CreateEnvironment.ID}, &envs)
	if len(envs.Environments) != 2 || envs.Environments[1].PricePerHour != "2.75" || envs.Environments[1].MaxScale != 4 || envs.One.GpuModel != "A100" {
		t.Errorf("environments = %+v, one = %+v", envs.Environments, envs.One)
	}

	// Tasks come from the runner's task handling; here straight through the log.
	tid := "0190f5a2-0000-7000-8000-0000000000c1"
	mustExecute(t, f.env, app.TaskStream(domain.TaskID(tid)), task.Decide, task.Evolve, task.Command(task.Create{
		Task: domain.TaskID(tid), Project: domain.ProjectID(f.pid), Number: 1, Step: "train", Type: task.ManualSearch,
		ParameterSets: []map[string]string{{"lr": "0.1"}, {"lr": "0.01"}}, Creator: "alice", At: time.Now().UTC()}))
	at := mustExecute(t, f.env, app.TaskStream(domain.TaskID(tid)), task.Decide, task.Evolve, task.Command(task.AttachExecution{Execution: domain.ExecutionID(f.xid), At: time.Now().UTC()}))
	var tasks struct {
		Tasks []struct {
			ID, Counter, Type, Status string
			Executions                []string
			ParameterSets             []map[string]string
			Summary                   struct{ Count int }
		}
		One struct{ Step string } `json:"one"`
	}
	f.waitFor(t, at)
	f.must(f.alice, `query($p: ID!, $t: ID!) { tasks(project: $p) { id counter type status executions parameterSets summary { count } } one: task(id: $t) { step } }`,
		map[string]any{"p": f.pid, "t": tid}, &tasks)
	if len(tasks.Tasks) != 1 || tasks.Tasks[0].Counter != "!1" || tasks.Tasks[0].Type != "manual_search" || len(tasks.Tasks[0].Executions) != 1 ||
		len(tasks.Tasks[0].ParameterSets) != 2 || tasks.Tasks[0].Summary.Count != 1 || tasks.One.Step != "train" {
		t.Errorf("tasks = %+v, one = %+v", tasks.Tasks, tasks.One)
	}
	if r := f.do(f.bob, `query($t: ID!) { task(id: $t) { step } }`, map[string]any{"t": tid}); r.code() != graphql.CodeForbidden {
		t.Errorf("non-member reads a task: code %q, want FORBIDDEN", r.code())
	}

	// Tokens: one's own, or every one for a server admin; never a secret.
	var mine struct {
		Tokens []struct {
			User    string
			Revoked bool
		}
	}
	f.must(f.alice, `{ tokens { id user name admin createdAt revoked } }`, nil, &mine)
	if len(mine.Tokens) != 1 || mine.Tokens[0].User != "alice" {
		t.Errorf("alice's tokens = %+v", mine.Tokens)
	}
	var all struct{ Tokens []struct{ User string } }
	f.must(f.admin, `{ tokens { user } }`, nil, &all)
	if len(all.Tokens) != 3 {
		t.Errorf("every token = %+v, want admin, alice and bob", all.Tokens)
	}
	if r := f.do(f.admin, `{ tokens { secret } }`, nil); r.code() != graphql.CodeInvalid {
		t.Errorf("a token's secret is queryable: code %q", r.code())
	}
}

// wsSubscribe opens a graphql-transport-ws subscription with token and returns a
// function that reads its next payload's data.
func wsSubscribe(t *testing.T, e *env, token, query string, vars map[string]any) func() json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	type message struct {
		ID      string          `json:"id,omitempty"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload,omitempty"`
	}
	write := func(v any) {
		if err := wsjson.Write(ctx, c, v); err != nil {
			t.Fatal(err)
		}
	}
	write(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	var ack message
	if err := wsjson.Read(ctx, c, &ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init: %v %+v", err, ack)
	}
	write(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
	return func() json.RawMessage {
		t.Helper()
		var m message
		if err := wsjson.Read(ctx, c, &m); err != nil {
			t.Fatalf("read subscription: %v", err)
		}
		if m.Type != "next" {
			t.Fatalf("got %s %s, want next", m.Type, m.Payload)
		}
		var p struct {
			Data   json.RawMessage
			Errors []gqlError
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
			t.Fatalf("payload %s: %v", m.Payload, err)
		}
		return p.Data
	}
}

func TestServer_LiveLogAndMetadata(t *testing.T) {
	f := newFixture(t)
	id := domain.ExecutionID(f.xid)
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.logs.Append(id, runner.Line{Time: at, Stream: runner.Stdout, Message: "epoch 1"})
	next := wsSubscribe(t, f.env, f.bob, `subscription($x: ID!) { executionLog(id: $x) { time stream message } }`, map[string]any{"x": f.xid})
	var got []string
	read := func() {
		var d struct {
			ExecutionLog struct{ Stream, Message string }
		}
		if err := json.Unmarshal(next(), &d); err != nil {
			t.Fatal(err)
		}
		got = append(got, d.ExecutionLog.Stream+":"+d.ExecutionLog.Message)
	}
	read()
	// Lines appended while subscribed arrive live; wait until the subscription is in place.
	// The first line came with the subscription, so it is in place: these arrive live.
	f.logs.Append(id, runner.Line{Time: at, Stream: runner.Stderr, Message: "warning"}, runner.Line{Time: at, Stream: runner.Stdout, Message: "epoch 2"})
	read()
	read()
	if want := "stdout:epoch 1|stderr:warning|stdout:epoch 2"; strings.Join(got, "|") != want {
		t.Errorf("log lines = %q, want %q", strings.Join(got, "|"), want)
	}

	f.recordMetadata(t, `{"loss": 0.9}`)
	nextPoint := wsSubscribe(t, f.env, f.bob, `subscription($x: ID!) { executionMetadata(id: $x) { time values } }`, map[string]any{"x": f.xid})
	var losses []float64
	readPoint := func() {
		var d struct {
			ExecutionMetadata struct{ Values map[string]float64 }
		}
		if err := json.Unmarshal(nextPoint(), &d); err != nil {
			t.Fatal(err)
		}
		losses = append(losses, d.ExecutionMetadata.Values["loss"])
	}
	readPoint()
	f.recordMetadata(t, `{"loss": 0.5}`, `{"loss": 0.25}`) // recorded while subscribed: live
	readPoint()
	readPoint()
	if len(losses) != 3 || losses[0] != 0.9 || losses[1] != 0.5 || losses[2] != 0.25 {
		t.Errorf("metadata points = %v, want 0.9, 0.5, 0.25 each once", losses)
	}

	carol := f.token("carol")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.CloseNow() }()
	_ = wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + carol}})
	var msg map[string]any
	_ = wsjson.Read(ctx, c, &msg)
	_ = wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription($x: ID!) { executionLog(id: $x) { message } }`, "variables": map[string]any{"x": f.xid}}})
	if err := wsjson.Read(ctx, c, &msg); err != nil || msg["type"] == "complete" || !strings.Contains(mustJSON(msg), graphql.CodeForbidden) {
		t.Errorf("non-member follows the log: %v %v, want an error with FORBIDDEN", err, msg)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
