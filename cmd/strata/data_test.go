package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clientServe starts serve in a new data directory with a project "vision" and returns
// the directory, the URL, an admin client and the project's ID.
func clientServe(t *testing.T) (dir, url string, c gqlClient, project string) {
	t.Helper()
	dir = t.TempDir()
	url, _ = startServe(t, dir, "--runner=none")
	tok, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	c = gqlClient{t: t, url: url, token: strings.TrimSpace(string(tok))}
	var p struct{ CreateProject struct{ ID string } }
	c.do(`mutation($in: CreateProjectInput!) { createProject(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"slug": "vision", "name": "Vision"}}, &p)
	return dir, url, c, p.CreateProject.ID
}

// TestData_UploadLsInfoDownloadPurge drives every data command against a real serve.
func TestData_UploadLsInfoDownloadPurge(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	dir, url, _, pid := clientServe(t)
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return strata(t, "", append([]string{"--data-dir", dir, "data", "--server", url}, args...)...)
	}
	content := make([]byte, 3<<20+17)
	_, _ = rand.Read(content)
	file := filepath.Join(t.TempDir(), "model.bin")
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := cli("upload", file, "--project", "vision")
	if code != 0 || !strings.Contains(out, "uploaded model.bin as datum") || strings.Contains(out, "already") {
		t.Fatalf("upload = %d, %q %q", code, out, errOut)
	}
	// The same content again: a new datum, with a note naming the first.
	code, out, errOut = cli("--json", "upload", file, "--project", pid, "--name", "copy.bin")
	var up struct {
		Datum      datum
		Created    bool
		Duplicates []string
	}
	if err := json.Unmarshal([]byte(out), &up); code != 0 || err != nil || !up.Created || len(up.Duplicates) != 1 || up.Datum.Name != "copy.bin" {
		t.Fatalf("upload --json (duplicate) = %d, %q %q, %v", code, out, errOut, err)
	}
	first := up.Duplicates[0]
	code, out, _ = cli("upload", file, "--project", "vision")
	if code != 0 || !strings.Contains(out, "already had this content as datum "+first) || !strings.Contains(out, "--reuse") {
		t.Errorf("upload (duplicate) = %d, %q; want a note naming %s", code, out, first)
	}
	code, out, _ = cli("upload", file, "--project", "vision", "--reuse")
	if code != 0 || !strings.Contains(out, "reused datum "+first) {
		t.Errorf("upload --reuse = %d, %q; want datum %s reused", code, out, first)
	}

	code, out, _ = cli("ls", "--project", "vision")
	if code != 0 || strings.Count(out, "\n") != 4 || !strings.HasPrefix(out, "ID ") || !strings.Contains(out, "copy.bin") || !strings.Contains(out, "3.0 MiB") {
		t.Errorf("ls = %d, %q; want a header and 3 datums", code, out)
	}
	var rows []datum
	code, out, _ = cli("--json", "ls", "--project", "vision")
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 3 || rows[0].ID != first {
		t.Errorf("ls --json = %d, %q, %v", code, out, err)
	}

	code, out, _ = cli("info", first)
	if code != 0 || !strings.Contains(out, "sha256:") || !strings.Contains(out, "datum://"+first) || !strings.Contains(out, "upload by") {
		t.Errorf("info = %d, %q", code, out)
	}

	dst := filepath.Join(t.TempDir(), "got.bin")
	if code, _, errOut := cli("download", first, "-o", dst); code != 0 {
		t.Fatalf("download = %d, %q", code, errOut)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, content) {
		t.Errorf("downloaded %d bytes, want the %d uploaded", len(got), len(content))
	}
	if code, _, errOut := cli("download", first, "-o", dst); code != exitFailure || !strings.Contains(errOut, "never overwrites") {
		t.Errorf("download onto an existing file = %d, %q", code, errOut)
	}

	if code, _, errOut := cli("purge", first); code != exitUsage || !strings.Contains(errOut, "--reason") {
		t.Errorf("purge without --reason = %d, %q", code, errOut)
	}
	code, out, _ = cli("purge", first, "--reason", "test data")
	if code != 0 || !strings.Contains(out, "shared by 2") {
		t.Errorf("purge (shared content) = %d, %q", code, out)
	}
	if code, _, errOut := cli("download", first, "-o", dst+".2"); code != exitFailure || !strings.Contains(errOut, "purged") {
		t.Errorf("download purged = %d, %q", code, errOut)
	}
	if code, _, errOut := cli("info", "0192f3a4-0000-7000-8000-000000000000"); code != exitFailure || !strings.Contains(errOut, "NOT_FOUND: ") {
		t.Errorf("info(unknown) = %d, %q; want NOT_FOUND", code, errOut)
	}
	if code, _, errOut := cli("ls", "--project", "nope"); code != exitFailure || !strings.Contains(errOut, `no project "nope"`) || !strings.Contains(errOut, "vision") {
		t.Errorf("ls --project nope = %d, %q", code, errOut)
	}
}

// TestClient_Errors: a missing token, a refused token, a forbidden action and an
// unreachable server each say what to do next and exit 1.
func TestClient_Errors(t *testing.T) {
	t.Setenv("STRATA_TOKEN", "")
	dir, url, c, pid := clientServe(t)
	if code, _, errOut := strata(t, "", "--data-dir", t.TempDir(), "data", "--server", url, "ls", "-p", "vision"); code != exitFailure ||
		!strings.Contains(errOut, "STRATA_TOKEN") || !strings.Contains(errOut, "admin-token") {
		t.Errorf("no token = %d, %q", code, errOut)
	}
	t.Setenv("STRATA_TOKEN", "bogus")
	if code, _, errOut := strata(t, "", "data", "--server", url, "ls", "-p", pid); code != exitFailure || !strings.Contains(errOut, "UNAUTHENTICATED: ") {
		t.Errorf("bad token = %d, %q", code, errOut)
	}
	var tok struct{ CreateToken struct{ Secret string } }
	c.do(`mutation { createToken(input: {name: "bob", user: "bob"}) { secret } }`, nil, &tok)
	t.Setenv("STRATA_TOKEN", tok.CreateToken.Secret)
	if code, _, errOut := strata(t, "", "data", "--server", url, "ls", "-p", pid); code != exitFailure || !strings.Contains(errOut, "FORBIDDEN: ") || !strings.Contains(errOut, "ask an admin") {
		t.Errorf("not a member = %d, %q", code, errOut)
	}
	t.Setenv("STRATA_TOKEN", "")
	t.Setenv("STRATA_SERVER", "http://127.0.0.1:1")
	if code, _, errOut := strata(t, "", "--data-dir", dir, "data", "ls", "-p", pid); code != exitFailure || !strings.Contains(errOut, "cannot reach") || !strings.Contains(errOut, "strata serve") {
		t.Errorf("unreachable = %d, %q", code, errOut)
	}
}

func TestByteProgress(t *testing.T) {
	var b bytes.Buffer
	p := newByteProgress(&b, "uploading x", 100<<20)
	p.quiet = 0
	p.n = 25 << 20
	line := p.line(2 * time.Second)
	for _, want := range []string{"[======>", " 25%", "25.0 MiB of 100.0 MiB", "12.5 MiB/s", "6s left"} {
		if !strings.Contains(line, want) {
			t.Errorf("line = %q, want %q in it", line, want)
		}
	}
	p.update(50 << 20)
	p.done()
	if !strings.Contains(b.String(), "\n") || !strings.Contains(b.String(), "50.0 MiB in") {
		t.Errorf("progress output = %q", b.String())
	}
}
