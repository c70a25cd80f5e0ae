package git_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratahq/strata/adapters/fs"
	"github.com/stratahq/strata/adapters/git"
	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/adapters/process"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/runner"
	"github.com/stratahq/strata/runner/runnertest"
)

// testRepo is a real repository made with git init in a temporary directory.
type testRepo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *testRepo {
	t.Helper()
	r := &testRepo{t: t, dir: t.TempDir()}
	r.run("init", "--quiet", "--initial-branch=main")
	return r
}

func (r *testRepo) run(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (a trailing * in a name makes it executable) and commits them.
func (r *testRepo) commit(files map[string]string) string {
	r.t.Helper()
	for name, content := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o755
		}
		p := filepath.Join(r.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			r.t.Fatal(err)
		}
	}
	r.run("add", "-A")
	r.run("commit", "--quiet", "-m", "change")
	return r.run("rev-parse", "HEAD")
}

func (r *testRepo) url() string { return "file://" + r.dir }

func newFetcher(t *testing.T, allowFile bool) *git.Fetcher {
	t.Helper()
	f, err := git.New(git.Config{CacheDir: t.TempDir(), AllowFile: allowFile})
	if err != nil {
		t.Fatalf("git.New() error = %v", err)
	}
	return f
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFetcher_Fetch(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	first := repo.commit(map[string]string{"train.py": "print('v1')\n", "run.sh*": "#!/bin/sh\n", "lib/util.py": "x = 1\n",
		".gitattributes": "secret.txt export-ignore\nversion.txt export-subst\n", "secret.txt": "kept\n", "version.txt": "$Format:%H$\n"})
	second := repo.commit(map[string]string{"train.py": "print('v2')\n"})
	f := newFetcher(t, true)

	for commit, want := range map[string]string{first: "print('v1')\n", second: "print('v2')\n"} {
		dir := t.TempDir()
		if err := f.FetchCode(t.Context(), execution.Code{Repository: repo.url(), Commit: commit}, dir); err != nil {
			t.Fatalf("FetchCode(%s) error = %v", commit, err)
		}
		if got := mustRead(t, filepath.Join(dir, "train.py")); got != want {
			t.Errorf("train.py at %s = %q, want %q", commit, got, want)
		}
		if got := mustRead(t, filepath.Join(dir, "lib", "util.py")); got != "x = 1\n" {
			t.Errorf("lib/util.py = %q", got)
		}
		// The checkout is the commit's files, whatever .gitattributes says.
		if got := mustRead(t, filepath.Join(dir, "secret.txt")); got != "kept\n" {
			t.Errorf("secret.txt (export-ignore) = %q, want it kept", got)
		}
		if got := mustRead(t, filepath.Join(dir, "version.txt")); got != "$Format:%H$\n" {
			t.Errorf("version.txt (export-subst) = %q, want it unchanged", got)
		}
		if fi, err := os.Stat(filepath.Join(dir, "run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
			t.Errorf("run.sh = %v, %v; want executable", fi, err)
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf(".git in the checkout: %v, want none", err)
		}
	}
	if got := f.Fetches(); got != 1 {
		t.Errorf("Fetches() = %d, want 1 (the second commit was in the mirror already)", got)
	}
}

func TestFetcher_Fetch_ReusesCache(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	c1 := repo.commit(map[string]string{"train.py": "v1"})
	f := newFetcher(t, true)
	for i := range 2 {
		if err := f.Fetch(t.Context(), repo.url(), c1, t.TempDir()); err != nil {
			t.Fatalf("Fetch() #%d error = %v", i+1, err)
		}
	}
	if got := f.Fetches(); got != 1 {
		t.Fatalf("Fetches() after the same commit twice = %d, want 1", got)
	}
	// A commit made after the mirror was filled is fetched, once.
	c2 := repo.commit(map[string]string{"train.py": "v2"})
	dir := t.TempDir()
	for range 2 {
		if err := f.Fetch(t.Context(), repo.url(), c2, dir); err != nil {
			t.Fatalf("Fetch(new commit) error = %v", err)
		}
	}
	if got := f.Fetches(); got != 2 {
		t.Errorf("Fetches() after a new commit = %d, want 2", got)
	}
	if got := mustRead(t, filepath.Join(dir, "train.py")); got != "v2" {
		t.Errorf("train.py = %q, want v2", got)
	}
}

func TestFetcher_Fetch_UnknownCommit(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	repo.commit(map[string]string{"train.py": "v1"})
	f := newFetcher(t, true)
	missing := strings.Repeat("0123456789", 4)
	err := f.Fetch(t.Context(), repo.url(), missing, t.TempDir())
	if !errors.Is(err, git.ErrCommitNotFound) {
		t.Fatalf("Fetch(unknown commit) error = %v, want ErrCommitNotFound", err)
	}
	if msg := err.Error(); !strings.Contains(msg, repo.url()) || !strings.Contains(msg, missing) {
		t.Errorf("error %q does not name the repository and the commit", msg)
	}
	err = f.Fetch(t.Context(), "file://"+t.TempDir()+"/nothing", missing, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "nothing") {
		t.Errorf("Fetch(missing repository) error = %v, want one naming it", err)
	}
}

func TestFetcher_Fetch_Refuses(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "pwned")
	good := strings.Repeat("ab", 20)
	repo := newRepo(t)
	commit := repo.commit(map[string]string{"a": "a"})
	tests := []struct {
		name, repo, commit string
		allowFile          bool
		want               error
	}{
		{"ext transport", "ext::sh -c touch% " + marker, good, true, git.ErrBadRepository},
		{"ext transport without spaces", "ext::touch%20" + marker, good, true, git.ErrBadRepository},
		{"fd transport", "fd::0", good, true, git.ErrBadRepository},
		{"upload-pack option", "--upload-pack=touch " + marker, good, true, git.ErrBadRepository},
		{"upload-pack option without spaces", "--upload-pack=id", good, true, git.ErrBadRepository},
		{"leading dash", "-oProxyCommand=x", good, true, git.ErrBadRepository},
		{"ssh host starting with a dash", "ssh://-oProxyCommand=touch%20" + marker + "/repo", good, true, git.ErrBadRepository},
		{"scp-like host starting with a dash", "-oProxyCommand=x:repo", good, true, git.ErrBadRepository},
		{"http", "http://example.com/repo.git", good, true, git.ErrBadRepository},
		{"ftp", "ftp://example.com/repo.git", good, true, git.ErrBadRepository},
		{"file when disabled", repo.url(), commit, false, git.ErrBadRepository},
		{"local path", repo.dir, commit, true, git.ErrBadRepository},
		{"password in the URL", "https://u:p@example.com/r.git", good, true, git.ErrBadRepository},
		{"short commit", repo.url(), commit[:12], true, git.ErrBadCommit},
		{"ref name", repo.url(), "HEAD", true, git.ErrBadCommit},
		{"option as commit", repo.url(), "--output=" + marker, true, git.ErrBadCommit},
		{"empty commit", repo.url(), "", true, git.ErrBadCommit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFetcher(t, tt.allowFile)
			err := f.Fetch(t.Context(), tt.repo, tt.commit, t.TempDir())
			if !errors.Is(err, tt.want) {
				t.Fatalf("Fetch(%q, %q) error = %v, want %v", tt.repo, tt.commit, err, tt.want)
			}
			if f.Fetches() != 0 {
				t.Errorf("Fetches() = %d, want 0", f.Fetches())
			}
		})
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("marker %s exists: a refused URL ran a command", marker)
	}
}

