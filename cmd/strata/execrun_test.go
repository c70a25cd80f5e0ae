package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const stepsYAML = `- step:
    name: train
    image: busybox
    command:
      - echo lr={parameter-value:lr} epochs={parameter-value:epochs} {parameter:verbose}
      - cat data.txt
      - "echo '{\"loss\": 0.5, \"epoch\": 1}'"
      - "echo '{\"loss\": 0.25, \"epoch\": 2}'"
      - echo model > "$VH_OUTPUTS_DIR/model.txt"
    parameters:
      - name: lr
        type: float
        default: 0.1
      - name: epochs
        type: integer
        default: 3
        min: 1
      - name: verbose
        type: flag
    inputs:
      - name: extra
        optional: true
- step:
    name: check
    image: busybox
    command:
      - cat data.txt
      - test ! -e secret.txt
- step:
    name: fail
    image: busybox
    command: exit 3
`

// stepRepo makes a git working tree with valohai.yaml, data.txt and a .gitignore that
// excludes secret.txt, committed, and returns its path.
func stepRepo(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	for name, content := range map[string]string{"valohai.yaml": stepsYAML, "data.txt": "data-v1\n", ".gitignore": "secret.txt\n.strata-project\n"} {
		if err := os.WriteFile(filepath.Join(repo, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitRun(t, repo, "init", "--quiet")
	gitRun(t, repo, "add", ".")
	gitRun(t, repo, "commit", "--quiet", "-m", "steps")
	return repo
}

// TestExecRun_StepsOutputsMetadataDiff runs steps of a real git working tree on serve's
// process runner: from HEAD with typed parameters, refused on a dirty tree, ad-hoc with
// .gitignore honoured; then reads outputs, metadata and a diff.
func TestExecRun_StepsOutputsMetadataDiff(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	t.Setenv("STRATA_PROJECT", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	url, _ := startServe(t, dir, "--runner=process", "--slots=2", "--allow-file-repositories")
	tok, _ := os.ReadFile(filepath.Join(dir, "admin-token"))
	c := gqlClient{t: t, url: url, token: strings.TrimSpace(string(tok))}
	repo := stepRepo(t)
	t.Chdir(repo)
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return strata(t, "", append([]string{"--data-dir", dir}, args...)...)
	}
	if code, out, errOut := cli("project", "--server", url, "create", "vision"); code != 0 {
		t.Fatalf("project create = %d, %q %q", code, out, errOut)
	}
	if code, out, errOut := cli("project", "--server", url, "link", "vision"); code != 0 {
		t.Fatalf("project link = %d, %q %q", code, out, errOut)
	}
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return cli(append([]string{"exec", "--server", url, "run"}, args...)...)
	}
	// No environment enabled yet: the server says what to do.
	if code, _, errOut := run("train"); code != exitFailure || !strings.Contains(errOut, "no enabled environment") {
		t.Errorf("exec run without environments = %d, %q", code, errOut)
	}
	var p struct{ Projects []struct{ ID string } }
	c.do(`{ projects { id } }`, nil, &p)
	var e struct{ CreateEnvironment struct{ ID string } }
	c.do(`mutation($in: EnvironmentInput!) { createEnvironment(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"slug": "cpu", "name": "CPU", "cpus": 1, "memoryBytes": 1 << 30, "pricePerHour": "0.1"}}, &e)
	var en json.RawMessage
	c.do(`mutation($p: ID!, $e: ID!) { enableEnvironment(project: $p, environment: $e) { position } }`,
		map[string]any{"p": p.Projects[0].ID, "e": e.CreateEnvironment.ID}, &en)

	// From HEAD, typed parameters, followed to the end.
	code, out, errOut := run("train", "--lr=0.25", "--epochs", "5", "--verbose", "--environment", "cpu", "--tag", "first", "--watch")
	if code != 0 || !strings.Contains(out, "lr=0.25 epochs=5 --verbose") || !strings.Contains(out, "data-v1") || !strings.Contains(errOut, "Created execution #1") {
		t.Fatalf("exec run train --watch = %d, %q %q", code, out, errOut)
	}
	var x struct {
		Execution struct {
			Commit     string
			Tags       []string
			Parameters []struct {
				Name, Type string
				Values     []string
			}
		}
	}
	c.do(`query { execution(ref: "`+p.Projects[0].ID+`:1") { commit tags parameters { name type values } } }`, nil, &x)
	head := gitRun(t, repo, "rev-parse", "HEAD")
	params := map[string]string{}
	for _, pa := range x.Execution.Parameters {
		params[pa.Name] = pa.Type + ":" + strings.Join(pa.Values, ",")
	}
	if x.Execution.Commit != head || params["lr"] != "float:0.25" || params["epochs"] != "integer:5" || params["verbose"] != "flag:true" ||
		len(x.Execution.Tags) != 1 {
		t.Errorf("execution #1 = %+v; want HEAD %s, typed parameters and the tag", x.Execution, head)
	}

	// Errors: unknown step, unknown flag, a bad value, a failing step.
	if code, _, errOut := run("nope"); code != exitUsage || !strings.Contains(errOut, "its steps: train, check, fail") {
		t.Errorf("exec run nope = %d, %q", code, errOut)
	}
	if code, _, errOut := run("train", "--bogus=1"); code != exitUsage || !strings.Contains(errOut, "unknown flag: --bogus") || !strings.Contains(errOut, "--epochs") {
		t.Errorf("exec run train --bogus = %d, %q", code, errOut)
	}
	if code, _, errOut := run("train", "--epochs=many"); code != exitFailure || !strings.Contains(errOut, `"epochs"`) || !strings.Contains(errOut, "INVALID") {
		t.Errorf("exec run train --epochs=many = %d, %q", code, errOut)
	}
	if code, _, errOut := run("fail", "--watch"); code != exitExecutionFailed || !strings.Contains(errOut, "ended error") {
		t.Errorf("exec run fail --watch = %d, %q; want exit 4", code, errOut)
	}

	// A dirty tree is refused; --adhoc runs it as it is, without the ignored file.
	if err := os.WriteFile(filepath.Join(repo, "data.txt"), []byte("data-v2-uncommitted\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "secret.txt"), []byte("do not upload\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run("check"); code != exitFailure || !strings.Contains(errOut, "data.txt") || !strings.Contains(errOut, "--adhoc") {
		t.Errorf("exec run on a dirty tree = %d, %q", code, errOut)
	}
	code, out, errOut = run("check", "--adhoc", "--watch")
	if code != 0 || !strings.Contains(out, "data-v2-uncommitted") {
		t.Fatalf("exec run check --adhoc --watch = %d, %q %q", code, out, errOut)
	}
	code, out, errOut = run("--json", "train", "--adhoc", "--lr", "0.5")
	var created struct {
		Number int
		Code   string
	}
	if code != 0 || json.Unmarshal([]byte(out), &created) != nil || !strings.HasPrefix(created.Code, "ad-hoc code datum") {
		t.Fatalf("exec run --json --adhoc = %d, %q %q", code, out, errOut)
	}
	if code, out, errOut := cli("exec", "--server", url, "logs", "#"+strconv.Itoa(created.Number), "-f"); code != 0 || !strings.Contains(out, "lr=0.5") {
		t.Errorf("exec logs -f of the ad-hoc run = %d, %q %q", code, out, errOut)
	}

	ex := func(args ...string) (int, string, string) {
		t.Helper()
		return cli(append([]string{"exec", "--server", url}, args...)...)
	}
	// Outputs, listed and downloaded.
	code, out, _ = ex("outputs", "#1")
	if code != 0 || !strings.HasPrefix(out, "PATH ") || !strings.Contains(out, "model.txt") {
		t.Errorf("exec outputs #1 = %d, %q", code, out)
	}
	dl := filepath.Join(t.TempDir(), "out")
	if code, _, errOut := ex("outputs", "1", "--download", dl); code != 0 {
		t.Fatalf("exec outputs --download = %d, %q", code, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(dl, "model.txt")); err != nil || string(b) != "model\n" {
		t.Errorf("downloaded model.txt = %q, %v", b, err)
	}
	if code, _, errOut := ex("outputs", "1", "--download", dl); code != exitFailure || !strings.Contains(errOut, "never overwrites") {
		t.Errorf("exec outputs --download again = %d, %q", code, errOut)
	}

	// Metadata: a table, the latest values, CSV and JSON.
	code, out, _ = ex("metadata", "#1")
	if code != 0 || !strings.Contains(out, "TIME") || strings.Count(out, "\n") != 3 || !strings.Contains(out, "0.25") {
		t.Errorf("exec metadata = %d, %q; want a header and 2 points", code, out)
	}
	if code, out, _ := ex("metadata", "#1", "--latest"); code != 0 || !strings.Contains(out, "loss") || !strings.Contains(out, "0.25") || strings.Contains(out, "0.5") {
		t.Errorf("exec metadata --latest = %d, %q", code, out)
	}
	if code, out, _ := ex("metadata", "#1", "--csv"); code != 0 || !strings.Contains(strings.SplitN(out, "\n", 2)[0], "loss") || strings.Count(out, "\n") != 3 {
		t.Errorf("exec metadata --csv = %d, %q", code, out)
	}
	var points []map[string]any
	if code, out, _ := ex("--json", "metadata", "#1"); code != 0 || json.Unmarshal([]byte(out), &points) != nil || len(points) != 2 {
		t.Errorf("exec metadata --json = %d, %q", code, out)
	}

	// Diff: the ad-hoc run differs from #1 in code and parameters, not in image.
	code, out, _ = ex("diff", "#1", "#"+strconv.Itoa(created.Number))
	if code != 0 || !strings.Contains(out, "parameter lr") || !strings.Contains(out, "code") || strings.Contains(out, "image") {
		t.Errorf("exec diff = %d, %q", code, out)
	}
	var d struct{ Rows []diffRow }
	if code, out, _ := ex("--json", "diff", "#1", "#1", "--all"); code != 0 || json.Unmarshal([]byte(out), &d) != nil || len(d.Rows) == 0 {
		t.Errorf("exec diff --all --json = %d, %q", code, out)
	} else {
		for _, r := range d.Rows {
			if !r.Same {
				t.Errorf("diff of #1 with itself: %+v differs", r)
			}
		}
	}
}
