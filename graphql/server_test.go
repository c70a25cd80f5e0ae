package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/blob"
	"github.com/stratahq/strata/blob/storecfg"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/events"
	"github.com/stratahq/strata/graphql"
	"github.com/stratahq/strata/projections"
	"github.com/stratahq/strata/runner"
)

// env is a real server on a loopback port over memory adapters and a running engine.
type env struct {
	t     *testing.T
	url   string
	svc   *app.Service
	log   *memory.Store
	codec *events.Codec
	logs  *runner.Logs
	admin string
}

func newEnv(t *testing.T, cfg graphql.Config) *env {
	t.Helper()
	return newEnvWithCode(t, cfg, nil)
}

// newEnvWithCode is newEnv whose server reads code (runStep's valohai.yaml) through code.
func newEnvWithCode(t *testing.T, cfg graphql.Config, code runner.CodeFetcher) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := memory.NewStore()
	codec, err := events.NewCodec(app.Events())
	if err != nil {
		t.Fatal(err)
	}
	engine, err := projections.New(log, codec, memory.NewProjections(), projections.Config{}, projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = engine.Run(ctx) }()
	svc, err := app.New(app.Config{Stores: storecfg.Config{
		Stores: []storecfg.Store{{Name: "local", Kind: storecfg.KindFS, Bucket: "/var/lib/strata"}}, Default: "local",
	}}, app.Deps{Log: log, Codec: codec, Blobs: map[string]blob.Store{"local": memory.NewBlobs()}})
	if err != nil {
		t.Fatal(err)
	}
	reads := &projections.Reads{Engine: engine, Log: log, Codec: codec, Scratch: func() projections.Store { return memory.NewProjections() }}
	logs := &runner.Logs{}
	srv, err := graphql.New(cfg, graphql.Deps{App: svc, Log: log, Reads: reads, Gapless: true, Logs: logs, Code: code})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle("GET /executions/", srv.MetadataHandler())
	hs := httptest.NewServer(mux)
	t.Cleanup(func() { hs.Close(); cancel(); <-done })
	tok, created, err := svc.BootstrapAdminToken(ctx)
	if err != nil || !created {
		t.Fatalf("BootstrapAdminToken() = %v, %v", created, err)
	}
	if _, again, err := svc.BootstrapAdminToken(ctx); err != nil || again {
		t.Fatalf("BootstrapAdminToken() again = %v, %v; want false, nil", again, err)
	}
	return &env{t: t, url: hs.URL, svc: svc, log: log, codec: codec, logs: logs, admin: tok.Secret}
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

type response struct {
	status int
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

func (r response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Extensions.Code
}

func (e *env) post(token string, body []byte) response {
	e.t.Helper()
	return e.postAt(token, body, 0)
}

// postAt posts body with the Strata-Position header: the server answers once the
// projections reached position at.
func (e *env) postAt(token string, body []byte, at events.Position) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if at > 0 {
		req.Header.Set("Strata-Position", fmt.Sprint(uint64(at)))
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode}
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("decode %d response %q: %v", resp.StatusCode, b, err)
	}
	return out
}

func (e *env) do(token, query string, vars map[string]any) response {
	e.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.post(token, body)
}

// must runs query and decodes its data into out, failing on any error.
func (e *env) must(token, query string, vars map[string]any, out any) {
	e.t.Helper()
	r := e.do(token, query, vars)
	if len(r.Errors) > 0 || r.status != http.StatusOK {
		e.t.Fatalf("%s: status %d, errors %+v", firstLine(query), r.status, r.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			e.t.Fatalf("decode %s: %v", r.Data, err)
		}
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i]
	}
	return s
}

// token creates a token for user with the admin token.
func (e *env) token(user string) string {
	e.t.Helper()
	var d struct {
		CreateToken struct{ Secret, ID string }
	}
	e.must(e.admin, `mutation($u: String!) { createToken(input: {name: "t", user: $u}) { id secret position } }`, map[string]any{"u": user}, &d)
	return d.CreateToken.Secret
}

