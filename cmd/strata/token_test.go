package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestToken_CreateUseRevoke creates a token, uses it, revokes it and sees it refused.
func TestToken_CreateUseRevoke(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	dir, url, _, _ := clientServe(t)
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return strata(t, "", append([]string{"--data-dir", dir, "token", "--server", url}, args...)...)
	}
	code, out, errOut := cli("create", "--name", "ci")
	secret := strings.TrimSpace(out)
	if code != 0 || secret == "" || strings.Contains(secret, "\n") || !strings.Contains(errOut, "NOT shown again") {
		t.Fatalf("token create = %d, %q %q; want the secret alone on stdout and a warning on stderr", code, out, errOut)
	}
	var bob struct{ ID, User, Secret string }
	code, out, _ = cli("--json", "create", "--name", "bob-laptop", "--user", "bob")
	if err := json.Unmarshal([]byte(out), &bob); code != 0 || err != nil || bob.User != "bob" || bob.Secret == "" {
		t.Fatalf("token create --user bob --json = %d, %q", code, out)
	}

	t.Setenv("STRATA_TOKEN", secret) // the new token works
	var mine []tokenInfo
	code, out, errOut = cli("--json", "list")
	if err := json.Unmarshal([]byte(out), &mine); code != 0 || err != nil || len(mine) != 2 {
		t.Fatalf("token list with the new token = %d, %q %q; want the admin user's 2 tokens (the bootstrap token and ci)", code, out, errOut)
	}
	var ci tokenInfo
	for _, x := range mine {
		if x.Name == "ci" {
			ci = x
		}
	}
	if ci.ID == "" || ci.Revoked || ci.Admin {
		t.Fatalf("token list lacks an active, non-admin ci token: %+v", mine)
	}
	t.Setenv("STRATA_TOKEN", bob.Secret) // bob sees only his own
	if code, out, _ := cli("list"); code != 0 || !strings.HasPrefix(out, "ID ") || strings.Count(out, "\n") != 2 || !strings.Contains(out, "bob-laptop") {
		t.Errorf("token list as bob = %d, %q; want only bob's token", code, out)
	}
	if code, _, errOut := cli("create", "--name", "x", "--admin"); code != exitFailure || !strings.Contains(errOut, "FORBIDDEN") {
		t.Errorf("bob creates an admin token = %d, %q", code, errOut)
	}

	t.Setenv("STRATA_TOKEN", "")
	if code, out, _ := cli("revoke", ci.ID); code != 0 || !strings.Contains(out, "revoked token "+ci.ID) {
		t.Fatalf("token revoke = %d, %q", code, out)
	}
	if code, out, _ := cli("list"); code != 0 || !strings.Contains(out, "revoked") {
		t.Errorf("token list after revoke = %d, %q", code, out)
	}
	t.Setenv("STRATA_TOKEN", secret)
	if code, _, errOut := cli("list"); code != exitFailure || !strings.Contains(errOut, "UNAUTHENTICATED") {
		t.Errorf("a revoked token = %d, %q; want UNAUTHENTICATED", code, errOut)
	}
	t.Setenv("STRATA_TOKEN", "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"create"}, exitUsage, "--name is required"},
		{[]string{"create", "--name", " "}, exitUsage, "--name is required"},
		{[]string{"create", "--name", "x", "--user", "Not A User!"}, exitFailure, "INVALID"},
		{[]string{"revoke"}, exitUsage, "needs ID"},
		{[]string{"revoke", "nope"}, exitFailure, ""},
		{[]string{"revoke", "0192f3a4-0000-7000-8000-000000000000"}, exitFailure, "NOT_FOUND"},
	} {
		if code, _, errOut := cli(tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("token %v = %d, %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestCompletion prints a script for every shell and refuses others.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, errOut := strata(t, "", "completion", shell)
		if code != 0 || len(out) < 500 || !strings.Contains(out, "strata") {
			t.Errorf("completion %s = %d, %d bytes, %q", shell, code, len(out), errOut)
		}
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		if code, _, errOut := strata(t, "", args...); code != exitUsage || !strings.Contains(errOut, "bash, zsh, fish or powershell") {
			t.Errorf("strata %v = %d, %q; want a usage error naming the shells", args, code, errOut)
		}
	}
}
