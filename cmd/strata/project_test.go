package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitRun runs git in dir with a fixed identity and fails the test when it fails.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestProject_CreateListLinkStatus: create and list projects; link a git working tree
// (no remote: its file:// URL), after which commands in it need no --project.
func TestProject_CreateListLinkStatus(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	t.Setenv("STRATA_PROJECT", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir, url, _, _ := clientServe(t)
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return strata(t, "", append([]string{"--data-dir", dir, "project", "--server", url}, args...)...)
	}
	code, out, errOut := cli("create", "nlp", "--name", "Language")
	if code != 0 || !strings.Contains(out, "created project nlp") {
		t.Fatalf("project create = %d, %q %q", code, out, errOut)
	}
	if code, _, errOut := cli("create", "nlp"); code != exitFailure || !strings.Contains(errOut, "CONFLICT") {
		t.Errorf("project create (taken slug) = %d, %q", code, errOut)
	}
	code, out, _ = cli("list")
	if code != 0 || !strings.HasPrefix(out, "SLUG ") || !strings.Contains(out, "nlp ") || !strings.Contains(out, "vision ") {
		t.Errorf("project list = %d, %q", code, out)
	}
	var list []projectInfo
	if code, out, _ := cli("--json", "list"); code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 {
		t.Errorf("project list --json = %d, %q", code, out)
	}

	repo := t.TempDir()
	gitRun(t, repo, "init", "--quiet")
	sub := filepath.Join(repo, "src")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	if code, _, errOut := cli("status"); code != exitUsage || !strings.Contains(errOut, "strata project link") {
		t.Errorf("project status (unlinked) = %d, %q", code, errOut)
	}
	code, out, errOut = cli("link", "nlp")
	if code != 0 || !strings.Contains(out, "linked project nlp to repository file://"+repo) {
		t.Fatalf("project link = %d, %q %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(repo, projectLinkFile)); err != nil {
		t.Errorf("project link wrote no %s at the top of the working tree: %v", projectLinkFile, err)
	}
	code, out, _ = cli("status")
	if code != 0 || !strings.Contains(out, "nlp (") || !strings.Contains(out, "file://"+repo) || !strings.Contains(out, "linked here:") {
		t.Errorf("project status = %d, %q", code, out)
	}
	var p projectInfo
	if code, out, _ := cli("--json", "status", "vision"); code != 0 || json.Unmarshal([]byte(out), &p) != nil || p.Slug != "vision" || p.Repository != nil {
		t.Errorf("project status --json vision = %d, %q", code, out)
	}
	// Other command groups default to the linked project too.
	if code, out, errOut := strata(t, "", "--data-dir", dir, "exec", "--server", url, "list"); code != 0 || !strings.Contains(out, "no executions") {
		t.Errorf("exec list in the linked tree = %d, %q %q", code, out, errOut)
	}
}