func TestServer_Authentication(t *testing.T) {
	e := newEnv(t, graphql.Config{})
	const q = `{ viewer { user admin } }`
	for _, tt := range []struct{ name, token string }{
		{"no token", ""},
		{"malformed token", "nope"},
		{"unknown token", "strata_0190f5a2-0000-7000-8000-000000000001.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.do(tt.token, q, nil); r.status != http.StatusUnauthorized || r.code() != graphql.CodeUnauthenticated {
				t.Errorf("status %d code %q, want 401 UNAUTHENTICATED", r.status, r.code())
			}
		})
	}
	var v struct {
		Viewer struct {
			User  string
			Admin bool
		}
	}
	e.must(e.admin, q, nil, &v)
	if v.Viewer.User != "admin" || !v.Viewer.Admin {
		t.Errorf("admin viewer = %+v", v.Viewer)
	}

	t.Run("revoked token", func(t *testing.T) {
		var d struct{ CreateToken struct{ ID, Secret string } }
		e.must(e.admin, `mutation { createToken(input: {name: "ci", user: "carol"}) { id secret } }`, nil, &d)
		e.must(d.CreateToken.Secret, q, nil, nil)
		e.must(d.CreateToken.Secret, `mutation($id: ID!) { revokeToken(id: $id) { position } }`, map[string]any{"id": d.CreateToken.ID}, nil)
		if r := e.do(d.CreateToken.Secret, q, nil); r.status != http.StatusUnauthorized || r.code() != graphql.CodeUnauthenticated {
			t.Errorf("revoked: status %d code %q, want 401 UNAUTHENTICATED", r.status, r.code())
		}
	})
	t.Run("non-admin cannot mint for others", func(t *testing.T) {
		dave := e.token("dave")
		r := e.do(dave, `mutation { createToken(input: {name: "x", user: "erin"}) { id } }`, nil)
		if r.code() != graphql.CodeForbidden || r.status != http.StatusForbidden {
			t.Errorf("status %d code %q, want 403 FORBIDDEN", r.status, r.code())
		}
		r = e.do(dave, `{ events { nodes { position } } }`, nil)
		if r.code() != graphql.CodeForbidden {
			t.Errorf("global audit log: code %q, want FORBIDDEN", r.code())
		}
	})
}

