package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEnv_CreateListEnable creates environments, lists them, enables one in a project,
// and refuses bad specs and non-admins.
func TestEnv_CreateListEnable(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	dir, url, c, pid := clientServe(t)
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return strata(t, "", append([]string{"--data-dir", dir, "env", "--server", url}, args...)...)
	}
	if code, out, _ := cli("list"); code != 0 || !strings.Contains(out, "no environments yet") {
		t.Errorf("env list (none) = %d, %q", code, out)
	}
	if code, out, errOut := cli("create", "cpu", "--cpus", "0.5", "--memory", "512MiB", "--price", "0.1"); code != 0 || !strings.Contains(out, "created environment cpu") {
		t.Fatalf("env create cpu = %d, %q %q", code, out, errOut)
	}
	code, out, errOut := cli("--json", "create", "a100", "--name", "A100 80GB", "--cpus", "12", "--memory", "85GiB", "--gpus", "1", "--gpu-model", "A100",
		"--price", "3.67", "--max-scale", "4")
	var created struct{ ID string }
	if err := json.Unmarshal([]byte(out), &created); code != 0 || err != nil || created.ID == "" {
		t.Fatalf("env create a100 --json = %d, %q %q", code, out, errOut)
	}
	code, out, _ = cli("list")
	if code != 0 || !strings.HasPrefix(out, "SLUG ") || !strings.Contains(out, "512.0 MiB") || !strings.Contains(out, "1 × A100") || !strings.Contains(out, "3.67") {
		t.Errorf("env list = %d, %q", code, out)
	}
	var envs []environmentInfo
	code, out, _ = cli("--json", "list")
	if err := json.Unmarshal([]byte(out), &envs); code != 0 || err != nil || len(envs) != 2 || envs[1].MemoryBytes != 85<<30 || envs[1].MaxScale != 4 || envs[0].CPUs != 0.5 {
		t.Errorf("env list --json = %d, %q", code, out)
	}
	if code, out, errOut := cli("enable", "a100", "-p", "vision"); code != 0 || !strings.Contains(out, "can now run executions in a100") {
		t.Fatalf("env enable = %d, %q %q", code, out, errOut)
	}
	var p struct {
		Project struct{ Environments []string }
	}
	c.do(`query($p: ID!) { project(id: $p) { environments } }`, map[string]any{"p": pid}, &p)
	if len(p.Project.Environments) != 1 || p.Project.Environments[0] != created.ID {
		t.Errorf("project environments = %v, want [%s]", p.Project.Environments, created.ID)
	}

	// Every problem of a bad spec at once, before any request.
	code, _, errOut = cli("create", "bad", "--cpus", "0", "--memory", "4G", "--price", "cheap", "--gpus", "-1")
	for _, want := range []string{"--cpus 0", `--memory: "4G"`, `--price "cheap"`, "--gpus -1"} {
		if code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("env create (bad spec) = %d, %q; want a usage error with %q", code, errOut, want)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"create", "x", "--cpus", "1", "--price", "1"}, exitUsage, "--memory: missing"},
		{[]string{"create", "x", "--cpus", "1", "--memory", "1GiB"}, exitUsage, "--price is required"},
		{[]string{"create", "x", "--cpus", "1", "--memory", "1GiB", "--price", "1", "--gpu-model", "T4"}, exitUsage, "--gpu-model needs --gpus"},
		{[]string{"create", "x", "--cpus", "1", "--memory", "99999999TiB", "--price", "1"}, exitUsage, "out of range"},
		{[]string{"create", "Not A Slug", "--cpus", "1", "--memory", "1GiB", "--price", "1"}, exitFailure, "INVALID"},
		{[]string{"create"}, exitUsage, "needs SLUG"},
		{[]string{"enable", "nope", "-p", "vision"}, exitFailure, "choose from cpu, a100"},
		{[]string{"enable", "cpu", "-p", "nope"}, exitFailure, `no project "nope"`},
	} {
		if code, _, errOut := cli(tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("env %v = %d, %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	var tok struct{ CreateToken struct{ Secret string } }
	c.do(`mutation { createToken(input: {name: "bob", user: "bob"}) { secret } }`, nil, &tok)
	t.Setenv("STRATA_TOKEN", tok.CreateToken.Secret)
	if code, _, errOut := cli("create", "gpu", "--cpus", "1", "--memory", "1GiB", "--price", "1"); code != exitFailure || !strings.Contains(errOut, "FORBIDDEN") {
		t.Errorf("env create by a non-admin = %d, %q", code, errOut)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "512MiB": 512 << 20, "16GiB": 16 << 30, "16Gi": 16 << 30, "16GB": 16e9, "1.5KiB": 1536, " 2 TiB ": 2 << 40, "10B": 10} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "G", "4G", "-1GiB", "0", "1.2.3MiB", "NaN", "1e3"} {
		if got, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", in, got)
		}
	}
}
