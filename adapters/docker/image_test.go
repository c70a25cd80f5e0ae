package docker_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratahq/strata/adapters/docker"
	"github.com/stratahq/strata/domain"
)

// TestBuildBusybox builds the image under a tag of its own and runs its shell and awk; a
// missing or dynamically linked busybox is refused before anything is built.
func TestBuildBusybox(t *testing.T) {
	l := mustLauncher(t)
	tag := "strata-test-busybox-build:" + testInstance()
	img, err := l.BuildBusybox(t.Context(), tag, "")
	if err != nil {
		t.Fatalf("BuildBusybox() error = %v", err)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", tag).Run() })
	if img.Tag != tag || !strings.HasPrefix(img.ID, "sha256:") {
		t.Errorf("BuildBusybox() = %+v, want the tag and a sha256 ID", img)
	}
	if got, err := l.ResolveImage(t.Context(), tag); err != nil || got != img.ID {
		t.Errorf("ResolveImage(%s) = %s, %v; want %s", tag, got, err, img.ID)
	}
	out, err := exec.Command("docker", "run", "--rm", "--network", "none", tag, "sh", "-c",
		`echo 'a,1' > /tmp/x.csv && awk -F, '{print $1 "=" $2 * 2}' /tmp/x.csv`).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "a=2" {
		t.Errorf("sh and awk in %s = %q, %v; want a=2", tag, out, err)
	}

	notStatic, err := exec.LookPath("env") // any dynamically linked program
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(t.TempDir(), "busybox"), notStatic} {
		if _, err := l.BuildBusybox(t.Context(), tag, path); !errors.Is(err, docker.ErrNoBusybox) || !errors.Is(err, domain.ErrInvalid) ||
			!strings.Contains(err.Error(), "apt-get install busybox-static") || !strings.Contains(err.Error(), path) {
			t.Errorf("BuildBusybox(%s) error = %v, want ErrNoBusybox naming the path and the package", path, err)
		}
	}
	text := filepath.Join(t.TempDir(), "busybox.txt")
	if err := os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := l.BuildBusybox(t.Context(), tag, text); !errors.Is(err, docker.ErrNoBusybox) {
		t.Errorf("BuildBusybox(a script) error = %v, want ErrNoBusybox", err)
	}
}
