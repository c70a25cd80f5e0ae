package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runServe starts serve with the process runner in a new data directory, with a project
// "vision" and an environment enabled in it, and returns the directory, the URL, an
// admin client, the project's and the environment's IDs.
func runServe(t *testing.T) (dir, url string, c gqlClient, project, env string) {
	t.Helper()
	dir = t.TempDir()
	url, _ = startServe(t, dir, "--runner=process", "--slots=2", "--allow-file-repositories")
	c, project, env = adminProject(t, dir, url, "vision")
	return dir, url, c, project, env
}

// adminProject creates the project slug and an enabled environment with the admin token
// of the serve at url (its data in dir), and returns the admin client and their IDs.
func adminProject(t *testing.T, dir, url, slug string) (c gqlClient, project, env string) {
	t.Helper()
	tok, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	c = gqlClient{t: t, url: url, token: strings.TrimSpace(string(tok))}
	var p struct{ CreateProject struct{ ID string } }
	c.do(`mutation($in: CreateProjectInput!) { createProject(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"slug": slug, "name": slug}}, &p)
	var e struct{ CreateEnvironment struct{ ID string } }
	c.do(`mutation($in: EnvironmentInput!) { createEnvironment(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"slug": "cpu", "name": "CPU", "cpus": 1, "memoryBytes": 1 << 30, "pricePerHour": "0.1"}}, &e)
	var en json.RawMessage
	c.do(`mutation($p: ID!, $e: ID!) { enableEnvironment(project: $p, environment: $e) { position } }`,
		map[string]any{"p": p.CreateProject.ID, "e": e.CreateEnvironment.ID}, &en)
	return c, p.CreateProject.ID, e.CreateEnvironment.ID
}

