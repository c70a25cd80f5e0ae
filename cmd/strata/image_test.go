package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratahq/strata/adapters/docker"
)

func TestImageBusybox(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "busybox")
	if code, _, errOut := strata(t, "", "image", "busybox", "--docker-host", "unix://"+filepath.Join(t.TempDir(), "none.sock")); code != exitFailure ||
		!strings.Contains(errOut, "is dockerd running?") {
		t.Errorf("image busybox (no daemon) = %d, %q; want exit 1 asking whether dockerd runs", code, errOut)
	}
	if code, _, errOut := strata(t, "", "image", "busybox", "extra"); code != exitUsage || errOut == "" {
		t.Errorf("image busybox extra = %d, %q; want a usage error", code, errOut)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	l, err := docker.Open(ctx, docker.Config{})
	cancel()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dockerd is required in CI: %v (make deps starts it)", err)
		}
		t.Skipf("SKIPPING: no dockerd answers (%v); run `make deps` to install and start one", err)
	}
	_ = l.Close()
	if code, _, errOut := strata(t, "", "image", "busybox", "--busybox", missing); code != exitFailure ||
		!strings.Contains(errOut, "apt-get install busybox-static") || !strings.Contains(errOut, missing) {
		t.Errorf("image busybox --busybox %s = %d, %q; want exit 1 naming the file and the package", missing, code, errOut)
	}
	tag := fmt.Sprintf("strata-test-cli-busybox:%d", os.Getpid())
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", tag).Run() })
	code, out, errOut := strata(t, "", "image", "busybox", "--tag", tag)
	if f := strings.Fields(out); code != 0 || len(f) != 2 || !strings.HasPrefix(f[0], "sha256:") || f[1] != tag {
		t.Fatalf("image busybox --tag %s = %d, %q, %q; want the image ID and the tag", tag, code, out, errOut)
	}
	if out, err := exec.Command("docker", "run", "--rm", "--network", "none", tag, "sh", "-c", "echo hi | awk '{print toupper($0)}'").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "HI" {
		t.Errorf("docker run %s = %q, %v; want HI", tag, out, err)
	}
}