func TestServer_ProjectsExecutionsAliases(t *testing.T) {
	e := newEnv(t, graphql.Config{})
	alice, bob := e.token("alice"), e.token("bob")

	var cp struct {
		CreateProject struct {
			ID       string
			Position int
		}
	}
	e.must(alice, `mutation { createProject(input: {slug: "vision", name: "Vision"}) { id position } }`, nil, &cp)
	pid := cp.CreateProject.ID
	if cp.CreateProject.Position == 0 {
		t.Error("createProject position = 0")
	}
	var ps struct {
		Projects []struct{ ID, Slug, Role string }
	}
	e.must(alice, `{ projects { id slug role } }`, nil, &ps)
	if len(ps.Projects) != 1 || ps.Projects[0].ID != pid || ps.Projects[0].Role != "ADMIN" {
		t.Fatalf("projects = %+v", ps.Projects)
	}

	// Every project argument takes the slug as well as the ID.
	var bySlug struct{ Project struct{ ID string } }
	e.must(alice, `{ project(id: "vision") { id } }`, nil, &bySlug)
	if bySlug.Project.ID != pid {
		t.Errorf("project(id: \"vision\") = %q, want %s", bySlug.Project.ID, pid)
	}
	e.must(alice, `{ executions(project: "vision") { total } }`, nil, nil)
	e.must(alice, `mutation { setMember(project: "vision", user: "carol", role: VIEWER) { position } }`, nil, nil)
	e.must(alice, `mutation { removeMember(project: "vision", user: "carol") { position } }`, nil, nil)
	if r := e.do(alice, `{ project(id: "no such slug") { id } }`, nil); r.code() != graphql.CodeInvalid {
		t.Errorf("project(malformed slug): code %q, want INVALID", r.code())
	}
	// Bob is no member: FORBIDDEN, with 403, the same as for a project that does not exist
	// (by ID or by slug).
	for _, p := range []string{pid, "0190f5a2-0000-7000-8000-0000000000ff", "vision", "unclaimed"} {
		if r := e.do(bob, `query($p: ID!) { project(id: $p) { name } }`, map[string]any{"p": p}); r.status != http.StatusForbidden || r.code() != graphql.CodeForbidden {
			t.Errorf("bob reads project %s: status %d code %q, want 403 FORBIDDEN", p, r.status, r.code())
		}
	}
	e.must(alice, `mutation($p: ID!) { setMember(project: $p, user: "bob", role: VIEWER) { position } }`, map[string]any{"p": pid}, nil)
	var pr struct {
		Project struct {
			Role    string
			Members []struct{ User, Role string }
		}
	}
	e.must(bob, `query($p: ID!) { project(id: $p) { role members { user role } } }`, map[string]any{"p": pid}, &pr)
	if pr.Project.Role != "VIEWER" || len(pr.Project.Members) != 2 {
		t.Errorf("bob's view = %+v", pr.Project)
	}

	// A datum, an alias moved twice, its history and an earlier state.
	ctx := app.WithActor(context.Background(), "alice")
	up := func(content string) string {
		res, err := e.svc.Upload(ctx, app.Upload{Project: domain.ProjectID(pid), Name: "model.pb", Content: strings.NewReader(content)})
		if err != nil {
			t.Fatal(err)
		}
		return string(res.Datum.ID)
	}
	d1, d2 := up("one"), up("two")
	setAlias := `mutation($p: ID!, $d: ID!) { setAlias(project: $p, name: "prod", datum: $d) { position } }`
	if r := e.do(bob, setAlias, map[string]any{"p": pid, "d": d1}); r.code() != graphql.CodeForbidden {
		t.Errorf("viewer sets alias: code %q, want FORBIDDEN", r.code())
	}
	var s1, s2 struct{ SetAlias struct{ Position int } }
	e.must(alice, setAlias, map[string]any{"p": pid, "d": d1}, &s1)
	e.must(alice, setAlias, map[string]any{"p": pid, "d": d2}, &s2)
	var al struct {
		Now    struct{ Target string } `json:"now"`
		Before struct{ Target string } `json:"before"`
		Hist   []struct {
			Target string
			From   int
		} `json:"hist"`
	}
	e.must(alice, `query($p: ID!, $at: Position!) {
		now: alias(project: $p, name: "prod") { target }
		before: alias(project: $p, name: "prod", asOf: {position: $at}) { target }
		hist: aliasHistory(project: $p, name: "prod") { target from }
	}`, map[string]any{"p": pid, "at": s1.SetAlias.Position}, &al)
	if al.Now.Target != d2 || al.Before.Target != d1 || len(al.Hist) != 2 {
		t.Errorf("alias now %q before %q history %+v; want %s, %s and 2 entries", al.Now.Target, al.Before.Target, al.Hist, d2, d1)
	}
	if r := e.do(alice, `query($p: ID!) { alias(project: $p, name: "nope") { target } }`, map[string]any{"p": pid}); r.code() != graphql.CodeNotFound {
		t.Errorf("missing alias: code %q, want NOT_FOUND", r.code())
	}

	// Executions: create, table, detail by ID and by ref, tags, stop, lineage.
	envID := "0190f5a2-0000-7000-8000-0000000000e1"
	e.must(alice, `mutation($p: ID!, $e: ID!) { enableEnvironment(project: $p, environment: $e) { position } }`, map[string]any{"p": pid, "e": envID}, nil)
	var ce struct {
		CreateExecution struct {
			ID     string
			Number int
		}
	}
	create := `mutation($p: ID!, $e: ID!, $in: String!) { createExecution(input: {project: $p, step: "train", image: "python:3.12",
		commit: "0123456789abcdef0123456789abcdef01234567", repository: "https://example.com/r.git",
		commands: ["python train.py"], environment: $e, tags: ["a"], inputs: [{name: "model", uris: [$in]}]}) { id number position } }`
	e.must(alice, create, map[string]any{"p": pid, "e": envID, "in": "datum://prod"}, &ce)
	if ce.CreateExecution.Number != 1 {
		t.Errorf("number = %d, want 1", ce.CreateExecution.Number)
	}
	e.must(alice, create, map[string]any{"p": pid, "e": envID, "in": "datum://" + d1}, nil)
	var tbl struct {
		Executions struct {
			Nodes []struct {
				Number int
				Status string
				Tags   []string
			}
			Next   *string
			Total  int
			Counts []struct {
				Status string
				Count  int
			}
		}
	}
	e.must(bob, `query($p: ID!) { executions(project: $p, first: 1, sort: {field: NUMBER, descending: true}) { nodes { number status tags } next total counts { status count } } }`, map[string]any{"p": pid}, &tbl)
	if tbl.Executions.Total != 2 || len(tbl.Executions.Nodes) != 1 || tbl.Executions.Nodes[0].Number != 2 || tbl.Executions.Next == nil {
		t.Fatalf("table page 1 = %+v", tbl.Executions)
	}
	var tbl2 struct {
		Executions struct{ Nodes []struct{ Number int } }
	}
	e.must(bob, `query($p: ID!, $c: String) { executions(project: $p, first: 1, after: $c, sort: {field: NUMBER, descending: true}) { nodes { number } } }`,
		map[string]any{"p": pid, "c": *tbl.Executions.Next}, &tbl2)
	if len(tbl2.Executions.Nodes) != 1 || tbl2.Executions.Nodes[0].Number != 1 {
		t.Errorf("table page 2 = %+v", tbl2.Executions)
	}
	xid := ce.CreateExecution.ID
	e.must(alice, `mutation($x: ID!) { addTags(execution: $x, tags: ["best"]) { position } }`, map[string]any{"x": xid}, nil)
	e.must(alice, `mutation($x: ID!) { stopExecution(id: $x) { position } }`, map[string]any{"x": xid}, nil)
	// A table that shows only what rows hold is read from them alone: byte for byte what
	// the records say.
	const rowFields = `id project number counter step environment creator task tags status createdAt startedAt endedAt duration cost metadata`
	table := func(fields string) []map[string]json.RawMessage {
		var out struct {
			Executions struct{ Nodes []map[string]json.RawMessage }
		}
		e.must(bob, `query($p: ID!) { executions(project: $p) { nodes { `+fields+` } } }`, map[string]any{"p": pid}, &out)
		return out.Executions.Nodes
	}
	fromRows, fromRecords := table(rowFields), table(rowFields+" image")
	for _, n := range fromRecords {
		delete(n, "image")
	}
	if got, want := fmt.Sprint(fromRows), fmt.Sprint(fromRecords); got != want || len(fromRows) != 2 {
		t.Errorf("table from rows = %s, want %s", got, want)
	}
	var det struct {
		ByID struct {
			Status  string
			Tags    []string
			Counter string
			Inputs  []struct{ Uris []struct{ Datums []string } }
		} `json:"byId"`
		ByRef struct{ ID string } `json:"byRef"`
	}
	e.must(bob, `query($x: ID!, $ref: String!) { byId: execution(id: $x) { status tags counter inputs { uris { datums } } } byRef: execution(ref: $ref) { id } }`,
		map[string]any{"x": xid, "ref": pid + ":1"}, &det)
	if det.ByID.Status != "STOPPED" || len(det.ByID.Tags) != 2 || det.ByID.Counter != "#1" || det.ByRef.ID != xid {
		t.Errorf("execution detail = %+v", det)
	}
	if len(det.ByID.Inputs) != 1 || len(det.ByID.Inputs[0].Uris) != 1 || det.ByID.Inputs[0].Uris[0].Datums[0] != d2 {
		t.Errorf("alias input not pinned to %s: %+v", d2, det.ByID.Inputs)
	}
	var lin struct {
		Lineage struct {
			Nodes []struct{ ID, Kind string }
			Edges []struct{ From, To, Kind string }
		}
	}
	e.must(bob, `query($n: String!) { lineage(node: $n, direction: UPSTREAM, depth: 2) { nodes { id kind } edges { from to kind } } }`,
		map[string]any{"n": "execution:" + xid}, &lin)
	if len(lin.Lineage.Nodes) < 2 || len(lin.Lineage.Edges) < 1 {
		t.Errorf("lineage = %+v", lin.Lineage)
	}

	// The project's audit log, and the whole log's verification for the admin.
	var ev struct {
		Events struct {
			Nodes []struct {
				Position int
				Type     string
				Actor    string
			}
		}
	}
	e.must(bob, `query($p: ID!) { events(filter: {project: $p}, first: 500) { nodes { position type actor } } }`, map[string]any{"p": pid}, &ev)
	if len(ev.Events.Nodes) < 5 || ev.Events.Nodes[0].Type != "project.SlugClaimed" || ev.Events.Nodes[1].Type != "project.Created" || ev.Events.Nodes[1].Actor != "alice" {
		t.Errorf("audit = %+v", ev.Events.Nodes)
	}
	// One stream's events, from the log's index of streams: a viewer within the project,
	// the admin across projects, paged.
	var st struct {
		Events struct {
			Nodes []struct {
				Position int
				Stream   string
				Version  int
			}
			Next *int
		}
	}
	e.must(bob, `query($p: ID!, $s: String!) { events(filter: {project: $p, stream: $s}) { nodes { position stream version } next } }`,
		map[string]any{"p": pid, "s": "execution-" + xid}, &st)
	whole := slices.Clone(st.Events.Nodes)
	if len(whole) < 2 || st.Events.Next != nil {
		t.Fatalf("the execution's events = %+v", st.Events)
	}
	for i, n := range whole {
		if n.Stream != "execution-"+xid || n.Version != i+1 {
			t.Errorf("the execution's event %d = %+v, want version %d of its stream", i, n, i+1)
		}
	}
	e.must(e.admin, `query($s: String!) { events(filter: {stream: $s}, first: 1, after: 0) { nodes { position stream version } next } }`,
		map[string]any{"s": "execution-" + xid}, &st)
	if len(st.Events.Nodes) != 1 || st.Events.Nodes[0] != whole[0] || st.Events.Next == nil || *st.Events.Next != whole[0].Position {
		t.Errorf("the first page of the execution's events = %+v, want %+v and a next page", st.Events, whole[0])
	}
	e.must(e.admin, `query($s: String!, $a: Position) { events(filter: {stream: $s}, after: $a) { nodes { position stream version } } }`,
		map[string]any{"s": "execution-" + xid, "a": whole[0].Position}, &st)
	if !slices.Equal(st.Events.Nodes, whole[1:]) {
		t.Errorf("the events after the first = %+v, want %+v", st.Events.Nodes, whole[1:])
	}
	var vl struct {
		VerifyLog struct {
			Ok     bool
			Events int
		}
	}
	e.must(e.admin, `{ verifyLog { ok events } }`, nil, &vl)
	if !vl.VerifyLog.Ok || vl.VerifyLog.Events == 0 {
		t.Errorf("verifyLog = %+v", vl.VerifyLog)
	}
	if r := e.do(bob, `{ verifyLog { ok } }`, nil); r.code() != graphql.CodeForbidden {
		t.Errorf("bob verifies the log: code %q, want FORBIDDEN", r.code())
	}

	// Purge needs the admin role; the datum keeps its record.
	if r := e.do(bob, `mutation($d: ID!) { purgeDatum(id: $d, reason: "gdpr") { position } }`, map[string]any{"d": d1}); r.code() != graphql.CodeForbidden {
		t.Errorf("viewer purges: code %q, want FORBIDDEN", r.code())
	}
	e.must(alice, `mutation($d: ID!) { purgeDatum(id: $d, reason: "gdpr") { position contentDeleted } }`, map[string]any{"d": d1}, nil)
	var dt struct {
		Datum struct {
			Purged bool
			Sha256 string
		}
	}
	e.must(bob, `query($d: ID!) { datum(id: $d) { purged sha256 } }`, map[string]any{"d": d1}, &dt)
	if !dt.Datum.Purged || len(dt.Datum.Sha256) != 64 {
		t.Errorf("purged datum = %+v", dt.Datum)
	}
	if r := e.do(alice, `mutation { createProject(input: {slug: "Bad Slug", name: "x"}) { id } }`, nil); r.code() != graphql.CodeInvalid {
		t.Errorf("bad slug: code %q, want INVALID", r.code())
	}
	if r := e.do(alice, `{ nosuchfield }`, nil); r.code() != graphql.CodeInvalid {
		t.Errorf("bad slug: code %q, want INVALID", r.code())
	}
}

