package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// TestDataset_CreateVersionAliasLs creates a dataset, a second version from the first,
// moves aliases, lists and inspects it now and as of before the second version, and
// traces a member datum down to its dataset version.
func TestDataset_CreateVersionAliasLs(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	dir, url, _, _ := clientServe(t)
	a := mustUpload(t, dir, url, "a.jpg", "aaa")
	b := mustUpload(t, dir, url, "b.jpg", "bbbb")
	c := mustUpload(t, dir, url, "c.jpg", "ccccc")
	if code, _, errOut := strata(t, "", "--data-dir", dir, "alias", "--server", url, "-p", "vision", "set", "newest-image", b); code != 0 {
		t.Fatalf("alias set = %d, %q", code, errOut)
	}
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return strata(t, "", append([]string{"--data-dir", dir, "dataset", "--server", url, "-p", "vision"}, args...)...)
	}
	if code, out, _ := cli("ls"); code != 0 || !strings.Contains(out, "no datasets yet") {
		t.Errorf("ls (none) = %d, %q", code, out)
	}
	code, out, errOut := cli("--json", "create", "images", "--file", a, "--file", "datum://newest-image")
	var v1 struct {
		Version  datasetVersion
		Position uint64
	}
	if err := json.Unmarshal([]byte(out), &v1); code != 0 || err != nil || v1.Version.Name != "v1" || len(v1.Version.Files) != 2 || v1.Position == 0 {
		t.Fatalf("create --json = %d, %q %q", code, out, errOut)
	}
	if code, _, errOut := cli("create", "images", "--file", c); code != exitFailure || !strings.Contains(errOut, "already exists") || !strings.Contains(errOut, "dataset version create") {
		t.Errorf("create (exists) = %d, %q", code, errOut)
	}
	code, out, errOut = cli("version", "create", "images", "v2", "--from", "v1", "--exclude", a, "--file", c, "--alias", "production")
	if code != 0 || !strings.Contains(out, "dataset://images/v2 with 2 file(s)") || !strings.Contains(out, "production") {
		t.Fatalf("version create = %d, %q %q", code, out, errOut)
	}
	if code, out, _ := cli("alias", "images", "staging", "v1"); code != 0 || !strings.Contains(out, "now points at v1") {
		t.Errorf("alias = %d, %q", code, out)
	}
	if code, out, _ := cli("alias", "images", "staging", "v1"); code != 0 || !strings.Contains(out, "nothing changed") {
		t.Errorf("alias (again) = %d, %q", code, out)
	}

	code, out, _ = cli("ls")
	if code != 0 || !strings.HasPrefix(out, "NAME ") || !strings.Contains(out, "images") || !strings.Contains(out, "production→v2") || !strings.Contains(out, "staging→v1") {
		t.Errorf("ls = %d, %q", code, out)
	}
	var all []dataset
	code, out, _ = cli("--json", "ls")
	if err := json.Unmarshal([]byte(out), &all); code != 0 || err != nil || len(all) != 1 || all[0].latest() != "v2" {
		t.Errorf("ls --json = %d, %q", code, out)
	}
	code, out, _ = cli("version", "ls", "images")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, "production") || strings.Index(out, "v1") > strings.Index(out, "v2") {
		t.Errorf("version ls = %d, %q; want v1 then v2", code, out)
	}
	var old dataset
	code, out, _ = cli("--json", "version", "ls", "images", "--as-of", strconv.FormatUint(v1.Position, 10))
	if err := json.Unmarshal([]byte(out), &old); code != 0 || err != nil || len(old.Versions) != 1 {
		t.Errorf("version ls --as-of (before v2) = %d, %q", code, out)
	}
	code, out, _ = cli("version", "info", "images", "production")
	if code != 0 || !strings.Contains(out, "dataset://images/v2") || !strings.Contains(out, "b.jpg") || !strings.Contains(out, "c.jpg") || strings.Contains(out, "a.jpg") {
		t.Errorf("version info production = %d, %q", code, out)
	}
	if code, out, _ := cli("version", "info", "images"); code != 0 || !strings.Contains(out, "dataset://images/v2") {
		t.Errorf("version info (latest) = %d, %q", code, out)
	}

	code, out, _ = strata(t, "", "--data-dir", dir, "data", "--server", url, "-p", "vision", "trace", c, "--down")
	if code != 0 || !strings.Contains(out, "member-of → dataset version dataset://images/v2") ||
		!strings.Contains(out, "points-to → dataset alias dataset://images/production") {
		t.Errorf("trace --down of a member = %d:\n%s", code, out)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"version", "create", "images", "v2", "--file", a}, exitFailure, "CONFLICT"},
		{[]string{"version", "create", "images", "v3", "--exclude", a}, exitUsage, "--exclude needs --from"},
		{[]string{"version", "create", "images", "v3", "--file", "nope"}, exitUsage, "--file nope"},
		{[]string{"version", "create", "images", "v3", "--file", "datum://gone"}, exitFailure, "NOT_FOUND"},
		{[]string{"version", "create", "images", " ", "--file", a}, exitUsage, "version name is empty"},
		{[]string{"version", "info", "images", "v9"}, exitFailure, "NOT_FOUND"},
		{[]string{"version", "info", "nope"}, exitFailure, "NOT_FOUND"},
		{[]string{"version", "ls", "images", "--as-of", "never"}, exitUsage, "--as-of"},
		{[]string{"alias", "images", "prod"}, exitUsage, "NAME, ALIAS and VERSION"},
		{[]string{"alias", "images", "prod", "v9"}, exitFailure, "NOT_FOUND"},
	} {
		if code, _, errOut := cli(tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("dataset %v = %d, %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}
