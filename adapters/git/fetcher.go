package git

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/runner"
)

// Config configures a Fetcher.
type Config struct {
	// CacheDir holds one bare mirror per repository URL; required.
	CacheDir string
	// AllowFile allows file:// repositories (tests and local use); off, they are refused.
	AllowFile bool
	// Git is the git executable; default "git" from PATH.
	Git string
	// Timeout bounds one fetch when ctx has no earlier deadline; default 10 minutes.
	Timeout time.Duration
	// Limits bound an exported commit; default 10 GiB and 1,000,000 files.
	Limits runner.ArchiveLimits
}

func (c Config) withDefaults() Config {
	if c.Git == "" {
		c.Git = "git"
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Minute
	}
	if c.Limits.MaxBytes <= 0 {
		c.Limits.MaxBytes = 10 << 30
	}
	if c.Limits.MaxFiles <= 0 {
		c.Limits.MaxFiles = 1_000_000
	}
	return c
}

// Validate reports every problem with c after defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.CacheDir == "" {
		errs = append(errs, fmt.Errorf("git: cache directory missing: %w", domain.ErrInvalid))
	}
	if _, err := exec.LookPath(c.Git); err != nil {
		errs = append(errs, fmt.Errorf("git: executable %s: %w", c.Git, err))
	}
	return errors.Join(errs...)
}

// Errors of the fetcher; each wraps a domain kind.
var (
	// ErrBadCommit: the commit is not a full 40-hex SHA.
	ErrBadCommit = fmt.Errorf("not a full 40-hex commit SHA: %w", domain.ErrInvalid)
	// ErrBadRepository: the repository URL is refused.
	ErrBadRepository = fmt.Errorf("repository URL refused: %w", domain.ErrInvalid)
	// ErrTooLarge: a file read with ReadFile is over its limit.
	ErrTooLarge = fmt.Errorf("file too large: %w", domain.ErrInvalid)
	// ErrCommitNotFound: the repository has no such commit.
	ErrCommitNotFound = fmt.Errorf("commit not found in repository: %w", domain.ErrNotFound)
)

// Fetcher materialises repository@commit into a directory. It is safe for concurrent
// use; fetches into one mirror are serialised.
type Fetcher struct {
	cfg     Config
	fetches atomic.Int64

	mu sync.Mutex
	// guards locks
	locks map[string]*sync.Mutex
}

var _ runner.CodeFetcher = (*Fetcher)(nil)

// New returns a Fetcher; it makes the cache directory.
func New(cfg Config) (*Fetcher, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("git: cache directory: %w", err)
	}
	return &Fetcher{cfg: cfg, locks: map[string]*sync.Mutex{}}, nil
}

// Fetches returns how many times the fetcher has fetched from a remote.
func (f *Fetcher) Fetches() int64 { return f.fetches.Load() }

// FetchCode exports code.Commit of code.Repository into dir (see Fetch).
func (f *Fetcher) FetchCode(ctx context.Context, code execution.Code, dir string) error {
	if code.Adhoc != "" {
		return fmt.Errorf("fetch code: ad-hoc code %s is not a commit: %w", code.Adhoc, domain.ErrInvalid)
	}
	return f.Fetch(ctx, code.Repository, code.Commit, dir)
}

var commitRE = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

