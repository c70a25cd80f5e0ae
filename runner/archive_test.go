package runner_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratahq/strata/adapters/fs"
	"github.com/stratahq/strata/adapters/memory"
	"github.com/stratahq/strata/adapters/process"
	"github.com/stratahq/strata/app"
	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/runner"
	"github.com/stratahq/strata/runner/runnertest"
)

// entry is one archive entry: a file (Body), a directory (Dir), a symbolic link (Link) or,
// with Type set, a tar entry of that type.
type entry struct {
	Name, Body, Link string
	Dir              bool
	Mode             int64
	Type             byte
	Size             int64 // header size when not len(Body)
}

func tarGz(t *testing.T, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range es {
		h := &tar.Header{Name: e.Name, Mode: 0o644, Size: int64(len(e.Body)), Typeflag: tar.TypeReg}
		switch {
		case e.Type != 0:
			h.Typeflag, h.Linkname, h.Size = e.Type, e.Link, 0
		case e.Dir:
			h.Typeflag, h.Size, h.Mode = tar.TypeDir, 0, 0o755
		case e.Link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.Link, 0
		}
		if e.Mode != 0 {
			h.Mode = e.Mode
		}
		if e.Size != 0 {
			h.Size = e.Size
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Body)); err != nil && e.Size == 0 {
				t.Fatal(err)
			}
		}
	}
	_ = tw.Close() // fails for a lying header size, which is what such a test wants
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipOf(t *testing.T, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate}
		body := e.Body
		switch {
		case e.Dir:
			h.SetMode(os.ModeDir | 0o755)
		case e.Link != "":
			h.SetMode(os.ModeSymlink | 0o777)
			body = e.Link
		case e.Mode != 0:
			h.SetMode(os.FileMode(e.Mode))
		default:
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUnpack(t *testing.T) {
	t.Parallel()
	es := []entry{{Name: "src/", Dir: true}, {Name: "train.py", Body: "print(1)\n"}, {Name: "./src/lib.py", Body: "x = 1\n"},
		{Name: "run.sh", Body: "#!/bin/sh\n", Mode: 0o755}, {Name: "src/link.py", Link: "../train.py"}, {Name: "self", Link: "."}}
	for name, archive := range map[string][]byte{"tar.gz": tarGz(t, es...), "zip": zipOf(t, es...)} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := runner.Unpack(t.Context(), bytes.NewReader(archive), dir, runner.ArchiveLimits{}); err != nil {
				t.Fatalf("Unpack() error = %v", err)
			}
			for p, want := range map[string]string{"train.py": "print(1)\n", "src/lib.py": "x = 1\n", "src/link.py": "print(1)\n", "self/run.sh": "#!/bin/sh\n"} {
				if b, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(b) != want {
					t.Errorf("%s = %q, %v; want %q", p, b, err, want)
				}
			}
			if fi, err := os.Stat(filepath.Join(dir, "run.sh")); err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("run.sh mode = %v, %v; want 0755", fi, err)
			}
		})
	}
}