// mustRun creates an execution of step with inputs (name → URIs) running commands, waits
// until it completes and returns the datums it wrote, by file name.
func mustRun(t *testing.T, c gqlClient, project, env, step string, inputs map[string][]string, commands ...string) (id string, outputs map[string]string) {
	t.Helper()
	repo, commit := newGitRepo(t)
	var in []map[string]any
	for name, uris := range inputs {
		in = append(in, map[string]any{"name": name, "uris": uris})
	}
	var x struct{ CreateExecution struct{ ID string } }
	c.do(`mutation($in: CreateExecutionInput!) { createExecution(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"project": project, "step": step, "image": "busybox", "environment": env, "inputs": in, "commands": commands,
		"repository": repo, "commit": commit,
	}}, &x)
	id = x.CreateExecution.ID
	deadline := time.Now().Add(60 * time.Second)
	for {
		var st struct {
			Execution struct {
				Status  string
				Outputs []struct{ Datum, Path string }
			}
		}
		c.do(`query($id: ID) { execution(id: $id) { status outputs { datum path } } }`, map[string]any{"id": id}, &st)
		switch s := st.Execution.Status; {
		case s == "COMPLETE":
			outputs = map[string]string{}
			for _, o := range st.Execution.Outputs {
				outputs[o.Path] = o.Datum
			}
			return id, outputs
		case terminal(s) || time.Now().After(deadline):
			t.Fatalf("execution %s (%s) is %s, want COMPLETE", id, step, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mustUpload uploads content as a datum named name through the CLI and returns its ID.
func mustUpload(t *testing.T, dir, url, name, content string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, errOut := strata(t, "", "--data-dir", dir, "--json", "data", "--server", url, "upload", file, "-p", "vision")
	var up struct{ Datum datum }
	if err := json.Unmarshal([]byte(out), &up); err != nil || up.Datum.ID == "" {
		t.Fatalf("upload %s: %q %q", name, out, errOut)
	}
	return up.Datum.ID
}

// TestData_Trace builds a real two-level lineage (an upload, an execution that cleans it,
// an alias, an execution that trains on the clean data and the raw one) and traces it up
// and down, to a depth, as of before the second execution, and as JSON.
func TestData_Trace(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	dir, url, c, pid, env := runServe(t)
	raw := mustUpload(t, dir, url, "data.csv", "a,b\n1,2\n")
	_, prepOut := mustRun(t, c, pid, env, "prep", map[string][]string{"raw": {"datum://" + raw}},
		`cat "$VH_INPUTS_DIR"/raw/* > "$VH_OUTPUTS_DIR/clean.csv"`)
	clean := prepOut["clean.csv"]
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return strata(t, "", append([]string{"--data-dir", dir, "data", "--server", url, "-p", "vision"}, args...)...)
	}
	if code, _, errOut := strata(t, "", "--data-dir", dir, "alias", "--server", url, "-p", "vision", "set", "clean-latest", clean); code != 0 {
		t.Fatalf("alias set = %d, %q", code, errOut)
	}
	var before struct{ Head uint64 }
	c.do(`{ head }`, nil, &before)
	_, trainOut := mustRun(t, c, pid, env, "train", map[string][]string{"data": {"datum://clean-latest"}, "raw": {"datum://" + raw}},
		`echo model > "$VH_OUTPUTS_DIR/model.pkl"`)
	model := trainOut["model.pkl"]
	if clean == "" || model == "" {
		t.Fatalf("outputs: prep %v, train %v", prepOut, trainOut)
	}

	code, out, errOut := cli("trace", model)
	if code != 0 {
		t.Fatalf("trace = %d, %q %q", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "datum model.pkl (datum://"+model+", 6 B)") {
		t.Errorf("trace root line = %q", lines[0])
	}
	for _, want := range []string{
		"└─ output-of ← execution #2 train (complete)",
		"input-of ← datum clean.csv (datum://" + clean + ", 8 B)",
		"output-of ← execution #1 prep (complete)",
		"input-of ← datum data.csv (datum://" + raw + ", 8 B)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
	// data.csv is reached twice (an input of both executions): expanded once, marked once.
	if n := strings.Count(out, "datum data.csv"); n != 2 || strings.Count(out, "(shown above)") != 1 {
		t.Errorf("trace shows data.csv %d times with %d repeat marks, want 2 and 1:\n%s", n, strings.Count(out, "(shown above)"), out)
	}
	if strings.Contains(out, "--depth") {
		t.Errorf("trace of the whole lineage suggests raising --depth:\n%s", out)
	}

	code, out, _ = cli("trace", model, "--depth", "1")
	if code != 0 || strings.Contains(out, "datum clean.csv") || !strings.Contains(out, "execution #2 train") || !strings.Contains(out, "raise --depth") {
		t.Errorf("trace --depth 1 = %d:\n%s", code, out)
	}

	code, out, _ = cli("trace", "datum://clean-latest", "--down")
	if code != 0 || !strings.HasPrefix(out, "datum clean.csv") || !strings.Contains(out, "input-of → execution #2 train (complete)") ||
		!strings.Contains(out, "output-of → datum model.pkl") || !strings.Contains(out, "points-to → alias datum://clean-latest") {
		t.Errorf("trace datum://clean-latest --down = %d:\n%s", code, out)
	}
	code, out, _ = cli("trace", raw, "--down", "--as-of", strconv.FormatUint(before.Head, 10))
	if code != 0 || !strings.Contains(out, "execution #1 prep") || strings.Contains(out, "#2 train") {
		t.Errorf("trace --down --as-of %d (before #2) = %d:\n%s", before.Head, code, out)
	}
	code, out, errOut = cli("trace", raw)
	if code != 0 || !strings.Contains(out, "no upstream lineage") {
		t.Errorf("trace of an upload = %d:\n%s%s", code, out, errOut)
	}

	var tr trace
	code, out, _ = cli("--json", "trace", model)
	if err := json.Unmarshal([]byte(out), &tr); code != 0 || err != nil {
		t.Fatalf("trace --json = %d, %q, %v", code, out, err)
	}
	kinds := map[string]int{}
	for _, n := range tr.Nodes {
		kinds[n.Kind]++
	}
	if tr.Root != "datum:"+model || tr.Direction != "upstream" || kinds["execution"] != 2 || kinds["datum"] != 3 || len(tr.Edges) != 5 {
		t.Errorf("trace --json: root %s, %s, nodes %v, %d edges; want 2 executions, 3 datums, 5 edges", tr.Root, tr.Direction, kinds, len(tr.Edges))
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"trace", model, "--depth", "0"}, exitUsage, "want 1 to 50"},
		{[]string{"trace", model, "--depth", "-3"}, exitUsage, "want 1 to 50"},
		{[]string{"trace", model, "--depth", "1000000"}, exitUsage, "want 1 to 50"},
		{[]string{"trace", "not-an-id"}, exitUsage, "datum ID or datum://ALIAS"},
		{[]string{"trace", "datum://"}, exitUsage, "datum://"},
		{[]string{"trace", "datum://no-such-alias"}, exitFailure, "NOT_FOUND"},
		{[]string{"trace", "0192f3a4-0000-7000-8000-000000000000"}, exitFailure, "NOT_FOUND"},
		{[]string{"trace", model, "--as-of", "soon"}, exitUsage, "--as-of"},
		{[]string{"trace"}, exitUsage, "needs a datum ID"},
	} {
		if code, _, errOut := cli(tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("data %v = %d, %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}