// ReadFile returns the file at path (relative to the repository root) in code.Commit of
// code.Repository, fetching the commit as Fetch does but exporting nothing else: what a
// caller that needs one file (valohai.yaml) should use. A file larger than limit bytes is
// an error matching ErrTooLarge; a missing path (or a directory) one matching
// os.ErrNotExist.
func (f *Fetcher) ReadFile(ctx context.Context, code execution.Code, path string, limit int64) ([]byte, error) {
	if code.Adhoc != "" {
		return nil, fmt.Errorf("read %s: ad-hoc code %s is not a commit: %w", path, code.Adhoc, domain.ErrInvalid)
	}
	repo, commit := code.Repository, strings.ToLower(code.Commit)
	if !commitRE.MatchString(commit) {
		return nil, fmt.Errorf("read %s of %s at %q: %w", path, repo, code.Commit, ErrBadCommit)
	}
	if path == "" || strings.HasPrefix(path, "/") || strings.HasPrefix(path, "-") || strings.Contains(path, "..") || strings.ContainsAny(path, ":\x00") {
		return nil, fmt.Errorf("read %q of %s at %s: want a relative path inside the repository: %w", path, repo, commit, domain.ErrInvalid)
	}
	if err := f.checkURL(repo); err != nil {
		return nil, fmt.Errorf("read %s of %s at %s: %w", path, repo, commit, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.cfg.Timeout)
		defer cancel()
	}
	if err := f.ensure(ctx, repo, commit); err != nil {
		return nil, fmt.Errorf("read %s of %s at %s: %w", path, repo, commit, err)
	}
	m, object := f.mirror(repo), commit+":"+path
	kind, err := f.git(ctx, m, nil, "cat-file", "-t", object)
	if err != nil || strings.TrimSpace(string(kind)) != "blob" {
		return nil, fmt.Errorf("read %s of %s at %s: %w", path, repo, commit, os.ErrNotExist)
	}
	size, err := f.git(ctx, m, nil, "cat-file", "-s", object)
	if err != nil {
		return nil, fmt.Errorf("read %s of %s at %s: %w", path, repo, commit, err)
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(string(size)), 10, 64); err != nil || n > limit {
		return nil, fmt.Errorf("read %s of %s at %s: %s bytes, limit %d: %w", path, repo, commit, strings.TrimSpace(string(size)), limit, ErrTooLarge)
	}
	data, err := f.git(ctx, m, nil, "cat-file", "blob", object)
	if err != nil {
		return nil, fmt.Errorf("read %s of %s at %s: %w", path, repo, commit, err)
	}
	return data, nil
}

// Fetch exports commit of repo into dir, which must exist: from the mirror when it has the
// commit, else after fetching the repository into the mirror. Errors name the repository
// and the commit; an unknown commit matches ErrCommitNotFound.
func (f *Fetcher) Fetch(ctx context.Context, repo, commit, dir string) error {
	if !commitRE.MatchString(commit) {
		return fmt.Errorf("fetch %s at %q: %w", repo, commit, ErrBadCommit)
	}
	commit = strings.ToLower(commit)
	if err := f.checkURL(repo); err != nil {
		return fmt.Errorf("fetch %s at %s: %w", repo, commit, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.cfg.Timeout)
		defer cancel()
	}
	if err := f.ensure(ctx, repo, commit); err != nil {
		return fmt.Errorf("fetch %s at %s: %w", repo, commit, err)
	}
	if err := f.export(ctx, repo, commit, dir); err != nil {
		return fmt.Errorf("check out %s at %s: %w", repo, commit, err)
	}
	return nil
}

// checkURL refuses what git could take as an option or a transport helper (ext::, fd::),
// and every scheme other than https, ssh, git and (when allowed) file.
func (f *Fetcher) checkURL(repo string) error {
	if repo == "" || strings.HasPrefix(repo, "-") || strings.ContainsAny(repo, " \t\r\n\x00\\") || strings.Contains(repo, "::") {
		return ErrBadRepository
	}
	scheme, rest, ok := strings.Cut(repo, "://")
	if !ok {
		// scp-like ssh: [user@]host:path; git treats a colon after a slash as a local path.
		userHost, path, ok := strings.Cut(repo, ":")
		host := userHost
		if i := strings.LastIndex(userHost, "@"); i >= 0 {
			host = userHost[i+1:]
		}
		if !ok || host == "" || path == "" || strings.Contains(userHost, "/") || strings.HasPrefix(host, "-") {
			return ErrBadRepository
		}
		return nil
	}
	u, err := url.Parse(repo)
	if err != nil {
		return ErrBadRepository
	}
	switch strings.ToLower(scheme) {
	case "https", "ssh", "git":
		if u.Host == "" || strings.HasPrefix(u.Host, "-") || strings.HasPrefix(u.Hostname(), "-") || strings.HasPrefix(u.User.Username(), "-") {
			return ErrBadRepository
		}
		if _, hasPassword := u.User.Password(); hasPassword {
			return fmt.Errorf("credentials in the URL: %w", ErrBadRepository)
		}
	case "file":
		if !f.cfg.AllowFile {
			return fmt.Errorf("file:// repositories are disabled: %w", ErrBadRepository)
		}
		if rest == "" || (u.Host != "" && u.Host != "localhost") {
			return ErrBadRepository
		}
	default:
		return fmt.Errorf("scheme %s: %w", scheme, ErrBadRepository)
	}
	return nil
}