func TestServer_Limits(t *testing.T) {
	e := newEnv(t, graphql.Config{MaxDepth: 6, MaxComplexity: 500, MaxBodyBytes: 4096})
	t.Run("depth bomb", func(t *testing.T) {
		q := "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }"
		if r := e.do(e.admin, q, nil); r.code() != graphql.CodeInvalid || !strings.Contains(r.Errors[0].Message, "deep") {
			t.Errorf("depth bomb: %+v", r.Errors)
		}
	})
	t.Run("complexity bomb", func(t *testing.T) {
		q := `query($p: ID!) { executions(project: $p, first: 1000) { nodes { id tags commands } } }`
		if r := e.do(e.admin, q, map[string]any{"p": "0190f5a2-0000-7000-8000-000000000002"}); r.code() != graphql.CodeInvalid || !strings.Contains(r.Errors[0].Message, "complexity") {
			t.Errorf("complexity bomb: %+v", r.Errors)
		}
	})
	t.Run("aliased fields multiply", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{")
		for i := range 600 {
			fmt.Fprintf(&b, " a%d: head", i)
		}
		b.WriteString(" }")
		body, _ := json.Marshal(map[string]any{"query": b.String()})
		if r := e.post(e.admin, body); r.status != http.StatusRequestEntityTooLarge && r.code() != graphql.CodeInvalid {
			t.Errorf("600 aliases: status %d code %q", r.status, r.code())
		}
	})
	t.Run("oversized body", func(t *testing.T) {
		body, _ := json.Marshal(map[string]any{"query": "{ head }", "variables": map[string]any{"pad": strings.Repeat("x", 10000)}})
		if r := e.post(e.admin, body); r.status != http.StatusRequestEntityTooLarge || r.code() != graphql.CodeInvalid {
			t.Errorf("oversized body: status %d code %q, want 413 INVALID", r.status, r.code())
		}
	})
}