// TestFetcher_RunsExecution runs a step through the runner and the process launcher whose
// command reads a file of the checked-out commit.
func TestFetcher_RunsExecution(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	commit := repo.commit(map[string]string{"train.py": "print('hello from the repository')\n"})
	b, err := fs.New(fs.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("fs.New() error = %v", err)
	}
	f := newFetcher(t, true)
	h := runnertest.NewHarness(t, runnertest.Features{}, process.New(process.Config{}),
		runnertest.Env{Log: memory.NewStore(), Blobs: b, Code: f}, runner.Config{})
	id := h.Create(`
- step:
    name: train
    image: IMAGE
    command:
      - cat train.py
      - test "$PWD" = "$VH_REPOSITORY_DIR"
`, "train", nil, nil, func(c *app.CreateExecution) {
		c.Code = execution.Code{Repository: repo.url(), Commit: commit}
	})
	res, err := h.Runner.Run(h.Ctx(), id)
	if err != nil {
		t.Fatalf("Run() error = %v\nlog:\n%s", err, h.LogText(id))
	}
	if res.Status != domain.StatusComplete {
		t.Fatalf("Run() status = %v, want complete\nlog:\n%s", res.Status, h.LogText(id))
	}
	if log := h.LogText(id); !strings.Contains(log, "print('hello from the repository')") {
		t.Errorf("log does not show train.py:\n%s", log)
	}
}

