package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogin_SavesVerifiedToken: a refused token saves nothing; an accepted one is saved
// (mode 0600 in a 0700 directory) and used by later commands with no --server and no
// admin-token file; STRATA_TOKEN overrides it; logout forgets it.
func TestLogin_SavesVerifiedToken(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	t.Setenv("STRATA_SERVER", "")
	t.Setenv("STRATA_PROJECT", "")
	cfgHome := filepath.Join(t.TempDir(), "xdg")
	t.Setenv("XDG_CONFIG_HOME", cfgHome)
	dir, url, c, _ := clientServe(t)
	cfgFile := filepath.Join(cfgHome, "strata", "config.json")
	empty := t.TempDir() // a data directory without an admin-token file

	code, _, errOut := strata(t, "", "--data-dir", empty, "login", "--server", url, "--token", "not-a-token")
	if code != exitFailure || !strings.Contains(errOut, "UNAUTHENTICATED") || !strings.Contains(errOut, "nothing was saved") {
		t.Fatalf("login (bad token) = %d, %q", code, errOut)
	}
	if _, err := os.Stat(cfgFile); !os.IsNotExist(err) {
		t.Fatalf("a refused login wrote %s (%v)", cfgFile, err)
	}
	if code, _, errOut := strata(t, "", "login", "--server", url); code != exitUsage || !strings.Contains(errOut, "--with-token") {
		t.Errorf("login (no token) = %d, %q", code, errOut)
	}

	code, out, errOut := strata(t, c.token+"\n", "--data-dir", empty, "login", "--server", url+"/", "--with-token")
	if code != 0 || !strings.Contains(out, "logged in to "+url+" as ") {
		t.Fatalf("login --with-token = %d, %q %q", code, out, errOut)
	}
	st, err := os.Stat(cfgFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file %s: %v, mode %v; want 0600", cfgFile, err, st)
	}
	if st, err := os.Stat(filepath.Dir(cfgFile)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("config directory: %v, %v; want mode 0700", err, st)
	}
	var saved clientConfig
	b, _ := os.ReadFile(cfgFile)
	if err := json.Unmarshal(b, &saved); err != nil || saved.Server != url || saved.Hosts[url].Token != c.token {
		t.Errorf("config = %s, want server %s and its token", b, url)
	}

	// No --server, no STRATA_TOKEN, no admin-token: the login is used.
	code, out, errOut = strata(t, "", "--data-dir", empty, "project", "list")
	if code != 0 || !strings.Contains(out, "vision") {
		t.Fatalf("project list after login = %d, %q %q", code, out, errOut)
	}
	t.Setenv("STRATA_TOKEN", "bogus")
	if code, _, errOut := strata(t, "", "--data-dir", empty, "project", "list"); code != exitFailure || !strings.Contains(errOut, "UNAUTHENTICATED") {
		t.Errorf("project list with STRATA_TOKEN=bogus = %d, %q; want the env to override the login", code, errOut)
	}
	t.Setenv("STRATA_TOKEN", "")
	// STRATA_SERVER overrides the saved server, and the saved token is not sent to another.
	t.Setenv("STRATA_SERVER", "http://127.0.0.1:1")
	if code, _, errOut := strata(t, "", "--data-dir", empty, "project", "list"); code != exitFailure || !strings.Contains(errOut, "no API token for http://127.0.0.1:1") {
		t.Errorf("project list with STRATA_SERVER = %d, %q", code, errOut)
	}
	t.Setenv("STRATA_SERVER", "")

	code, out, _ = strata(t, "", "--json", "logout")
	if code != 0 || !strings.Contains(out, url) {
		t.Fatalf("logout = %d, %q", code, out)
	}
	if code, _, errOut := strata(t, "", "--data-dir", empty, "project", "list", "--server", url); code != exitFailure || !strings.Contains(errOut, "strata login") {
		t.Errorf("project list after logout = %d, %q; want no token", code, errOut)
	}
	// The admin-token fallback still works.
	if code, out, errOut := strata(t, "", "--data-dir", dir, "project", "list", "--server", url); code != 0 || !strings.Contains(out, "vision") {
		t.Errorf("project list with --data-dir = %d, %q %q", code, out, errOut)
	}
}