func TestUnpack_Hostile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		archive func(t *testing.T, outside string) []byte
		lim     runner.ArchiveLimits
	}{
		{"absolute path", func(t *testing.T, o string) []byte { return tarGz(t, entry{Name: o + "/evil", Body: "x"}) }, runner.ArchiveLimits{}},
		{"dot-dot", func(t *testing.T, o string) []byte { return tarGz(t, entry{Name: "../evil", Body: "x"}) }, runner.ArchiveLimits{}},
		{"dot-dot inside", func(t *testing.T, o string) []byte { return tarGz(t, entry{Name: "a/../../evil", Body: "x"}) }, runner.ArchiveLimits{}},
		{"harmless dot-dot", func(t *testing.T, o string) []byte { return tarGz(t, entry{Name: "a/../b", Body: "x"}) }, runner.ArchiveLimits{}},
		{"absolute symlink", func(t *testing.T, o string) []byte { return tarGz(t, entry{Name: "l", Link: o}) }, runner.ArchiveLimits{}},
		{"symlink up", func(t *testing.T, o string) []byte { return tarGz(t, entry{Name: "a/l", Link: "../../x"}) }, runner.ArchiveLimits{}},
		{"file through a symlink", func(t *testing.T, o string) []byte {
			return tarGz(t, entry{Name: "l", Link: "."}, entry{Name: "l/evil", Body: "x"})
		}, runner.ArchiveLimits{}},
		{"symlink through a symlink", func(t *testing.T, o string) []byte {
			return tarGz(t, entry{Name: "d/a", Link: ".."}, entry{Name: "b", Link: "d/a/.."})
		}, runner.ArchiveLimits{}},
		{"symlink under a symlink", func(t *testing.T, o string) []byte {
			return tarGz(t, entry{Name: "a", Link: "."}, entry{Name: "a/b", Link: ".."})
		}, runner.ArchiveLimits{}},
		{"hard link", func(t *testing.T, o string) []byte {
			return tarGz(t, entry{Name: "h", Type: tar.TypeLink, Link: o + "/x"})
		}, runner.ArchiveLimits{}},
		{"device", func(t *testing.T, o string) []byte { return tarGz(t, entry{Name: "null", Type: tar.TypeChar}) }, runner.ArchiveLimits{}},
		{"fifo", func(t *testing.T, o string) []byte { return tarGz(t, entry{Name: "p", Type: tar.TypeFifo}) }, runner.ArchiveLimits{}},
		{"too many files", func(t *testing.T, o string) []byte {
			return tarGz(t, entry{Name: "a", Body: "1"}, entry{Name: "b", Body: "2"}, entry{Name: "c", Body: "3"})
		}, runner.ArchiveLimits{MaxFiles: 2}},
		{"too large", func(t *testing.T, o string) []byte {
			return tarGz(t, entry{Name: "a", Body: strings.Repeat("x", 600)}, entry{Name: "b", Body: strings.Repeat("x", 600)})
		}, runner.ArchiveLimits{MaxBytes: 1000}},
		{"bomb", func(t *testing.T, o string) []byte {
			return tarGz(t, entry{Name: "zeros", Body: strings.Repeat("\x00", 1<<20)})
		}, runner.ArchiveLimits{MaxBytes: 1 << 16}},
		{"zip dot-dot", func(t *testing.T, o string) []byte { return zipOf(t, entry{Name: "../evil", Body: "x"}) }, runner.ArchiveLimits{}},
		{"zip absolute", func(t *testing.T, o string) []byte { return zipOf(t, entry{Name: o + "/evil", Body: "x"}) }, runner.ArchiveLimits{}},
		{"zip backslash", func(t *testing.T, o string) []byte { return zipOf(t, entry{Name: `..\evil`, Body: "x"}) }, runner.ArchiveLimits{}},
		{"zip symlink out", func(t *testing.T, o string) []byte { return zipOf(t, entry{Name: "l", Link: "../.."}) }, runner.ArchiveLimits{}},
		{"zip too large", func(t *testing.T, o string) []byte {
			return zipOf(t, entry{Name: "zeros", Body: strings.Repeat("\x00", 1<<20)})
		}, runner.ArchiveLimits{MaxBytes: 1 << 16}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			outside := t.TempDir()
			dir := filepath.Join(t.TempDir(), "repository")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			err := runner.Unpack(t.Context(), bytes.NewReader(tt.archive(t, outside)), dir, tt.lim)
			if tt.name == "harmless dot-dot" {
				// a/../b stays inside, but a .. in a name is refused all the same.
				if !errors.Is(err, runner.ErrUnsafeArchive) {
					t.Fatalf("Unpack() error = %v, want ErrUnsafeArchive", err)
				}
				return
			}
			if !errors.Is(err, runner.ErrUnsafeArchive) || !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("Unpack() error = %v, want ErrUnsafeArchive", err)
			}
			for _, d := range []string{outside, filepath.Dir(dir)} {
				ents, _ := os.ReadDir(d)
				for _, e := range ents {
					if e.Name() != "repository" {
						t.Errorf("Unpack() wrote %s outside the directory", filepath.Join(d, e.Name()))
					}
				}
			}
		})
	}
}

// TestRunner_AdhocCode runs an execution of ad-hoc code (a tar.gz datum) whose command
// reads a file of it; a hostile archive crashes the execution with a clear reason.
func TestRunner_AdhocCode(t *testing.T) {
	t.Parallel()
	b, err := fs.New(fs.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("fs.New() error = %v", err)
	}
	h := runnertest.NewHarness(t, runnertest.Features{}, process.New(process.Config{}), runnertest.Env{Log: memory.NewStore(), Blobs: b}, runner.Config{})
	const yml = `
- step:
    name: train
    image: IMAGE
    command:
      - cat train.py
`
	good := h.Upload("code.tar.gz", string(tarGz(t, entry{Name: "train.py", Body: "print('ad-hoc code')\n"})))
	id := h.Create(yml, "train", nil, nil, func(c *app.CreateExecution) { c.Code = execution.Code{Adhoc: good} })
	res, err := h.Runner.Run(h.Ctx(), id)
	if err != nil || res.Status != domain.StatusComplete {
		t.Fatalf("Run() = %+v, %v, want complete\nlog:\n%s", res, err, h.LogText(id))
	}
	if log := h.LogText(id); !strings.Contains(log, "print('ad-hoc code')") {
		t.Errorf("log does not show train.py:\n%s", log)
	}

	bad := h.Upload("evil.tar.gz", string(tarGz(t, entry{Name: "../evil", Body: "x"})))
	id = h.Create(yml, "train", nil, nil, func(c *app.CreateExecution) { c.Code = execution.Code{Adhoc: bad} })
	res, _ = h.Runner.Run(h.Ctx(), id)
	if res.Status != domain.StatusCrashed || !strings.Contains(res.Reason, "unsafe archive") {
		t.Errorf("Run(hostile archive) = %+v, want crashed naming the unsafe archive", res)
	}
}