func TestFetcher_ReadFile(t *testing.T) {
	t.Parallel()
	repo := newRepo(t)
	commit := repo.commit(map[string]string{"valohai.yaml": "- step: {}\n", "src/train.py": "v1", "big.bin": strings.Repeat("x", 2048)})
	f := newFetcher(t, true)
	code := func(c string) execution.Code { return execution.Code{Repository: repo.url(), Commit: c} }
	got, err := f.ReadFile(t.Context(), code(strings.ToUpper(commit)), "valohai.yaml", 1024)
	if err != nil || string(got) != "- step: {}\n" {
		t.Fatalf("ReadFile(valohai.yaml) = %q, %v", got, err)
	}
	if got, err := f.ReadFile(t.Context(), code(commit), "src/train.py", 1024); err != nil || string(got) != "v1" {
		t.Errorf("ReadFile(src/train.py) = %q, %v", got, err)
	}
	for _, path := range []string{"missing.yaml", "src"} {
		if _, err := f.ReadFile(t.Context(), code(commit), path, 1024); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("ReadFile(%s) error = %v, want os.ErrNotExist", path, err)
		}
	}
	if _, err := f.ReadFile(t.Context(), code(commit), "big.bin", 1024); !errors.Is(err, git.ErrTooLarge) || !strings.Contains(err.Error(), "2048") {
		t.Errorf("ReadFile(2048 bytes, limit 1024) error = %v, want ErrTooLarge naming the size", err)
	}
	for _, path := range []string{"", "/etc/passwd", "../x", "-x", "HEAD:valohai.yaml", "a\x00b"} {
		if _, err := f.ReadFile(t.Context(), code(commit), path, 1024); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("ReadFile(%q) error = %v, want invalid", path, err)
		}
	}
	if _, err := f.ReadFile(t.Context(), code(strings.Repeat("0123456789", 4)), "valohai.yaml", 1024); !errors.Is(err, git.ErrCommitNotFound) {
		t.Errorf("ReadFile(unknown commit) error = %v, want ErrCommitNotFound", err)
	}
	if _, err := f.ReadFile(t.Context(), code("HEAD"), "valohai.yaml", 1024); !errors.Is(err, git.ErrBadCommit) {
		t.Errorf("ReadFile(HEAD) error = %v, want ErrBadCommit", err)
	}
	if _, err := f.ReadFile(t.Context(), execution.Code{Repository: "ext::sh -c evil", Commit: commit}, "valohai.yaml", 1024); !errors.Is(err, git.ErrBadRepository) {
		t.Errorf("ReadFile(ext:: repository) error = %v, want ErrBadRepository", err)
	}
}