// subscribe opens a graphql-transport-ws connection and subscribes to the event feed
// after the position given; it returns the positions received until n arrived.
func subscribe(t *testing.T, e *env, after, n int) []int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.CloseNow() }()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + e.admin}}))
	var msg struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	must(wsjson.Read(ctx, c, &msg))
	if msg.Type != "connection_ack" {
		t.Fatalf("got %s %s, want connection_ack", msg.Type, msg.Payload)
	}
	must(wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription($a: Position) { events(after: $a) { position type } }`, "variables": map[string]any{"a": after},
	}}))
	var got []int
	for len(got) < n {
		must(wsjson.Read(ctx, c, &msg))
		if msg.Type != "next" {
			t.Fatalf("got %s %s, want next", msg.Type, msg.Payload)
		}
		var p struct {
			Data struct{ Events struct{ Position int } }
		}
		must(json.Unmarshal(msg.Payload, &p))
		got = append(got, p.Data.Events.Position)
	}
	_ = c.Close(websocket.StatusNormalClosure, "done")
	return got
}

func TestServer_SubscriptionResume(t *testing.T) {
	e := newEnv(t, graphql.Config{})
	alice := e.token("alice")
	for i := range 3 {
		e.must(alice, `mutation($s: String!) { createProject(input: {slug: $s, name: "x"}) { id } }`, map[string]any{"s": fmt.Sprintf("p%d", i)}, nil)
	}
	head := int(mustHead(t, e))
	first := subscribe(t, e, 0, head)
	// More events while disconnected, then resume after the last position seen.
	for i := 3; i < 6; i++ {
		e.must(alice, `mutation($s: String!) { createProject(input: {slug: $s, name: "x"}) { id } }`, map[string]any{"s": fmt.Sprintf("p%d", i)}, nil)
	}
	head2 := int(mustHead(t, e))
	second := subscribe(t, e, first[len(first)-1], head2-head)
	all := append(first, second...)
	for i, p := range all {
		if p != i+1 {
			t.Fatalf("positions received = %v, want 1…%d each exactly once", all, head2)
		}
	}
	if len(all) != head2 {
		t.Fatalf("received %d events, want %d", len(all), head2)
	}
	t.Run("unauthenticated websocket refused", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.CloseNow() }()
		if err := wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{}}); err != nil {
			t.Fatal(err)
		}
		var msg map[string]any
		if err := wsjson.Read(ctx, c, &msg); err == nil && msg["type"] == "connection_ack" {
			t.Errorf("connection without a token acknowledged")
		}
	})
}

func mustHead(t *testing.T, e *env) events.Position {
	t.Helper()
	h, err := e.log.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}