// mirror is the bare repository caching repo.
func (f *Fetcher) mirror(repo string) string {
	sum := sha256.Sum256([]byte(repo))
	return filepath.Join(f.cfg.CacheDir, hex.EncodeToString(sum[:16])+".git")
}

func (f *Fetcher) lock(dir string) func() {
	f.mu.Lock()
	l, ok := f.locks[dir]
	if !ok {
		l = &sync.Mutex{}
		f.locks[dir] = l
	}
	f.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// ensure makes the mirror of repo hold commit, fetching only when it does not.
func (f *Fetcher) ensure(ctx context.Context, repo, commit string) error {
	m := f.mirror(repo)
	defer f.lock(m)()
	if _, err := os.Stat(filepath.Join(m, "HEAD")); err != nil {
		tmp, err := os.MkdirTemp(f.cfg.CacheDir, "init-*")
		if err != nil {
			return fmt.Errorf("make mirror: %w", err)
		}
		defer func() { _ = os.RemoveAll(tmp) }()
		if _, err := f.git(ctx, "", nil, "init", "--bare", "--quiet", tmp); err != nil {
			return err
		}
		// In-tree .gitattributes must not drop (export-ignore) or rewrite (export-subst)
		// files in the export: the mirror's info/attributes comes first.
		if err := os.WriteFile(filepath.Join(tmp, "info", "attributes"), []byte("* -export-ignore -export-subst\n"), 0o644); err != nil {
			return fmt.Errorf("make mirror: %w", err)
		}
		if err := os.Rename(tmp, m); err != nil {
			return fmt.Errorf("make mirror: %w", err)
		}
	}
	if f.has(ctx, m, commit) {
		return nil
	}
	f.fetches.Add(1)
	// Branches and tags first (any server allows those), then the commit itself for
	// servers that let clients ask for unadvertised commits.
	_, err := f.git(ctx, m, nil, "fetch", "--quiet", "--no-tags", "--prune", "--", repo, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
	if err != nil {
		return err
	}
	if f.has(ctx, m, commit) {
		return nil
	}
	if _, err := f.git(ctx, m, nil, "fetch", "--quiet", "--no-tags", "--", repo, commit); err != nil || !f.has(ctx, m, commit) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrCommitNotFound
	}
	return nil
}

func (f *Fetcher) has(ctx context.Context, mirror, commit string) bool {
	_, err := f.git(ctx, mirror, nil, "cat-file", "-e", commit+"^{commit}")
	return err == nil
}

// export writes the tree of commit into dir.
func (f *Fetcher) export(ctx context.Context, repo, commit, dir string) error {
	m := f.mirror(repo)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := f.git(ctx, m, pw, "archive", "--format=tar", commit)
		_ = pw.CloseWithError(err)
		done <- err
	}()
	err := runner.Unpack(ctx, pr, dir, f.cfg.Limits)
	if err != nil {
		cancel()
	} else {
		_, err = io.Copy(io.Discard, pr) // the padding after the end of the tar
	}
	_ = pr.CloseWithError(io.ErrClosedPipe) // let git end if Unpack stopped early
	if gerr := <-done; err == nil {
		err = gerr
	}
	return err
}

// git runs git with hooks off, no prompts and only the allowed protocols, in the bare
// repository gitDir when it is set; stdout goes to out, or is returned.
func (f *Fetcher) git(ctx context.Context, gitDir string, out io.Writer, args ...string) ([]byte, error) {
	protocols := "https:ssh:git"
	if f.cfg.AllowFile {
		protocols += ":file"
	}
	full := []string{"-c", "core.hooksPath=/dev/null", "-c", "protocol.allow=never"}
	for _, p := range strings.Split(protocols, ":") {
		full = append(full, "-c", "protocol."+p+".allow=always")
	}
	if gitDir != "" {
		full = append(full, "--git-dir="+gitDir)
	}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, f.cfg.Git, full...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ALLOW_PROTOCOL="+protocols, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_SSH_COMMAND=ssh -o BatchMode=yes", "GIT_PROTOCOL_FROM_USER=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	if out != nil {
		cmd.Stdout = out
	}
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("git %s: %w", args[0], ctx.Err())
		}
		return nil, fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}
